//! WorkerService: remote workers lease jobs, fetch inputs and deliver results.

use std::time::Duration;

use remotedx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{ResponseStream, caller, status::to_status, stream_blob};
use crate::domain::Hub;
use crate::domain::jobs::LeasedJob;
use crate::model::{Principal, Role};

/// The longest a LeaseJob call waits for a job.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The service.
pub struct Jobs {
    hub: Hub,
}

impl Jobs {
    /// Over `hub`.
    pub fn new(hub: Hub) -> Self {
        Jobs { hub }
    }

    async fn worker<T>(&self, req: &Request<T>) -> Result<Principal, Status> {
        let who = caller(&self.hub, req).await?;
        who.require(&[Role::Worker], "working on jobs")
            .map_err(to_status)?;
        Ok(who)
    }
}

/// The lease owner name of a remote worker: its user id and its process name.
fn owner(who: &Principal, worker_name: &str) -> String {
    format!("{}{worker_name}", owner_prefix(who))
}

fn owner_prefix(who: &Principal) -> String {
    format!("worker-{}:", who.user_id)
}

fn job_to(leased: LeasedJob) -> pb::Job {
    let kind = crate::runner::worker_kind(&leased.job.kind)
        .map_or(pb::JobKind::Unspecified, worker::wire::kind_to);
    pb::Job {
        job_id: leased.job.id,
        kind: kind.into(),
        case_id: leased.job.case_id,
        subject: leased.job.subject,
        inputs: leased
            .inputs
            .into_iter()
            .map(|i| pb::JobInput {
                name: i.name,
                size: i.size,
            })
            .collect(),
        lease_expires_at_ms: leased.job.lease_expires_at_ms,
        attempt: u32::try_from(leased.job.attempts).unwrap_or(0),
    }
}

#[tonic::async_trait]
impl pb::worker_service_server::WorkerService for Jobs {
    async fn lease_job(
        &self,
        req: Request<pb::LeaseJobRequest>,
    ) -> Result<Response<pb::LeaseJobResponse>, Status> {
        let who = self.worker(&req).await?;
        let r = req.into_inner();
        let owner = owner(&who, &r.worker_name);
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(u64::from(r.wait_ms)).min(MAX_WAIT);
        loop {
            if let Some(job) = self.hub.lease_job(&owner).await.map_err(to_status)? {
                return Ok(Response::new(pb::LeaseJobResponse {
                    job: Some(job_to(job)),
                }));
            }
            let woken = tokio::time::timeout_at(deadline, self.hub.jobs_queued()).await;
            if woken.is_err() {
                return Ok(Response::new(pb::LeaseJobResponse { job: None }));
            }
        }
    }

    type FetchInputStream = ResponseStream<pb::Chunk>;

    async fn fetch_input(
        &self,
        req: Request<pb::FetchInputRequest>,
    ) -> Result<Response<Self::FetchInputStream>, Status> {
        let who = self.worker(&req).await?;
        let r = req.into_inner();
        let leased = self.leased_by(&who, r.job_id).await?;
        let input = leased.inputs.get(r.index as usize).ok_or_else(|| {
            Status::out_of_range(format!(
                "job {} has {} inputs, not {}",
                r.job_id,
                leased.inputs.len(),
                r.index + 1
            ))
        })?;
        Ok(Response::new(stream_blob(
            &self.hub,
            input.blob_key.clone(),
            "application/dicom".into(),
        )))
    }

    async fn complete_job(
        &self,
        req: Request<pb::CompleteJobRequest>,
    ) -> Result<Response<pb::CompleteJobResponse>, Status> {
        let who = self.worker(&req).await?;
        let r = req.into_inner();
        let leased = self.leased_by(&who, r.job_id).await?;
        let output = worker::wire::output_from(r);
        self.hub
            .complete_job(&leased.job.lease_owner, leased.job.id, output)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::CompleteJobResponse {}))
    }
}

impl Jobs {
    /// The job, if it is leased to one of `who`'s worker processes.
    async fn leased_by(&self, who: &Principal, job_id: i64) -> Result<LeasedJob, Status> {
        let mut tx = self
            .hub
            .store()
            .read()
            .await
            .map_err(|e| to_status(e.into()))?;
        let job = crate::storage::jobs::get(tx.as_mut(), job_id)
            .await
            .map_err(|e| to_status(e.into()))?
            .ok_or_else(|| Status::not_found(format!("no job {job_id}")))?;
        drop(tx);
        if !job.lease_owner.starts_with(&owner_prefix(who)) {
            return Err(Status::failed_precondition(format!(
                "job {job_id} is not leased to {}",
                who.name
            )));
        }
        self.hub
            .leased_job(&job.lease_owner, job_id)
            .await
            .map_err(to_status)
    }
}
