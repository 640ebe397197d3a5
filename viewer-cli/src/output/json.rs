//! The JSON that `--json` prints. These shapes are the CLI's scripting interface: fields are only
//! ever added, never renamed or removed. Times are Unix milliseconds (0 or null when not reached);
//! enums are lower-case strings (see [`super::text`]).

use std::collections::BTreeMap;

use remotedx_proto::v1 as pb;
use serde::Serialize;

use super::text;

/// `whoami`.
#[derive(Debug, Clone, Serialize)]
pub struct UserJson {
    /// User id.
    pub user_id: i64,
    /// Display name.
    pub name: String,
    /// "clinic", "specialist", "admin" or "worker".
    pub role: &'static str,
    /// Institution code.
    pub institution_code: String,
    /// Institution name.
    pub institution_name: String,
    /// May sign reports final.
    pub senior: bool,
}

impl From<pb::UserInfo> for UserJson {
    fn from(u: pb::UserInfo) -> Self {
        UserJson {
            user_id: u.user_id,
            name: u.name,
            role: text::role(u.role),
            institution_code: u.institution_code,
            institution_name: u.institution_name,
            senior: u.senior,
        }
    }
}

/// One case (CaseSummary).
#[derive(Debug, Clone, Serialize)]
pub struct CaseJson {
    /// Case id.
    pub case_id: i64,
    /// Institution code.
    pub institution_code: String,
    /// Institution name.
    pub institution_name: String,
    /// "imaging" or "ecg".
    pub kind: &'static str,
    /// Modality code.
    pub modality: String,
    /// Exam item code.
    pub exam_item_code: String,
    /// Exam item name.
    pub exam_item_name: String,
    /// "routine", "urgent" or "stat".
    pub priority: &'static str,
    /// Marked critical.
    pub critical: bool,
    /// Why it is critical.
    pub critical_reason: String,
    /// Workflow state.
    pub state: &'static str,
    /// Masked patient display.
    pub patient_display: String,
    /// Patient sex (M, F, O or empty).
    pub patient_sex: String,
    /// Age in years, null if unknown.
    pub patient_age_years: Option<i32>,
    /// Instances.
    pub instance_count: u32,
    /// Bytes stored.
    pub total_bytes: u64,
    /// Received in full (ms).
    pub received_at_ms: i64,
    /// Report due (ms).
    pub deadline_at_ms: i64,
    /// The current lease, null if none.
    pub claim: Option<ClaimJson>,
    /// "preliminary", "final", "amended", or null without a report.
    pub report_status: Option<&'static str>,
    /// Worker findings.
    pub flags: Vec<FlagJson>,
    /// Non-empty if a still-valid earlier result of the same item exists.
    pub possible_repeat: String,
    /// Study description.
    pub study_description: String,
    /// Study date (YYYYMMDD).
    pub study_date: String,
    /// Study Instance UID.
    pub study_instance_uid: String,
    /// The uploader's clinical note.
    pub clinical_note: String,
    /// Why the case is held out of the reading queue or was withdrawn (possible patient mix-up).
    pub hold_reason: String,
    /// The signed case of the same study this one follows (instances that arrived after its
    /// report was signed), 0 if none.
    pub follows_case_id: i64,
}

/// A lease.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimJson {
    /// Holder's user id.
    pub user_id: i64,
    /// Holder's name.
    pub user_name: String,
    /// Lease expiry (ms).
    pub expires_at_ms: i64,
}

/// A worker finding.
#[derive(Debug, Clone, Serialize)]
pub struct FlagJson {
    /// Stable code.
    pub code: String,
    /// Makes the case critical.
    pub critical: bool,
    /// Raises the case to at least urgent.
    pub urgent: bool,
    /// For a person.
    pub message: String,
}

impl From<pb::CaseSummary> for CaseJson {
    fn from(c: pb::CaseSummary) -> Self {
        CaseJson {
            case_id: c.case_id,
            institution_code: c.institution_code,
            institution_name: c.institution_name,
            kind: text::kind(c.kind),
            modality: c.modality,
            exam_item_code: c.exam_item_code,
            exam_item_name: c.exam_item_name,
            priority: text::priority(c.priority),
            critical: c.critical,
            critical_reason: c.critical_reason,
            state: text::state(c.state),
            patient_display: c.patient_display,
            patient_sex: c.patient_sex,
            patient_age_years: (c.patient_age_years >= 0).then_some(c.patient_age_years),
            instance_count: c.instance_count,
            total_bytes: c.total_bytes,
            received_at_ms: c.received_at_ms,
            deadline_at_ms: c.deadline_at_ms,
            claim: c.claim.map(|cl| ClaimJson {
                user_id: cl.user_id,
                user_name: cl.user_name,
                expires_at_ms: cl.expires_at_ms,
            }),
            report_status: text::report_status(c.report_status),
            flags: c
                .flags
                .into_iter()
                .map(|f| FlagJson {
                    code: f.code,
                    critical: f.critical,
                    urgent: f.urgent,
                    message: f.message,
                })
                .collect(),
            possible_repeat: c.possible_repeat,
            study_description: c.study_description,
            study_date: c.study_date,
            study_instance_uid: c.study_instance_uid,
            clinical_note: c.clinical_note,
            hold_reason: c.hold_reason,
            follows_case_id: c.follows_case_id,
        }
    }
}

