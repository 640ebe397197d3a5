//! Domain types to and from the gRPC contract. No logic beyond field mapping.

use remotedx_proto::v1 as pb;

use crate::domain::reading::{CaseDetail, QueueEntry};
use crate::model::{
    self, Case, CaseKind, CaseState, Flag, Instance, Priority, Report, ReportStatus, Role,
};

/// Proto priority of a stored rank.
pub fn priority(rank: i64) -> pb::Priority {
    match Priority::from_rank(rank) {
        Priority::Routine => pb::Priority::Routine,
        Priority::Urgent => pb::Priority::Urgent,
        Priority::Stat => pb::Priority::Stat,
    }
}

/// Domain priority of a proto one (None when unspecified).
pub fn priority_from(p: i32) -> Option<Priority> {
    match pb::Priority::try_from(p).ok()? {
        pb::Priority::Unspecified => None,
        pb::Priority::Routine => Some(Priority::Routine),
        pb::Priority::Urgent => Some(Priority::Urgent),
        pb::Priority::Stat => Some(Priority::Stat),
    }
}

/// Proto state of a stored state.
pub fn state(s: &str) -> pb::CaseState {
    match s.parse::<CaseState>() {
        Ok(CaseState::Receiving) => pb::CaseState::Receiving,
        Ok(CaseState::Received) => pb::CaseState::Received,
        Ok(CaseState::Processing) => pb::CaseState::Processing,
        Ok(CaseState::Ready) => pb::CaseState::Ready,
        Ok(CaseState::Claimed) => pb::CaseState::Claimed,
        Ok(CaseState::Reported) => pb::CaseState::Reported,
        Ok(CaseState::Signed) => pb::CaseState::Signed,
        Ok(CaseState::MixupHold) => pb::CaseState::MixupHold,
        Ok(CaseState::Withdrawn) => pb::CaseState::Withdrawn,
        Err(_) => pb::CaseState::Unspecified,
    }
}

/// Domain state of a proto one.
pub fn state_from(s: i32) -> Option<CaseState> {
    Some(match pb::CaseState::try_from(s).ok()? {
        pb::CaseState::Unspecified => return None,
        pb::CaseState::Receiving => CaseState::Receiving,
        pb::CaseState::Received => CaseState::Received,
        pb::CaseState::Processing => CaseState::Processing,
        pb::CaseState::Ready => CaseState::Ready,
        pb::CaseState::Claimed => CaseState::Claimed,
        pb::CaseState::Reported => CaseState::Reported,
        pb::CaseState::Signed => CaseState::Signed,
        pb::CaseState::MixupHold => CaseState::MixupHold,
        pb::CaseState::Withdrawn => CaseState::Withdrawn,
    })
}

fn report_status(s: &str) -> pb::ReportStatus {
    match s.parse::<ReportStatus>() {
        Ok(ReportStatus::Preliminary) => pb::ReportStatus::Preliminary,
        Ok(ReportStatus::Final) => pb::ReportStatus::Final,
        Ok(ReportStatus::Amended) => pb::ReportStatus::Amended,
        Err(_) => pb::ReportStatus::Unspecified,
    }
}

/// Proto role of a domain one.
pub fn role(r: Role) -> pb::Role {
    match r {
        Role::Clinic => pb::Role::Clinic,
        Role::Specialist => pb::Role::Specialist,
        Role::Admin => pb::Role::Admin,
        Role::Worker => pb::Role::Worker,
        Role::Auditor => pb::Role::Auditor,
    }
}

/// A flag.
pub fn flag(f: &Flag) -> pb::Flag {
    pb::Flag {
        code: f.code.clone(),
        critical: f.critical,
        message: f.message.clone(),
        urgent: false,
    }
}

