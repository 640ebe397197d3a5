//! One recording, two patients: content already on file under a different patient is held for a
//! person, never filed silently under both.
//!
//! At ingest every instance's content key (the SHA-256 of its Pixel Data or Waveform Data values,
//! see [`super::dicom_meta::ContentKey`]) is indexed with the pseudonym of the patient it is filed
//! under. Content found under another patient opens a mix-up: the later case leaves the reading
//! queue (state `mixup_hold`, or held as soon as it is queued while its upload is still open),
//! both cases get an audit entry, and the uploading clinic sees why in its case list. The clinic
//! or an administrator then resolves it: a different patient after all (the case is queued) or a
//! copy under the wrong patient (the case is withdrawn). A clinic is told only that the content
//! is on file under a different patient; which patient, and at which institution, is for an
//! administrator (or the clinic itself when the earlier case is its own).

use super::dicom_meta::ContentKey;
use super::ingest::IngestSession;
use super::{Error, Hub, Result, audit};
use crate::clock::{ms, now_ms};
use crate::model::{Case, CaseKind, Mixup, MixupState, Principal, Priority, Role};
use crate::storage::mixups::{self, Resolution};
use crate::storage::{SqlTx, cases};

/// At most this many earlier cases are linked to one instance (each is listed for a person).
const MAX_MATCHES: i64 = 20;

/// A mix-up as one caller may see it.
#[derive(Debug, Clone)]
pub struct MixupView {
    /// The mix-up.
    pub mixup: Mixup,
    /// The later case, the one held.
    pub case: Case,
    /// The case already on file, when the caller may see it (administrators; the clinic when it
    /// is its own).
    pub other: Option<Case>,
}

/// The hold reason shown with a case, to anyone who may see the case: it names no other case.
fn hold_reason(case: &Case) -> String {
    let what = if case.kind == CaseKind::Ecg.as_str() {
        "this ECG's signal"
    } else {
        "this study's image content"
    };
    format!(
        "possible patient mix-up: {what} is already on file under a different patient; held \
         out of the reading queue until the clinic or an administrator resolves it \
         (viewer-cli mixup list)"
    )
}

impl IngestSession {
    /// Indexes what `sop_uid` (just stored in `case`) holds and, if that content is on file
    /// under another patient, opens a mix-up and holds the case. Runs in the instance's indexing
    /// transaction.
    pub(super) async fn check_content(
        &self,
        tx: &mut dyn SqlTx,
        case: &Case,
        sop_uid: &str,
        key: &ContentKey,
    ) -> Result<()> {
        let found =
            mixups::under_other_patients(tx, key.as_str(), &case.patient_key, MAX_MATCHES).await?;
        mixups::record_content(tx, key.as_str(), &case.patient_key, sop_uid, case.id).await?;
        let mut opened = Vec::new();
        for m in found {
            let mixup = Mixup {
                case_id: case.id,
                other_case_id: m.case_id,
                sop_instance_uid: sop_uid.to_owned(),
                other_sop_instance_uid: m.sop_instance_uid,
                created_at_ms: now_ms(),
                ..Mixup::default()
            };
            if mixups::insert(tx, &mixup).await?.is_some() {
                opened.push(mixup);
            }
        }
        if opened.is_empty() {
            return Ok(());
        }
        cases::hold(tx, case.id, &hold_reason(case)).await?;
        self.audit_opened(tx, case, key, &opened).await
    }

    /// Writes the opening of mix-ups to the audit trail of both sides.
    async fn audit_opened(
        &self,
        tx: &mut dyn SqlTx,
        case: &Case,
        key: &ContentKey,
        opened: &[Mixup],
    ) -> Result<()> {
        let others: Vec<String> = opened.iter().map(|m| m.other_case_id.to_string()).collect();
        let detail = format!(
            "possible patient mix-up: the content of {} (content SHA-256 {}) is already on file \
             under a different patient in case {}; held for a person to resolve",
            opened[0].sop_instance_uid,
            key,
            others.join(", ")
        );
        audit::record(
            tx,
            &self.who,
            "mixup_suspected",
            case.id,
            &case.patient_key,
            detail,
        )
        .await?;
        for m in opened {
            let Some(other) = cases::get(tx, m.other_case_id).await? else {
                continue;
            };
            let detail = format!(
                "possible patient mix-up: the content of {} arrived again from {} under a \
                 different patient, as {} in case {} (held)",
                m.other_sop_instance_uid, case.institution_code, m.sop_instance_uid, case.id
            );
            audit::record(
                tx,
                &self.who,
                "mixup_suspected",
                other.id,
                &other.patient_key,
                detail,
            )
            .await?;
        }
        Ok(())
    }
}

