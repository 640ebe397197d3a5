//! The command line, declared with clap derive. Every command takes the global options
//! ([`GlobalArgs`]) and prints a table, or JSON with `--json`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::since::parse_since;

/// Shown at the end of `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  partial failure (e.g. some files rejected) or another error (hub internal error, local file)
  2  usage error (bad arguments, or the hub refused the request as invalid)
  3  unauthenticated or permission denied (check --token / HUB_TOKEN and your role)
  4  not found, or the case's state does not allow it (failed precondition)
  5  hub unreachable or unavailable (check --hub / HUB_URL)
A closed output pipe (e.g. `| head`) is not an error.

With --json every command prints one JSON document on stdout (`reports --follow`: one JSON
object per line), and errors print {\"error\": {...}} on stderr.";

/// remotedx from the command line: township clinics upload studies and read their reports,
/// county specialists work the reading queue, administrators read the audit trail.
#[derive(Debug, Parser)]
#[command(name = "viewer-cli", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The hub's gRPC URL.
    #[arg(
        long,
        env = "HUB_URL",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub hub: String,
    /// Your bearer token (sent as `authorization: Bearer <token>`).
    #[arg(long, env = "HUB_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// The CA certificate (PEM) an https:// hub's certificate is checked against, e.g. the
    /// county CA's ca.pem (default: the system's trusted roots).
    #[arg(long, env = "HUB_CA_FILE", global = true)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Send your token over plaintext http:// to a hub on another machine (refused otherwise):
    /// only on a private link you trust.
    #[arg(long, global = true)]
    pub insecure_plaintext: bool,
    /// Print JSON for scripts instead of tables; hides the progress bar.
    #[arg(long, global = true)]
    pub json: bool,
    /// No colours (also when NO_COLOR is set or the output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Who your token belongs to: name, role, institution.
    Whoami,
    /// Upload DICOM files or folders (recursively): one case per study.
    Upload(UploadArgs),
    /// List cases (clinics: their institution's; specialists and admins: all).
    Cases(CasesArgs),
    /// The reading queue, most pressing first (specialists).
    Queue(QueueArgs),
    /// Take the lease on a case to read it (specialists).
    Claim(ClaimArgs),
    /// Extend your lease on a case.
    Renew(CaseArg),
    /// Give a claimed case back to the queue.
    Release(CaseArg),
    /// Everything about a case; with --out, download its previews, charts and measurements.
    Show(ShowArgs),
    /// File the report of a case you hold (preliminary, or final with --sign).
    Report(ReportArgs),
    /// Sign a preliminary report final (senior specialists), optionally editing it.
    Sign(SignArgs),
    /// Correct a signed report; the earlier versions stay in the history.
    Amend(AmendArgs),
    /// Reports of your cases (clinics) or of all cases, newest first; --follow to watch.
    Reports(ReportsArgs),
    /// Download one stored DICOM instance, byte for byte.
    Get(GetArgs),
    /// The audit trail (administrators).
    Audit(AuditArgs),
    /// Result mutual recognition: check a patient's valid results, accept or decline one.
    #[command(subcommand)]
    Recognition(RecognitionCommand),
    /// Recognition, savings and reading statistics (administrators); --chart for a bar chart.
    Stats(StatsArgs),
    /// Possible patient mix-ups: content already on file under a different patient, held until
    /// the clinic or an administrator resolves it.
    #[command(subcommand)]
    Mixup(MixupCommand),
}

/// `mixup ...` (clinics: their own cases; administrators: all).
#[derive(Debug, Subcommand)]
pub enum MixupCommand {
    /// Held cases whose content is already on file under a different patient.
    List(MixupListArgs),
    /// Resolve a held case: --different-patient (it joins the reading queue) or --withdraw.
    Resolve(MixupResolveArgs),
}

