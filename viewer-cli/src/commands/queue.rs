//! `queue`, `claim`, `renew`, `release`: the specialists' reading workflow.

use remotedx_proto::v1 as pb;

use super::cases::priority_cell;
use super::patient_line;
use crate::cli::{ClaimArgs, QueueArgs};
use crate::client::Hub;
use crate::error::{CliError, EXIT_OK};
use crate::output::json::{CaseJson, LeaseJson, QueueJson, ReleaseJson};
use crate::output::table::{Cell, Table};
use crate::output::{Output, Style, text, time};
use crate::since::now_ms;

/// Prints the queue, most pressing first.
pub async fn queue(hub: &Hub, out: &Output, a: QueueArgs) -> Result<u8, CliError> {
    let req = pb::QueueRequest {
        modality: a.modality.unwrap_or_default(),
        include_claimed: a.all,
        review: a.review,
        limit: a.limit,
    };
    let q = hub
        .reading()
        .queue(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    if out.json {
        out.json(&QueueJson::from(q))?;
        return Ok(EXIT_OK);
    }
    if q.entries.is_empty() {
        let what = if a.review {
            "The review queue is empty."
        } else {
            "The queue is empty."
        };
        out.line(what)?;
        return Ok(EXIT_OK);
    }
    out.line(&queue_table(&q.entries).render(out.color))?;
    Ok(EXIT_OK)
}

/// The queue table; overdue cases are red, critical ones alarm-red.
pub fn queue_table(entries: &[pb::QueueEntry]) -> Table {
    let mut t = Table::new(&[
        "CASE",
        "PRIORITY",
        "MOD",
        "ITEM",
        "INSTITUTION",
        "PATIENT",
        "WAITING",
        "TIME LEFT",
        "STATE",
        "CLAIMED BY",
        "FLAGS",
    ])
    .max_width(32);
    for e in entries {
        let c = e.summary.clone().unwrap_or_default();
        let left = time::time_left(e.time_left_ms);
        let left = if e.time_left_ms < 0 {
            Cell::styled(left, Style::Red)
        } else {
            left.into()
        };
        let claimed = c
            .claim
            .as_ref()
            .map_or_else(|| "-".to_owned(), |cl| cl.user_name.clone());
        t.row(vec![
            c.case_id.to_string().into(),
            priority_cell(&c),
            c.modality.clone().into(),
            c.exam_item_code.clone().into(),
            c.institution_name.clone().into(),
            patient_line(&c).into(),
            time::duration(e.waiting_ms).into(),
            left,
            text::state(c.state).into(),
            claimed.into(),
            flags_cell(&c),
        ]);
    }
    t
}

/// Worker flag codes (critical ones marked "!") and "repeat?" for a possible repeat.
fn flags_cell(c: &pb::CaseSummary) -> Cell {
    let mut parts: Vec<String> = c
        .flags
        .iter()
        .map(|f| {
            if f.critical {
                format!("{}!", f.code)
            } else {
                f.code.clone()
            }
        })
        .collect();
    if !c.possible_repeat.is_empty() {
        parts.push("repeat?".into());
    }
    let style = if c.flags.iter().any(|f| f.critical) {
        Style::Alarm
    } else {
        Style::Plain
    };
    Cell::styled(
        if parts.is_empty() {
            "-".into()
        } else {
            parts.join(",")
        },
        style,
    )
}

/// Takes the lease on a case.
pub async fn claim(hub: &Hub, out: &Output, a: ClaimArgs) -> Result<u8, CliError> {
    let req = pb::ClaimRequest {
        case_id: a.case,
        skip_reason: a.skip_reason.unwrap_or_default(),
    };
    let lease = hub
        .reading()
        .claim(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    print_lease(out, "Claimed", lease)
}

/// Extends the caller's lease.
pub async fn renew(hub: &Hub, out: &Output, case_id: i64) -> Result<u8, CliError> {
    let lease = hub
        .reading()
        .renew(pb::RenewRequest { case_id })
        .await
        .map_err(|s| hub.error(s))?;
    print_lease(out, "Renewed the lease on", lease.into_inner())
}

fn print_lease(out: &Output, verb: &str, lease: pb::ClaimResponse) -> Result<u8, CliError> {
    if out.json {
        out.json(&LeaseJson::from(lease))?;
        return Ok(EXIT_OK);
    }
    let c = lease.summary.clone().unwrap_or_default();
    let left = time::time_left(lease.expires_at_ms - now_ms()).replace("due in", "expires in");
    out.line(&format!(
        "{verb} case {} ({} {}, {}, {}): lease {left} ({}).",
        c.case_id,
        c.modality,
        c.exam_item_code,
        patient_line(&c),
        c.institution_name,
        time::absolute(lease.expires_at_ms)
    ))?;
    if !lease.passed_over_case_ids.is_empty() {
        let ids: Vec<String> = lease
            .passed_over_case_ids
            .iter()
            .map(i64::to_string)
            .collect();
        let msg = format!(
            "Passed over overdue critical/STAT cases {} (recorded in the audit trail).",
            ids.join(", ")
        );
        out.line(&out.paint(Style::Yellow, &msg))?;
    }
    out.line(&format!(
        "Renew with `viewer-cli renew {}`; report with `viewer-cli report {} ...`.",
        c.case_id, c.case_id
    ))?;
    Ok(EXIT_OK)
}

/// Gives a claimed case back.
pub async fn release(hub: &Hub, out: &Output, case_id: i64) -> Result<u8, CliError> {
    let r = hub
        .reading()
        .release(pb::ReleaseRequest { case_id })
        .await
        .map_err(|s| hub.error(s))?;
    let c = r.into_inner().summary.unwrap_or_default();
    if out.json {
        out.json(&ReleaseJson {
            case: CaseJson::from(c),
        })?;
    } else {
        out.line(&format!(
            "Released case {}; it is {} again.",
            c.case_id,
            text::state(c.state)
        ))?;
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, left_ms: i64, critical: bool) -> pb::QueueEntry {
        pb::QueueEntry {
            summary: Some(pb::CaseSummary {
                case_id: id,
                modality: "CT".into(),
                exam_item_code: "CT-HEAD".into(),
                institution_name: "Baishui Township Health Centre (白水镇卫生院)".into(),
                priority: pb::Priority::Stat as i32,
                critical,
                state: pb::CaseState::Ready as i32,
                patient_display: "张*".into(),
                patient_sex: "M".into(),
                patient_age_years: 68,
                flags: vec![pb::Flag {
                    code: "decode_failed".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            waiting_ms: 40 * 60_000,
            time_left_ms: left_ms,
        }
    }

    #[test]
    fn overdue_and_critical_are_highlighted() {
        let t = queue_table(&[entry(3, -25 * 60_000, true), entry(4, 190 * 60_000, false)]);
        let plain = t.render(false);
        let lines: Vec<&str> = plain.lines().collect();
        assert!(lines[1].contains("CRITICAL STAT"));
        assert!(lines[1].contains("OVERDUE 25 min"));
        assert!(lines[1].contains("张* M 68y"));
        assert!(lines[1].contains("40 min"));
        assert!(lines[2].contains("due in 3 h 10 min"));
        assert!(lines[2].contains("decode_failed"));
        let coloured = t.render(true);
        assert!(coloured.contains("\x1b[31mOVERDUE 25 min\x1b[0m"));
        assert!(coloured.contains("\x1b[1;31mCRITICAL STAT\x1b[0m"));
    }
}
