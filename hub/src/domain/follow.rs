//! Following reports: the stream of report versions a township clinic watches for critical
//! findings, resumable from a cursor.
//!
//! The durable `reports` table is the source, read in id order after the watcher's cursor; the
//! in-process broadcast only wakes followers early. So a watcher that reconnects with the last
//! report id it saw misses nothing signed while it was away and sees nothing twice, and a follower
//! on another replica of the same index (which never hears this process's broadcast) sees a
//! report within [`POLL`].
//!
//! (On PostgreSQL, ids come from a sequence and two concurrent commits can become visible out of
//! id order; a follower that read the later one first would skip the earlier. SQLite commits one
//! writer at a time, in id order.)

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::{Error, Hub, ReportNotice, Result, audit, reports::visible_to};
use crate::model::{Principal, Role};
use crate::storage::reports;

/// How often a follower reads the index when nothing wakes it: the delay before it sees a report
/// signed on another replica.
pub const POLL: Duration = Duration::from_secs(2);

/// Versions read per query.
const BATCH: i64 = 100;

/// What a follower yields next.
#[derive(Debug)]
pub enum FollowEvent {
    /// A report version the watcher may see, after everything yielded before.
    Report(Box<ReportNotice>),
    /// The hub is shutting down: the stream ends here.
    ShuttingDown,
}

/// One watcher's position in the reports: see [`Hub::follow_reports`].
pub struct ReportFollower {
    hub: Hub,
    who: Principal,
    critical_only: bool,
    /// The highest report id read from the index (seen or filtered out).
    scanned: i64,
    /// Where the stream started, for the watcher to resume from.
    start: i64,
    wake: broadcast::Receiver<ReportNotice>,
    pending: VecDeque<ReportNotice>,
    /// When the stream opened: a revocation of the watcher's access after it ends the stream.
    opened: Instant,
    /// Changes whenever some user's access ends.
    revocations: watch::Receiver<u64>,
}

impl Hub {
    /// Starts following the report versions `who` may see (clinics: their institution's, signed
    /// or critical), after report id `after`, or from now on when `after` is None.
    pub async fn follow_reports(
        &self,
        who: &Principal,
        after: Option<i64>,
        critical_only: bool,
    ) -> Result<ReportFollower> {
        who.require(
            &[Role::Clinic, Role::Specialist, Role::Admin],
            "watching reports",
        )?;
        let opened = Instant::now();
        let revocations = self.inner.revocations.subscribe();
        // Subscribe before reading the cursor, so that a report committed in between wakes us.
        let wake = self.inner.reports.subscribe();
        let start = match after {
            Some(id) => id.max(0),
            None => {
                let mut tx = self.store().read().await?;
                reports::newest_id(tx.as_mut()).await?
            }
        };
        Ok(ReportFollower {
            hub: self.clone(),
            who: who.clone(),
            critical_only,
            scanned: start,
            start,
            wake,
            pending: VecDeque::new(),
            opened,
            revocations,
        })
    }

    /// Tells report followers that the hub is shutting down; they end their streams.
    pub fn begin_shutdown(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// Resolves once [`Hub::begin_shutdown`] has been called.
    pub async fn shutting_down(&self) {
        let mut rx = self.inner.stopping.subscribe();
        let _ = rx.wait_for(|stopping| *stopping).await;
    }
}

impl ReportFollower {
    /// The report id the stream started after: the cursor to resume from if nothing arrives.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The next report version, waiting for one to be filed; [`FollowEvent::ShuttingDown`] once
    /// the hub is shutting down (even with versions still to send: the watcher resumes from its
    /// cursor on the next hub); UNAUTHENTICATED once the watcher's access is revoked (user
    /// disabled or changed), at once.
    pub async fn next(&mut self) -> Result<FollowEvent> {
        loop {
            if *self.hub.inner.stopping.borrow() {
                return Ok(FollowEvent::ShuttingDown);
            }
            if self.hub.revoked_since(&self.who, self.opened) {
                return Err(Error::Unauthenticated(format!(
                    "{}'s access was revoked (user disabled or changed) while watching reports; \
                     ask an administrator",
                    self.who.name
                )));
            }
            if let Some(notice) = self.pending.pop_front() {
                return Ok(FollowEvent::Report(Box::new(notice)));
            }
            if self.read_batch().await? {
                continue;
            }
            self.wait().await;
        }
    }

    /// Reads the next versions after the cursor; returns whether there may be more right now.
    async fn read_batch(&mut self) -> Result<bool> {
        let institution = if self.who.role == Role::Clinic {
            self.who.institution_code.as_str()
        } else {
            ""
        };
        let mut tx = self.hub.store().read().await?;
        let batch = reports::after(
            tx.as_mut(),
            self.scanned,
            institution,
            self.critical_only,
            BATCH,
        )
        .await?;
        let Some(last) = batch.last() else {
            return Ok(false);
        };
        self.scanned = last.id;
        let full = batch.len() as i64 == BATCH;
        let mut read = Vec::new();
        for report in batch.into_iter().filter(|r| visible_to(&self.who, r)) {
            let case = self
                .hub
                .case_or_not_found(tx.as_mut(), report.case_id)
                .await?;
            read.push(ReportNotice { case, report });
        }
        drop(tx);
        self.audit_delivery(&read).await?;
        self.pending.extend(read);
        Ok(full || !self.pending.is_empty())
    }

    /// Records each report about to reach the watcher (clinical text read).
    async fn audit_delivery(&self, notices: &[ReportNotice]) -> Result<()> {
        if notices.is_empty() {
            return Ok(());
        }
        let mut tx = self.hub.store().write().await?;
        for n in notices {
            let detail = format!("report {} sent to a watcher", n.report.id);
            let (case, key) = (n.case.id, n.case.patient_key.as_str());
            audit::record(
                tx.as_mut(),
                &self.who,
                "report_delivered",
                case,
                key,
                detail,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Waits for a report to be announced here, the poll interval, or shutdown.
    async fn wait(&mut self) {
        tokio::select! {
            () = self.hub.shutting_down() => {}
            _ = self.revocations.changed() => {}
            woken = self.wake.recv() => {
                if let Err(RecvError::Closed) = woken {
                    tokio::time::sleep(POLL).await;
                }
            }
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
