//! Audit export: the audit trail, in chain order from a durable cursor, as DICOM audit messages
//! (PS3.15 A.5) for a county's log server. The sender (`transport::syslog`) asks for the next
//! entries, writes them and reports back; the cursor moves only over entries that were written,
//! so an outage or a restart loses nothing (at-least-once delivery).
//!
//! - [`event`]: which DICOM audit event each action of the trail is.
//! - [`message`]: the XML of one message (pseudonyms only).

pub mod event;
pub mod message;

use super::Result;
use crate::clock::now_ms;
use crate::model::{Principal, Role};
use crate::storage::audit_export as store;

pub use message::Source;

/// One audit entry ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportItem {
    /// Its link number in the audit chain (what the cursor counts).
    pub seq: i64,
    /// The audit row's id.
    pub row_id: i64,
    /// Its chain MAC (unique; a receiver drops a resent copy by it).
    pub mac: String,
    /// When it happened (ms since the epoch).
    pub at_ms: i64,
    /// Whether the event is a refusal (sent with syslog severity warning, not notice).
    pub refused: bool,
    /// The DICOM audit message (XML, one line).
    pub message: String,
}

/// Where the export to one log server stands, for administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportStatus {
    /// The cursor.
    pub cursor: store::Cursor,
    /// Audit entries not yet sent.
    pub lag: i64,
}

impl super::Hub {
    /// The next audit entries (at most `limit`) not yet sent to `target`, as messages from `source`.
    pub async fn audit_export_pending(
        &self,
        who: &Principal,
        target: &str,
        source: &Source,
        limit: i64,
    ) -> Result<Vec<ExportItem>> {
        who.require(&[Role::Admin], "exporting the audit trail")?;
        let mut tx = self.store().read().await?;
        let cursor = store::cursor(tx.as_mut(), target).await?;
        let linked = store::linked_after(tx.as_mut(), cursor.last_seq, limit).await?;
        Ok(linked
            .into_iter()
            .map(|l| {
                let (message, kind) = message::render(&l.entry, source);
                ExportItem {
                    seq: l.seq,
                    row_id: l.entry.id,
                    mac: l.mac,
                    at_ms: l.entry.at_ms,
                    refused: kind.outcome != event::Outcome::Success,
                    message,
                }
            })
            .collect())
    }

    /// Records that every entry up to link `seq` was written to `target`.
    pub async fn audit_export_sent(&self, who: &Principal, target: &str, seq: i64) -> Result<()> {
        who.require(&[Role::Admin], "exporting the audit trail")?;
        let mut tx = self.store().write().await?;
        store::advance(tx.as_mut(), target, seq, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that `target` could not be reached or written to (shown by `hub audit-export status`).
    pub async fn audit_export_failed(
        &self,
        who: &Principal,
        target: &str,
        error: &str,
    ) -> Result<()> {
        who.require(&[Role::Admin], "exporting the audit trail")?;
        let mut tx = self.store().write().await?;
        store::failed(tx.as_mut(), target, error, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where the export to each log server stands: last sent, error, entries still to send.
    pub async fn audit_export_status(&self, who: &Principal) -> Result<Vec<ExportStatus>> {
        who.require(&[Role::Admin], "reading the audit export's status")?;
        let mut tx = self.store().read().await?;
        let head = store::head_seq(tx.as_mut()).await?;
        let cursors = store::cursors(tx.as_mut()).await?;
        Ok(cursors
            .into_iter()
            .map(|cursor| ExportStatus {
                lag: (head - cursor.last_seq).max(0),
                cursor,
            })
            .collect())
    }
}
