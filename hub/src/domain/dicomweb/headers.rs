//! Reading stored instances for DICOMweb: a header (everything before Pixel Data) as DICOM JSON,
//! kept in a small cache by blob key (blobs are content-addressed, so an entry never goes stale),
//! and frames as stored or decoded.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use serde_json::{Map, Value, json};

use super::json;

/// Whole headers kept in memory at most (a CT slice's is a few kilobytes).
pub(crate) const CACHED_HEADERS: usize = 4096;

/// Study and series summaries (the few attributes a search shows, about a kilobyte) kept at
/// most: enough for the studies a search scans.
pub(crate) const CACHED_SUMMARIES: usize = 50_000;

/// A header as DICOM JSON, shared.
pub type Header = Arc<Map<String, Value>>;

/// Headers (or parts of them) by key, at most `cap` of them (emptied when full).
pub(crate) struct HeaderCache {
    cap: usize,
    map: Mutex<HashMap<String, Header>>,
}

impl HeaderCache {
    pub(crate) fn new(cap: usize) -> Self {
        HeaderCache {
            cap,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<Header> {
        self.map.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn put(&self, key: &str, header: Header) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.cap {
                map.clear();
            }
            map.insert(key.to_owned(), header);
        }
    }
}

/// The header of the file at `path` as DICOM JSON, bulk data by URI under `bulk_base` (the
/// instance's URL), with its transfer syntax as Available Transfer Syntax UID (0008,3002).
/// Reads nothing past Pixel Data. Errors name the file.
pub fn instance_json(path: &Path, bulk_base: &str) -> Result<Map<String, Value>, String> {
    let obj = OpenFileOptions::new()
        .read_until(tags::PIXEL_DATA)
        .open_file(path)
        .map_err(|e| format!("cannot read the header of {}: {e}", path.display()))?;
    let syntax = obj
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_owned();
    let mut out = json::object(&obj, bulk_base);
    out.insert("00083002".into(), json!({"vr": "UI", "Value": [syntax]}));
    if has_pixel_data(&out) {
        out.insert(
            "7FE00010".into(),
            json!({"vr": "OB", "BulkDataURI": format!("{bulk_base}/bulkdata/7FE00010")}),
        );
    }
    Ok(out)
}

/// Whether an image's Pixel Data follows (read_until stops before it, so it is inferred from the
/// image attributes).
fn has_pixel_data(header: &Map<String, Value>) -> bool {
    header.contains_key("00280010") && header.contains_key("00280011")
}

/// Frames `frames` (one-based) of the file at `path`, as stored.
pub fn stored_frames(path: &Path, frames: &[u32]) -> Result<Vec<Vec<u8>>, FrameError> {
    let image = worker_imaging::Image::open(path).map_err(FrameError::from)?;
    let count = image.attrs().frames;
    frames
        .iter()
        .map(|&f| {
            if f == 0 || f > count {
                return Err(FrameError::OutOfRange { frame: f, count });
            }
            image.stored_frame(f - 1).map_err(FrameError::from)
        })
        .collect()
}

/// Frames `frames` (one-based) decoded to native little-endian samples (Explicit VR Little
/// Endian's frame layout), colour interleaved.
pub fn decoded_frames(path: &Path, frames: &[u32]) -> Result<Vec<Vec<u8>>, FrameError> {
    let image = worker_imaging::Image::open(path).map_err(FrameError::from)?;
    let count = image.attrs().frames;
    frames
        .iter()
        .map(|&f| {
            if f == 0 || f > count {
                return Err(FrameError::OutOfRange { frame: f, count });
            }
            let frame = image.decode_frame(f - 1).map_err(FrameError::from)?;
            Ok(le_bytes(&frame.samples))
        })
        .collect()
}

/// Why frames cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// No such frame.
    #[error("frame {frame} does not exist (the instance has {count} frames, numbered from 1)")]
    OutOfRange {
        /// The frame asked for.
        frame: u32,
        /// How many there are.
        count: u32,
    },
    /// The image cannot be read or decoded.
    #[error("{0}")]
    Image(#[from] worker_imaging::ImagingError),
}

fn le_bytes(samples: &worker_imaging::Samples) -> Vec<u8> {
    use worker_imaging::Samples;
    match samples {
        Samples::U8(a) => a.iter().copied().collect(),
        Samples::I8(a) => a.iter().map(|&v| v as u8).collect(),
        Samples::U16(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
        Samples::I16(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
        Samples::U32(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
        Samples::I32(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// The value of the element at `path` (`GGGGEEEE`, or through sequences
/// `GGGGEEEE/item/GGGGEEEE`) of the file at `path`, as little-endian bytes.
pub fn bulk_value(file: &Path, path: &str) -> Result<Option<Vec<u8>>, String> {
    let obj = dicom_object::open_file(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut parts = path.split('/');
    let mut current: &dicom_object::InMemDicomObject = &obj;
    loop {
        let Some(tag) = parts.next().and_then(super::query::tag_of) else {
            return Ok(None);
        };
        let Ok(element) = current.element(tag) else {
            return Ok(None);
        };
        match parts.next() {
            None => {
                if let Some(fragments) = element.value().fragments() {
                    // Encapsulated Pixel Data: its fragments, one after another.
                    return Ok(Some(fragments.concat()));
                }
                return Ok(element
                    .value()
                    .primitive()
                    .map(|p| p.to_bytes().into_owned()));
            }
            Some(item) => {
                let Ok(i) = item.parse::<usize>() else {
                    return Ok(None);
                };
                let Some(next) = element.items().and_then(|items| items.get(i)) else {
                    return Ok(None);
                };
                current = next;
            }
        }
    }
}
