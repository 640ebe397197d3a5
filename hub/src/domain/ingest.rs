//! The one way instances enter the hub: a gRPC upload and a DICOM association are both an
//! [`IngestSession`] fed [`StagedFile`]s.
//!
//! Per file: parse it whole (refusing truncated or malformed files), move it into the blob store,
//! then index it in one transaction; only then is it acknowledged. So an acknowledged instance is
//! always durable and complete, and a refused or interrupted one leaves nothing visible. The same
//! SOP Instance UID with the same bytes is a duplicate (nothing changes); with other bytes it is a
//! conflict. When the session ends (or its studies go quiet), its studies are queued for reading.

use std::collections::BTreeMap;

use super::dicom_meta::{self, InstanceMeta, MetaError};
use super::pseudonym::IdType;
use super::staging::{self, RejectReason, Rejection, StagedFile, StagingFile};
use super::{Error, Hub, Result, audit, catalog};
use crate::clock::{ms, now_ms};
use crate::model::{Case, CaseKind, CaseState, Instance, JobKind, Principal, Priority, Role};
use crate::storage::{SqlTx, cases, instances, jobs};

/// What the uploader says about every study of a session.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Overrides the studies' own priority.
    pub priority: Option<Priority>,
    /// The uploader marks the studies critical.
    pub critical: bool,
    /// Why.
    pub critical_reason: String,
    /// Exam item code; derived from each study when empty.
    pub exam_item_code: String,
    /// How to read Patient ID; inferred when absent.
    pub patient_id_type: Option<IdType>,
    /// Clinical note for the specialist.
    pub clinical_note: String,
    /// The patient of non-DICOM records (WFDB ECGs), which name none.
    pub patient_id: String,
}

impl IngestOptions {
    /// Refuses any field longer than its limit (see [`super::limits`]).
    fn check_lengths(&self) -> Result<()> {
        use super::limits::{CODE_CHARS, NOTE_CHARS, bounded};
        bounded("the critical reason", &self.critical_reason, NOTE_CHARS)?;
        bounded("the exam item code", &self.exam_item_code, CODE_CHARS)?;
        bounded("the clinical note", &self.clinical_note, NOTE_CHARS)?;
        bounded("the patient ID", &self.patient_id, CODE_CHARS)
    }
}

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The file's name as sent.
    pub file_name: String,
    /// Its SOP Instance UID.
    pub sop_instance_uid: String,
    /// Its case.
    pub case_id: i64,
    /// It was already stored with the same bytes.
    pub duplicate: bool,
    /// Its size.
    pub size: u64,
}

/// A case touched by a session, as the session leaves it.
#[derive(Debug, Clone)]
pub struct SessionCase {
    /// The case.
    pub case: Case,
    /// Instances this session added.
    pub new_instances: u32,
}

/// One upload or one DICOM association.
pub struct IngestSession {
    pub(super) hub: Hub,
    pub(super) who: Principal,
    pub(super) options: IngestOptions,
    /// Case id → instances added by this session.
    touched: BTreeMap<i64, u32>,
    /// WFDB record parts waiting for the rest of their record.
    pub(super) pending_wfdb: super::wfdb_import::PendingParts,
}

impl Hub {
    /// Opens an ingest session for `who` (a clinic user, or a DICOM peer acting for its institution).
    pub fn ingest_session(
        &self,
        who: Principal,
        mut options: IngestOptions,
    ) -> Result<IngestSession> {
        who.require(&[Role::Clinic], "uploading studies")?;
        options.check_lengths()?;
        self.check_disk_space()?;
        if !options.patient_id.trim().is_empty() {
            // Entered by a person: checked by the rules of its type (an ID card unless told).
            let id_type = options.patient_id_type.unwrap_or(IdType::IdCard);
            options.patient_id = id_type
                .validate(&options.patient_id, super::pseudonym::id_calendar_today())
                .map_err(|e| Error::InvalidArgument(format!("--patient-id: {e}")))?;
        }
        if !options.exam_item_code.is_empty()
            && self.catalog().item(&options.exam_item_code).is_none()
        {
            return Err(Error::InvalidArgument(format!(
                "exam item {:?} is not in the catalogue (region {}, version {})",
                options.exam_item_code,
                self.catalog().region,
                self.catalog().version
            )));
        }
        Ok(IngestSession {
            hub: self.clone(),
            who,
            options,
            touched: BTreeMap::new(),
            pending_wfdb: Default::default(),
        })
    }
}

