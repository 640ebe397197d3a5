//! `report`, `sign`, `amend` (specialists) and `reports` (everyone; `--follow` watches).

use remotedx_proto::v1 as pb;

use super::patient_line;
use super::show::report_lines;
use crate::cli::{AmendArgs, ReportArgs, ReportsArgs, SignArgs};
use crate::client::Hub;
use crate::error::{CliError, EXIT_OK};
use crate::output::json::{CaseReportJson, ReportJson, ReportsJson};
use crate::output::table::{Cell, Table};
use crate::output::{Output, Style, text, time};
use crate::since::now_ms;

/// Files the report of a claimed case.
pub async fn file(hub: &Hub, out: &Output, a: ReportArgs) -> Result<u8, CliError> {
    let req = pb::FileReportRequest {
        case_id: a.case,
        findings: a.findings,
        impression: a.impression,
        critical: a.critical,
        sign: a.sign,
    };
    let r = hub
        .reading()
        .file_report(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    print_version(out, a.case, "Filed", r)
}

/// Signs a preliminary report final.
pub async fn sign(hub: &Hub, out: &Output, a: SignArgs) -> Result<u8, CliError> {
    let req = pb::SignReportRequest {
        case_id: a.case,
        findings: a.findings.unwrap_or_default(),
        impression: a.impression.unwrap_or_default(),
        critical: a.critical,
    };
    let r = hub
        .reading()
        .sign_report(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    print_version(out, a.case, "Signed", r)
}

/// Corrects a signed report.
pub async fn amend(hub: &Hub, out: &Output, a: AmendArgs) -> Result<u8, CliError> {
    let req = pb::AmendReportRequest {
        case_id: a.case,
        findings: a.findings,
        impression: a.impression,
        critical: match (a.critical, a.not_critical) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        reason: a.reason,
    };
    let r = hub
        .reading()
        .amend_report(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    print_version(out, a.case, "Amended", r)
}

fn print_version(
    out: &Output,
    case_id: i64,
    verb: &str,
    r: pb::ReportVersion,
) -> Result<u8, CliError> {
    if out.json {
        out.json(&ReportJson::from(r))?;
        return Ok(EXIT_OK);
    }
    out.line(&format!("{verb} the report of case {case_id}:"))?;
    for line in report_lines(out, &r, now_ms()) {
        out.line(&line)?;
    }
    if r.status == pb::ReportStatus::Preliminary as i32 {
        out.line("It is preliminary until a senior specialist signs it (`viewer-cli sign CASE`).")?;
    }
    Ok(EXIT_OK)
}

/// Lists reports; with `--follow`, keeps printing them as they arrive (see [`super::follow`]).
pub async fn list(hub: &Hub, out: &Output, a: ReportsArgs) -> Result<u8, CliError> {
    let req = pb::ListReportsRequest {
        since_ms: a.since.unwrap_or(0),
        critical_only: a.critical,
        limit: a.limit,
    };
    let fetch = async {
        Ok(hub
            .reading()
            .list_reports(req)
            .await
            .map_err(|s| hub.error(s))?
            .into_inner()
            .reports)
    };
    if a.follow {
        // Oldest first, so the newest ends up at the bottom as the stream goes on.
        let oldest_first = async { fetch.await.map(|r: Vec<_>| r.into_iter().rev().collect()) };
        return super::follow::run(hub, out, a.critical, oldest_first, |r| {
            print_arrival(out, r)
        })
        .await;
    }
    print_list(out, fetch.await?)?;
    Ok(EXIT_OK)
}

fn print_list(out: &Output, reports: Vec<pb::CaseReport>) -> Result<(), CliError> {
    if out.json {
        return out.json(&ReportsJson {
            reports: reports.into_iter().map(CaseReportJson::from).collect(),
        });
    }
    if reports.is_empty() {
        return out.line("No reports match.");
    }
    out.line(&reports_table(&reports, now_ms()).render(out.color))
}

/// The `reports` table; critical reports lead with an alarm-red "!! CRITICAL".
pub fn reports_table(reports: &[pb::CaseReport], now: i64) -> Table {
    let mut t = Table::new(&[
        "",
        "CASE",
        "WRITTEN",
        "STATUS",
        "MOD",
        "ITEM",
        "PATIENT",
        "INST",
        "IMPRESSION",
    ])
    .max_width(60);
    for r in reports {
        let c = r.summary.clone().unwrap_or_default();
        let v = r.report.clone().unwrap_or_default();
        let mark = if v.critical {
            Cell::styled("!! CRITICAL", Style::Alarm)
        } else {
            "".into()
        };
        t.row(vec![
            mark,
            c.case_id.to_string().into(),
            time::ago(v.created_at_ms, now).into(),
            format!(
                "{} v{}",
                text::report_status(v.status).unwrap_or("-"),
                v.version
            )
            .into(),
            c.modality.clone().into(),
            c.exam_item_code.clone().into(),
            patient_line(&c).into(),
            c.institution_code.clone().into(),
            v.impression.clone().into(),
        ]);
    }
    t
}

/// One report as it arrives: a JSON line, or a block with a bell for critical ones on a terminal.
fn print_arrival(out: &Output, r: &pb::CaseReport) -> Result<(), CliError> {
    if out.json {
        return out.json_line(&CaseReportJson::from(r.clone()));
    }
    let c = r.summary.clone().unwrap_or_default();
    let v = r.report.clone().unwrap_or_default();
    let head = format!(
        "case {}  {} {}  {}  {}",
        c.case_id,
        c.modality,
        c.exam_item_code,
        patient_line(&c),
        c.institution_name
    );
    let head = if v.critical {
        let bell = if out.color { "\x07" } else { "" };
        format!("{bell}{}  {head}", out.paint(Style::Alarm, "!! CRITICAL"))
    } else {
        head
    };
    out.line(&head)?;
    for line in report_lines(out, &v, now_ms()) {
        out.line(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_reports_are_marked() {
        let report = |id, critical| pb::CaseReport {
            summary: Some(pb::CaseSummary {
                case_id: id,
                modality: "DX".into(),
                ..Default::default()
            }),
            report: Some(pb::ReportVersion {
                report_id: id,
                version: 1,
                status: pb::ReportStatus::Final as i32,
                critical,
                impression: "Right lower zone pneumonia".into(),
                created_at_ms: 1,
                ..Default::default()
            }),
        };
        let text = reports_table(&[report(1, true), report(2, false)], 1).render(false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("!! CRITICAL  1"));
        assert!(lines[2].trim_start().starts_with('2'));
        assert!(lines[1].contains("final v1") && lines[1].contains("Right lower zone pneumonia"));
    }
}