/// `cases`.
#[derive(Debug, Clone, Serialize)]
pub struct CasesJson {
    /// Newest first.
    pub cases: Vec<CaseJson>,
}

/// One line of `queue`.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntryJson {
    /// The case.
    pub case: CaseJson,
    /// Waiting since received (ms).
    pub waiting_ms: i64,
    /// Until the deadline (ms), negative when overdue.
    pub time_left_ms: i64,
    /// time_left_ms < 0.
    pub overdue: bool,
}

/// `queue`.
#[derive(Debug, Clone, Serialize)]
pub struct QueueJson {
    /// The hub's clock (ms).
    pub now_ms: i64,
    /// Most pressing first.
    pub entries: Vec<QueueEntryJson>,
}

impl From<pb::QueueResponse> for QueueJson {
    fn from(q: pb::QueueResponse) -> Self {
        QueueJson {
            now_ms: q.now_ms,
            entries: q
                .entries
                .into_iter()
                .map(|e| QueueEntryJson {
                    case: e.summary.unwrap_or_default().into(),
                    waiting_ms: e.waiting_ms,
                    time_left_ms: e.time_left_ms,
                    overdue: e.time_left_ms < 0,
                })
                .collect(),
        }
    }
}

/// `claim` and `renew`.
#[derive(Debug, Clone, Serialize)]
pub struct LeaseJson {
    /// The case now.
    pub case: CaseJson,
    /// Lease expiry (ms).
    pub expires_at_ms: i64,
    /// Overdue critical or STAT cases passed over (recorded in the audit trail).
    pub passed_over_case_ids: Vec<i64>,
}

impl From<pb::ClaimResponse> for LeaseJson {
    fn from(c: pb::ClaimResponse) -> Self {
        LeaseJson {
            case: c.summary.unwrap_or_default().into(),
            expires_at_ms: c.expires_at_ms,
            passed_over_case_ids: c.passed_over_case_ids,
        }
    }
}

/// `release`.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseJson {
    /// The case now.
    pub case: CaseJson,
}

/// A report version (`report`, `sign`, `amend`, and inside `show` / `reports`).
#[derive(Debug, Clone, Serialize)]
pub struct ReportJson {
    /// Report version id.
    pub report_id: i64,
    /// 1, 2, ...
    pub version: u32,
    /// "preliminary", "final" or "amended".
    pub status: Option<&'static str>,
    /// Findings.
    pub findings: String,
    /// Impression.
    pub impression: String,
    /// States a critical finding.
    pub critical: bool,
    /// Author.
    pub author_name: String,
    /// Signer; empty for preliminary versions.
    pub signer_name: String,
    /// Who changed the findings or impression while signing; empty if signed as written.
    pub editor_name: String,
    /// Written (ms).
    pub created_at_ms: i64,
    /// Signed (ms), 0 if not.
    pub signed_at_ms: i64,
    /// Why an amendment corrected the earlier version.
    pub amend_reason: String,
}

impl From<pb::ReportVersion> for ReportJson {
    fn from(r: pb::ReportVersion) -> Self {
        ReportJson {
            report_id: r.report_id,
            version: r.version,
            status: text::report_status(r.status),
            findings: r.findings,
            impression: r.impression,
            critical: r.critical,
            author_name: r.author_name,
            signer_name: r.signer_name,
            editor_name: r.editor_name,
            created_at_ms: r.created_at_ms,
            signed_at_ms: r.signed_at_ms,
            amend_reason: r.amend_reason,
        }
    }
}

/// A report with its case (`reports`; one per line with `--follow`).
#[derive(Debug, Clone, Serialize)]
pub struct CaseReportJson {
    /// The case.
    pub case: CaseJson,
    /// The newest version.
    pub report: ReportJson,
}

impl From<pb::CaseReport> for CaseReportJson {
    fn from(r: pb::CaseReport) -> Self {
        CaseReportJson {
            case: r.summary.unwrap_or_default().into(),
            report: r.report.unwrap_or_default().into(),
        }
    }
}

/// `reports` (without --follow).
#[derive(Debug, Clone, Serialize)]
pub struct ReportsJson {
    /// Newest first.
    pub reports: Vec<CaseReportJson>,
}