impl Hub {
    /// Starts receiving a file named `file_name` into the staging area (the size limit is the
    /// configured one), unless the data directory's disk is nearly full.
    pub async fn begin_staging(&self, file_name: &str) -> Result<StagingFile, Rejection> {
        let limit = super::limits::FILE_NAME_CHARS;
        super::limits::bounded("a file name", file_name, limit)
            .map_err(|e| Rejection::new(RejectReason::Protocol, e.to_string()))?;
        self.inner
            .disk
            .check()
            .map_err(|m| Rejection::new(RejectReason::Storage, format!("{file_name}: {m}")))?;
        let config = self.config();
        staging::begin(
            &config.staging_dir(),
            file_name,
            config.ingest.max_file_bytes,
        )
        .await
    }
}

impl IngestSession {
    /// Stores one complete file, or says why not. Never fails the session.
    pub async fn ingest(&mut self, staged: StagedFile) -> Result<Accepted, Rejection> {
        let file_name = staged.file_name.clone();
        let started = std::time::Instant::now();
        let meta = self.parse(&staged).await?;
        let parsed = started.elapsed();
        let storage = |e: Error| Rejection::storage(&file_name, e);
        if let Some(done) = self.already_stored(&meta, &staged).await? {
            // Acknowledged because it was read: wait until what was read is durable.
            self.hub
                .store()
                .wait_durable()
                .await
                .map_err(|e| storage(e.into()))?;
            // A duplicate still belongs to the session's cases, so the summary names its case.
            self.touched.entry(done.case_id).or_default();
            return Ok(done);
        }
        let checked = started.elapsed();
        // Held from storing the blob until its index row is committed, so that the orphan
        // collector never removes the blob in between.
        let storing = self.hub.inner.blob_writes.read().await;
        // Blob first, index second: an index row never points at a missing blob.
        let path = staged
            .path
            .keep()
            .map_err(|e| Rejection::storage(&file_name, e))?;
        if let Err(e) = self.hub.store().blobs.put_file(&path, &staged.sha256).await {
            let _ = std::fs::remove_file(&path);
            return Err(storage(e.into()));
        }
        let blob = started.elapsed();
        let accepted = self
            .index(&meta, &file_name, &staged.sha256, staged.size)
            .await;
        drop(storing);
        let accepted = accepted?;
        if accepted.duplicate {
            // Stored by a concurrent session and read here: wait until that is durable.
            self.hub
                .store()
                .wait_durable()
                .await
                .map_err(|e| storage(e.into()))?;
        }
        tracing::trace!(
            file = %file_name,
            parse_us = parsed.as_micros(),
            check_us = (checked - parsed).as_micros(),
            blob_us = (blob - checked).as_micros(),
            index_us = (started.elapsed() - blob).as_micros(),
            "ingest timings"
        );
        *self.touched.entry(accepted.case_id).or_default() += u32::from(!accepted.duplicate);
        Ok(accepted)
    }

    async fn parse(&self, staged: &StagedFile) -> Result<InstanceMeta, Rejection> {
        let _permit = self
            .hub
            .inner
            .parse_permits
            .acquire()
            .await
            .map_err(|e| Rejection::storage(&staged.file_name, e))?;
        // A small file is parsed right here: less work than handing it to the blocking pool.
        let parsed = if staged.size <= staging::INLINE_BYTES {
            dicom_meta::read(&staged.path, &staged.file_name)
        } else {
            let (path, name) = (staged.path.to_path_buf(), staged.file_name.clone());
            tokio::task::spawn_blocking(move || dicom_meta::read(&path, &name))
                .await
                .map_err(|e| {
                    Rejection::storage(&staged.file_name, format_args!("parser crashed: {e}"))
                })?
        };
        parsed.map_err(|e| {
            let reason = match e {
                MetaError::NotDicom { .. } => RejectReason::NotDicom,
                MetaError::Malformed { .. } => RejectReason::Malformed,
                MetaError::MissingAttribute { .. } => RejectReason::MissingAttribute,
                MetaError::InflatesTooLarge { .. } => RejectReason::TooLarge,
            };
            Rejection::new(reason, e.to_string())
        })
    }

