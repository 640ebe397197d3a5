//! The reading side: the priority queue, claims (leases), and looking at cases.
//!
//! Reading order is critical first, then STAT, URGENT, ROUTINE, then longest waiting. Anyone may
//! claim out of order, but passing over an overdue critical or STAT case is written to the audit
//! trail with the reason given, and the claimer is told which cases they passed.

use super::{Error, Hub, Result, StoredFile, audit};
use crate::clock::{ms, now_ms};
use crate::model::{
    Artifact, Case, CaseState, Flag, Instance, Measurement, Principal, Report, Role,
};
use crate::storage::{cases, derived, instances, reports};

/// A line of the queue.
#[derive(Debug, Clone)]
pub struct QueueEntry {
    /// The case.
    pub case: Case,
    /// Its flags.
    pub flags: Vec<Flag>,
    /// Milliseconds since it was received.
    pub waiting_ms: i64,
    /// Milliseconds until its deadline; negative when overdue.
    pub time_left_ms: i64,
}

/// A claim taken.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The case after the claim.
    pub case: Case,
    /// When the lease runs out.
    pub expires_at_ms: i64,
    /// Overdue critical or STAT cases passed over.
    pub passed_over: Vec<i64>,
}

/// Everything about a case.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    /// The case.
    pub case: Case,
    /// Its flags.
    pub flags: Vec<Flag>,
    /// Its instances.
    pub instances: Vec<Instance>,
    /// Its report versions, oldest first.
    pub reports: Vec<Report>,
    /// Its derived files.
    pub artifacts: Vec<Artifact>,
    /// Its measurements.
    pub measurements: Vec<Measurement>,
}

impl Hub {
    /// The reading queue (or, with `review`, preliminary reports awaiting a senior's signature).
    pub async fn queue(
        &self,
        who: &Principal,
        modality: &str,
        include_claimed: bool,
        review: bool,
        limit: u32,
    ) -> Result<Vec<QueueEntry>> {
        who.require(&[Role::Specialist], "reading the queue")?;
        let limit = i64::from(if limit == 0 { 50 } else { limit.min(500) });
        let now = now_ms();
        let mut tx = self.store().read().await?;
        let list = if review {
            cases::review_queue(tx.as_mut(), modality, limit).await?
        } else {
            cases::queue(tx.as_mut(), modality, include_claimed, now, limit).await?
        };
        let mut out = Vec::with_capacity(list.len());
        for case in list {
            let flags = derived::flags(tx.as_mut(), case.id).await?;
            out.push(QueueEntry {
                waiting_ms: now - case.received_at_ms,
                time_left_ms: case.deadline_at_ms - now,
                case,
                flags,
            });
        }
        drop(tx);
        let ids: Vec<i64> = out.iter().map(|e| e.case.id).collect();
        let what = if review { "review queue" } else { "queue" };
        self.audit_listing(who, "queue_read", what, &ids).await?;
        Ok(out)
    }

    /// Takes the lease on a case for `who`.
    pub async fn claim(&self, who: &Principal, case_id: i64, skip_reason: &str) -> Result<Claimed> {
        who.require(&[Role::Specialist], "claiming a case")?;
        let now = now_ms();
        let expires = now + ms(self.config().reading.claim_lease);
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        if !cases::claim(tx.as_mut(), case_id, who.user_id, now, expires).await? {
            return Err(claim_refusal(&case, now));
        }
        let ahead = cases::queue(tx.as_mut(), "", false, now, 500).await?;
        let passed_over: Vec<i64> = ahead
            .iter()
            .take_while(|c| c.id != case_id)
            .filter(|c| {
                (c.critical || c.priority() == crate::model::Priority::Stat)
                    && c.deadline_at_ms < now
            })
            .map(|c| c.id)
            .collect();
        audit::record(
            tx.as_mut(),
            who,
            "claim",
            case_id,
            &case.patient_key,
            format!("lease until {expires}"),
        )
        .await?;
        if !passed_over.is_empty() {
            let detail = format!(
                "claimed case {case_id} past overdue critical/STAT cases {:?}; reason: {}",
                passed_over,
                if skip_reason.is_empty() {
                    "(none given)"
                } else {
                    skip_reason
                }
            );
            audit::record(
                tx.as_mut(),
                who,
                "queue_skip",
                case_id,
                &case.patient_key,
                detail,
            )
            .await?;
        }
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        tx.commit().await?;
        Ok(Claimed {
            case,
            expires_at_ms: expires,
            passed_over,
        })
    }

