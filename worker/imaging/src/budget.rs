//! The per-frame decode budget: how many bytes one decoded frame may take, checked from the image
//! attributes before any of the frame is read or allocated. A few megabytes of RLE or JPEG 2000
//! can claim 16,384 x 16,384 pixels, and decoding and rendering such a frame once cost ~620 MB
//! (issue "Safe to deploy 2/2"); with the budget it is refused by name instead, and the object
//! stays stored and is served as sent.
//!
//! The budget is process-wide, like the inflate budget: the hub sets its
//! `imaging.max_frame_bytes` at start-up, and case views, `viewer-cli show` renders and the
//! in-process and remote jobs all decode through [`crate::source::Image::decode_frame`], which
//! checks it.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::attrs::PixelAttrs;

/// The budget until [`set_max_frame_bytes`] is called: 128 MiB, an 8,192 x 8,192 frame of
/// 16-bit samples. The largest frames modalities send are far smaller (a mammography detector's
/// 4,096 x 3,328 16-bit frame is 26 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: u64 = 128 << 20;

static MAX_FRAME_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FRAME_BYTES);

/// Sets the most bytes one decoded frame may take, for every decode in this process from now on.
/// 0 counts as 1.
pub fn set_max_frame_bytes(bytes: u64) {
    MAX_FRAME_BYTES.store(bytes.max(1), Ordering::Relaxed);
}

/// The most bytes one decoded frame may take (see [`set_max_frame_bytes`]).
pub fn max_frame_bytes() -> u64 {
    MAX_FRAME_BYTES.load(Ordering::Relaxed)
}

/// The bytes one decoded frame of `attrs` takes: Rows x Columns x Samples per Pixel x the bytes
/// of each decoded sample (one up to 8 bits allocated, 1-bit data included; two up to 16; four
/// above). Saturates rather than wraps.
pub fn frame_bytes(attrs: &PixelAttrs) -> u64 {
    let per_sample: u64 = match attrs.bits_allocated {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    };
    u64::from(attrs.rows)
        .saturating_mul(u64::from(attrs.columns))
        .saturating_mul(u64::from(attrs.samples_per_pixel))
        .saturating_mul(per_sample)
}

/// What rendering one frame of `attrs` holds at its peak, estimated on the safe side: the codec's
/// output and the decoded frame made from it (twice the frame's bytes), the 8-bit picture (three
/// bytes a pixel for colour, one for grey) and its PNG (at most about as large). Measured: a
/// 16,384 x 16,384 8-bit frame peaked at ~620 MB against this estimate's 1 GiB. Used to bound how
/// many renders run at once.
pub fn render_bytes(attrs: &PixelAttrs) -> u64 {
    let pixels = u64::from(attrs.rows).saturating_mul(u64::from(attrs.columns));
    let picture = pixels.saturating_mul(if attrs.samples_per_pixel > 1 { 3 } else { 1 });
    frame_bytes(attrs)
        .saturating_mul(2)
        .saturating_add(picture.saturating_mul(2))
}