    /// If the SOP Instance UID is stored already: a duplicate (same bytes) or a conflict.
    async fn already_stored(
        &self,
        meta: &InstanceMeta,
        staged: &StagedFile,
    ) -> Result<Option<Accepted>, Rejection> {
        let mut tx = self
            .hub
            .store()
            .read()
            .await
            .map_err(|e| Rejection::storage(&staged.file_name, e))?;
        let existing = instances::get(tx.as_mut(), &meta.sop_instance_uid)
            .await
            .map_err(|e| Rejection::storage(&staged.file_name, e))?;
        match existing {
            None => Ok(None),
            Some(i) => self
                .duplicate_or_conflict(
                    tx.as_mut(),
                    i,
                    &staged.file_name,
                    &staged.sha256,
                    staged.size,
                )
                .await
                .map(Some),
        }
    }

    /// An instance stored already: the same bytes from the same institution are a duplicate;
    /// another institution's instance is never acknowledged (that would reveal its case).
    pub(super) async fn duplicate_or_conflict(
        &self,
        tx: &mut dyn SqlTx,
        existing: Instance,
        file_name: &str,
        sha256: &str,
        size: u64,
    ) -> Result<Accepted, Rejection> {
        let case = cases::get(tx, existing.case_id)
            .await
            .map_err(|e| Rejection::storage(file_name, e))?;
        if case.is_some_and(|c| c.institution_code != self.who.institution_code) {
            return Err(Rejection::new(
                RejectReason::ForeignStudy,
                format!(
                    "{file_name}: SOP Instance UID {} belongs to another institution's study",
                    existing.sop_instance_uid
                ),
            ));
        }
        if existing.blob_key != sha256 {
            return Err(Rejection::new(
                RejectReason::Conflict,
                format!(
                    "{file_name}: SOP Instance UID {} is already stored with different content; a changed image needs a new SOP Instance UID",
                    existing.sop_instance_uid
                ),
            ));
        }
        Ok(Accepted {
            file_name: file_name.to_owned(),
            sop_instance_uid: existing.sop_instance_uid,
            case_id: existing.case_id,
            duplicate: true,
            size,
        })
    }

    /// Indexes a stored blob in one transaction: the case (created if new), the instance, counters.
    async fn index(
        &self,
        meta: &InstanceMeta,
        file_name: &str,
        sha256: &str,
        size: u64,
    ) -> Result<Accepted, Rejection> {
        let storage = |e: Error| Rejection::storage(file_name, e);
        let mut tx = self
            .hub
            .store()
            .write()
            .await
            .map_err(|e| storage(e.into()))?;
        let case = self.case_for(tx.as_mut(), meta, file_name).await?;
        let now = now_ms();
        let instance = Instance {
            sop_instance_uid: meta.sop_instance_uid.clone(),
            case_id: case.id,
            series_instance_uid: meta.series_instance_uid.clone(),
            series_number: meta.series_number,
            instance_number: meta.instance_number,
            sop_class_uid: meta.sop_class_uid.clone(),
            transfer_syntax_uid: meta.transfer_syntax_uid.clone(),
            modality: meta.modality.clone(),
            blob_key: sha256.to_owned(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            rows: meta.rows,
            columns: meta.columns,
            frames: meta.frames,
            source: self.source(),
            received_at_ms: now,
            ..Instance::default()
        };
        if !instances::insert(tx.as_mut(), &instance)
            .await
            .map_err(|e| storage(e.into()))?
        {
            // Another session stored it between our check and now.
            let existing = instances::get(tx.as_mut(), &meta.sop_instance_uid)
                .await
                .map_err(|e| storage(e.into()))?;
            return match existing {
                Some(i) => {
                    self.duplicate_or_conflict(tx.as_mut(), i, file_name, sha256, size)
                        .await
                }
                None => Err(storage(Error::Internal(
                    "instance vanished during insert".into(),
                ))),
            };
        }
        cases::add_instance(tx.as_mut(), case.id, instance.size, now)
            .await
            .map_err(|e| storage(e.into()))?;
        if let Some(key) = &meta.content_key {
            self.check_content(tx.as_mut(), &case, &meta.sop_instance_uid, key)
                .await
                .map_err(storage)?;
        }
        if case.state() != CaseState::Receiving {
            self.late_instance(tx.as_mut(), &case, meta)
                .await
                .map_err(storage)?;
        }
        tx.commit().await.map_err(|e| storage(e.into()))?;
        Ok(Accepted {
            file_name: file_name.to_owned(),
            sop_instance_uid: meta.sop_instance_uid.clone(),
            case_id: case.id,
            duplicate: false,
            size,
        })
    }

    /// Where an instance came from: `upload:<user>` or `dicom:<calling AE>`.
    fn source(&self) -> String {
        let kind = self.source_kind();
        if self.who.name.starts_with(&format!("{kind}:")) {
            self.who.name.clone()
        } else {
            format!("{kind}:{}", self.who.name)
        }
    }

    fn source_kind(&self) -> &'static str {
        if self.who.user_id == 0 {
            "dicom"
        } else {
            "upload"
        }
    }

