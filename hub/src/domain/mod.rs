//! The domain: what the hub does, independent of how it is asked (gRPC, DICOM) or where it keeps
//! things (SQLite, PostgreSQL, a directory, S3).
//!
//! - [`auth`]: users, tokens and the role/institution checks every operation makes;
//!   [`revocation`]: disabling a user ends their cached tokens and open streams at once;
//!   [`user_changes`]: changing a user's role or institution does the same.
//!   [`session`]: browser sign-ins (a session id in a cookie instead of the token).
//! - [`staging`] and [`ingest`]: files arriving (uploads and DICOM stores share this one path);
//!   [`wfdb_import`]: WFDB ECG records uploaded as their files become DICOM ECG instances there.
//! - [`mixup`]: content already on file under another patient, held for a person to resolve.
//! - [`reading`]: the priority queue, claims and case views; [`dicomweb`]: the same studies as
//!   DICOMweb searches and retrieves them.
//! - [`reports`]: preliminary, final and amended reports; [`follow`]: watchers' report streams,
//!   resumable from a cursor and ended on shutdown.
//! - [`jobs`]: scheduling worker jobs and applying their results.
//! - [`events`]: the outbox and the [`Extension`]s that subscribe to it (result recognition).
//! - [`disk`]: the free-space floor below which uploads are refused.
//! - [`limits`]: the length limit of every text field a client sends.
//! - [`recognition`]: result mutual recognition, its ledger and the administrators' statistics.
//! - [`audit_export`]: the audit trail as DICOM audit messages for a county's log server.
//! - [`cert_identity`]: client certificates tied to the worker or AE title they were issued for.
//! - [`integrity`]: walking the hash chains over the audit trail, reports and ledger.
//! - [`sweeper`]: what happens with the passage of time (expired claims, quiet studies, blobs no
//!   index row points at).
//! - [`catalog`], [`pseudonym`], [`dicom_meta`]: the exam-item catalogue, patient pseudonyms and
//!   DICOM header reading.

pub mod audit;
pub mod audit_export;
pub mod auth;
pub mod catalog;
pub mod cert_identity;
pub mod dicom_meta;
pub mod dicomweb;
pub mod disk;
mod error;
pub mod events;
pub mod follow;
pub mod ingest;
pub mod integrity;
pub mod jobs;
pub mod limits;
pub mod mixup;
pub mod pseudonym;
pub mod reading;
pub mod recognition;
mod render;
pub mod reports;
pub mod revocation;
pub mod session;
pub mod staging;
pub mod sweeper;
pub mod user_changes;
pub mod user_limits;
pub mod wfdb_import;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Notify, broadcast, watch};

pub use error::{Error, IncidentRef, Result, internal_message, storage_message};

use crate::config::Config;
use crate::model::{Case, Report};
use crate::storage::events::StoredEvent;
use crate::storage::{SqlTx, Store};
use catalog::Catalog;
use pseudonym::Pseudonymizer;

/// Something that plugs into the domain without the domain or the transport knowing it: result
/// recognition is one. Both hooks run inside the transaction of the change they react to.
#[async_trait]
pub trait Extension: Send + Sync + 'static {
    /// A stable name; the outbox records deliveries under it.
    fn name(&self) -> &'static str;

    /// Called in the transaction that creates a case. A returned sentence is stored as the case's
    /// "possible repeat" note and shown to the uploader (e.g. that a recognition check of CT-HEAD
    /// is worth making before examining again; never another institution's exam).
    async fn case_created(&self, _tx: &mut dyn SqlTx, _case: &Case) -> Result<Option<String>> {
        Ok(None)
    }

    /// Handles a domain event. Runs in a transaction that also records the delivery, so each event
    /// takes effect exactly once per extension, even across crashes.
    async fn handle_event(&self, _tx: &mut dyn SqlTx, _event: &StoredEvent) -> Result<()> {
        Ok(())
    }
}

/// A report as it reaches clinics watching for their reports.
#[derive(Debug, Clone)]
pub struct ReportNotice {
    /// The case.
    pub case: Case,
    /// The report version.
    pub report: Report,
}

/// The hub: cheap to clone, shared by every service and background task.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Config,
    catalog: Catalog,
    pseudonyms: Pseudonymizer,
    extensions: Vec<Arc<dyn Extension>>,
    tokens: auth::TokenCache,
    /// When users' access ended: stale cached principals and streams.
    revocations: revocation::Revocations,
    /// Browser sessions looked up recently (see [`session`]).
    sessions: session::SessionCache,
    /// Wakes the job runner and long-polling remote workers when jobs are queued.
    jobs_queued: Notify,
    /// Wakes the event dispatcher when events are written.
    events_written: Notify,
    /// Reports as they are filed, for clinics that watch.
    reports: broadcast::Sender<ReportNotice>,
    /// Flipped when the hub begins shutting down: report followers end their streams.
    stopping: watch::Sender<bool>,
    /// Bounds concurrent full parses of uploaded files (each holds one instance in memory).
    parse_permits: tokio::sync::Semaphore,
    /// The memory case-view renders may hold at once (`imaging.render_memory_bytes`).
    renders: render::RenderBudget,
    /// Every user's requests in flight and request rate (`[user_limits]`).
    user_limits: std::sync::Arc<user_limits::UserLimits>,
    /// The data directory's free space, checked before new data is accepted.
    disk: disk::DiskWatch,
    /// The region's time zone: local days for statistics and validity windows.
    region: recognition::Region,
    /// Read-held by an ingest from storing a blob until its index row is committed; write-held by
    /// the orphan collector while it checks and removes blobs (see `sweeper`).
    blob_writes: tokio::sync::RwLock<()>,
    /// DICOMweb's header cache and view-audit clock.
    dicomweb: dicomweb::DicomWebState,
}