/// `mixup list`.
#[derive(Debug, Args)]
pub struct MixupListArgs {
    /// Resolved ones too.
    #[arg(long)]
    pub all: bool,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// `mixup resolve`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("outcome").required(true).args(["different_patient", "withdraw"])))]
pub struct MixupResolveArgs {
    /// The held case.
    pub case: i64,
    /// You checked: the two cases are different patients; the case joins the reading queue.
    #[arg(long)]
    pub different_patient: bool,
    /// The case is a copy under the wrong patient: take it out of the workflow (kept, never read).
    #[arg(long)]
    pub withdraw: bool,
    /// How you checked (required), e.g. "phoned the clinic: twins, same recording device".
    #[arg(long)]
    pub note: String,
}

/// `recognition ...` (clinics and specialists, for their own institution).
#[derive(Debug, Subcommand)]
pub enum RecognitionCommand {
    /// Every result of an item for a patient (audited): valid ones first, the others with the
    /// reason they cannot be recognised (expired, no QC pass, your own, declined...).
    Check(RecognitionCheckArgs),
    /// Recognise an entry instead of examining again: the ledger books your institution's fee.
    Accept(EntryArg),
    /// Refuse to recognise an entry, with a standard reason.
    Decline(RecognitionDeclineArgs),
    /// Correct an acceptance booked in error with a reversing ledger row.
    Reverse(RecognitionReverseArgs),
}

/// `recognition check`.
#[derive(Debug, Args)]
pub struct RecognitionCheckArgs {
    /// The identifier the patient presents. An ID card number is checked here and by the hub
    /// (18 characters, birth date, check digit; spaces and full-width digits are fine).
    #[arg(long)]
    pub patient_id: String,
    /// How to read it.
    #[arg(long, value_enum, default_value = "id-card")]
    pub id_type: CheckIdType,
    /// Exam item code, e.g. CT-HEAD.
    #[arg(long)]
    pub item: String,
    /// Why you look (recorded in the audit trail).
    #[arg(long, value_enum)]
    pub purpose: CheckPurposeArg,
    /// More about why (recorded in the audit trail; required with `--purpose other`).
    #[arg(long)]
    pub note: Option<String>,
}

/// Why a recognition check is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckPurposeArg {
    /// Deciding whether to examine the patient again.
    BeforeExamining,
    /// Receiving a referred or transferred patient.
    Referral,
    /// A consultation or treatment decision about the patient in front of you.
    Consultation,
    /// Anything else (say what with --note).
    Other,
}

/// A patient identifier type a recognition check accepts (record numbers are hospital-local).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckIdType {
    /// Resident identity card number.
    IdCard,
    /// Medical insurance number.
    Insurance,
    /// Regional health card number.
    HealthCard,
}

/// A recognition entry.
#[derive(Debug, Args)]
pub struct EntryArg {
    /// The entry id (from `recognition check`).
    pub entry: i64,
}

/// `recognition decline`.
#[derive(Debug, Args)]
pub struct RecognitionDeclineArgs {
    /// The entry id (from `recognition check`).
    pub entry: i64,
    /// The standard reason.
    #[arg(long, value_enum)]
    pub reason: DeclineReasonArg,
    /// A note (at most 200 characters; required with `other`).
    #[arg(long)]
    pub note: Option<String>,
}

/// The standard reasons for not recognising a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeclineReasonArg {
    /// The patient's condition changed.
    ConditionChanged,
    /// A fast-changing parameter.
    FastChanging,
    /// Decisive before surgery or transfusion.
    PreSurgery,
    /// An emergency.
    Emergency,
    /// Forensic or disability appraisal.
    Forensic,
    /// The patient asks for a new examination.
    PatientRequest,
    /// Image quality inadequate.
    ImageQuality,
    /// Outside the validity window.
    OutsideValidity,
    /// Something else (say what in --note).
    Other,
}

