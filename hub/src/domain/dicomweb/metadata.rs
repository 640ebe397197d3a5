//! WADO-RS beyond whole instances: series and study metadata (each series' DICOM JSON computed
//! once, kept gzip-compressed in the blob store and served as kept), frames as stored or
//! decoded, bulk data, and renders.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::headers::{self, FrameError};
use super::{Purpose, StudyView, describe, instance_url, select};
use crate::clock::now_ms;
use crate::domain::{Error, Hub, Result};
use crate::model::{Instance, Principal};
use crate::storage::dicomweb as store;

/// Transfer syntaxes whose frames are native samples, served as Explicit VR Little Endian's.
const NATIVE: [&str; 3] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
];

/// Explicit VR Little Endian.
pub const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

/// How frames are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameForm {
    /// As stored (compressed frames stay compressed).
    Stored,
    /// Decoded to native little-endian samples.
    Decoded,
}

/// Frames ready to send, all in one transfer syntax.
#[derive(Debug, Clone)]
pub struct Frames {
    /// Each frame's bytes, in the order asked.
    pub parts: Vec<Vec<u8>>,
    /// Their transfer syntax.
    pub transfer_syntax: String,
}

impl Hub {
    /// A series' metadata: a gzip-compressed DICOM JSON array, one object per instance.
    pub async fn dicomweb_series_metadata(
        &self,
        who: &Principal,
        study_uid: &str,
        series_uid: &str,
    ) -> Result<Vec<u8>> {
        let what = describe(study_uid, Some(series_uid), None, "metadata of");
        let view = self
            .dicomweb_study(who, study_uid, Purpose::Retrieve, &what)
            .await?;
        select(&view, Some(series_uid), None)?;
        self.series_metadata(&view, series_uid).await
    }

    /// A study's metadata: every series' instances in one gzip-compressed DICOM JSON array.
    pub async fn dicomweb_study_metadata(
        &self,
        who: &Principal,
        study_uid: &str,
    ) -> Result<Vec<u8>> {
        let what = describe(study_uid, None, None, "metadata of");
        let view = self
            .dicomweb_study(who, study_uid, Purpose::Retrieve, &what)
            .await?;
        let mut series: Vec<&str> = Vec::new();
        for i in &view.instances {
            if !series.contains(&i.series_instance_uid.as_str()) {
                series.push(&i.series_instance_uid);
            }
        }
        let mut joined = Vec::from(&b"["[..]);
        for (n, s) in series.iter().enumerate() {
            let json = gunzip(&self.series_metadata(&view, s).await?)?;
            let inner = json
                .strip_prefix(b"[")
                .and_then(|j| j.strip_suffix(b"]"))
                .unwrap_or(&[]);
            if n > 0 && !inner.is_empty() {
                joined.push(b',');
            }
            joined.extend_from_slice(inner);
        }
        joined.push(b']');
        gzip(&joined)
    }

    /// The kept metadata of a series of `view`, computed when missing or when the series has
    /// grown; computed without keeping when `view` shows only part of the series.
    async fn series_metadata(&self, view: &StudyView, series_uid: &str) -> Result<Vec<u8>> {
        let members: Vec<Instance> = view.series(series_uid).cloned().collect();
        let (kept, total) = {
            let mut tx = self.store().read().await?;
            let kept = store::metadata(tx.as_mut(), series_uid).await?;
            (
                kept,
                store::series_instance_count(tx.as_mut(), series_uid).await?,
            )
        };
        let whole = members.len() as i64 == total;
        if let Some((key, count)) = kept.filter(|(_, count)| whole && *count == total) {
            let blobs = &self.store().blobs;
            let size = blobs.size(&key).await?;
            tracing::debug!(series = series_uid, count, "series metadata served as kept");
            return Ok(blobs.read_range(&key, 0, size as usize).await?);
        }
        let compressed = self.build_metadata(view, &members).await?;
        if whole {
            let _storing = self.inner.blob_writes.read().await;
            let key = self.store().blobs.put_bytes(compressed.clone()).await?;
            let mut tx = self.store().write().await?;
            store::put_metadata(tx.as_mut(), series_uid, total, &key, now_ms()).await?;
            tx.commit().await?;
        }
        Ok(compressed)
    }

