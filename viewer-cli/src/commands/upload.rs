//! `upload`: walk, stream with a progress bar, print each file's fate and the cases touched.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use remotedx_proto::v1 as pb;
use serde::Serialize;

use crate::cli::{GlobalArgs, PatientIdType, PriorityArg, UploadArgs};
use crate::error::{CliError, EXIT_OK, EXIT_PARTIAL};
use crate::output::table::{Cell, Table};
use crate::output::{Output, Style, text};
use crate::upload::{self, Event, Outcome, Skipped};

/// `upload --json`.
#[derive(Debug, Clone, Serialize)]
pub struct UploadJson {
    /// Every file sent (and every local failure), in order.
    pub files: Vec<FileResultJson>,
    /// Files left out of folders, and why.
    pub skipped: Vec<Skipped>,
    /// The hub's summary.
    pub summary: SummaryJson,
}

/// One file's fate.
#[derive(Debug, Clone, Serialize)]
pub struct FileResultJson {
    /// The file's name in the upload (its path as given).
    pub file: String,
    /// "accepted", "duplicate" or "rejected".
    pub status: &'static str,
    /// The case it went to (accepted, duplicate).
    pub case_id: Option<i64>,
    /// Its SOP Instance UID (accepted, duplicate).
    pub sop_instance_uid: Option<String>,
    /// Its size (accepted, duplicate).
    pub size: Option<u64>,
    /// Why it was rejected: a RejectReason in lower case ("not_dicom", "malformed", ...), or
    /// "local" if it could not be read here.
    pub reason: Option<&'static str>,
    /// The hub's (or the local) message for a rejection.
    pub message: Option<String>,
}

/// The session's totals and cases.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummaryJson {
    /// Files stored new.
    pub accepted: u32,
    /// Files already stored.
    pub duplicates: u32,
    /// Files refused (including local failures).
    pub rejected: u32,
    /// One per study touched.
    pub cases: Vec<UploadedCaseJson>,
}

/// A case the session touched.
#[derive(Debug, Clone, Serialize)]
pub struct UploadedCaseJson {
    /// Case id.
    pub case_id: i64,
    /// Study Instance UID.
    pub study_instance_uid: String,
    /// Modality.
    pub modality: String,
    /// Exam item code.
    pub exam_item_code: String,
    /// Instances in the case now.
    pub instance_count: u32,
    /// Bytes in the case now.
    pub total_bytes: u64,
    /// Instances this session added.
    pub new_instances: u32,
    /// State now.
    pub state: &'static str,
    /// Effective priority.
    pub priority: &'static str,
    /// Non-empty if a still-valid earlier result of the same item exists.
    pub possible_repeat: String,
}

