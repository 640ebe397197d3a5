//! `show`: a case's metadata, instances by series, report history, measurements and flags; with
//! `--out`, its artifacts (and with `--full`, full-resolution renders) saved to a folder.

use std::path::{Path, PathBuf};

use remotedx_proto::v1 as pb;

use super::cases::priority_cell;
use super::patient_line;
use crate::cli::{ShowArgs, Window};
use crate::client::Hub;
use crate::download::{safe_relative, save};
use crate::error::{CliError, EXIT_OK, EXIT_PARTIAL};
use crate::output::json::CaseDetailJson;
use crate::output::table::Table;
use crate::output::{Output, Style, text, time};
use crate::since::now_ms;

/// Prints a case; with `--out`, saves its files and lists them. A file that cannot be fetched is
/// reported and the others are still saved (exit code 1).
pub async fn show(hub: &Hub, out: &Output, a: ShowArgs) -> Result<u8, CliError> {
    let req = pb::GetCaseRequest { case_id: a.case };
    let detail = hub
        .cases()
        .get_case(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    let mut saved = Saved::default();
    if let Some(dir) = &a.out {
        saved = save_all(hub, &detail, dir, &a).await?;
    }
    let code = if saved.failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    };
    if out.json {
        let mut json = CaseDetailJson::from(detail);
        json.written = saved
            .written
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        json.failed.clone_from(&saved.failed);
        out.json(&json)?;
        return Ok(code);
    }
    print_detail(out, &detail)?;
    if !saved.written.is_empty() {
        out.line(&format!("\n{}", out.paint(Style::Bold, "Files written")))?;
        for p in &saved.written {
            out.line(&format!("  {}", p.display()))?;
        }
    }
    for f in &saved.failed {
        out.line(&format!("{}  {f}", out.paint(Style::Red, "FAILED")))?;
    }
    Ok(code)
}

/// What `--out` wrote and what it could not fetch.
#[derive(Debug, Default)]
struct Saved {
    written: Vec<PathBuf>,
    failed: Vec<String>,
}

/// Saves every artifact, `case.json` and (with --full) the renders.
async fn save_all(
    hub: &Hub,
    d: &pb::CaseDetail,
    dir: &Path,
    a: &ShowArgs,
) -> Result<Saved, CliError> {
    let case_id = a.case;
    let mut saved = Saved::default();
    for art in &d.artifacts {
        let req = pb::GetArtifactRequest {
            case_id,
            name: art.name.clone(),
        };
        let path = dir.join(safe_relative(&art.name));
        let result = match hub.cases().get_artifact(req).await {
            Ok(stream) => save(hub, stream.into_inner(), &path).await,
            Err(status) => Err(hub.error(status)),
        };
        saved.record(result, path, &art.name)?;
    }
    if a.full {
        // Every image instance; waveforms (SOP classes 1.2.840.10008.5.1.4.1.1.9.*) have no frames.
        let images = d
            .instances
            .iter()
            .filter(|i| !i.sop_class_uid.starts_with("1.2.840.10008.5.1.4.1.1.9."));
        for inst in images {
            let req = render_request(case_id, inst, a.frame, a.window.as_ref());
            let name = format!("render/{}-f{}.png", inst.sop_instance_uid, a.frame);
            let path = dir.join(safe_relative(&name));
            let result = match hub.cases().render_frame(req).await {
                Ok(stream) => save(hub, stream.into_inner(), &path).await,
                Err(status) => Err(hub.error(status)),
            };
            saved.record(
                result,
                path,
                &format!("render of {}", inst.sop_instance_uid),
            )?;
        }
    }
    let path = dir.join("case.json");
    let json = serde_json::to_string_pretty(&CaseDetailJson::from(d.clone())).expect("serialises");
    std::fs::create_dir_all(dir).map_err(|e| CliError::file(dir, e))?;
    std::fs::write(&path, json + "\n").map_err(|e| CliError::file(&path, e))?;
    saved.written.push(path);
    Ok(saved)
}

