//! Worker jobs from the hub's side: leasing them (to the in-process runner or a remote worker)
//! and applying their results to the case.
//!
//! Results are applied in one transaction after their files are in the blob store, and only if the
//! job is still leased to the worker delivering them, so a job that timed out and ran twice is
//! applied once.

use worker::jobs::{FlagOut, JobOutput};

use super::{Error, Hub, Result, StoredFile, audit};
use crate::clock::{ms, now_ms};
use crate::model::{Artifact, Flag, Job, JobKind, Measurement, Principal, Priority, Role};
use crate::storage::{SqlTx, cases, derived, instances, jobs};

/// A leased job with its inputs.
#[derive(Debug, Clone)]
pub struct LeasedJob {
    /// The job.
    pub job: Job,
    /// Its inputs, in order.
    pub inputs: Vec<JobInputRef>,
}

/// An input of a leased job: a stored instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInputRef {
    /// SOP Instance UID.
    pub name: String,
    /// Blob key.
    pub blob_key: String,
    /// Size in bytes.
    pub size: u64,
}

impl Hub {
    /// Leases the next job to `who`'s worker process `worker_name`, if any is runnable.
    pub async fn lease_job(&self, who: &Principal, worker_name: &str) -> Result<Option<LeasedJob>> {
        require_worker(who)?;
        let owner = owner(who, worker_name);
        let now = now_ms();
        let cfg = &self.config().jobs;
        let until = now + ms(cfg.lease);
        let mut tx = self.store().write().await?;
        let Some(job) =
            jobs::lease_next(tx.as_mut(), &owner, now, until, i64::from(cfg.max_attempts)).await?
        else {
            return Ok(None);
        };
        cases::mark_processing(tx.as_mut(), job.case_id, now).await?;
        let inputs = job_inputs(tx.as_mut(), &job).await?;
        tx.commit().await?;
        Ok(Some(LeasedJob { job, inputs }))
    }