impl Hub {
    /// Possible patient mix-ups, newest first: an administrator sees every one, a clinic those of
    /// its own cases. Only open ones unless `include_resolved`.
    pub async fn mixups(
        &self,
        who: &Principal,
        include_resolved: bool,
        limit: u32,
    ) -> Result<Vec<MixupView>> {
        who.require(
            &[Role::Clinic, Role::Admin],
            "listing possible patient mix-ups",
        )?;
        let institution = who.listing_scope();
        let limit = super::list_limit(limit);
        let mut tx = self.store().read().await?;
        let list = mixups::list(tx.as_mut(), institution, include_resolved, limit).await?;
        let mut out = Vec::with_capacity(list.len());
        for mixup in list {
            let case = self.case_or_not_found(tx.as_mut(), mixup.case_id).await?;
            let other = cases::get(tx.as_mut(), mixup.other_case_id)
                .await?
                .filter(|o| who.require_institution(&o.institution_code, "").is_ok());
            out.push(MixupView { mixup, case, other });
        }
        Ok(out)
    }

    /// Resolves the open mix-ups of a held case: [`MixupState::DifferentPatient`] (a person
    /// checked: two patients after all) queues it for reading with a new deadline;
    /// [`MixupState::Withdrawn`] (the copy under the wrong patient) takes it out of the workflow.
    /// The clinic of the case or an administrator, with a note saying why; audited on both sides.
    pub async fn resolve_mixup(
        &self,
        who: &Principal,
        case_id: i64,
        outcome: MixupState,
        note: &str,
    ) -> Result<Case> {
        who.require(
            &[Role::Clinic, Role::Admin],
            "resolving a possible patient mix-up",
        )?;
        super::limits::bounded("the resolution note", note, super::limits::NOTE_CHARS)?;
        let note = note.trim();
        if note.is_empty() || outcome == MixupState::Open {
            return Err(Error::InvalidArgument(format!(
                "resolving the possible patient mix-up of case {case_id} needs an outcome \
                 (different patient, or withdraw) and a note saying how it was checked"
            )));
        }
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        who.require_institution(&case.institution_code, &format!("case {case_id}"))?;
        let open: Vec<Mixup> = mixups::of_case(tx.as_mut(), case_id)
            .await?
            .into_iter()
            .filter(|m| m.state == MixupState::Open.as_str())
            .collect();
        if open.is_empty() {
            return Err(Error::FailedPrecondition(format!(
                "case {case_id} has no open possible patient mix-up (see viewer-cli mixup list --all)"
            )));
        }
        self.apply_outcome(tx.as_mut(), who, &case, outcome, note)
            .await?;
        let resolution = Resolution {
            state: outcome,
            user_id: who.user_id,
            user_name: &who.name,
            note,
            at_ms: now_ms(),
        };
        mixups::resolve(tx.as_mut(), case_id, &resolution).await?;
        self.audit_resolved(tx.as_mut(), who, &case, &open, outcome, note)
            .await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        tx.commit().await?;
        self.notify_jobs();
        Ok(case)
    }

    /// Moves the case as the outcome says.
    async fn apply_outcome(
        &self,
        tx: &mut dyn SqlTx,
        who: &Principal,
        case: &Case,
        outcome: MixupState,
        note: &str,
    ) -> Result<()> {
        let now = now_ms();
        if outcome == MixupState::DifferentPatient {
            let effective = if case.critical {
                Priority::Stat
            } else {
                case.priority()
            };
            let deadline = now + ms(self.config().deadline(effective));
            cases::release_hold(tx, case.id, deadline, now).await?;
            return Ok(());
        }
        let reason = format!(
            "withdrawn by {} as a copy under the wrong patient: {note}",
            who.name
        );
        if !cases::withdraw(tx, case.id, &reason).await? {
            return Err(Error::FailedPrecondition(format!(
                "case {} is {}, not held: only a held case can be withdrawn (a reported case is \
                 corrected by amending its report)",
                case.id,
                case.state()
            )));
        }
        Ok(())
    }

    /// Writes a resolution to the audit trail of both sides.
    async fn audit_resolved(
        &self,
        tx: &mut dyn SqlTx,
        who: &Principal,
        case: &Case,
        open: &[Mixup],
        outcome: MixupState,
        note: &str,
    ) -> Result<()> {
        let verdict = match outcome {
            MixupState::DifferentPatient => "different patient, queued for reading",
            _ => "withdrawn as a copy under the wrong patient",
        };
        let detail = format!("possible patient mix-up resolved: {verdict}; note: {note}");
        audit::record(
            tx,
            who,
            "mixup_resolved",
            case.id,
            &case.patient_key,
            &detail,
        )
        .await?;
        for m in open {
            if let Some(other) = cases::get(tx, m.other_case_id).await? {
                let detail = format!("case {}: {detail}", case.id);
                audit::record(
                    tx,
                    who,
                    "mixup_resolved",
                    other.id,
                    &other.patient_key,
                    detail,
                )
                .await?;
            }
        }
        Ok(())
    }
}