impl Saved {
    /// Keeps going past the hub's refusals; a local write error or a lost hub stops the command.
    fn record(
        &mut self,
        result: Result<crate::download::Saved, CliError>,
        path: PathBuf,
        what: &str,
    ) -> Result<(), CliError> {
        match result {
            Ok(_) => self.written.push(path),
            Err(e @ CliError::Hub { .. }) if e.exit_code() != crate::error::EXIT_UNAVAILABLE => {
                self.failed.push(format!("{what}: {e}"));
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// A full-resolution render of one frame with the chosen window (the dataset's own by default).
pub fn render_request(
    case_id: i64,
    inst: &pb::InstanceInfo,
    frame: u32,
    window: Option<&Window>,
) -> pb::RenderFrameRequest {
    let mut req = pb::RenderFrameRequest {
        case_id,
        sop_instance_uid: inst.sop_instance_uid.clone(),
        frame,
        window_preset: "default".into(),
        max_size: 0,
        ..Default::default()
    };
    match window {
        Some(Window::Preset(p)) => req.window_preset.clone_from(p),
        Some(Window::Explicit { center, width }) => {
            req.window_center = *center;
            req.window_width = *width;
        }
        None => {}
    }
    req
}

fn print_detail(out: &Output, d: &pb::CaseDetail) -> Result<(), CliError> {
    let c = d.summary.clone().unwrap_or_default();
    let now = now_ms();
    let prio = priority_cell(&c);
    out.line(&format!(
        "{}  {}  {} {}  {}",
        out.paint(Style::Bold, &format!("Case {}", c.case_id)),
        out.paint(prio.style, &prio.text),
        c.modality,
        c.exam_item_code,
        c.exam_item_name
    ))?;
    if c.critical {
        let why = if c.critical_reason.is_empty() {
            String::new()
        } else {
            format!(": {}", c.critical_reason)
        };
        out.line(&out.paint(Style::Alarm, &format!("!! CRITICAL{why}")))?;
    }
    let mut lines = vec![
        (
            "Institution",
            format!("{} ({})", c.institution_name, c.institution_code),
        ),
        (
            "Patient",
            format!(
                "{}  [{}]  ID {}",
                d.patient_name,
                patient_line(&c),
                d.patient_id_masked
            ),
        ),
        (
            "Study",
            format!(
                "{}  date {}  UID {}",
                c.study_description, c.study_date, c.study_instance_uid
            ),
        ),
        ("State", state_line(&c, now)),
    ];
    if let Some(claim) = &c.claim {
        let left = time::time_left(claim.expires_at_ms - now).replace("due in", "expires in");
        lines.push(("Claimed by", format!("{} (lease {left})", claim.user_name)));
    }
    if !c.clinical_note.is_empty() {
        lines.push(("Note", c.clinical_note.clone()));
    }
    let timeline = timeline_line(&d.timeline);
    if !timeline.is_empty() {
        lines.push(("Timeline", timeline));
    }
    if !c.possible_repeat.is_empty() {
        lines.push(("Possible repeat", c.possible_repeat.clone()));
    }
    if c.follows_case_id != 0 {
        let line = format!(
            "case {} (arrived after its report was signed)",
            c.follows_case_id
        );
        lines.push(("Follows", line));
    }
    for (label, value) in lines {
        out.line(&format!("{:<16}{value}", format!("{label}:")))?;
    }
    print_flags(out, &c.flags)?;
    print_instances(out, &d.instances)?;
    print_reports(out, &d.reports, now)?;
    print_measurements(out, &d.measurements)?;
    print_artifacts(out, &d.artifacts)
}

/// The workflow steps reached, in order: "received 2026-05-12 08:30:15 UTC, ready ...".
fn timeline_line(timeline: &std::collections::HashMap<String, i64>) -> String {
    const STEPS: [&str; 7] = [
        "created",
        "received",
        "processing",
        "ready",
        "claimed",
        "reported",
        "signed",
    ];
    let step = |name: &str| timeline.get(name).copied().filter(|&ms| ms > 0);
    let mut parts: Vec<String> = STEPS
        .iter()
        .filter_map(|&name| step(name).map(|ms| format!("{name} {}", time::absolute(ms))))
        .collect();
    // Steps a newer hub may add, after the known ones.
    let mut others: Vec<(&String, &i64)> = timeline
        .iter()
        .filter(|(k, v)| !STEPS.contains(&k.as_str()) && **v > 0)
        .collect();
    others.sort();
    parts.extend(
        others
            .into_iter()
            .map(|(k, v)| format!("{k} {}", time::absolute(*v))),
    );
    parts.join(", ")
}

fn state_line(c: &pb::CaseSummary, now: i64) -> String {
    let mut s = format!(
        "{}  received {}",
        text::state(c.state),
        time::ago(c.received_at_ms, now)
    );
    let open = !matches!(pb::CaseState::try_from(c.state), Ok(pb::CaseState::Signed));
    if open && c.deadline_at_ms > 0 {
        s.push_str(&format!("  {}", time::time_left(c.deadline_at_ms - now)));
    }
    if let Some(r) = text::report_status(c.report_status) {
        s.push_str(&format!("  report {r}"));
    }
    s
}

fn print_flags(out: &Output, flags: &[pb::Flag]) -> Result<(), CliError> {
    for f in flags {
        let (mark, style) = match (f.critical, f.urgent) {
            (true, _) => ("CRITICAL", Style::Alarm),
            (false, true) => ("urgent", Style::Yellow),
            _ => ("note", Style::Plain),
        };
        out.line(&format!(
            "{:<16}{} {}: {}",
            "Flag:",
            out.paint(style, mark),
            f.code,
            f.message
        ))?;
    }
    Ok(())
}

fn print_instances(out: &Output, instances: &[pb::InstanceInfo]) -> Result<(), CliError> {
    let mut series: Vec<(&str, i32, Vec<&pb::InstanceInfo>)> = Vec::new();
    for i in instances {
        match series.last_mut() {
            Some(s) if s.0 == i.series_instance_uid => s.2.push(i),
            _ => series.push((&i.series_instance_uid, i.series_number, vec![i])),
        }
    }
    for (uid, number, list) in series {
        let bytes: u64 = list.iter().map(|i| i.size).sum();
        let title = format!(
            "\nSeries {number}: {} instances, {}  ({uid})",
            list.len(),
            text::bytes(bytes)
        );
        out.line(&out.paint(Style::Bold, &title))?;
        let mut t =
            Table::new(&["#", "SOP INSTANCE UID", "SIZE", "IMAGE", "FRAMES", "NOTE"]).max_width(70);
        for i in list {
            let image = if i.rows > 0 {
                format!("{}x{}", i.columns, i.rows)
            } else {
                "-".into()
            };
            t.row(vec![
                i.instance_number.to_string().into(),
                i.sop_instance_uid.clone().into(),
                text::bytes(i.size).into(),
                image.into(),
                i.frames.to_string().into(),
                i.processing_error.clone().into(),
            ]);
        }
        out.line(&t.render(out.color))?;
    }
    Ok(())
}

fn print_reports(out: &Output, reports: &[pb::ReportVersion], now: i64) -> Result<(), CliError> {
    if reports.is_empty() {
        return out.line(&format!("\n{}", out.paint(Style::Dim, "No report yet.")));
    }
    out.line(&format!(
        "\n{}",
        out.paint(Style::Bold, "Reports (oldest first)")
    ))?;
    for r in reports {
        for line in report_lines(out, r, now) {
            out.line(&line)?;
        }
    }
    Ok(())
}

/// A report version as printed by `show`, `report`, `sign` and `amend`.
pub fn report_lines(out: &Output, r: &pb::ReportVersion, now: i64) -> Vec<String> {
    let status = text::report_status(r.status)
        .unwrap_or("unknown")
        .to_ascii_uppercase();
    let edited = if r.editor_name.is_empty() {
        String::new()
    } else {
        format!(", edited by {}", r.editor_name)
    };
    let mut head = format!(
        "v{} {status}  by {}{edited}, {}",
        r.version,
        r.author_name,
        time::ago(r.created_at_ms, now)
    );
    if !r.signer_name.is_empty() {
        head.push_str(&format!(
            "; signed by {} {}",
            r.signer_name,
            time::ago(r.signed_at_ms, now)
        ));
    }
    let mut lines = vec![format!("  {}", out.paint(Style::Bold, &head))];
    if r.critical {
        lines.push(format!(
            "    {}",
            out.paint(Style::Alarm, "!! CRITICAL FINDING")
        ));
    }
    if !r.amend_reason.is_empty() {
        lines.push(format!("    Amended because: {}", r.amend_reason));
    }
    lines.push(format!("    Findings:   {}", r.findings));
    lines.push(format!("    Impression: {}", r.impression));
    lines
}

fn print_measurements(out: &Output, ms: &[pb::Measurement]) -> Result<(), CliError> {
    if ms.is_empty() {
        return Ok(());
    }
    out.line(&format!("\n{}", out.paint(Style::Bold, "Measurements")))?;
    let mut t = Table::new(&["NAME", "VALUE", "UNIT", "LEAD", "SOURCE"]);
    for m in ms {
        t.row(vec![
            measurement_label(&m.name).into(),
            format!("{}", (m.value * 100.0).round() / 100.0).into(),
            m.unit.clone().into(),
            m.lead.clone().into(),
            m.source.clone().into(),
        ]);
    }
    out.line(&t.render(out.color))
}

/// A measurement's name, with the term Chinese ECG reports use for the ectopic beat counts.
fn measurement_label(name: &str) -> String {
    match name {
        "pvc_count" => "pvc_count 室性早搏".into(),
        "pac_count" => "pac_count 房性早搏".into(),
        _ => name.into(),
    }
}

fn print_artifacts(out: &Output, arts: &[pb::ArtifactInfo]) -> Result<(), CliError> {
    if arts.is_empty() {
        return Ok(());
    }
    out.line(&format!(
        "\n{}",
        out.paint(Style::Bold, "Artifacts (save with --out DIR)")
    ))?;
    let mut t = Table::new(&["NAME", "TYPE", "SIZE"]).max_width(90);
    for a in arts {
        t.row(vec![
            a.name.clone().into(),
            a.media_type.clone().into(),
            text::bytes(a.size).into(),
        ]);
    }
    out.line(&t.render(out.color))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_follows_the_workflow_order() {
        let t: std::collections::HashMap<String, i64> = [
            ("signed", 3_000),
            ("received", 1_000),
            ("claimed", 0),
            ("ready", 2_000),
            ("archived", 4_000),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let line = timeline_line(&t);
        let order: Vec<&str> = line
            .split(", ")
            .map(|p| p.split(' ').next().unwrap())
            .collect();
        assert_eq!(order, ["received", "ready", "signed", "archived"]);
    }

    #[test]
    fn render_requests_carry_the_window() {
        let inst = pb::InstanceInfo {
            sop_instance_uid: "1.2".into(),
            rows: 4,
            ..Default::default()
        };
        let r = render_request(7, &inst, 2, None);
        assert_eq!(
            (r.case_id, r.frame, r.max_size, r.window_preset.as_str()),
            (7, 2, 0, "default")
        );
        let r = render_request(7, &inst, 0, Some(&Window::Preset("lung".into())));
        assert_eq!(r.window_preset, "lung");
        let r = render_request(
            7,
            &inst,
            0,
            Some(&Window::Explicit {
                center: -600.0,
                width: 1500.0,
            }),
        );
        assert_eq!((r.window_center, r.window_width), (-600.0, 1500.0));
    }

    #[test]
    fn report_lines_mark_critical_and_amendments() {
        let r = pb::ReportVersion {
            version: 2,
            status: pb::ReportStatus::Amended as i32,
            findings: "f".into(),
            impression: "i".into(),
            critical: true,
            author_name: "Dr Li".into(),
            signer_name: "Dr Chen".into(),
            created_at_ms: 1_000,
            signed_at_ms: 1_000,
            amend_reason: "typo".into(),
            ..Default::default()
        };
        let lines = report_lines(&Output::plain(), &r, 1_000 + 5 * 60_000);
        assert_eq!(
            lines[0],
            "  v2 AMENDED  by Dr Li, 5 min ago; signed by Dr Chen 5 min ago"
        );
        assert!(lines.iter().any(|l| l.contains("!! CRITICAL FINDING")));
        assert!(lines.iter().any(|l| l.contains("Amended because: typo")));
    }

    #[test]
    fn report_lines_name_the_editor_beside_author_and_signer() {
        let r = pb::ReportVersion {
            version: 2,
            status: pb::ReportStatus::Final as i32,
            author_name: "Dr Li".into(),
            editor_name: "Dr Chen".into(),
            signer_name: "Dr Chen".into(),
            created_at_ms: 1_000,
            signed_at_ms: 1_000,
            ..Default::default()
        };
        let lines = report_lines(&Output::plain(), &r, 1_000 + 5 * 60_000);
        assert_eq!(
            lines[0],
            "  v2 FINAL  by Dr Li, edited by Dr Chen, 5 min ago; signed by Dr Chen 5 min ago"
        );
    }
}