    /// Extends `who`'s lease.
    pub async fn renew(&self, who: &Principal, case_id: i64) -> Result<Claimed> {
        who.require(&[Role::Specialist], "renewing a claim")?;
        let now = now_ms();
        let expires = now + ms(self.config().reading.claim_lease);
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        if !cases::renew(tx.as_mut(), case_id, who.user_id, now, expires).await? {
            return Err(Error::FailedPrecondition(format!(
                "case {case_id} is not claimed by {} (or the claim has expired): claim it again",
                who.name
            )));
        }
        audit::record(
            tx.as_mut(),
            who,
            "renew",
            case_id,
            &case.patient_key,
            format!("lease until {expires}"),
        )
        .await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        tx.commit().await?;
        Ok(Claimed {
            case,
            expires_at_ms: expires,
            passed_over: Vec::new(),
        })
    }

    /// Gives `who`'s claim back to the queue.
    pub async fn release(&self, who: &Principal, case_id: i64) -> Result<Case> {
        who.require(&[Role::Specialist], "releasing a claim")?;
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        if !cases::unclaim(tx.as_mut(), case_id, Some(who.user_id)).await? {
            return Err(Error::FailedPrecondition(format!(
                "case {case_id} is not claimed by {}",
                who.name
            )));
        }
        audit::record(tx.as_mut(), who, "release", case_id, &case.patient_key, "").await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Cases `who` may see, filtered. Clinics see only their institution's.
    pub async fn list_cases(
        &self,
        who: &Principal,
        mut filter: cases::CaseFilter,
    ) -> Result<Vec<(Case, Vec<Flag>)>> {
        who.require(
            &[Role::Clinic, Role::Specialist, Role::Admin],
            "listing cases",
        )?;
        if who.role == Role::Clinic {
            filter.institution_code = who.institution_code.clone();
        }
        filter.limit = if filter.limit <= 0 {
            100
        } else {
            filter.limit.min(1000)
        };
        let mut tx = self.store().read().await?;
        let list = cases::list(tx.as_mut(), &filter).await?;
        let mut out = Vec::with_capacity(list.len());
        for case in list {
            let flags = derived::flags(tx.as_mut(), case.id).await?;
            out.push((case, flags));
        }
        drop(tx);
        let ids: Vec<i64> = out.iter().map(|(c, _)| c.id).collect();
        self.audit_listing(who, "cases_read", "listed cases", &ids)
            .await?;
        Ok(out)
    }

    /// Everything about a case; recorded as a view.
    pub async fn case_detail(&self, who: &Principal, case_id: i64) -> Result<CaseDetail> {
        let case = self.visible_case(who, case_id, "view").await?;
        let mut tx = self.store().read().await?;
        Ok(CaseDetail {
            flags: derived::flags(tx.as_mut(), case_id).await?,
            instances: instances::of_case(tx.as_mut(), case_id).await?,
            reports: reports::of_case(tx.as_mut(), case_id)
                .await?
                .into_iter()
                .filter(|r| super::reports::visible_to(who, r))
                .collect(),
            artifacts: derived::artifacts(tx.as_mut(), case_id).await?,
            measurements: derived::measurements(tx.as_mut(), case_id).await?,
            case,
        })
    }

    /// An instance of a case `who` may see; the access is recorded.
    pub async fn instance_for(
        &self,
        who: &Principal,
        case_id: i64,
        sop_uid: &str,
    ) -> Result<Instance> {
        self.visible_case(who, case_id, &format!("download {sop_uid}"))
            .await?;
        let mut tx = self.store().read().await?;
        instances::get(tx.as_mut(), sop_uid)
            .await?
            .filter(|i| i.case_id == case_id)
            .ok_or_else(|| Error::NotFound(format!("case {case_id} has no instance {sop_uid}")))
    }

    /// The stored DICOM file of an instance of a case `who` may open; the access is recorded.
    pub async fn instance_file(
        &self,
        who: &Principal,
        case_id: i64,
        sop_uid: &str,
    ) -> Result<StoredFile> {
        let instance = self.instance_for(who, case_id, sop_uid).await?;
        Ok(self.stored_file(instance.blob_key, "application/dicom"))
    }

    /// A derived file (preview, ECG page) of a case `who` may open; the access is recorded.
    pub async fn artifact_file(
        &self,
        who: &Principal,
        case_id: i64,
        name: &str,
    ) -> Result<StoredFile> {
        let artifact = self.artifact_for(who, case_id, name).await?;
        Ok(self.stored_file(artifact.blob_key, &artifact.media_type))
    }

    /// A derived file of a case `who` may see.
    pub async fn artifact_for(
        &self,
        who: &Principal,
        case_id: i64,
        name: &str,
    ) -> Result<Artifact> {
        self.visible_case(who, case_id, &format!("artifact {name}"))
            .await?;
        let mut tx = self.store().read().await?;
        derived::artifact(tx.as_mut(), case_id, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("case {case_id} has no derived file {name:?} (see `show {case_id}` for the list)")))
    }

