//! `stats`: recognition, savings and reading-workflow figures for administrators, with an optional
//! bar chart of savings by month and institution.

use std::path::Path;

use remotedx_proto::v1 as pb;

use crate::cli::{GroupByArg, StatsArgs};
use crate::client::Hub;
use crate::error::{CliError, EXIT_OK};
use crate::output::Output;
use crate::output::chart::{self, Bar};
use crate::output::recognition::{StatsJson, yuan};
use crate::output::table::Table;
use crate::output::time;

fn by(b: GroupByArg) -> &'static str {
    match b {
        GroupByArg::Institution => "institution",
        GroupByArg::Item => "item",
        GroupByArg::Month => "month",
        GroupByArg::Modality => "modality",
    }
}

/// Prints the statistics of a period (and writes the chart).
pub async fn run(hub: &Hub, out: &Output, a: StatsArgs) -> Result<u8, CliError> {
    let req = pb::StatsRequest {
        from: a.from.unwrap_or_default(),
        to: a.to.unwrap_or_default(),
        by: by(a.by).into(),
    };
    let res = hub
        .admin()
        .stats(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    let stats = StatsJson::from(res);
    if let Some(path) = &a.chart {
        write_chart(path, &stats)?;
    }
    if out.json {
        out.json(&stats)?;
        return Ok(EXIT_OK);
    }
    print(out, &stats)?;
    if let Some(path) = &a.chart {
        out.line(&format!("Chart written to {}", path.display()))?;
    }
    Ok(EXIT_OK)
}

fn write_chart(path: &Path, s: &StatsJson) -> Result<(), CliError> {
    let bars: Vec<Bar> = s
        .savings
        .iter()
        .map(|m| Bar {
            month: m.month.clone(),
            institution: m.institution_code.clone(),
            fen: m.saved_fen,
        })
        .collect();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("svg") => chart::svg(&bars).into_bytes(),
        Some("png") => chart::png(&bars).map_err(CliError::Usage)?,
        _ => {
            return Err(CliError::Usage(format!(
                "--chart {}: the file name must end in .svg or .png",
                path.display()
            )));
        }
    };
    std::fs::write(path, bytes).map_err(|e| CliError::file(path, e))
}

fn print(out: &Output, s: &StatsJson) -> Result<(), CliError> {
    let period = match (s.from.as_str(), s.to.as_str()) {
        ("", "") => "all time".to_owned(),
        (f, t) => format!(
            "{} to {}",
            if f.is_empty() { "the beginning" } else { f },
            if t.is_empty() { "now" } else { t }
        ),
    };
    let t = &s.totals;
    out.line(&format!(
        "Result recognition, {period}: {} recognitions ({} reversed), {} tests avoided, {} yuan saved; {} declines; {} possible repeats uploaded.",
        t.recognitions, t.reversals, t.tests_avoided, yuan(t.saved_fen), t.declines, t.repeats
    ))?;
    let mut g = Table::new(&[
        "GROUP",
        "RECOGNITIONS",
        "REVERSED",
        "AVOIDED",
        "SAVED (YUAN)",
        "DECLINES",
        "REPEATS",
    ]);
    for f in &s.groups {
        g.row(vec![
            f.key.clone().into(),
            f.recognitions.to_string().into(),
            f.reversals.to_string().into(),
            f.tests_avoided.to_string().into(),
            yuan(f.saved_fen).into(),
            f.declines.to_string().into(),
            f.repeats.to_string().into(),
        ]);
    }
    out.line(&format!("\nBy {}:", s.by))?;
    out.line(&g.render(out.color))?;
    let mut d = Table::new(&["DECLINE REASON", "COUNT"]);
    for (reason, count) in &s.declines_by_reason {
        d.row(vec![reason.clone().into(), count.to_string().into()]);
    }
    out.line("")?;
    out.line(&d.render(out.color))?;
    out.line(&format!(
        "\nReading: {} cases received, {} reported, {} deadline breaches.",
        s.cases_received, s.cases_reported, s.deadline_breaches
    ))?;
    let mut r = Table::new(&["PRIORITY", "REPORTED", "TURNAROUND P50", "P90", "BREACHES"]);
    for p in &s.turnaround {
        r.row(vec![
            p.priority.into(),
            p.reported.to_string().into(),
            time::duration(p.p50_ms).into(),
            time::duration(p.p90_ms).into(),
            p.deadline_breaches.to_string().into(),
        ]);
    }
    out.line(&r.render(out.color))?;
    if !s.workload.is_empty() {
        let mut w = Table::new(&["SPECIALIST", "WRITTEN", "SIGNED"]);
        for x in &s.workload {
            w.row(vec![
                x.name.clone().into(),
                x.written.to_string().into(),
                x.signed.to_string().into(),
            ]);
        }
        out.line("")?;
        out.line(&w.render(out.color))?;
    }
    Ok(())
}
