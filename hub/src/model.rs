//! The hub's data: plain types shared by storage, domain and transport (no behaviour, no I/O).

use std::fmt;
use std::str::FromStr;

/// Defines a string-backed enum with `as_str`, `Display` and `FromStr` (the text is what the
/// database stores and what configuration files use).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored text form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} {other:?} (expected one of: {})",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum! {
    /// What a user may do.
    Role {
        /// Township doctor: uploads their institution's studies, reads its reports.
        Clinic => "clinic",
        /// County specialist: reads the queue, claims, reports.
        Specialist => "specialist",
        /// Administrator: statistics and the audit trail, with pseudonyms and masked names only;
        /// never opens a patient's images or case detail.
        Admin => "admin",
        /// Auditor: reads the full audit trail of their own institution, nothing else.
        Auditor => "auditor",
        /// A remote worker process.
        Worker => "worker",
    }
}

text_enum! {
    /// How soon a case must be read (ordered: Routine < Urgent < Stat).
    Priority {
        /// Within a day.
        Routine => "routine",
        /// Within hours.
        Urgent => "urgent",
        /// Now.
        Stat => "stat",
    }
}

impl Priority {
    /// The stored rank (1..=3); higher is more pressing.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Routine => 1,
            Priority::Urgent => 2,
            Priority::Stat => 3,
        }
    }

    /// The priority of a stored rank.
    pub fn from_rank(rank: i64) -> Priority {
        match rank {
            3.. => Priority::Stat,
            2 => Priority::Urgent,
            _ => Priority::Routine,
        }
    }
}

text_enum! {
    /// Where a case is in the workflow.
    CaseState {
        /// Instances still arriving.
        Receiving => "receiving",
        /// Complete, waiting for the worker.
        Received => "received",
        /// The worker is on it.
        Processing => "processing",
        /// Waiting in the reading queue.
        Ready => "ready",
        /// A specialist holds the lease.
        Claimed => "claimed",
        /// A preliminary report waits for a senior's signature.
        Reported => "reported",
        /// Signed final.
        Signed => "signed",
        /// Out of the queue until a person resolves it: its content is already on file under a
        /// different patient (a possible patient mix-up).
        MixupHold => "mixup_hold",
        /// Taken out of the workflow by a person (a copy filed under the wrong patient); kept,
        /// with its audit trail, but never read.
        Withdrawn => "withdrawn",
    }
}

impl CaseState {
    /// States in which a case waits in the reading queue.
    pub const QUEUED: &'static [CaseState] =
        &[CaseState::Received, CaseState::Processing, CaseState::Ready];
}

text_enum! {
    /// What a case holds.
    CaseKind {
        /// Images.
        Imaging => "imaging",
        /// An ECG.
        Ecg => "ecg",
    }
}

text_enum! {
    /// FHIR-like status of a report version.
    ReportStatus {
        /// Not yet signed.
        Preliminary => "preliminary",
        /// Signed.
        Final => "final",
        /// A signed correction.
        Amended => "amended",
    }
}

text_enum! {
    /// What a job does.
    JobKind {
        /// Decode a series' instances, render previews, thumbnails and the series strip.
        ImageSeries => "image_series",
        /// Analyse one ECG.
        EcgAnalysis => "ecg_analysis",
    }
}

text_enum! {
    /// Why a doctor refused to recognise another institution's result (the standard reasons of
    /// the national measures on mutual recognition).
    DeclineReason {
        /// The patient's condition changed since the examination.
        ConditionChanged => "condition-changed",
        /// The finding is a fast-changing parameter.
        FastChanging => "fast-changing",
        /// Decisive before surgery or transfusion, so it must be current.
        PreSurgery => "pre-surgery",
        /// An emergency.
        Emergency => "emergency",
        /// Needed for a forensic or disability appraisal.
        Forensic => "forensic",
        /// The patient asked for a new examination.
        PatientRequest => "patient-request",
        /// The images are not good enough.
        ImageQuality => "image-quality",
        /// The result is outside its validity window.
        OutsideValidity => "outside-validity",
        /// Something else (the note says what).
        Other => "other",
    }
}

/// The authenticated caller of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id (0 for the hub itself and DICOM peers).
    pub user_id: i64,
    /// Display name (or AE title).
    pub name: String,
    /// Role.
    pub role: Role,
    /// Institution code.
    pub institution_code: String,
    /// Institution name.
    pub institution_name: String,
    /// May sign reports final.
    pub senior: bool,
}

/// A participating institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    /// Short code, e.g. "TS-A".
    pub code: String,
    /// Name.
    pub name: String,
    /// Level: "township", "county", "city", "province".
    pub level: String,
}

// The row types below mirror the tables of `storage/migrations/*.sql`, where each column is
// documented; repeating that on every field would add nothing.

/// A case as stored.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Case {
    pub id: i64,
    pub institution_code: String,
    pub institution_name: String,
    pub study_instance_uid: String,
    pub kind: String,
    pub modality: String,
    pub exam_item_code: String,
    pub priority: i64,
    pub critical: bool,
    pub critical_reason: String,
    pub state: String,
    pub patient_key: String,
    pub patient_key_version: i64,
    pub patient_id_masked: String,
    pub patient_display: String,
    pub patient_sex: String,
    pub patient_age_years: i64,
    pub study_date: String,
    pub study_description: String,
    pub clinical_note: String,
    pub possible_repeat: String,
    pub instance_count: i64,
    pub total_bytes: i64,
    pub pending_jobs: i64,
    pub created_at_ms: i64,
    pub last_instance_at_ms: i64,
    pub received_at_ms: i64,
    pub processing_at_ms: i64,
    pub ready_at_ms: i64,
    pub claimed_at_ms: i64,
    pub reported_at_ms: i64,
    pub signed_at_ms: i64,
    pub deadline_at_ms: i64,
    pub claimed_by: Option<i64>,
    pub claimed_by_name: String,
    pub claim_expires_at_ms: i64,
    pub report_status: String,
    pub hold_reason: String,
    /// The signed case of the same study that this one follows (instances that arrived after its
    /// report was signed), 0 if none.
    pub follows_case_id: i64,
}