    /// A case `who` may open (clinics: their own institution's; specialists: all), with the
    /// access recorded in the audit trail as `detail`. Opening a patient's case is a clinical
    /// role's act: an administrator (or anyone else) is refused, and the attempt recorded.
    pub async fn visible_case(&self, who: &Principal, case_id: i64, detail: &str) -> Result<Case> {
        if let Err(denied) = who.require(
            &[Role::Clinic, Role::Specialist],
            "opening a patient's case (a clinical act)",
        ) {
            self.audit_refusal(who, case_id, detail).await?;
            return Err(denied);
        }
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        let mut detail = detail.to_owned();
        if let Err(denied) =
            who.require_institution(&case.institution_code, &format!("case {case_id}"))
        {
            // Only a recognition check of this user's that returned this case's entry opens it
            // (domain::recognition::access); nothing else crosses institutions.
            let Some(check) = self.recognition_opening(tx.as_mut(), who, case_id).await? else {
                return Err(denied);
            };
            detail.push_str(&format!(" (result recognition, check {check})"));
        }
        audit::record(tx.as_mut(), who, "view", case_id, &case.patient_key, detail).await?;
        tx.commit().await?;
        Ok(case)
    }

    pub(crate) async fn case_or_not_found(
        &self,
        tx: &mut dyn crate::storage::SqlTx,
        case_id: i64,
    ) -> Result<Case> {
        cases::get(tx, case_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no case {case_id}")))
    }
}

/// Why a claim was refused, for the claimer.
fn claim_refusal(case: &Case, now: i64) -> Error {
    let id = case.id;
    match case.state() {
        CaseState::Claimed if case.claim_active(now) => Error::FailedPrecondition(format!(
            "case {id} is already claimed by {} until {}",
            case.claimed_by_name,
            crate::clock::describe_ms(case.claim_expires_at_ms)
        )),
        CaseState::Receiving => {
            Error::FailedPrecondition(format!("case {id} is still receiving instances"))
        }
        CaseState::Reported => Error::FailedPrecondition(format!(
            "case {id} is already reported and waits for a senior's signature"
        )),
        CaseState::Signed => Error::FailedPrecondition(format!(
            "case {id} is already signed; use `amend` to correct it"
        )),
        CaseState::MixupHold => {
            Error::FailedPrecondition(format!("case {id} is held: {}", case.hold_reason))
        }
        CaseState::Withdrawn => {
            Error::FailedPrecondition(format!("case {id} was {}", case.hold_reason))
        }
        state => Error::FailedPrecondition(format!("case {id} cannot be claimed in state {state}")),
    }
}

impl Hub {
    /// The patient's name as stored in the case's first instance (the index never holds it);
    /// empty if it cannot be read.
    pub async fn patient_name(&self, detail: &CaseDetail) -> String {
        let Some(first) = detail.instances.first() else {
            return String::new();
        };
        let scratch = self.config().staging_dir().join("jobs");
        let Ok(path) = self
            .store()
            .blobs
            .local_copy(&first.blob_key, &scratch)
            .await
        else {
            return String::new();
        };
        let name = tokio::task::spawn_blocking(move || {
            let name = super::dicom_meta::patient_name(&path);
            if path.starts_with(&scratch) {
                let _ = std::fs::remove_file(&path);
            }
            name
        })
        .await;
        name.unwrap_or_default()
    }
}

impl Hub {
    /// Renders one frame of an instance `who` may see as PNG (full resolution when `max_size` is 0).
    pub async fn render_frame(
        &self,
        who: &Principal,
        case_id: i64,
        sop_uid: &str,
        frame: u32,
        window: worker_imaging::WindowSpec,
        max_size: u32,
    ) -> Result<Vec<u8>> {
        let instance = self.instance_for(who, case_id, sop_uid).await?;
        let scratch = self.config().staging_dir().join("jobs");
        let path = self
            .store()
            .blobs
            .local_copy(&instance.blob_key, &scratch)
            .await?;
        let max = (max_size > 0).then_some(max_size);
        let copy = super::render::LocalCopy::new(path, &scratch);
        let rendered = super::render::render_local(&self.inner.renders, copy, frame, window, max);
        rendered.await?.map_err(|e| {
            Error::FailedPrecondition(format!(
                "instance {sop_uid} cannot be rendered (it is still served as stored): {e}"
            ))
        })
    }
}