    /// The study's case, created in state `receiving` if it is new. A study of another institution
    /// is refused. A study whose case is signed gets a new case that follows it ([`Self::follow`]).
    async fn case_for(
        &self,
        tx: &mut dyn SqlTx,
        meta: &InstanceMeta,
        file_name: &str,
    ) -> Result<Case, Rejection> {
        let storage = |e: Error| Rejection::storage(file_name, e);
        let mut case = self.new_case(meta);
        let created = cases::insert(tx, &case)
            .await
            .map_err(|e| storage(e.into()))?;
        let Some(id) = created else {
            // The study has a case already (perhaps created by a concurrent session just now).
            let case = cases::by_study(tx, &meta.study_instance_uid)
                .await
                .map_err(|e| storage(e.into()))?
                .ok_or_else(|| storage(Error::Internal("case vanished during insert".into())))?;
            if case.institution_code != self.who.institution_code {
                return Err(Rejection::new(
                    RejectReason::ForeignStudy,
                    // Which institution holds it is not the sender's to know.
                    format!(
                        "{file_name}: study {} is held by another institution and cannot be added to from {}; a study of your own needs a Study Instance UID of its own",
                        meta.study_instance_uid, self.who.institution_code
                    ),
                ));
            }
            if case.state() == CaseState::Signed {
                return self.follow(tx, &case, meta, file_name).await;
            }
            return Ok(case);
        };
        case.id = id;
        self.opened(tx, case, meta, file_name).await
    }

    /// Instances arriving for a study whose case is signed final never join it: the signer did not
    /// see them, and the case's recognition entry must cover only what was read. They open a new
    /// case of the same study that follows the signed one, read like any other (a county radiology
    /// department reads late images as a new examination, its report beside the first); both cases
    /// record it in their audit trail. Concurrent sessions open the same follower.
    async fn follow(
        &self,
        tx: &mut dyn SqlTx,
        signed: &Case,
        meta: &InstanceMeta,
        file_name: &str,
    ) -> Result<Case, Rejection> {
        let storage = |e: Error| Rejection::new(RejectReason::Storage, format!("{file_name}: {e}"));
        let mut case = self.new_case(meta);
        case.follows_case_id = signed.id;
        let Some(id) = cases::insert(tx, &case)
            .await
            .map_err(|e| storage(e.into()))?
        else {
            // Another session opened the follower first: it is the study's newest case.
            return cases::by_study(tx, &meta.study_instance_uid)
                .await
                .map_err(|e| storage(e.into()))?
                .filter(|c| c.follows_case_id == signed.id)
                .ok_or_else(|| storage(Error::Internal("follower vanished during insert".into())));
        };
        case.id = id;
        let detail = format!(
            "an instance of study {} arrived after the report was signed; case {id} opened for it",
            meta.study_instance_uid
        );
        audit::record(
            tx,
            &self.who,
            "instances_after_signing",
            signed.id,
            &signed.patient_key,
            detail,
        )
        .await
        .map_err(storage)?;
        self.opened(tx, case, meta, file_name).await
    }