    /// Reads every member's header (on the blocking pool) into one compressed JSON array.
    async fn build_metadata(&self, view: &StudyView, members: &[Instance]) -> Result<Vec<u8>> {
        let mut files = Vec::with_capacity(members.len());
        for i in members {
            let base = instance_url(&view.study_uid, &i.series_instance_uid, &i.sop_instance_uid);
            files.push((self.local_file(&i.blob_key).await?, base));
        }
        let started = std::time::Instant::now();
        // The headers are read on the blocking pool, a share of the files per core (a 300-slice
        // CT is 300 files), each part one JSON text; the array is their concatenation.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let share = files.len().div_ceil(cores).max(1);
        let mut parts = Vec::new();
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            let chunk: Vec<_> = files.by_ref().take(share).collect();
            parts.push(tokio::task::spawn_blocking(move || headers_json(&chunk)));
        }
        let mut json = Vec::from(&b"["[..]);
        for (n, part) in parts.into_iter().enumerate() {
            let part = part
                .await
                .map_err(|e| Error::Internal(format!("metadata builder crashed: {e}")))?
                .map_err(Error::Internal)?;
            if n > 0 {
                json.push(b',');
            }
            json.extend_from_slice(&part);
        }
        json.push(b']');
        tracing::debug!(
            instances = members.len(),
            ms = started.elapsed().as_millis() as u64,
            "series metadata computed"
        );
        gzip(&json)
    }

    /// Frames (one-based) of an instance, in the form `choose` picks for its stored transfer
    /// syntax (given as the frames' own: Explicit VR Little Endian for native data); `None`
    /// when `choose` accepts neither.
    pub async fn dicomweb_frames(
        &self,
        who: &Principal,
        uids: [&str; 3],
        frames: &[u32],
        choose: impl FnOnce(&str) -> Option<FrameForm>,
    ) -> Result<Option<Frames>> {
        let [study, series, sop] = uids;
        let (instance, file) = self
            .dicomweb_instance(who, study, series, sop, "frames of")
            .await?;
        let stored = frame_syntax(&instance.transfer_syntax_uid);
        let Some(form) = choose(stored) else {
            return Ok(None);
        };
        let frames = frames.to_vec();
        let parts = tokio::task::spawn_blocking(move || match form {
            FrameForm::Stored => headers::stored_frames(&file.path, &frames),
            FrameForm::Decoded => headers::decoded_frames(&file.path, &frames),
        })
        .await
        .map_err(|e| Error::Internal(format!("frame reader crashed: {e}")))?
        .map_err(|e| frame_error(sop, e))?;
        let transfer_syntax = match form {
            FrameForm::Stored => stored.to_owned(),
            FrameForm::Decoded => EXPLICIT_LE.to_owned(),
        };
        Ok(Some(Frames {
            parts,
            transfer_syntax,
        }))
    }

    /// The value at `path` (a bulk data URI's tail) of an instance, little-endian.
    pub async fn dicomweb_bulk(
        &self,
        who: &Principal,
        uids: [&str; 3],
        path: &str,
    ) -> Result<Vec<u8>> {
        let [study, series, sop] = uids;
        let (_, file) = self
            .dicomweb_instance(who, study, series, sop, "bulk data of")
            .await?;
        let owned = path.to_owned();
        tokio::task::spawn_blocking(move || headers::bulk_value(&file.path, &owned))
            .await
            .map_err(|e| Error::Internal(format!("bulk data reader crashed: {e}")))?
            .map_err(Error::Internal)?
            .ok_or_else(|| Error::NotFound(format!("instance {sop} has no bulk data {path}")))
    }

    /// Frame `frame` (one-based) of an instance rendered as PNG with its own window, fitted to
    /// `max_size` pixels when given (the worker's render path, as `viewer-cli show`). An ECG's
    /// render is the hub's 12-lead page, as the worker drew it.
    pub async fn dicomweb_render(
        &self,
        who: &Principal,
        uids: [&str; 3],
        frame: u32,
        max_size: Option<u32>,
    ) -> Result<Vec<u8>> {
        let [study, series, sop] = uids;
        let (instance, file) = self
            .dicomweb_instance(who, study, series, sop, "rendering of")
            .await?;
        if crate::domain::dicom_meta::is_waveform(&instance.sop_class_uid) {
            return self.ecg_page(&instance).await;
        }
        let index = frame
            .checked_sub(1)
            .ok_or_else(|| Error::InvalidArgument("frames are numbered from 1".into()))?;
        tokio::task::spawn_blocking(move || {
            worker_imaging::render_frame(&file.path, index, Default::default(), max_size)
        })
        .await
        .map_err(|e| Error::Internal(format!("renderer crashed: {e}")))?
        .map_err(|e| frame_error(sop, FrameError::Image(e)))
    }
}

impl Hub {
    /// The first 12-lead page the worker drew of an ECG instance (PNG).
    async fn ecg_page(&self, instance: &Instance) -> Result<Vec<u8>> {
        let sop = &instance.sop_instance_uid;
        let name = format!("ecg/{sop}.png");
        let artifact = {
            let mut tx = self.store().read().await?;
            crate::storage::derived::artifact(tx.as_mut(), instance.case_id, &name).await?
        };
        let artifact = artifact.ok_or_else(|| {
            Error::FailedPrecondition(format!(
                "the 12-lead page of ECG {sop} is not drawn yet: try again when its case is ready"
            ))
        })?;
        let size = usize::try_from(artifact.size).unwrap_or(0);
        Ok(self
            .store()
            .blobs
            .read_range(&artifact.blob_key, 0, size)
            .await?)
    }
}

/// The headers of `files` as DICOM JSON objects separated by commas (a piece of an array).
fn headers_json(files: &[(super::LocalFile, String)]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (n, (file, base)) in files.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let object = headers::instance_json(&file.path, base)?;
        serde_json::to_writer(&mut out, &object).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The transfer syntax an instance's frames are in as stored.
fn frame_syntax(stored: &str) -> &str {
    if NATIVE.contains(&stored) {
        EXPLICIT_LE
    } else {
        stored
    }
}

fn frame_error(sop: &str, e: FrameError) -> Error {
    match e {
        FrameError::OutOfRange { .. } => Error::NotFound(format!("instance {sop}: {e}")),
        FrameError::Image(e) => Error::FailedPrecondition(format!(
            "instance {sop} has no frames this hub can serve that way: {}",
            e.to_string().lines().next().unwrap_or("")
        )),
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .map_err(|e| Error::Internal(format!("cannot compress metadata: {e}")))
}

/// Decompresses kept metadata.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| Error::Internal(format!("kept metadata is not gzip: {e}")))?;
    Ok(out)
}
