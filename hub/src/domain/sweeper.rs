//! What happens with the passage of time: expired claims go back to the queue, studies whose
//! upload stopped without closing are queued after the quiet period, and jobs no worker could
//! finish are given up.

use std::time::Duration;

use super::{Hub, Result, audit};
use crate::clock::{ms, now_ms};
use crate::model::Principal;
use crate::storage::cases;

/// How often the sweeper runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

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

    /// Sweeps every [`SWEEP_EVERY`] until `shutdown` resolves.
    pub async fn run_sweeper(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.sweep().await {
                Ok(s) if s != Swept::default() => tracing::info!(?s, "sweep"),
                Ok(_) => {}
                Err(e) => tracing::warn!("sweep failed: {e}"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    }
}
