//! DICOMweb's view of the hub (PS3.18): which studies, series and instances a caller may search
//! and retrieve, under the same rules as cases, and what they look like as DICOM JSON.
//!
//! - Clinics reach their own institution's studies, and another institution's study only while
//!   a recognition check of theirs opens its case ([`Hub::recognition_opening`]); a study they
//!   may not see reads as one that does not exist. Specialists reach every study. Administrators,
//!   auditors and workers open no images (refused and audited, as for cases).
//! - Every retrieve is an audited view of each case it touches. Frame, bulk data and rendered
//!   requests come by the hundred when a viewer scrolls, so those are recorded once per user and
//!   case every [`VIEW_AUDIT_INTERVAL`].
//! - [`json`] writes DICOM JSON; [`query`] parses and matches searches; [`headers`] reads
//!   stored files; [`records`] builds the search results; [`metadata`] keeps each series'
//!   metadata, computed once.

pub mod headers;
pub mod json;
pub mod metadata;
pub mod patient;
pub mod query;
pub mod records;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Error, Hub, Result, StoredFile, audit};
use crate::model::{Case, Instance, Principal, Role};
use crate::storage::{cases, dicomweb as store, instances};

pub use query::SearchQuery;

/// How often a frame, bulk data or rendered retrieve of the same case by the same user is
/// written to the audit trail (a viewer fetches each frame of a series separately).
pub const VIEW_AUDIT_INTERVAL: Duration = Duration::from_secs(600);

/// The URL path DICOMweb is served under (bulk data URIs are written with it).
pub const ROOT: &str = "/dicomweb";

/// A study as `who` may see it: its cases they may open and their instances, in order.
#[derive(Debug, Clone)]
pub struct StudyView {
    /// The Study Instance UID.
    pub study_uid: String,
    /// The cases of the study the caller may open.
    pub cases: Vec<Case>,
    /// Their instances, by series number, series, instance number.
    pub instances: Vec<Instance>,
}

impl StudyView {
    /// The instances of one series.
    pub fn series(&self, series_uid: &str) -> impl Iterator<Item = &Instance> {
        self.instances
            .iter()
            .filter(move |i| i.series_instance_uid == series_uid)
    }
}

/// What a caller is doing with a study, for the access check and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Searching: listed, audited as one listing per search.
    Search,
    /// Retrieving instances or metadata: each case audited as a view.
    Retrieve,
    /// Frames, bulk data, renders: audited once per [`VIEW_AUDIT_INTERVAL`].
    Frames,
}

/// The DICOMweb state a hub keeps: header caches and when views were last audited.
pub(crate) struct DicomWebState {
    headers: headers::HeaderCache,
    summaries: headers::HeaderCache,
    views: Mutex<HashMap<(i64, i64), Instant>>,
}

impl Default for DicomWebState {
    fn default() -> Self {
        DicomWebState {
            headers: headers::HeaderCache::new(headers::CACHED_HEADERS),
            summaries: headers::HeaderCache::new(headers::CACHED_SUMMARIES),
            views: Mutex::default(),
        }
    }
}

impl DicomWebState {
    /// True if `user`'s view of `case` should be recorded now (and notes that it is).
    fn view_due(&self, user: i64, case: i64) -> bool {
        let Ok(mut map) = self.views.lock() else {
            return true;
        };
        let now = Instant::now();
        if map.len() > 100_000 {
            map.retain(|_, at| now.duration_since(*at) < VIEW_AUDIT_INTERVAL);
        }
        match map.get(&(user, case)) {
            Some(at) if now.duration_since(*at) < VIEW_AUDIT_INTERVAL => false,
            _ => {
                map.insert((user, case), now);
                true
            }
        }
    }
}

