//! The in-process job runner: the hub's one owner of a rayon pool.
//!
//! It leases jobs from the same durable queue remote workers use, runs them with
//! [`worker::guard::execute`] on the pool (an input that panics is refused by name; it never
//! aborts the hub), and applies the results. At most one job per pool thread is in flight; a job
//! itself fans out over the pool (instances of a series, frames of an object).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use worker::guard;
use worker::jobs::{JobInput, JobKind as WorkerJobKind};

use crate::domain::Hub;
use crate::domain::jobs::LeasedJob;
use crate::model::{JobKind, Principal};

/// The process name of the in-process runner in its jobs' lease owner (`worker-0:hub-local`).
pub const LOCAL_OWNER: &str = "hub-local";

/// How long the runner waits for a job before looking again without being woken.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Maps the hub's job kind to the worker's.
pub fn worker_kind(kind: &str) -> Option<WorkerJobKind> {
    match kind.parse::<JobKind>().ok()? {
        JobKind::ImageSeries => Some(WorkerJobKind::ImageSeries),
        JobKind::EcgAnalysis => Some(WorkerJobKind::EcgAnalysis),
    }
}

/// Runs jobs on `threads` rayon threads (0: one per core) until `shutdown` resolves; jobs in
/// flight then finish before this returns.
pub async fn run(hub: Hub, threads: usize, shutdown: impl std::future::Future<Output = ()>) {
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("job-{i}"))
        .build()
    {
        Ok(pool) => Arc::new(pool),
        Err(e) => {
            tracing::error!("cannot start the job pool: {e}; jobs wait for remote workers");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(pool.current_num_threads()));
    let who = Principal::local_runner();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
        };
        match hub.lease_job(&who, LOCAL_OWNER).await {
            Ok(Some(job)) => {
                let (hub, pool, who) = (hub.clone(), pool.clone(), who.clone());
                tokio::spawn(async move {
                    run_one(&hub, &who, &pool, job).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = hub.jobs_queued() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
            Err(e) => {
                drop(permit);
                tracing::warn!("leasing a job failed: {e}");
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
    // Let jobs in flight finish: they hold every permit until done.
    let total = u32::try_from(pool.current_num_threads()).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(total).await;
}

async fn run_one(hub: &Hub, who: &Principal, pool: &rayon::ThreadPool, leased: LeasedJob) {
    let job = &leased.job;
    let Some(kind) = worker_kind(&job.kind) else {
        tracing::error!(job = job.id, kind = %job.kind, "unknown job kind");
        return;
    };
    let scratch = hub.config().staging_dir().join("jobs");
    let mut inputs = Vec::with_capacity(leased.inputs.len());
    for (index, input) in leased.inputs.iter().enumerate() {
        match hub.job_input_copy(who, &leased, index, &scratch).await {
            Ok(path) => inputs.push(JobInput {
                name: input.name.clone(),
                path,
            }),
            Err(e) => {
                tracing::warn!(job = job.id, input = %input.name, "input unavailable: {e}; the lease will run out and the job retried");
                return;
            }
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let subject = job.subject.clone();
    pool.spawn(move || {
        let output = guard::execute(kind, &subject, &inputs);
        // Downloaded copies (remote blob stores) live in the scratch directory; local blobs do not.
        for input in &inputs {
            if input.path.starts_with(&scratch) {
                let _ = std::fs::remove_file(&input.path);
            }
        }
        let _ = tx.send(output);
    });
    // `guard::execute` turns a panic into the input's error, so the sender is only dropped if
    // the pool itself is gone.
    let Ok(output) = rx.await else {
        tracing::error!(
            job = job.id,
            "the job pool dropped the job; the lease will run out and the job retried"
        );
        return;
    };
    if let Err(e) = hub.complete_job(who, job.id, output).await {
        tracing::warn!(job = job.id, "applying results failed: {e}");
    }
}
