//! What happens with the passage of time: expired claims go back to the queue, studies whose
//! upload stopped without closing are queued after the quiet period, jobs no worker could
//! finish are given up, and blobs no index row points at are removed.
//!
//! Orphan blobs: ingest stores a file's blob before its index row, so a file refused after that
//! (another institution's study, a conflict found at indexing), an upload cut off in between, or
//! a preview replaced by a newer one leaves a blob nothing points at. The collector removes those
//! older than `ingest.orphan_grace`. Within one hub an ingest holds `blob_writes` (read) from its
//! put to its commit and the collector checks and removes under it (write), so a blob being
//! indexed is never removed; across replicas the grace period and a last look at the blob's write
//! time just before removing it (a put of the same bytes writes it again) stand guard.

use std::time::{Duration, SystemTime};

use super::{Hub, Result, audit};
use crate::clock::{ms, now_ms};
use crate::model::Principal;
use crate::storage::{cases, instances};

/// How often the sweeper runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Blobs checked against the index in one query.
const ORPHAN_BATCH: usize = 200;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Claims returned to the queue.
    pub expired_claims: usize,
    /// Quiet studies queued.
    pub queued_studies: usize,
    /// Jobs given up.
    pub abandoned_jobs: usize,
}

impl Hub {
    /// Runs one sweep.
    pub async fn sweep(&self) -> Result<Swept> {
        let now = now_ms();
        let system = Principal::system();
        let mut swept = Swept::default();

        let expired = {
            let mut tx = self.store().read().await?;
            cases::expired_claims(tx.as_mut(), now).await?
        };
        for (case_id, holder) in expired {
            let mut tx = self.store().write().await?;
            if cases::unclaim(tx.as_mut(), case_id, Some(holder)).await? {
                let detail = format!("lease of user {holder} expired; case back in the queue");
                audit::record(tx.as_mut(), &system, "claim_expired", case_id, "", detail).await?;
                tx.commit().await?;
                swept.expired_claims += 1;
            }
        }

        let quiet_before = now - ms(self.config().ingest.quiet_period);
        let quiet = {
            let mut tx = self.store().read().await?;
            cases::quiet_receiving(tx.as_mut(), quiet_before).await?
        };
        for case_id in quiet {
            if self.finalize_case(case_id, &system).await? {
                swept.queued_studies += 1;
            }
        }

        swept.abandoned_jobs = self.give_up_exhausted_jobs().await?;
        Ok(swept)
    }

    /// Removes the blobs that no index row points at and that were last written more than
    /// `ingest.orphan_grace` ago, logging each; returns how many.
    pub async fn collect_orphan_blobs(&self) -> Result<usize> {
        let grace = self.config().ingest.orphan_grace;
        let before = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut removed = 0;
        for group in 0..=255u8 {
            let candidates = self.store().blobs.written_before(group, before).await?;
            for batch in candidates.chunks(ORPHAN_BATCH) {
                removed += self.remove_unreferenced(batch, before).await?;
            }
        }
        Ok(removed)
    }

    /// Removes those of `keys` that no row points at and that nothing wrote since `before`.
    async fn remove_unreferenced(&self, keys: &[String], before: SystemTime) -> Result<usize> {
        let _no_ingest_between = self.inner.blob_writes.write().await;
        let in_use = {
            let mut tx = self.store().read().await?;
            instances::blobs_in_use(tx.as_mut(), keys).await?
        };
        let blobs = &self.store().blobs;
        let mut removed = 0;
        for key in keys.iter().filter(|k| !in_use.contains(*k)) {
            // Stored again since it was listed (the same bytes uploaded anew): kept.
            if blobs.written_at(key).await?.is_none_or(|t| t >= before) {
                continue;
            }
            blobs.delete(key).await?;
            tracing::info!(blob = %key, "removed a blob that no index row points at");
            removed += 1;
        }
        Ok(removed)
    }

    /// Sweeps every [`SWEEP_EVERY`] until `shutdown` resolves, and collects orphan blobs every
    /// quarter of the grace period (at least every second, at most every 15 minutes).
    pub async fn run_sweeper(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let collect_every = (self.config().ingest.orphan_grace / 4)
            .clamp(Duration::from_secs(1), Duration::from_secs(15 * 60));
        let mut collected_at = tokio::time::Instant::now();
        loop {
            match self.sweep().await {
                Ok(s) if s != Swept::default() => tracing::info!(?s, "sweep"),
                Ok(_) => {}
                Err(e) => tracing::warn!("sweep failed: {e}"),
            }
            if collected_at.elapsed() >= collect_every {
                collected_at = tokio::time::Instant::now();
                match self.collect_orphan_blobs().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "orphan blobs collected"),
                    Err(e) => tracing::warn!("collecting orphan blobs failed: {e}"),
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    }
}