impl Hub {
    /// The part of study `study_uid` that `who` may see, for `purpose` (recorded in the audit
    /// trail as `what` when retrieving). A study with nothing `who` may see is "no study".
    pub async fn dicomweb_study(
        &self,
        who: &Principal,
        study_uid: &str,
        purpose: Purpose,
        what: &str,
    ) -> Result<StudyView> {
        self.dicomweb_role(who, study_uid, purpose).await?;
        let view = self.visible_study(who, study_uid).await?;
        if view.cases.is_empty() {
            return Err(Error::NotFound(format!("no study {study_uid}")));
        }
        self.audit_study_view(who, &view, purpose, what).await?;
        Ok(view)
    }

    /// Refuses a role that opens no images, recording the attempt when it was a retrieve.
    async fn dicomweb_role(
        &self,
        who: &Principal,
        study_uid: &str,
        purpose: Purpose,
    ) -> Result<()> {
        let denied = match who.require(
            &[Role::Clinic, Role::Specialist],
            "DICOMweb (searching and opening patients' images, a clinical act)",
        ) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if purpose != Purpose::Search {
            self.audit_refusal(who, 0, &format!("DICOMweb study {study_uid}"))
                .await?;
        }
        Err(denied)
    }

    /// The cases of a study `who` may open (own institution, every one for specialists, or one
    /// a recognition check of theirs opens) and their instances.
    pub(crate) async fn visible_study(
        &self,
        who: &Principal,
        study_uid: &str,
    ) -> Result<StudyView> {
        let mut tx = self.store().read().await?;
        let mut view = StudyView {
            study_uid: study_uid.to_owned(),
            cases: Vec::new(),
            instances: Vec::new(),
        };
        for id in store::cases_of_study(tx.as_mut(), study_uid).await? {
            let Some(case) = cases::get(tx.as_mut(), id).await? else {
                continue;
            };
            let own = who
                .require_institution(&case.institution_code, "case")
                .is_ok();
            if !own
                && self
                    .recognition_opening(tx.as_mut(), who, id)
                    .await?
                    .is_none()
            {
                continue;
            }
            view.instances
                .extend(instances::of_case(tx.as_mut(), id).await?);
            view.cases.push(case);
        }
        view.instances.sort_by(|a, b| {
            (
                a.series_number,
                &a.series_instance_uid,
                a.instance_number,
                &a.sop_instance_uid,
            )
                .cmp(&(
                    b.series_number,
                    &b.series_instance_uid,
                    b.instance_number,
                    &b.sop_instance_uid,
                ))
        });
        Ok(view)
    }