impl Hub {
    /// Builds the hub over opened storage.
    pub fn new(
        store: Store,
        config: Config,
        catalog: Catalog,
        pseudonyms: Pseudonymizer,
        extensions: Vec<Arc<dyn Extension>>,
    ) -> Hub {
        let parses = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(2);
        let region = recognition::Region::new(&config.region.time_zone).unwrap_or_else(|e| {
            // Config::load refuses an unknown zone; only a hand-built Config reaches this.
            tracing::error!("{e}; counting days in UTC");
            recognition::Region::utc()
        });
        let disk = disk::DiskWatch::new(config.data_dir.clone(), config.ingest.min_free_bytes);
        // Uploads, views and in-process jobs all open deflated files within this budget.
        worker_imaging::set_max_inflated_bytes(config.ingest.max_inflated_bytes);
        // ... and decode frames within this one.
        worker_imaging::set_max_frame_bytes(config.imaging.max_frame_bytes);
        let renders = render::RenderBudget::new(config.imaging.render_memory_bytes);
        let user_limits = user_limits::UserLimits::new(config.user_limits.clone());
        Hub {
            inner: Arc::new(Inner {
                store,
                config,
                catalog,
                pseudonyms,
                extensions,
                tokens: auth::TokenCache::default(),
                revocations: revocation::Revocations::default(),
                sessions: session::SessionCache::default(),
                jobs_queued: Notify::new(),
                events_written: Notify::new(),
                reports: broadcast::channel(256).0,
                stopping: watch::channel(false).0,
                parse_permits: tokio::sync::Semaphore::new(parses),
                renders,
                user_limits,
                disk,
                region,
                blob_writes: tokio::sync::RwLock::new(()),
                dicomweb: Default::default(),
            }),
        }
    }

    /// The storage: reached only by the domain, whose methods check the principal first.
    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The region's time zone, as local days go.
    pub fn region(&self) -> &recognition::Region {
        &self.inner.region
    }

    /// Refuses new data while the data directory's disk is below its free-space floor.
    pub fn check_disk_space(&self) -> Result<()> {
        self.inner.disk.check().map_err(Error::ResourceExhausted)
    }

    /// The exam-item catalogue.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// Resolves when jobs may have been queued.
    pub async fn jobs_queued(&self) {
        self.inner.jobs_queued.notified().await;
    }

    pub(crate) fn notify_jobs(&self) {
        self.inner.jobs_queued.notify_waiters();
    }

    pub(crate) fn notify_events(&self) {
        self.inner.events_written.notify_one();
    }
}

/// A stored file the caller may read: only the domain hands one out, after its checks (a case
/// `who` may open, an input of a job leased to `who`), so a transport streams it without reaching
/// the storage itself.
#[derive(Clone)]
pub struct StoredFile {
    blobs: Arc<dyn crate::storage::blob::BlobStore>,
    key: String,
    media_type: String,
}

impl StoredFile {
    /// Its media type, e.g. `application/dicom`.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// Its size in bytes.
    pub async fn size(&self) -> Result<u64> {
        Ok(self.blobs.size(&self.key).await?)
    }

    /// `len` bytes from `offset` (fewer at the end).
    pub async fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        Ok(self.blobs.read_range(&self.key, offset, len).await?)
    }
}

impl Hub {
    fn stored_file(&self, key: String, media_type: &str) -> StoredFile {
        StoredFile {
            blobs: self.store().blobs.clone(),
            key,
            media_type: media_type.to_owned(),
        }
    }

    /// A hub over the same storage and configuration with other pseudonyms and extensions (for
    /// testing an extension against a hub that is already populated).
    pub fn with_extensions(
        &self,
        pseudonyms: Pseudonymizer,
        extensions: Vec<Arc<dyn Extension>>,
    ) -> Hub {
        Hub::new(
            self.store().clone(),
            self.config().clone(),
            self.catalog().clone(),
            pseudonyms,
            extensions,
        )
    }
}

/// How many rows a listing returns: `requested`, 100 when 0 (not given), at most 1,000.
fn list_limit(requested: u32) -> i64 {
    i64::from(if requested == 0 {
        100
    } else {
        requested.min(1000)
    })
}