/// The one-line view of a case.
pub fn summary(
    c: &Case,
    flags: &[Flag],
    catalog: &crate::domain::catalog::Catalog,
) -> pb::CaseSummary {
    let claim = c
        .claimed_by
        .filter(|_| c.state == CaseState::Claimed.as_str())
        .map(|user_id| pb::ClaimInfo {
            user_id,
            user_name: c.claimed_by_name.clone(),
            expires_at_ms: c.claim_expires_at_ms,
        });
    pb::CaseSummary {
        case_id: c.id,
        institution_code: c.institution_code.clone(),
        institution_name: c.institution_name.clone(),
        kind: if c.kind == CaseKind::Ecg.as_str() {
            pb::CaseKind::Ecg
        } else {
            pb::CaseKind::Imaging
        }
        .into(),
        modality: c.modality.clone(),
        exam_item_code: c.exam_item_code.clone(),
        exam_item_name: catalog.name_of(&c.exam_item_code),
        priority: priority(c.priority).into(),
        critical: c.critical,
        critical_reason: c.critical_reason.clone(),
        state: state(&c.state).into(),
        patient_display: c.patient_display.clone(),
        patient_sex: c.patient_sex.clone(),
        patient_age_years: i32::try_from(c.patient_age_years).unwrap_or(-1),
        instance_count: u32::try_from(c.instance_count).unwrap_or(u32::MAX),
        total_bytes: u64::try_from(c.total_bytes).unwrap_or(0),
        received_at_ms: c.received_at_ms,
        deadline_at_ms: c.deadline_at_ms,
        claim,
        report_status: report_status(&c.report_status).into(),
        flags: flags.iter().map(flag).collect(),
        possible_repeat: c.possible_repeat.clone(),
        study_description: c.study_description.clone(),
        study_date: c.study_date.clone(),
        study_instance_uid: c.study_instance_uid.clone(),
        clinical_note: c.clinical_note.clone(),
        hold_reason: c.hold_reason.clone(),
        follows_case_id: c.follows_case_id,
    }
}

/// A queue line.
pub fn queue_entry(e: &QueueEntry, catalog: &crate::domain::catalog::Catalog) -> pb::QueueEntry {
    pb::QueueEntry {
        summary: Some(summary(&e.case, &e.flags, catalog)),
        waiting_ms: e.waiting_ms,
        time_left_ms: e.time_left_ms,
    }
}

/// A report version.
pub fn report(r: &Report) -> pb::ReportVersion {
    pb::ReportVersion {
        report_id: r.id,
        version: u32::try_from(r.version).unwrap_or(0),
        status: report_status(&r.status).into(),
        findings: r.findings.clone(),
        impression: r.impression.clone(),
        critical: r.critical,
        author_name: r.author_name.clone(),
        signer_name: r.signer_name.clone(),
        editor_name: r.editor_name.clone(),
        created_at_ms: r.created_at_ms,
        signed_at_ms: r.signed_at_ms,
        amend_reason: r.amend_reason.clone(),
    }
}

fn instance(i: &Instance) -> pb::InstanceInfo {
    let u32_of = |v: i64| u32::try_from(v).unwrap_or(0);
    pb::InstanceInfo {
        sop_instance_uid: i.sop_instance_uid.clone(),
        sop_class_uid: i.sop_class_uid.clone(),
        series_instance_uid: i.series_instance_uid.clone(),
        series_number: i32::try_from(i.series_number).unwrap_or(0),
        instance_number: i32::try_from(i.instance_number).unwrap_or(0),
        transfer_syntax_uid: i.transfer_syntax_uid.clone(),
        size: u64::try_from(i.size).unwrap_or(0),
        rows: u32_of(i.rows),
        columns: u32_of(i.columns),
        frames: u32_of(i.frames),
        sha256: i.blob_key.clone(),
        processing_error: i.processing_error.clone(),
    }
}

fn measurement(m: &model::Measurement) -> pb::Measurement {
    pb::Measurement {
        name: m.name.clone(),
        value: m.value,
        unit: m.unit.clone(),
        source: m.source.clone(),
        lead: m.lead.clone(),
    }
}

/// Everything about a case. `patient_name` comes from the stored instance, never the index.
pub fn detail(
    d: &CaseDetail,
    patient_name: String,
    catalog: &crate::domain::catalog::Catalog,
) -> pb::CaseDetail {
    let c = &d.case;
    let timeline = [
        ("created", c.created_at_ms),
        ("received", c.received_at_ms),
        ("processing", c.processing_at_ms),
        ("ready", c.ready_at_ms),
        ("claimed", c.claimed_at_ms),
        ("reported", c.reported_at_ms),
        ("signed", c.signed_at_ms),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    pb::CaseDetail {
        summary: Some(summary(c, &d.flags, catalog)),
        instances: d.instances.iter().map(instance).collect(),
        reports: d.reports.iter().map(report).collect(),
        artifacts: d
            .artifacts
            .iter()
            .map(|a| pb::ArtifactInfo {
                name: a.name.clone(),
                media_type: a.media_type.clone(),
                size: u64::try_from(a.size).unwrap_or(0),
            })
            .collect(),
        measurements: d.measurements.iter().map(measurement).collect(),
        patient_name,
        patient_id_masked: c.patient_id_masked.clone(),
        timeline,
    }
}
