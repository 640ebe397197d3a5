//! RecognitionService: check, accept, decline and reverse, for the caller's own institution.

use remotedx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{caller, status::to_status};
use crate::domain::Hub;
use crate::domain::catalog::Catalog;
use crate::domain::pseudonym::IdType;
use crate::domain::recognition::rules::Ineligible;
use crate::domain::recognition::standing::Standing;
use crate::domain::recognition::{CheckPurpose, CheckRequest, CheckedEntry};
use crate::model::{DeclineReason, LedgerRow};

/// The service.
pub struct Recognition {
    hub: Hub,
}

impl Recognition {
    /// Over `hub`.
    pub fn new(hub: Hub) -> Self {
        Recognition { hub }
    }
}

fn id_type(t: i32) -> Result<IdType, Status> {
    match pb::PatientIdType::try_from(t) {
        Ok(pb::PatientIdType::Unspecified | pb::PatientIdType::IdCard) => Ok(IdType::IdCard),
        Ok(pb::PatientIdType::Insurance) => Ok(IdType::Insurance),
        Ok(pb::PatientIdType::HealthCard) => Ok(IdType::HealthCard),
        Err(_) => Err(Status::invalid_argument(format!(
            "unknown patient id type {t}"
        ))),
    }
}

/// The purpose a check states; `None` when it states none (the domain refuses that, after it has
/// checked who is asking).
fn purpose(p: i32) -> Option<CheckPurpose> {
    match pb::CheckPurpose::try_from(p) {
        Ok(pb::CheckPurpose::BeforeExamining) => Some(CheckPurpose::BeforeExamining),
        Ok(pb::CheckPurpose::Referral) => Some(CheckPurpose::Referral),
        Ok(pb::CheckPurpose::Consultation) => Some(CheckPurpose::Consultation),
        Ok(pb::CheckPurpose::Other) => Some(CheckPurpose::Other),
        Ok(pb::CheckPurpose::Unspecified) | Err(_) => None,
    }
}

fn standing(s: &Standing) -> pb::EntryStanding {
    match s {
        Standing::Recognisable => pb::EntryStanding::Recognisable,
        Standing::Accepted { .. } => pb::EntryStanding::Accepted,
        Standing::Expired { .. } => pb::EntryStanding::Expired,
        Standing::Ineligible(Ineligible::NoQcPass) => pb::EntryStanding::NoQcPass,
        Standing::Ineligible(Ineligible::OutsideCatalogue) => pb::EntryStanding::OutsideCatalogue,
        Standing::OwnResult => pb::EntryStanding::OwnResult,
        Standing::Declined { .. } => pb::EntryStanding::Declined,
    }
}

fn entry(c: &CheckedEntry, catalog: &Catalog) -> pb::RecognitionEntry {
    let e = &c.entry;
    let (accepted, declined) = match c.standing {
        Standing::Accepted { ledger_id } => (ledger_id, 0),
        Standing::Declined { decline_id } => (0, decline_id),
        _ => (0, 0),
    };
    pb::RecognitionEntry {
        entry_id: e.id,
        case_id: e.case_id,
        report_id: e.report_id,
        item_code: e.exam_item_code.clone(),
        item_name: catalog.name_of(&e.exam_item_code),
        modality: e.modality.clone(),
        institution_code: e.institution_code.clone(),
        institution_name: e.institution_name.clone(),
        institution_level: e.institution_level.clone(),
        exam_date: e.exam_date.clone(),
        valid_until: e.valid_until.clone(),
        scope: e.scope.clone(),
        hr_mark: e.hr_mark.clone(),
        fee_fen: e.fee_fen,
        recognisable: c.standing.is_valid(),
        reason: c.standing.reason(e),
        impression: e.impression.clone(),
        local_fee_fen: c.local_fee_fen.unwrap_or(-1),
        accepted_ledger_id: accepted,
        images: if c.standing.is_valid() {
            format!("viewer-cli show {} --out DIR", e.case_id)
        } else {
            String::new()
        },
        standing: standing(&c.standing).into(),
        declined_id: declined,
    }
}

fn ledger(l: LedgerRow) -> pb::LedgerEntry {
    pb::LedgerEntry {
        ledger_id: l.id,
        entry_id: l.entry_id,
        kind: l.kind,
        reverses_id: l.reverses_id.unwrap_or(0),
        institution_code: l.institution_code,
        institution_level: l.institution_level,
        item_code: l.exam_item_code,
        fee_fen: l.fee_fen,
        note: l.note,
        at_ms: l.at_ms,
        user_id: l.user_id,
    }
}

#[tonic::async_trait]
impl pb::recognition_service_server::RecognitionService for Recognition {
    async fn check(
        &self,
        req: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let check = CheckRequest {
            id_type: id_type(r.id_type)?,
            patient_id: r.patient_id,
            item: r.item_code,
            purpose: purpose(r.purpose_code),
            note: r.purpose,
        };
        let out = self
            .hub
            .check_recognition(&who, &check)
            .await
            .map_err(to_status)?;
        let catalog = self.hub.catalog();
        Ok(Response::new(pb::CheckResponse {
            entries: out.entries.iter().map(|c| entry(c, catalog)).collect(),
            patient_key: out.patient_key,
            open_until_ms: out.open_until_ms,
        }))
    }

    async fn accept(
        &self,
        req: Request<pb::AcceptRequest>,
    ) -> Result<Response<pb::LedgerEntry>, Status> {
        let who = caller(&self.hub, &req).await?;
        let row = self
            .hub
            .accept_recognition(&who, req.get_ref().entry_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ledger(row)))
    }

    async fn decline(
        &self,
        req: Request<pb::DeclineRequest>,
    ) -> Result<Response<pb::DeclineResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let reason: DeclineReason = r.reason.trim().parse().map_err(Status::invalid_argument)?;
        let d = self
            .hub
            .decline_recognition(&who, r.entry_id, reason, &r.note)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::DeclineResponse {
            decline_id: d.id,
            entry_id: d.entry_id,
            reason: d.reason,
            note: d.note,
            at_ms: d.at_ms,
        }))
    }

    async fn reverse(
        &self,
        req: Request<pb::ReverseRequest>,
    ) -> Result<Response<pb::LedgerEntry>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let row = self
            .hub
            .reverse_recognition(&who, r.ledger_id, &r.reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ledger(row)))
    }
}
