//! The remote worker loop: lease a job from the hub, fetch its inputs into a scratch directory,
//! run [`crate::guard::execute`] on the worker's rayon pool, deliver the results, repeat.
//!
//! Several loops run at once (one per pool thread), so small jobs (ECGs) keep every core busy while
//! a large one (a CT series) fans out over the pool by itself. A job whose results cannot be
//! delivered is left to its lease: the hub gives it to another worker when the lease runs out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pb::worker_service_client::WorkerServiceClient;
use remotedx_proto::v1 as pb;
use tokio::io::AsyncWriteExt;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::guard;
use crate::jobs::JobInput;
use crate::wire;

/// How the remote worker reaches its hub.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// The hub's gRPC URL, e.g. `http://hub.county.example:50051`.
    pub hub_url: String,
    /// A token of a user with the worker role.
    pub token: String,
    /// This process's name in the hub's logs.
    pub name: String,
    /// Rayon threads (0: one per core).
    pub threads: usize,
    /// Where inputs are downloaded while a job runs.
    pub scratch: PathBuf,
    /// TLS and client certificate for the link to the hub.
    pub security: crate::link::LinkSecurity,
}

type Client = WorkerServiceClient<InterceptedService<Channel, Auth>>;

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Auth(MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut()
            .insert(remotedx_proto::AUTHORIZATION, self.0.clone());
        Ok(req)
    }
}

/// Runs until `shutdown` resolves; jobs in flight finish first.
pub async fn run(
    cfg: RemoteConfig,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let token = MetadataValue::try_from(format!("Bearer {}", cfg.token))
        .context("the token has characters a header cannot carry")?;
    let channel = crate::link::endpoint(&cfg.hub_url, &cfg.security)?
        .tcp_nodelay(true)
        .connect_lazy();
    let client = WorkerServiceClient::with_interceptor(channel, Auth(token))
        .max_decoding_message_size(remotedx_proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(remotedx_proto::MAX_MESSAGE_BYTES);
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.threads)
            .build()?,
    );
    tokio::fs::create_dir_all(&cfg.scratch)
        .await
        .with_context(|| format!("cannot create {}", cfg.scratch.display()))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut loops = tokio::task::JoinSet::new();
    for i in 0..pool.current_num_threads() {
        let (client, pool, cfg, stop) =
            (client.clone(), pool.clone(), cfg.clone(), stop_rx.clone());
        loops.spawn(async move { work_loop(client, pool, cfg, i, stop).await });
    }
    tracing::info!(hub = %cfg.hub_url, loops = pool.current_num_threads(), "worker started");
    shutdown.await;
    tracing::info!("stopping after the jobs in flight");
    let _ = stop_tx.send(true);
    while loops.join_next().await.is_some() {}
    Ok(())
}

async fn work_loop(
    mut client: Client,
    pool: Arc<rayon::ThreadPool>,
    cfg: RemoteConfig,
    index: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let name = format!("{}-{index}", cfg.name);
    let mut backoff = Duration::from_millis(500);
    while !*stop.borrow() {
        let leased = client
            .lease_job(pb::LeaseJobRequest {
                worker_name: name.clone(),
                wait_ms: 10_000,
            })
            .await;
        match leased {
            Ok(resp) => {
                backoff = Duration::from_millis(500);
                if let Some(job) = resp.into_inner().job {
                    let id = job.job_id;
                    if let Err(e) = run_job(&mut client, &pool, &cfg.scratch, job).await {
                        tracing::warn!(job = id, "job not completed: {e:#}");
                    }
                }
            }
            Err(status) => {
                tracing::warn!(
                    "cannot lease a job from {}: {} ({:?}); retrying in {backoff:?}",
                    cfg.hub_url,
                    status.message(),
                    status.code()
                );
                if matches!(
                    status.code(),
                    tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
                ) {
                    tracing::error!("the hub refuses this worker's token; stopping");
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

async fn run_job(
    client: &mut Client,
    pool: &rayon::ThreadPool,
    scratch: &Path,
    job: pb::Job,
) -> anyhow::Result<()> {
    let kind = wire::kind_from(job.kind)
        .with_context(|| format!("job {} has a kind this worker does not know", job.job_id))?;
    let dir = tempfile::tempdir_in(scratch)?;
    let mut inputs = Vec::with_capacity(job.inputs.len());
    for (index, input) in job.inputs.iter().enumerate() {
        let path = dir.path().join(format!("{index}.dcm"));
        fetch(client, job.job_id, u32::try_from(index)?, &path)
            .await
            .with_context(|| format!("fetching input {}", input.name))?;
        inputs.push(JobInput {
            name: input.name.clone(),
            path,
        });
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let subject = job.subject.clone();
    pool.spawn(move || {
        let _ = tx.send(guard::execute(kind, &subject, &inputs));
    });
    let output = rx.await.context("the job panicked")?;
    client
        .complete_job(wire::output_to(job.job_id, output))
        .await?;
    Ok(())
}

async fn fetch(client: &mut Client, job_id: i64, index: u32, path: &Path) -> anyhow::Result<()> {
    let mut stream = client
        .fetch_input(pb::FetchInputRequest { job_id, index })
        .await?
        .into_inner();
    let mut file = tokio::fs::File::create(path).await?;
    while let Some(chunk) = stream.message().await? {
        file.write_all(&chunk.data).await?;
    }
    file.flush().await?;
    Ok(())
}