    /// A case just inserted: its extensions told (except for a follower, which repeats nothing:
    /// it continues a study already read) and its creation audited.
    async fn opened(
        &self,
        tx: &mut dyn SqlTx,
        mut case: Case,
        meta: &InstanceMeta,
        file_name: &str,
    ) -> Result<Case, Rejection> {
        let storage = |e: Error| Rejection::new(RejectReason::Storage, format!("{file_name}: {e}"));
        let extensions = if case.follows_case_id == 0 {
            &self.hub.inner.extensions[..]
        } else {
            &[]
        };
        for ext in extensions {
            if let Some(note) = ext.case_created(tx, &case).await.map_err(storage)? {
                cases::set_possible_repeat(tx, case.id, &note)
                    .await
                    .map_err(|e| storage(e.into()))?;
                case.possible_repeat = note;
            }
        }
        let mut detail = format!(
            "study {} ({} {})",
            meta.study_instance_uid, case.modality, case.exam_item_code
        );
        if case.follows_case_id != 0 {
            detail += &format!(
                "; follows signed case {}: instances that arrived after its report was signed",
                case.follows_case_id
            );
        }
        audit::record(
            tx,
            &self.who,
            "case_created",
            case.id,
            &case.patient_key,
            detail,
        )
        .await
        .map_err(storage)?;
        Ok(case)
    }

    fn new_case(&self, meta: &InstanceMeta) -> Case {
        let hub = &self.hub;
        let ecg = dicom_meta::is_waveform(&meta.sop_class_uid);
        let modality = match meta.modality.as_str() {
            "" if ecg => "ECG".to_owned(),
            "" => "OT".to_owned(),
            m => m.to_owned(),
        };
        let item = if self.options.exam_item_code.is_empty() {
            hub.catalog()
                .derive(&modality, &meta.body_part)
                .map_or(catalog::UNLISTED.to_owned(), |i| i.code.clone())
        } else {
            self.options.exam_item_code.clone()
        };
        let id_type = self
            .options
            .patient_id_type
            .unwrap_or_else(|| IdType::infer(&meta.issuer_of_patient_id, &meta.patient_id));
        let patient =
            hub.inner
                .pseudonyms
                .key_for(id_type, &meta.patient_id, &self.who.institution_code);
        let priority = self
            .options
            .priority
            .unwrap_or_else(|| priority_of_tag(&meta.requested_priority));
        let now = now_ms();
        Case {
            institution_code: self.who.institution_code.clone(),
            study_instance_uid: meta.study_instance_uid.clone(),
            kind: if ecg {
                CaseKind::Ecg
            } else {
                CaseKind::Imaging
            }
            .as_str()
            .to_owned(),
            modality,
            exam_item_code: item,
            priority: priority.rank(),
            critical: self.options.critical,
            critical_reason: self.options.critical_reason.clone(),
            patient_key: patient.key,
            patient_key_version: patient.version,
            patient_id_masked: patient.masked_id,
            patient_display: super::pseudonym::mask_name(&meta.patient_name),
            patient_sex: meta.patient_sex.clone(),
            patient_age_years: dicom_meta::age_years(meta),
            study_date: meta.study_date.clone(),
            study_description: meta.study_description.clone(),
            clinical_note: self.options.clinical_note.clone(),
            created_at_ms: now,
            last_instance_at_ms: now,
            ..Case::default()
        }
    }

    /// An instance arriving for a study already queued: process its series (or ECG) again.
    async fn late_instance(
        &self,
        tx: &mut dyn SqlTx,
        case: &Case,
        meta: &InstanceMeta,
    ) -> Result<()> {
        let (kind, subject) = job_for(case, meta);
        jobs::insert(tx, case.id, kind, &subject, now_ms()).await?;
        cases::add_pending_jobs(tx, case.id, 1, now_ms()).await?;
        self.hub.notify_jobs();
        Ok(())
    }

    /// Ends the session: queues every study it touched that is still receiving, and returns them.
    pub async fn finish(self) -> Result<Vec<SessionCase>> {
        let mut out = Vec::with_capacity(self.touched.len());
        for (case_id, new_instances) in &self.touched {
            let mut tx = self.hub.store().write().await?;
            let case = self.hub.case_or_not_found(tx.as_mut(), *case_id).await?;
            let detail = format!("{new_instances} new instances via {}", self.source_kind());
            audit::record(
                tx.as_mut(),
                &self.who,
                "upload",
                *case_id,
                &case.patient_key,
                detail,
            )
            .await?;
            tx.commit().await?;
            self.hub.finalize_case(*case_id, &self.who).await?;
            let mut tx = self.hub.store().read().await?;
            let case = self.hub.case_or_not_found(tx.as_mut(), *case_id).await?;
            out.push(SessionCase {
                case,
                new_instances: *new_instances,
            });
        }
        Ok(out)
    }