impl DeclineReasonArg {
    /// The code the hub takes.
    pub fn code(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// `recognition reverse`.
#[derive(Debug, Args)]
pub struct RecognitionReverseArgs {
    /// The ledger id of the acceptance (from `recognition accept`).
    pub ledger: i64,
    /// Why it is corrected.
    #[arg(long)]
    pub reason: String,
}

/// `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// First day, YYYY-MM-DD (default: the beginning).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD, inclusive (default: today).
    #[arg(long)]
    pub to: Option<String>,
    /// Break the recognition figures down by this.
    #[arg(long, value_enum, default_value = "institution")]
    pub by: GroupByArg,
    /// Also write a bar chart of savings by month and institution (.svg or .png).
    #[arg(long)]
    pub chart: Option<PathBuf>,
}

/// What `stats` breaks the figures down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupByArg {
    /// Institution.
    Institution,
    /// Exam item.
    Item,
    /// Month.
    Month,
    /// Modality.
    Modality,
}

/// A case identifier.
#[derive(Debug, Args)]
pub struct CaseArg {
    /// The case id (from `cases`, `queue` or `upload`).
    pub case: i64,
}

/// `upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files or folders; folders are walked recursively (hidden entries and non-record files
    /// such as *.json, *.txt, *.png are skipped and listed). A WFDB ECG record is uploaded by
    /// its `.hea` header: the signal files it names come along (its annotation files do not);
    /// give the patient with --patient-id.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Priority of the uploaded studies (default: the studies' own, else routine).
    #[arg(long, value_enum)]
    pub priority: Option<PriorityArg>,
    /// Mark the studies critical (e.g. suspected stroke); needs --reason.
    #[arg(long, requires = "reason")]
    pub critical: bool,
    /// Why they are critical; shown to the specialist.
    #[arg(long, requires = "critical")]
    pub reason: Option<String>,
    /// Exam item code from the hub's catalogue (default: derived from each study).
    #[arg(long)]
    pub item: Option<String>,
    /// How to read the DICOM Patient ID (default: the hub decides from its shape), and
    /// --patient-id (default: an ID card number).
    #[arg(long, value_enum)]
    pub patient_id_type: Option<PatientIdType>,
    /// The patient of WFDB ECG records, which name none (ignored for DICOM files, which carry
    /// their own Patient ID). Read as an ID card number and refused if it is not a valid one,
    /// unless --patient-id-type says it is another kind.
    #[arg(long, value_name = "ID")]
    pub patient_id: Option<String>,
    /// A clinical note for the specialist (at most 500 characters).
    #[arg(long)]
    pub note: Option<String>,
}

/// `cases`.
#[derive(Debug, Args)]
pub struct CasesArgs {
    /// Only cases in these states (repeat or separate with commas).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub state: Vec<StateArg>,
    /// Only this modality (CT, DX, MR, US, ECG, ...).
    #[arg(long)]
    pub modality: Option<String>,
    /// Only cases with a critical report.
    #[arg(long)]
    pub critical: bool,
    /// Only cases received since: a date (2026-05-12, UTC), a time (2026-05-12T08:00:00Z) or an
    /// age (2h, 3d).
    #[arg(long, value_parser = parse_since)]
    pub since: Option<i64>,
    /// Specialists and admins: only this institution's cases.
    #[arg(long)]
    pub institution: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// `queue`.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Only this modality.
    #[arg(long)]
    pub modality: Option<String>,
    /// Also list cases someone else has claimed.
    #[arg(long)]
    pub all: bool,
    /// The review queue: preliminary reports waiting for a senior's signature.
    #[arg(long)]
    pub review: bool,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// `claim`.
#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// The case id.
    pub case: i64,
    /// Why overdue critical or STAT cases ahead are passed over (recorded in the audit trail).
    #[arg(long)]
    pub skip_reason: Option<String>,
}

/// `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The case id.
    pub case: i64,
    /// Write every artifact (previews, series strips, ECG charts, measurements) and case.json here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also render every image at full resolution into --out (render/SOP_UID-fN.png).
    #[arg(long, requires = "out")]
    pub full: bool,
    /// Frame to render (zero-based) with --full.
    #[arg(long, default_value_t = 0, requires = "full")]
    pub frame: u32,
    /// Window for --full: a preset (brain, lung, bone, abdomen, mediastinum, default) or
    /// CENTER,WIDTH (e.g. 40,80 or -600,1500).
    #[arg(long, requires = "full", allow_hyphen_values = true, value_parser = parse_window)]
    pub window: Option<Window>,
}