/// A stored instance.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceJson {
    /// SOP Instance UID.
    pub sop_instance_uid: String,
    /// SOP Class UID.
    pub sop_class_uid: String,
    /// Series Instance UID.
    pub series_instance_uid: String,
    /// Series number.
    pub series_number: i32,
    /// Instance number.
    pub instance_number: i32,
    /// Transfer syntax UID.
    pub transfer_syntax_uid: String,
    /// Bytes.
    pub size: u64,
    /// Rows (0 for non-images).
    pub rows: u32,
    /// Columns.
    pub columns: u32,
    /// Frames.
    pub frames: u32,
    /// SHA-256 of the stored bytes.
    pub sha256: String,
    /// Why the worker could not process it, empty if it did.
    pub processing_error: String,
}

impl From<pb::InstanceInfo> for InstanceJson {
    fn from(i: pb::InstanceInfo) -> Self {
        InstanceJson {
            sop_instance_uid: i.sop_instance_uid,
            sop_class_uid: i.sop_class_uid,
            series_instance_uid: i.series_instance_uid,
            series_number: i.series_number,
            instance_number: i.instance_number,
            transfer_syntax_uid: i.transfer_syntax_uid,
            size: i.size,
            rows: i.rows,
            columns: i.columns,
            frames: i.frames,
            sha256: i.sha256,
            processing_error: i.processing_error,
        }
    }
}

/// A derived file of a case.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactJson {
    /// Name for GetArtifact.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Bytes.
    pub size: u64,
}

/// A measurement.
#[derive(Debug, Clone, Serialize)]
pub struct MeasurementJson {
    /// Machine name.
    pub name: String,
    /// Value in `unit`.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// "hub" or "device".
    pub source: String,
    /// Lead, if per lead.
    pub lead: String,
}

/// `show`.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetailJson {
    /// The summary.
    pub case: CaseJson,
    /// Patient name from the stored instance.
    pub patient_name: String,
    /// Masked patient identifier.
    pub patient_id_masked: String,
    /// Step name ("created", "received", "ready", ...) to time (ms), 0 if not reached.
    pub timeline: BTreeMap<String, i64>,
    /// Instances by series and instance number.
    pub instances: Vec<InstanceJson>,
    /// Report versions, oldest first.
    pub reports: Vec<ReportJson>,
    /// Derived files.
    pub artifacts: Vec<ArtifactJson>,
    /// Measurements.
    pub measurements: Vec<MeasurementJson>,
    /// Files written with --out (paths as given), empty without it.
    pub written: Vec<String>,
    /// Files --out could not fetch, each `"<artifact or render>: <the hub's message>"`.
    pub failed: Vec<String>,
}

impl From<pb::CaseDetail> for CaseDetailJson {
    fn from(d: pb::CaseDetail) -> Self {
        CaseDetailJson {
            case: d.summary.unwrap_or_default().into(),
            patient_name: d.patient_name,
            patient_id_masked: d.patient_id_masked,
            timeline: d.timeline.into_iter().collect(),
            instances: d.instances.into_iter().map(Into::into).collect(),
            reports: d.reports.into_iter().map(Into::into).collect(),
            artifacts: d
                .artifacts
                .into_iter()
                .map(|a| ArtifactJson {
                    name: a.name,
                    media_type: a.media_type,
                    size: a.size,
                })
                .collect(),
            measurements: d
                .measurements
                .into_iter()
                .map(|m| MeasurementJson {
                    name: m.name,
                    value: m.value,
                    unit: m.unit,
                    source: m.source,
                    lead: m.lead,
                })
                .collect(),
            written: Vec::new(),
            failed: Vec::new(),
        }
    }
}

/// `get`.
#[derive(Debug, Clone, Serialize)]
pub struct DownloadJson {
    /// Where it was written ("-" for standard output).
    pub file: String,
    /// Bytes written.
    pub size: u64,
    /// Lower-case hex SHA-256 of what was written.
    pub sha256: String,
}

/// One audit entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntryJson {
    /// Entry id.
    pub id: i64,
    /// When (ms).
    pub at_ms: i64,
    /// User id (0 for the hub or a DICOM peer).
    pub user_id: i64,
    /// Name or AE title.
    pub actor: String,
    /// Institution code.
    pub institution_code: String,
    /// Action.
    pub action: String,
    /// Case id, 0 if none.
    pub case_id: i64,
    /// Patient pseudonym, empty if none.
    pub patient_key: String,
    /// Details.
    pub detail: String,
}

/// `audit`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditJson {
    /// Newest first.
    pub entries: Vec<AuditEntryJson>,
}

impl From<pb::ListAuditResponse> for AuditJson {
    fn from(r: pb::ListAuditResponse) -> Self {
        AuditJson {
            entries: r
                .entries
                .into_iter()
                .map(|e| AuditEntryJson {
                    id: e.id,
                    at_ms: e.at_ms,
                    user_id: e.user_id,
                    actor: e.actor,
                    institution_code: e.institution_code,
                    action: e.action,
                    case_id: e.case_id,
                    patient_key: e.patient_key,
                    detail: e.detail,
                })
                .collect(),
        }
    }
}