/// Runs the command.
pub async fn run(global: &GlobalArgs, out: &Output, a: UploadArgs) -> Result<u8, CliError> {
    if let Some(id) = &a.patient_id
        && matches!(a.patient_id_type, None | Some(PatientIdType::IdCard))
    {
        super::check_id_card(id, "--patient-id-type")?;
    }
    let walk = upload::walk(&a.paths)?;
    if !out.json {
        for s in &walk.skipped {
            out.line(&out.paint(Style::Dim, &format!("skipped   {} ({})", s.path, s.why)))?;
        }
    }
    if walk.files.is_empty() {
        return Err(CliError::Usage("no files to upload".into()));
    }
    let hub = super::connect(global).await?;
    let progress = progress_bar(out, walk.total_bytes());
    let printer = progress.clone();
    let mut print_error = None;
    let outcome = upload::upload(
        &hub,
        walk.files.clone(),
        options(&a),
        progress.clone(),
        |e| {
            if !out.json && print_error.is_none() {
                print_error = printer.suspend(|| out.line(&event_line(out, e))).err();
            }
        },
    )
    .await;
    progress.finish_and_clear();
    if let Some(e) = print_error {
        return Err(e);
    }
    let outcome = outcome?;
    let json = to_json(&outcome, walk.skipped);
    if out.json {
        out.json(&json)?;
    } else {
        print_human(out, &outcome, &json.summary)?;
    }
    Ok(if json.summary.rejected > 0 {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}

fn options(a: &UploadArgs) -> pb::UploadOptions {
    let priority = a.priority.map_or(pb::Priority::Unspecified, |p| match p {
        PriorityArg::Routine => pb::Priority::Routine,
        PriorityArg::Urgent => pb::Priority::Urgent,
        PriorityArg::Stat => pb::Priority::Stat,
    });
    let patient_id_type = a.patient_id_type.map(|t| match t {
        PatientIdType::IdCard => "id-card",
        PatientIdType::Insurance => "insurance",
        PatientIdType::HealthCard => "health-card",
        PatientIdType::Mrn => "mrn",
    });
    pb::UploadOptions {
        priority: priority as i32,
        critical: a.critical,
        critical_reason: a.reason.clone().unwrap_or_default(),
        exam_item_code: a.item.clone().unwrap_or_default(),
        patient_id_type: patient_id_type.unwrap_or_default().to_owned(),
        clinical_note: a.note.clone().unwrap_or_default(),
        patient_id: a.patient_id.clone().unwrap_or_default(),
    }
}

/// A bar over the total bytes on stderr; hidden with --json or when stderr is not a terminal.
fn progress_bar(out: &Output, total: u64) -> ProgressBar {
    if !out.interactive {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {wide_msg}",
    )
    .expect("valid template");
    bar.set_style(style);
    bar
}

/// "accepted  path -> case 12", "duplicate ...", "REJECTED  path: reason".
pub fn event_line(out: &Output, e: &Event) -> String {
    match e {
        Event::Accepted(a) if a.duplicate => {
            format!(
                "{} {} -> case {} (already stored)",
                out.paint(Style::Yellow, "duplicate"),
                a.file_name,
                a.case_id
            )
        }
        Event::Accepted(a) => format!(
            "{}  {} -> case {}",
            out.paint(Style::Green, "accepted"),
            a.file_name,
            a.case_id
        ),
        Event::Rejected(r) => {
            // The hub's messages usually name the file already.
            let message = if r.message.starts_with(&r.file_name) {
                r.message.clone()
            } else {
                format!("{}: {}", r.file_name, r.message)
            };
            format!(
                "{}  {message} [{}]",
                out.paint(Style::Red, "REJECTED"),
                text::reject_reason(r.reason)
            )
        }
    }
}

/// The JSON result of a session.
pub fn to_json(outcome: &Outcome, skipped: Vec<Skipped>) -> UploadJson {
    let mut files: Vec<FileResultJson> = outcome.events.iter().map(file_json).collect();
    files.extend(outcome.local_failures.iter().map(|f| FileResultJson {
        file: f.name.clone(),
        status: "rejected",
        case_id: None,
        sop_instance_uid: None,
        size: None,
        reason: Some("local"),
        message: Some(f.message.clone()),
    }));
    let s = outcome.summary.clone().unwrap_or_default();
    let summary = SummaryJson {
        accepted: s.accepted,
        duplicates: s.duplicates,
        rejected: s.rejected + u32::try_from(outcome.local_failures.len()).unwrap_or(u32::MAX),
        cases: s.cases.into_iter().map(case_json).collect(),
    };
    UploadJson {
        files,
        skipped,
        summary,
    }
}

fn file_json(e: &Event) -> FileResultJson {
    match e {
        Event::Accepted(a) => FileResultJson {
            file: a.file_name.clone(),
            status: if a.duplicate { "duplicate" } else { "accepted" },
            case_id: Some(a.case_id),
            sop_instance_uid: Some(a.sop_instance_uid.clone()),
            size: Some(a.size),
            reason: None,
            message: None,
        },
        Event::Rejected(r) => FileResultJson {
            file: r.file_name.clone(),
            status: "rejected",
            case_id: None,
            sop_instance_uid: None,
            size: None,
            reason: Some(text::reject_reason(r.reason)),
            message: Some(r.message.clone()),
        },
    }
}

fn case_json(c: pb::UploadedCase) -> UploadedCaseJson {
    UploadedCaseJson {
        case_id: c.case_id,
        study_instance_uid: c.study_instance_uid,
        modality: c.modality,
        exam_item_code: c.exam_item_code,
        instance_count: c.instance_count,
        total_bytes: c.total_bytes,
        new_instances: c.new_instances,
        state: text::state(c.state),
        priority: text::priority(c.priority),
        possible_repeat: c.possible_repeat,
    }
}

fn print_human(out: &Output, outcome: &Outcome, s: &SummaryJson) -> Result<(), CliError> {
    for f in &outcome.local_failures {
        out.line(&format!(
            "{}  {}",
            out.paint(Style::Red, "FAILED"),
            f.message
        ))?;
    }
    if outcome.summary.is_none() {
        out.line(&out.paint(Style::Red, "The hub closed the session without a summary."))?;
    }
    if !s.cases.is_empty() {
        out.line("")?;
        out.line(&summary_table(&s.cases).render(out.color))?;
    }
    for c in s.cases.iter().filter(|c| c.state == "mixup_hold") {
        let line = format!(
            "case {} is HELD: its content is already on file under a different patient \
             (possible patient mix-up); it is not read until resolved: viewer-cli mixup list",
            c.case_id
        );
        out.line(&out.paint(Style::Red, &line))?;
    }
    let line = format!(
        "{} accepted, {} duplicates, {} rejected",
        s.accepted, s.duplicates, s.rejected
    );
    let style = if s.rejected > 0 {
        Style::Red
    } else {
        Style::Bold
    };
    out.line(&format!("\n{}", out.paint(style, &line)))
}

/// The table of cases the session touched.
pub fn summary_table(cases: &[UploadedCaseJson]) -> Table {
    let mut t = Table::new(&[
        "CASE",
        "MOD",
        "ITEM",
        "INSTANCES",
        "BYTES",
        "STATE",
        "PRIORITY",
        "POSSIBLE REPEAT",
    ])
    .max_width(60);
    for c in cases {
        let repeat = if c.possible_repeat.is_empty() {
            Cell::from("-")
        } else {
            Cell::styled(c.possible_repeat.clone(), Style::Yellow)
        };
        t.row(vec![
            c.case_id.to_string().into(),
            c.modality.clone().into(),
            c.exam_item_code.clone().into(),
            format!("{} (+{})", c.instance_count, c.new_instances).into(),
            text::bytes(c.total_bytes).into(),
            c.state.into(),
            c.priority.into(),
            repeat,
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::LocalFailure;

    fn args(extra: &[&str]) -> UploadArgs {
        use clap::Parser;
        let mut argv = vec!["viewer-cli", "upload", "x.dcm"];
        argv.extend(extra);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Upload(a) => a,
            _ => unreachable!("upload"),
        }
    }

    #[test]
    fn flags_become_session_options() {
        let o = options(&args(&[
            "--priority",
            "stat",
            "--critical",
            "--reason",
            "stroke",
            "--item",
            "CT-HEAD",
            "--patient-id-type",
            "health-card",
            "--note",
            "left weakness",
        ]));
        assert_eq!(o.priority, pb::Priority::Stat as i32);
        assert!(o.critical);
        assert_eq!(o.critical_reason, "stroke");
        assert_eq!(o.exam_item_code, "CT-HEAD");
        assert_eq!(o.patient_id_type, "health-card");
        assert_eq!(o.clinical_note, "left weakness");
        let plain = options(&args(&[]));
        assert_eq!(
            plain.priority,
            pb::Priority::Unspecified as i32,
            "the hub then uses the study's own"
        );
        assert!(plain.patient_id_type.is_empty() && !plain.critical);
    }

    #[test]
    fn local_failures_count_as_rejections() {
        let outcome = Outcome {
            events: vec![Event::Accepted(pb::FileAccepted {
                file_name: "a".into(),
                case_id: 1,
                ..Default::default()
            })],
            local_failures: vec![LocalFailure {
                name: "b".into(),
                message: "b: cannot read: denied".into(),
            }],
            summary: Some(pb::UploadSummary {
                accepted: 1,
                ..Default::default()
            }),
        };
        let json = to_json(&outcome, Vec::new());
        assert_eq!(json.summary.rejected, 1);
        assert_eq!(json.files[1].status, "rejected");
        assert_eq!(json.files[1].reason, Some("local"));
        let line = event_line(&Output::plain(), &outcome.events[0]);
        assert_eq!(line, "accepted  a -> case 1");
    }
}