impl Case {
    /// The case's state.
    pub fn state(&self) -> CaseState {
        self.state.parse().unwrap_or(CaseState::Receiving)
    }

    /// The case's priority.
    pub fn priority(&self) -> Priority {
        Priority::from_rank(self.priority)
    }

    /// True if someone holds an unexpired lease at `now_ms`.
    pub fn claim_active(&self, now_ms: i64) -> bool {
        self.claimed_by.is_some() && self.claim_expires_at_ms > now_ms
    }
}

text_enum! {
    /// Where a possible patient mix-up stands.
    MixupState {
        /// Waiting for a person; the later case is held out of the queue.
        Open => "open",
        /// A person confirmed the two cases are different patients; the later case was queued.
        DifferentPatient => "different_patient",
        /// A person withdrew the later case (the copy under the wrong patient).
        Withdrawn => "withdrawn",
    }
}

/// A possible patient mix-up: the content of `sop_instance_uid` (in `case_id`) is already on file
/// as `other_sop_instance_uid` (in `other_case_id`) under a different patient (table `mixups`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mixup {
    pub id: i64,
    pub case_id: i64,
    pub other_case_id: i64,
    pub sop_instance_uid: String,
    pub other_sop_instance_uid: String,
    pub state: String,
    pub created_at_ms: i64,
    pub resolved_by: Option<i64>,
    pub resolved_by_name: String,
    pub resolution_note: String,
    pub resolved_at_ms: i64,
}

/// A stored DICOM instance (or ECG record file).
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instance {
    pub sop_instance_uid: String,
    pub case_id: i64,
    pub series_instance_uid: String,
    pub series_number: i64,
    pub instance_number: i64,
    pub sop_class_uid: String,
    pub transfer_syntax_uid: String,
    pub modality: String,
    pub blob_key: String,
    pub size: i64,
    pub rows: i64,
    pub columns: i64,
    pub frames: i64,
    pub processing_error: String,
    pub source: String,
    pub received_at_ms: i64,
}

/// One version of a report.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub id: i64,
    pub case_id: i64,
    pub version: i64,
    pub status: String,
    pub findings: String,
    pub impression: String,
    pub critical: bool,
    pub author_id: i64,
    pub author_name: String,
    pub signer_id: Option<i64>,
    pub signer_name: String,
    /// Who changed the findings or impression while signing; `None` if signed as written.
    pub editor_id: Option<i64>,
    pub editor_name: String,
    pub created_at_ms: i64,
    pub signed_at_ms: i64,
    pub amend_reason: String,
}

/// A derived file of a case.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub case_id: i64,
    pub name: String,
    pub media_type: String,
    pub blob_key: String,
    pub size: i64,
}

/// A measurement of a case.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub source: String,
    pub lead: String,
}

/// A worker finding on a case.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub code: String,
    pub critical: bool,
    pub message: String,
}

/// One entry of the audit trail.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    pub user_id: i64,
    pub actor: String,
    pub institution_code: String,
    pub action: String,
    pub case_id: i64,
    pub patient_key: String,
    pub detail: String,
}

/// A unit of worker job.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub lease_owner: String,
    pub lease_expires_at_ms: i64,
}

/// A user as stored (without the token hash).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub institution_code: String,
    pub senior: bool,
    pub disabled: bool,
}

/// A recognition entry: a signed examination another institution may recognise instead of
/// repeating it (table `recognition_entries`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecognitionEntry {
    pub id: i64,
    pub case_id: i64,
    pub report_id: i64,
    pub patient_key: String,
    pub exam_item_code: String,
    pub category: String,
    pub modality: String,
    pub institution_code: String,
    pub institution_name: String,
    pub institution_level: String,
    pub exam_date: String,
    pub valid_until: String,
    pub valid_until_ms: i64,
    pub scope: String,
    pub hr_mark: String,
    pub fee_fen: i64,
    pub recognisable: bool,
    /// Why it is not recognisable: a [`crate::domain::recognition::rules::Ineligible`] code.
    pub reason_code: String,
    pub reason: String,
    pub impression: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// An institution's standing decision on an entry (table `recognition_decisions`): it accepted
/// it (`ledger_id`) or declined it (`decline_id`), never both.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecognitionDecision {
    pub entry_id: i64,
    pub institution_code: String,
    /// "accept" or "decline".
    pub decision: String,
    pub ledger_id: Option<i64>,
    pub decline_id: Option<i64>,
    pub at_ms: i64,
}

/// A row of the savings ledger (table `recognition_ledger`): an acceptance, or a reversal of one.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerRow {
    pub id: i64,
    pub entry_id: i64,
    /// "accept" or "reversal".
    pub kind: String,
    pub reverses_id: Option<i64>,
    pub institution_code: String,
    pub institution_level: String,
    pub exam_item_code: String,
    pub modality: String,
    pub performing_institution: String,
    pub user_id: i64,
    pub fee_fen: i64,
    pub note: String,
    pub at_ms: i64,
}

/// A refusal to recognise an entry (table `recognition_declines`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecognitionDecline {
    pub id: i64,
    pub entry_id: i64,
    pub institution_code: String,
    pub exam_item_code: String,
    pub modality: String,
    pub user_id: i64,
    pub reason: String,
    pub note: String,
    pub at_ms: i64,
}