/// `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The case id (you must hold its lease).
    pub case: i64,
    /// What was seen.
    #[arg(long)]
    pub findings: String,
    /// The conclusion.
    #[arg(long)]
    pub impression: String,
    /// The report states a critical finding: the clinic is told at once.
    #[arg(long)]
    pub critical: bool,
    /// Sign it final now (senior specialists, or anyone where two-level review is off).
    #[arg(long)]
    pub sign: bool,
}

/// `sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The case id.
    pub case: i64,
    /// Replace the findings.
    #[arg(long)]
    pub findings: Option<String>,
    /// Replace the impression.
    #[arg(long)]
    pub impression: Option<String>,
    /// Raise the critical flag (lowering it needs an amendment).
    #[arg(long)]
    pub critical: bool,
}

/// `amend`.
#[derive(Debug, Args)]
pub struct AmendArgs {
    /// The case id.
    pub case: i64,
    /// The corrected findings.
    #[arg(long)]
    pub findings: String,
    /// The corrected impression.
    #[arg(long)]
    pub impression: String,
    /// Why it is corrected.
    #[arg(long)]
    pub reason: String,
    /// The corrected report states a critical finding. Without --critical or --not-critical the
    /// amendment keeps the earlier report's flag.
    #[arg(long, conflicts_with = "not_critical")]
    pub critical: bool,
    /// The corrected report no longer states a critical finding (lowers the flag).
    #[arg(long)]
    pub not_critical: bool,
}

/// `reports`.
#[derive(Debug, Args)]
pub struct ReportsArgs {
    /// Only reports written since: a date (2026-05-12, UTC), a time or an age (2h, 3d).
    #[arg(long, value_parser = parse_since)]
    pub since: Option<i64>,
    /// Only reports stating a critical finding.
    #[arg(long)]
    pub critical: bool,
    /// Keep running and print reports as they are filed, signed or amended.
    #[arg(long)]
    pub follow: bool,
    /// At most this many (before following).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The case id.
    pub case: i64,
    /// The instance's SOP Instance UID (from `show`).
    pub sop_instance_uid: String,
    /// Where to write it; `-` for standard output.
    #[arg(long)]
    pub out: PathBuf,
}

/// `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries about this case.
    #[arg(long)]
    pub case: Option<i64>,
    /// Only entries by this user id.
    #[arg(long)]
    pub user: Option<i64>,
    /// Only this action (upload, claim, view, report, sign, amend, queue_skip, ...).
    #[arg(long)]
    pub action: Option<String>,
    /// Only entries since: a date, a time or an age (2h, 3d).
    #[arg(long, value_parser = parse_since)]
    pub since: Option<i64>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// How soon a case must be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PriorityArg {
    /// Within a day.
    Routine,
    /// Within hours.
    Urgent,
    /// Now (emergency).
    Stat,
}

/// How the hub reads a DICOM Patient ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PatientIdType {
    /// Resident identity card number.
    IdCard,
    /// Medical insurance number.
    Insurance,
    /// Regional health card number.
    HealthCard,
    /// The clinic's own record number.
    Mrn,
}

/// A case state to filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    /// Instances still arriving.
    Receiving,
    /// Waiting for processing.
    Received,
    /// Being processed.
    Processing,
    /// In the reading queue.
    Ready,
    /// Held by a specialist.
    Claimed,
    /// Preliminary report filed.
    Reported,
    /// Final report signed.
    Signed,
    /// Held: possible patient mix-up.
    MixupHold,
    /// Withdrawn after a possible patient mix-up.
    Withdrawn,
}

/// A display window for renders.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// A named preset the hub knows.
    Preset(String),
    /// Explicit centre and width in rescaled units (e.g. HU).
    Explicit {
        /// Window centre.
        center: f64,
        /// Window width (> 0).
        width: f64,
    },
}

/// The presets RenderFrame accepts.
pub const WINDOW_PRESETS: [&str; 6] =
    ["brain", "lung", "bone", "abdomen", "mediastinum", "default"];

