//! Possible patient mix-ups to and from the gRPC contract: each side is shown only as far as the
//! caller may see it.

use remotedx_proto::v1 as pb;

use super::convert;
use crate::domain::mixup::MixupView;
use crate::model::{Case, MixupState, Role};

/// Proto state of a stored mix-up state.
fn state(s: &str) -> pb::MixupState {
    match s.parse::<MixupState>() {
        Ok(MixupState::Open) => pb::MixupState::Open,
        Ok(MixupState::DifferentPatient) => pb::MixupState::DifferentPatient,
        Ok(MixupState::Withdrawn) => pb::MixupState::Withdrawn,
        Err(_) => pb::MixupState::Unspecified,
    }
}

/// The outcome a resolution asks for (None when unspecified).
pub fn outcome_from(s: i32) -> Option<MixupState> {
    match pb::MixupState::try_from(s).ok()? {
        pb::MixupState::Unspecified => None,
        pb::MixupState::Open => Some(MixupState::Open),
        pb::MixupState::DifferentPatient => Some(MixupState::DifferentPatient),
        pb::MixupState::Withdrawn => Some(MixupState::Withdrawn),
    }
}

fn side(c: &Case, sop_uid: &str, role: Role) -> pb::MixupSide {
    pb::MixupSide {
        case_id: c.id,
        institution_code: c.institution_code.clone(),
        patient_display: c.patient_display.clone(),
        patient_id_masked: c.patient_id_masked.clone(),
        patient_key: if role == Role::Admin {
            c.patient_key.clone()
        } else {
            String::new()
        },
        sop_instance_uid: sop_uid.to_owned(),
        state: convert::state(&c.state).into(),
        modality: c.modality.clone(),
        study_date: c.study_date.clone(),
    }
}

/// A mix-up for a caller of `role`; `v.other` is already limited to what the caller may see.
pub fn mixup(v: &MixupView, role: Role) -> pb::Mixup {
    let m = &v.mixup;
    let message = match &v.other {
        Some(o) => format!(
            "the content of case {} is already on file in case {} ({}, {} {}) under a different \
             patient ({} {})",
            v.case.id,
            o.id,
            o.institution_code,
            o.modality,
            o.study_date,
            o.patient_display,
            o.patient_id_masked
        ),
        None => format!(
            "the content of case {} is already on file under a different patient",
            v.case.id
        ),
    };
    pb::Mixup {
        mixup_id: m.id,
        state: state(&m.state).into(),
        held: Some(side(&v.case, &m.sop_instance_uid, role)),
        earlier: v
            .other
            .as_ref()
            .map(|o| side(o, &m.other_sop_instance_uid, role)),
        message,
        created_at_ms: m.created_at_ms,
        resolved_by_name: m.resolved_by_name.clone(),
        resolution_note: m.resolution_note.clone(),
        resolved_at_ms: m.resolved_at_ms,
    }
}