    /// A job leased to one of `who`'s worker processes, with its inputs.
    pub async fn leased_job(&self, who: &Principal, job_id: i64) -> Result<LeasedJob> {
        require_worker(who)?;
        let mut tx = self.store().read().await?;
        let job = jobs::get(tx.as_mut(), job_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no job {job_id}")))?;
        if job.state != "leased" || !job.lease_owner.starts_with(&owner_prefix(who)) {
            return Err(Error::FailedPrecondition(format!(
                "job {job_id} is not leased to {}: lease a job first",
                who.name
            )));
        }
        let inputs = job_inputs(tx.as_mut(), &job).await?;
        Ok(LeasedJob { job, inputs })
    }

    /// Input `index` of a job leased to `who`, to stream to a remote worker.
    pub async fn job_input(&self, who: &Principal, job_id: i64, index: u32) -> Result<StoredFile> {
        let leased = self.leased_job(who, job_id).await?;
        let input = usize::try_from(index)
            .ok()
            .and_then(|i| leased.inputs.get(i))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "job {job_id} has {} inputs, not {}",
                    leased.inputs.len(),
                    u64::from(index) + 1
                ))
            })?;
        Ok(self.stored_file(input.blob_key.clone(), "application/dicom"))
    }

    /// A local copy of input `index` of a job leased to `who` (the in-process runner's path to
    /// its input; local blobs are their own copy), in `scratch` when it had to be downloaded.
    pub async fn job_input_copy(
        &self,
        who: &Principal,
        leased: &LeasedJob,
        index: usize,
        scratch: &std::path::Path,
    ) -> Result<std::path::PathBuf> {
        let current = self.leased_job(who, leased.job.id).await?;
        let input = current.inputs.get(index).ok_or_else(|| {
            Error::InvalidArgument(format!("job {} has no input {index}", leased.job.id))
        })?;
        Ok(self
            .store()
            .blobs
            .local_copy(&input.blob_key, scratch)
            .await?)
    }

    /// Applies the results of a job leased to `who`. Fails with FailedPrecondition if the job is
    /// no longer leased to them (then nothing is applied), and with PermissionDenied, logged and
    /// audited, if the results are about anything but the job's own inputs.
    pub async fn complete_job(
        &self,
        who: &Principal,
        job_id: i64,
        output: JobOutput,
    ) -> Result<()> {
        let leased = self.leased_job(who, job_id).await?;
        if let Err(e) = results_within_inputs(&leased, &output) {
            tracing::warn!(job = job_id, worker = %who.name, "results refused: {e}");
            let mut tx = self.store().write().await?;
            let detail = format!("job {job_id} results refused: {e}");
            let case_id = leased.job.case_id;
            audit::record(tx.as_mut(), who, "job_refused", case_id, "", detail).await?;
            tx.commit().await?;
            return Err(e);
        }
        let owner = leased.job.lease_owner.clone();
        let case_id = leased.job.case_id;
        // Files first: once the transaction commits, every artifact row points at a stored blob.
        let mut artifacts = Vec::with_capacity(output.artifacts.len());
        for a in output.artifacts {
            let size = i64::try_from(a.data.len()).unwrap_or(i64::MAX);
            let blob_key = self.store().blobs.put_bytes(a.data).await?;
            artifacts.push(Artifact {
                case_id,
                name: a.name,
                media_type: a.media_type,
                blob_key,
                size,
            });
        }
        let now = now_ms();
        let mut tx = self.store().write().await?;
        let errors: Vec<&str> = output
            .instances
            .iter()
            .map(|i| i.error.as_str())
            .filter(|e| !e.is_empty())
            .collect();
        let error = if errors.is_empty() {
            String::new()
        } else {
            format!(
                "{} of {} inputs failed",
                errors.len(),
                output.instances.len()
            )
        };
        if !jobs::finish(tx.as_mut(), job_id, &owner, &error, now).await? {
            return Err(Error::FailedPrecondition(format!(
                "job {job_id} is no longer leased to {}: its lease ran out",
                who.name
            )));
        }
        for a in &artifacts {
            derived::put_artifact(tx.as_mut(), a, now).await?;
        }
        for m in &output.measurements {
            let m = Measurement {
                name: m.name.clone(),
                value: m.value,
                unit: m.unit.clone(),
                source: m.source.clone(),
                lead: m.lead.clone(),
            };
            derived::put_measurement(tx.as_mut(), case_id, &m).await?;
        }
        for i in &output.instances {
            instances::set_processed(
                tx.as_mut(),
                &i.sop_instance_uid,
                i.rows.into(),
                i.columns.into(),
                i.frames.into(),
                &i.error,
            )
            .await?;
        }
        self.apply_flags(tx.as_mut(), case_id, &output.flags, now)
            .await?;
        cases::add_pending_jobs(tx.as_mut(), case_id, -1, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores flags; critical ones make the case critical (top of the queue, STAT deadline), urgent
    /// ones raise it to at least URGENT.
    async fn apply_flags(
        &self,
        tx: &mut dyn SqlTx,
        case_id: i64,
        flags: &[FlagOut],
        now: i64,
    ) -> Result<()> {
        for f in flags {
            derived::put_flag(
                tx,
                case_id,
                &Flag {
                    code: f.code.clone(),
                    critical: f.critical,
                    message: f.message.clone(),
                },
            )
            .await?;
            if f.critical {
                let deadline = now + ms(self.config().deadline(Priority::Stat));
                cases::raise_critical(tx, case_id, &f.message, deadline).await?;
            } else if f.urgent {
                let deadline = now + ms(self.config().deadline(Priority::Urgent));
                cases::raise_priority(tx, case_id, Priority::Urgent.rank(), deadline).await?;
            }
        }
        Ok(())
    }

    /// Gives up jobs whose last attempt ran out: their inputs are marked unprocessed (still stored
    /// and served raw) and the case moves on. Returns how many.
    pub async fn give_up_exhausted_jobs(&self) -> Result<usize> {
        let now = now_ms();
        let max = i64::from(self.config().jobs.max_attempts);
        let mut tx = self.store().write().await?;
        let exhausted = jobs::exhausted(tx.as_mut(), now, max).await?;
        let mut n = 0;
        for job in exhausted {
            let error = format!("no worker finished this after {} attempts", job.attempts);
            if !jobs::give_up(tx.as_mut(), job.id, &error, now).await? {
                continue;
            }
            for input in job_inputs(tx.as_mut(), &job).await? {
                instances::set_processed(tx.as_mut(), &input.name, 0, 0, 0, &error).await?;
            }
            let flag = Flag {
                code: "processing_failed".into(),
                critical: false,
                message: error,
            };
            derived::put_flag(tx.as_mut(), job.case_id, &flag).await?;
            cases::add_pending_jobs(tx.as_mut(), job.case_id, -1, now).await?;
            n += 1;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// The stored instances a job works on: a series' instances in order, or one ECG instance.
async fn job_inputs(tx: &mut dyn SqlTx, job: &Job) -> Result<Vec<JobInputRef>> {
    let kind: JobKind = job.kind.parse().map_err(Error::Internal)?;
    let all = instances::of_case(tx, job.case_id).await?;
    let wanted = |i: &crate::model::Instance| match kind {
        JobKind::ImageSeries => i.series_instance_uid == job.subject,
        JobKind::EcgAnalysis => i.sop_instance_uid == job.subject,
    };
    Ok(all
        .into_iter()
        .filter(wanted)
        .map(|i| JobInputRef {
            name: i.sop_instance_uid,
            blob_key: i.blob_key,
            size: u64::try_from(i.size).unwrap_or(0),
        })
        .collect())
}

fn require_worker(who: &Principal) -> Result<()> {
    who.require(&[Role::Worker], "working on jobs")
}

/// The lease owner name of a worker process: its user's id (0: the hub's own runner) and its
/// process name. Any process of the same worker user may fetch and complete the user's jobs.
fn owner(who: &Principal, worker_name: &str) -> String {
    format!("{}{worker_name}", owner_prefix(who))
}

fn owner_prefix(who: &Principal) -> String {
    format!("worker-{}:", who.user_id)
}

/// Refuses results about anything but the job's inputs: every instance outcome must name an
/// input, every derived file must be named after an input or the job's subject
/// (`preview/<uid>.png`, `strip/<series>.png`, `ecg/<uid>/rhythm-01.svg`).
fn results_within_inputs(leased: &LeasedJob, output: &JobOutput) -> Result<()> {
    let ours =
        |name: &str| name == leased.job.subject || leased.inputs.iter().any(|i| i.name == name);
    let job = leased.job.id;
    for i in &output.instances {
        if !ours(&i.sop_instance_uid) {
            return Err(Error::PermissionDenied(format!(
                "job {job} reports on instance {:?}, which is not one of its inputs",
                i.sop_instance_uid
            )));
        }
    }
    for a in &output.artifacts {
        if !artifact_subject(&a.name).is_some_and(ours) {
            return Err(Error::PermissionDenied(format!(
                "job {job} delivers a derived file {:?} that is not named after one of its inputs",
                a.name
            )));
        }
    }
    Ok(())
}

/// What a derived file is about: `kind/<subject>.ext` or `kind/<subject>/<part>.ext`.
fn artifact_subject(name: &str) -> Option<&str> {
    let (kind, rest) = name.split_once('/')?;
    if kind.is_empty() || name.contains("..") || name.contains('\\') {
        return None;
    }
    match rest.split_once('/') {
        Some((subject, part)) if !part.contains('/') => Some(subject),
        Some(_) => None,
        None => rest.rsplit_once('.').map(|(subject, _)| subject),
    }
}

#[cfg(test)]
mod tests {
    use super::artifact_subject;

    #[test]
    fn derived_files_name_their_subject() {
        assert_eq!(artifact_subject("preview/1.2.3.png"), Some("1.2.3"));
        assert_eq!(artifact_subject("ecg/1.2.3/rhythm-01.svg"), Some("1.2.3"));
        assert_eq!(artifact_subject("strip/9.8.png"), Some("9.8"));
        assert_eq!(artifact_subject("preview/../x.png"), None);
        assert_eq!(artifact_subject("ecg/1/2/3.svg"), None);
        assert_eq!(artifact_subject("noslash.png"), None);
    }
}