/// Parses `--window`: a preset name or `CENTER,WIDTH`.
pub fn parse_window(s: &str) -> Result<Window, String> {
    if let Some((c, w)) = s.split_once(',') {
        let center: f64 = c
            .trim()
            .parse()
            .map_err(|_| format!("window centre {c:?} is not a number"))?;
        let width: f64 = w
            .trim()
            .parse()
            .map_err(|_| format!("window width {w:?} is not a number"))?;
        if width.is_nan() || width <= 0.0 {
            return Err(format!("window width must be positive, got {w}"));
        }
        return Ok(Window::Explicit { center, width });
    }
    let name = s.trim().to_ascii_lowercase();
    if WINDOW_PRESETS.contains(&name.as_str()) {
        Ok(Window::Preset(name))
    } else {
        Err(format!(
            "unknown window {s:?}: use one of {} or CENTER,WIDTH",
            WINDOW_PRESETS.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn windows_parse() {
        assert_eq!(parse_window("Brain"), Ok(Window::Preset("brain".into())));
        assert_eq!(
            parse_window("-600,1500"),
            Ok(Window::Explicit {
                center: -600.0,
                width: 1500.0
            })
        );
        assert!(parse_window("40,0").is_err());
        assert!(parse_window("40,x").is_err());
        assert!(parse_window("liver").is_err());
    }

    #[test]
    fn critical_upload_needs_a_reason() {
        let err = Cli::try_parse_from(["viewer-cli", "upload", "x.dcm", "--critical"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let ok = Cli::try_parse_from([
            "viewer-cli",
            "upload",
            "x.dcm",
            "--critical",
            "--reason",
            "stroke",
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn global_options_go_anywhere_and_window_takes_negative_centres() {
        let cli = Cli::try_parse_from([
            "viewer-cli",
            "show",
            "7",
            "--json",
            "--out",
            "d",
            "--full",
            "--window",
            "-600,1500",
            "--hub",
            "http://h:1",
        ])
        .unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.hub, "http://h:1");
        let Command::Show(show) = cli.command else {
            panic!("show")
        };
        assert_eq!(
            show.window,
            Some(Window::Explicit {
                center: -600.0,
                width: 1500.0
            })
        );
    }

    #[test]
    fn recognition_commands_parse() {
        let cli = Cli::try_parse_from([
            "viewer-cli",
            "recognition",
            "decline",
            "7",
            "--reason",
            "pre-surgery",
            "--note",
            "x",
        ])
        .unwrap();
        let Command::Recognition(RecognitionCommand::Decline(d)) = cli.command else {
            panic!("decline")
        };
        assert_eq!((d.entry, d.reason.code()), (7, "pre-surgery".to_owned()));
        let cli = Cli::try_parse_from([
            "viewer-cli",
            "recognition",
            "check",
            "--patient-id",
            "1",
            "--item",
            "CT-HEAD",
            "--purpose",
            "referral",
        ])
        .unwrap();
        let Command::Recognition(RecognitionCommand::Check(c)) = cli.command else {
            panic!("check")
        };
        assert_eq!(c.id_type, CheckIdType::IdCard);
        assert_eq!(c.purpose, CheckPurposeArg::Referral);
        let no_purpose = ["viewer-cli", "recognition", "check", "--patient-id", "1"];
        assert!(
            Cli::try_parse_from([&no_purpose[..], &["--item", "CT-HEAD"]].concat()).is_err(),
            "a check states its purpose"
        );
        assert!(
            Cli::try_parse_from([
                "viewer-cli",
                "recognition",
                "check",
                "--patient-id",
                "1",
                "--item",
                "X",
                "--id-type",
                "mrn"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["viewer-cli", "stats", "--by", "year"]).is_err());
    }

    #[test]
    fn states_take_commas() {
        let cli = Cli::try_parse_from(["viewer-cli", "cases", "--state", "ready,claimed"]).unwrap();
        let Command::Cases(c) = cli.command else {
            panic!("cases")
        };
        assert_eq!(c.state, vec![StateArg::Ready, StateArg::Claimed]);
    }
}