    async fn audit_study_view(
        &self,
        who: &Principal,
        view: &StudyView,
        purpose: Purpose,
        what: &str,
    ) -> Result<()> {
        let due: Vec<&Case> = view
            .cases
            .iter()
            .filter(|c| match purpose {
                Purpose::Search => false,
                Purpose::Retrieve => true,
                Purpose::Frames => self.inner.dicomweb.view_due(who.user_id, c.id),
            })
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let mut tx = self.store().write().await?;
        for case in due {
            let mut detail = format!("DICOMweb {what}");
            if who
                .require_institution(&case.institution_code, "case")
                .is_err()
            {
                detail.push_str(" (result recognition)");
            }
            audit::record(tx.as_mut(), who, "view", case.id, &case.patient_key, detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored files of a study, one series or one instance of it, in order, with their
    /// transfer syntaxes; each an audited view of its case.
    pub async fn dicomweb_files(
        &self,
        who: &Principal,
        study_uid: &str,
        series_uid: Option<&str>,
        sop_uid: Option<&str>,
    ) -> Result<Vec<(StoredFile, String)>> {
        let what = describe(study_uid, series_uid, sop_uid, "retrieve");
        let view = self
            .dicomweb_study(who, study_uid, Purpose::Retrieve, &what)
            .await?;
        let chosen = select(&view, series_uid, sop_uid)?;
        Ok(chosen
            .into_iter()
            .map(|i| {
                let file = self.stored_file(i.blob_key.clone(), "application/dicom");
                (file, i.transfer_syntax_uid.clone())
            })
            .collect())
    }

    /// One instance `who` may open, for frames, bulk data and renders; with a local path to its
    /// file (a copy for a remote blob store, removed by [`LocalFile`]'s drop).
    pub(crate) async fn dicomweb_instance(
        &self,
        who: &Principal,
        study_uid: &str,
        series_uid: &str,
        sop_uid: &str,
        what: &str,
    ) -> Result<(Instance, LocalFile)> {
        let detail = describe(study_uid, Some(series_uid), Some(sop_uid), what);
        let view = self
            .dicomweb_study(who, study_uid, Purpose::Frames, &detail)
            .await?;
        let instance = select(&view, Some(series_uid), Some(sop_uid))?
            .into_iter()
            .next()
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no instance {sop_uid}")))?;
        let file = self.local_file(&instance.blob_key).await?;
        Ok((instance, file))
    }

    /// The instance that stands for a series (its middle one) or a study (its first one) in a
    /// thumbnail or render: its series and SOP Instance UIDs.
    pub async fn dicomweb_representative(
        &self,
        who: &Principal,
        study_uid: &str,
        series_uid: Option<&str>,
    ) -> Result<(String, String)> {
        let what = describe(study_uid, series_uid, None, "rendering of");
        let view = self
            .dicomweb_study(who, study_uid, Purpose::Frames, &what)
            .await?;
        let members = select(&view, series_uid, None)?;
        let chosen = if series_uid.is_some() {
            members[members.len() / 2]
        } else {
            members[0]
        };
        Ok((
            chosen.series_instance_uid.clone(),
            chosen.sop_instance_uid.clone(),
        ))
    }

    pub(crate) async fn local_file(&self, blob_key: &str) -> Result<LocalFile> {
        let scratch = self.config().staging_dir().join("jobs");
        let path = self.store().blobs.local_copy(blob_key, &scratch).await?;
        let copy = path.starts_with(&scratch);
        Ok(LocalFile { path, copy })
    }
}

/// A stored file's local path; a downloaded copy is removed when this is dropped.
pub struct LocalFile {
    /// The path.
    pub path: PathBuf,
    copy: bool,
}

impl Drop for LocalFile {
    fn drop(&mut self) {
        if self.copy {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The instances of `view` a retrieve names; a series or instance that is not there is "no
/// series"/"no instance".
fn select<'a>(
    view: &'a StudyView,
    series_uid: Option<&str>,
    sop_uid: Option<&str>,
) -> Result<Vec<&'a Instance>> {
    let chosen: Vec<&Instance> = view
        .instances
        .iter()
        .filter(|i| series_uid.is_none_or(|s| i.series_instance_uid == s))
        .filter(|i| sop_uid.is_none_or(|s| i.sop_instance_uid == s))
        .collect();
    if chosen.is_empty() {
        return Err(match (series_uid, sop_uid) {
            (_, Some(sop)) => {
                Error::NotFound(format!("no instance {sop} in study {}", view.study_uid))
            }
            (Some(series), None) => {
                Error::NotFound(format!("no series {series} in study {}", view.study_uid))
            }
            (None, None) => {
                Error::NotFound(format!("study {} has no instances yet", view.study_uid))
            }
        });
    }
    Ok(chosen)
}

/// The audit trail's words for a retrieve (UIDs only, never a patient's identifiers).
fn describe(study: &str, series: Option<&str>, sop: Option<&str>, what: &str) -> String {
    match (series, sop) {
        (Some(se), Some(i)) => format!("{what} instance {i} (series {se}, study {study})"),
        (Some(se), None) => format!("{what} series {se} (study {study})"),
        _ => format!("{what} study {study}"),
    }
}

/// The URL of an instance under [`ROOT`]: what bulk data URIs start with.
pub fn instance_url(study: &str, series: &str, sop: &str) -> String {
    format!("{ROOT}/studies/{study}/series/{series}/instances/{sop}")
}
