//! `cases` and `get` (`show` is in [`super::show`]).

use remotedx_proto::v1 as pb;

use super::patient_line;
use crate::cli::{CasesArgs, GetArgs, StateArg};
use crate::client::Hub;
use crate::download;
use crate::error::{CliError, EXIT_OK};
use crate::output::json::{CaseJson, CasesJson, DownloadJson};
use crate::output::table::{Cell, Table};
use crate::output::{Output, Style, text, time};
use crate::since::now_ms;

pub use super::show::show;

/// Lists cases, newest first.
pub async fn list(hub: &Hub, out: &Output, a: CasesArgs) -> Result<u8, CliError> {
    let req = pb::ListCasesRequest {
        states: a.state.iter().map(|s| state(*s) as i32).collect(),
        modality: a.modality.unwrap_or_default(),
        critical_only: a.critical,
        since_ms: a.since.unwrap_or(0),
        limit: a.limit,
        institution_code: a.institution.unwrap_or_default(),
    };
    let cases = hub
        .cases()
        .list_cases(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner()
        .cases;
    if out.json {
        out.json(&CasesJson {
            cases: cases.into_iter().map(CaseJson::from).collect(),
        })?;
        return Ok(EXIT_OK);
    }
    if cases.is_empty() {
        out.line("No cases match.")?;
        return Ok(EXIT_OK);
    }
    out.line(&cases_table(&cases, now_ms()).render(out.color))?;
    for c in cases.iter().filter(|c| !c.hold_reason.is_empty()) {
        let label = if c.state == pb::CaseState::Withdrawn as i32 {
            "WITHDRAWN"
        } else {
            "HELD"
        };
        let line = format!("case {} {label}: {}", c.case_id, c.hold_reason);
        out.line(&out.paint(Style::Red, &line))?;
    }
    Ok(EXIT_OK)
}

/// The `cases` table.
pub fn cases_table(cases: &[pb::CaseSummary], now: i64) -> Table {
    let mut t = Table::new(&[
        "CASE", "RECEIVED", "INST", "MOD", "ITEM", "PRIORITY", "STATE", "REPORT", "PATIENT",
        "IMAGES",
    ]);
    for c in cases {
        let report = text::report_status(c.report_status).unwrap_or("-");
        t.row(vec![
            c.case_id.to_string().into(),
            time::ago(c.received_at_ms, now).into(),
            c.institution_code.clone().into(),
            c.modality.clone().into(),
            c.exam_item_code.clone().into(),
            priority_cell(c),
            text::state(c.state).into(),
            report.into(),
            patient_line(c).into(),
            c.instance_count.to_string().into(),
        ]);
    }
    t
}

/// "CRITICAL STAT", "URGENT", "routine", painted by urgency.
pub fn priority_cell(c: &pb::CaseSummary) -> Cell {
    let p = text::priority(c.priority);
    let label = if p == "routine" || p == "unspecified" {
        p.to_owned()
    } else {
        p.to_ascii_uppercase()
    };
    if c.critical {
        return Cell::styled(format!("CRITICAL {label}"), Style::Alarm);
    }
    let style = match p {
        "stat" => Style::Red,
        "urgent" => Style::Yellow,
        _ => Style::Plain,
    };
    Cell::styled(label, style)
}

fn state(s: StateArg) -> pb::CaseState {
    match s {
        StateArg::Receiving => pb::CaseState::Receiving,
        StateArg::Received => pb::CaseState::Received,
        StateArg::Processing => pb::CaseState::Processing,
        StateArg::Ready => pb::CaseState::Ready,
        StateArg::Claimed => pb::CaseState::Claimed,
        StateArg::Reported => pb::CaseState::Reported,
        StateArg::Signed => pb::CaseState::Signed,
        StateArg::MixupHold => pb::CaseState::MixupHold,
        StateArg::Withdrawn => pb::CaseState::Withdrawn,
    }
}

/// Downloads one stored instance byte for byte.
pub async fn get(hub: &Hub, out: &Output, a: GetArgs) -> Result<u8, CliError> {
    let req = pb::GetInstanceRequest {
        case_id: a.case,
        sop_instance_uid: a.sop_instance_uid,
    };
    let stream = hub
        .cases()
        .get_instance(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    let saved = download::save(hub, stream, &a.out).await?;
    let result = DownloadJson {
        file: a.out.display().to_string(),
        size: saved.size,
        sha256: saved.sha256,
    };
    if a.out.as_os_str() == "-" {
        // The instance went to stdout; the summary must not corrupt it.
        if !out.json {
            eprintln!(
                "wrote {} to standard output (sha256 {})",
                text::bytes(result.size),
                result.sha256
            );
        }
    } else if out.json {
        out.json(&result)?;
    } else {
        out.line(&format!(
            "wrote {} ({}, sha256 {})",
            result.file,
            text::bytes(result.size),
            result.sha256
        ))?;
    }
    Ok(EXIT_OK)
}
