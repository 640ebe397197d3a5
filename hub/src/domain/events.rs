//! Delivering domain events from the outbox to the [`super::Extension`]s.
//!
//! Each delivery runs in one transaction with the record that it happened, so an extension sees
//! each event exactly once even if the hub dies mid-way; a failing extension is retried later and
//! does not hold up the others.

use std::time::Duration;

use super::{Hub, Result};
use crate::clock::now_ms;
use crate::storage::events;

/// How often the dispatcher looks for events when nothing wakes it.
const POLL: Duration = Duration::from_secs(2);

impl Hub {
    /// Delivers every pending event to every extension; returns how many deliveries succeeded.
    pub async fn deliver_events(&self) -> Result<usize> {
        let mut delivered = 0;
        for ext in &self.inner.extensions {
            let pending = {
                let mut tx = self.store().read().await?;
                events::undelivered(tx.as_mut(), ext.name(), 100).await?
            };
            for event in pending {
                let mut tx = self.store().write().await?;
                if !events::mark_delivered(tx.as_mut(), event.id, ext.name(), now_ms()).await? {
                    continue;
                }
                match ext.handle_event(tx.as_mut(), &event).await {
                    Ok(()) => {
                        tx.commit().await?;
                        delivered += 1;
                    }
                    Err(e) => {
                        // Rolled back with the transaction; tried again on the next round.
                        tracing::warn!(extension = ext.name(), event = event.id, kind = %event.kind, "event handling failed: {e}");
                        break;
                    }
                }
            }
        }
        Ok(delivered)
    }

    /// Delivers events until `shutdown` resolves.
    pub async fn run_event_dispatcher(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.deliver_events().await {
                tracing::warn!("event delivery: {e}");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.inner.events_written.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