    /// Cases touched so far.
    pub fn touched(&self) -> impl Iterator<Item = i64> + '_ {
        self.touched.keys().copied()
    }
}

/// What job processes the part of `case` that `meta` belongs to.
fn job_for(case: &Case, meta: &InstanceMeta) -> (JobKind, String) {
    if case.kind == CaseKind::Ecg.as_str() {
        (JobKind::EcgAnalysis, meta.sop_instance_uid.clone())
    } else {
        (JobKind::ImageSeries, meta.series_instance_uid.clone())
    }
}

/// The priority of a Requested Procedure Priority value.
fn priority_of_tag(tag: &str) -> Priority {
    match tag {
        "STAT" => Priority::Stat,
        "HIGH" => Priority::Urgent,
        _ => Priority::Routine,
    }
}

impl Hub {
    /// Queues a `receiving` case for reading: schedules its jobs, sets its deadline. Does nothing if
    /// it is no longer receiving. `who` is recorded in the audit trail.
    pub async fn finalize_case(&self, case_id: i64, who: &Principal) -> Result<bool> {
        let mut tx = self.store().write().await?;
        let Some(case) = cases::get(tx.as_mut(), case_id).await? else {
            return Ok(false);
        };
        if case.state() != CaseState::Receiving {
            return Ok(false);
        }
        let now = now_ms();
        let subjects = self.job_subjects(tx.as_mut(), &case).await?;
        let effective = if case.critical {
            Priority::Stat
        } else {
            case.priority()
        };
        let deadline = now + ms(self.config().deadline(effective));
        let jobs = i64::try_from(subjects.len()).unwrap_or(i64::MAX);
        // The conditional state change is the guard: another replica's sweeper or session may be
        // finalizing the same case (on PostgreSQL both read `receiving`); only the transaction
        // whose update moved it out of `receiving` schedules jobs, the other rolls back.
        if !cases::mark_received(tx.as_mut(), case_id, now, deadline, jobs).await? {
            return Ok(false);
        }
        for (kind, subject) in &subjects {
            jobs::insert(tx.as_mut(), case_id, *kind, subject, now).await?;
        }
        if jobs == 0 {
            cases::add_pending_jobs(tx.as_mut(), case_id, 0, now).await?;
        }
        // A possible patient mix-up found while it was receiving keeps it out of the queue.
        let held = cases::finish_hold(tx.as_mut(), case_id).await?;
        let detail = format!(
            "{} instances, {} bytes; {} jobs queued{}",
            case.instance_count,
            case.total_bytes,
            jobs,
            if held {
                "; held: possible patient mix-up"
            } else {
                ""
            }
        );
        audit::record(
            tx.as_mut(),
            who,
            "received",
            case_id,
            &case.patient_key,
            detail,
        )
        .await?;
        tx.commit().await?;
        self.notify_jobs();
        Ok(true)
    }

    /// One job per image series, one per ECG instance.
    async fn job_subjects(
        &self,
        tx: &mut dyn SqlTx,
        case: &Case,
    ) -> Result<Vec<(JobKind, String)>> {
        let mut subjects: Vec<(JobKind, String)> = Vec::new();
        for i in instances::of_case(tx, case.id).await? {
            let meta = InstanceMeta {
                sop_instance_uid: i.sop_instance_uid,
                series_instance_uid: i.series_instance_uid,
                ..Default::default()
            };
            let job = job_for(case, &meta);
            if !subjects.contains(&job) {
                subjects.push(job);
            }
        }
        Ok(subjects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_procedure_priority_maps_to_ours() {
        assert_eq!(priority_of_tag("STAT"), Priority::Stat);
        assert_eq!(priority_of_tag("HIGH"), Priority::Urgent);
        assert_eq!(priority_of_tag("LOW"), Priority::Routine);
        assert_eq!(priority_of_tag(""), Priority::Routine);
    }
}
