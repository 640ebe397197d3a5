//! WorkerService: remote workers lease jobs, fetch inputs and deliver results. The domain checks
//! the worker role and that each job is leased to the caller (`domain::jobs`).

use std::time::Duration;

use remotedx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{ResponseStream, caller, status::to_status, stream_blob};
use crate::domain::Hub;
use crate::domain::jobs::LeasedJob;
use crate::model::Principal;
use crate::tls::identity;

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
}

/// The calling worker: its token, and the client certificate of its connection tied to it (a
/// worker's certificate works with that worker's token only; the domain decides and audits).
async fn worker_caller<T>(hub: &Hub, req: &Request<T>) -> Result<Principal, Status> {
    let who = caller(hub, req).await?;
    let cert = req
        .peer_certs()
        .and_then(|certs| certs.first().and_then(|leaf| identity::of_der(leaf)));
    hub.check_worker_cert(&who, cert.as_ref())
        .await
        .map_err(to_status)?;
    Ok(who)
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
        let who = worker_caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(u64::from(r.wait_ms)).min(MAX_WAIT);
        loop {
            let leased = self.hub.lease_job(&who, &r.worker_name).await;
            if let Some(job) = leased.map_err(to_status)? {
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
        let who = worker_caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let file = self
            .hub
            .job_input(&who, r.job_id, r.index)
            .await
            .map_err(to_status)?;
        Ok(Response::new(stream_blob(file)))
    }

    async fn complete_job(
        &self,
        req: Request<pb::CompleteJobRequest>,
    ) -> Result<Response<pb::CompleteJobResponse>, Status> {
        let who = worker_caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let job_id = r.job_id;
        let output = worker::wire::output_from(r);
        self.hub
            .complete_job(&who, job_id, output)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::CompleteJobResponse {}))
    }
}
