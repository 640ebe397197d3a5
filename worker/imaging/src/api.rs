//! The entry points the hub and the remote worker call: per-instance previews, full renders,
//! decoded frames and the series strip.

use std::path::Path;

use crate::error::{ImagingError, ObjectId};
use crate::frame::DecodedFrame;
use crate::render::window::WindowSpec;
use crate::render::{self, Image8, png, resize};
use crate::source::Image;

/// Longest side of a per-instance preview, in pixels.
pub const PREVIEW_SIZE: u32 = 512;
/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 128;
/// A series strip shows at most this many thumbnails, picked evenly across the series (in
/// order), so that a 300-slice series still gives a strip a browser can show.
pub const STRIP_MAX_CELLS: usize = 32;

/// What processing one instance produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceOutput {
    /// Rows.
    pub rows: u32,
    /// Columns.
    pub columns: u32,
    /// Number of frames.
    pub frames: u32,
    /// The frame the previews show (the middle one for multi-frame objects).
    pub preview_frame: u32,
    /// PNG fitted to [`PREVIEW_SIZE`] px, with the object's default window.
    pub preview_png: Vec<u8>,
    /// PNG fitted to [`THUMBNAIL_SIZE`] px.
    pub thumbnail_png: Vec<u8>,
    /// SOP Instance UID, if the object has one.
    pub sop_instance_uid: Option<String>,
    /// Transfer Syntax UID.
    pub transfer_syntax: String,
}

fn png_error(id: &ObjectId, reason: String) -> ImagingError {
    ImagingError::Png {
        object: Box::new(id.clone()),
        reason,
    }
}

/// Renders frame `k` of an opened image to an 8-bit picture.
pub(crate) fn render_image(
    img: &Image,
    k: u32,
    window: WindowSpec,
) -> Result<Image8, ImagingError> {
    let frame = img.decode_frame(k)?;
    render::render(&frame, img.attrs(), window).map_err(|what| ImagingError::Unsupported {
        object: Box::new(img.id().clone()),
        what,
    })
}

/// Decodes the middle frame of one instance and makes its preview and thumbnail. Only that
/// frame is read, however many the object has.
pub fn process_instance(path: &Path) -> Result<InstanceOutput, ImagingError> {
    let img = Image::open(path)?;
    let a = img.attrs();
    let preview_frame = a.frames / 2;
    let full = render_image(&img, preview_frame, WindowSpec::Default)?;
    let preview = resize::fit(full, PREVIEW_SIZE);
    let preview_png = png::encode(&preview).map_err(|e| png_error(img.id(), e))?;
    let thumbnail = resize::fit(preview, THUMBNAIL_SIZE);
    let thumbnail_png = png::encode(&thumbnail).map_err(|e| png_error(img.id(), e))?;
    Ok(InstanceOutput {
        rows: a.rows,
        columns: a.columns,
        frames: a.frames,
        preview_frame,
        preview_png,
        thumbnail_png,
        sop_instance_uid: img.id().sop_instance_uid.clone(),
        transfer_syntax: img.syntax().uid.clone(),
    })
}

/// Renders frame `frame` (zero-based) as PNG with the given window, fitted to `max_size` px or
/// at full resolution when `None`.
pub fn render_frame(
    path: &Path,
    frame: u32,
    window: WindowSpec,
    max_size: Option<u32>,
) -> Result<Vec<u8>, ImagingError> {
    render_opened(&Image::open(path)?, frame, window, max_size)
}

/// [`render_frame`] of an object already opened (so that a caller can first look at its
/// attributes, e.g. [`Image::render_bytes`] to wait for memory).
pub fn render_opened(
    img: &Image,
    frame: u32,
    window: WindowSpec,
    max_size: Option<u32>,
) -> Result<Vec<u8>, ImagingError> {
    let mut picture = render_image(img, frame, window)?;
    if let Some(max) = max_size {
        picture = resize::fit(picture, max);
    }
    png::encode(&picture).map_err(|e| png_error(img.id(), e))
}

/// Decodes frame `frame` (zero-based) to its samples.
pub fn decode_frame(path: &Path, frame: u32) -> Result<DecodedFrame, ImagingError> {
    Image::open(path)?.decode_frame(frame)
}

/// Builds one PNG strip from thumbnail PNGs, in the order given (at most
/// [`STRIP_MAX_CELLS`] of them, evenly spaced, when there are more).
pub fn series_strip(thumbnails: &[Vec<u8>]) -> Result<Vec<u8>, ImagingError> {
    if thumbnails.is_empty() {
        return Err(ImagingError::Thumbnail {
            index: 0,
            reason: "no thumbnails to make a strip of".into(),
        });
    }
    let n = thumbnails.len();
    let picks: Vec<usize> = if n <= STRIP_MAX_CELLS {
        (0..n).collect()
    } else {
        (0..STRIP_MAX_CELLS)
            .map(|i| i * (n - 1) / (STRIP_MAX_CELLS - 1))
            .collect()
    };
    let cells = picks
        .into_iter()
        .map(|i| {
            png::decode_rgb(&thumbnails[i])
                .map_err(|reason| ImagingError::Thumbnail { index: i, reason })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let strip = png::strip(&cells);
    let id = ObjectId {
        file: "<series strip>".into(),
        ..ObjectId::default()
    };
    png::encode(&strip).map_err(|e| png_error(&id, e))
}
