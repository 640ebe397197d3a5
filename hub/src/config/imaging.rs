//! The `[imaging]` section: memory for decoding and rendering images.

use serde::{Deserialize, Serialize};

/// Decoding and rendering images (the `[imaging]` section).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ImagingConfig {
    /// The most bytes one decoded frame may take (Rows x Columns x Samples per Pixel x bytes per
    /// sample), checked from the image's attributes before any of it is decoded. A larger frame is
    /// refused by name in case views, `viewer-cli show` and jobs, and served as stored: a 4 MB RLE
    /// file can claim a 16,384 x 16,384 frame that costs ~620 MB to render.
    pub max_frame_bytes: u64,
    /// Memory the hub lets case-view renders hold at once, in bytes: each render waits until its
    /// estimated peak (about twice the frame plus twice the picture) fits, so parallel views of a
    /// large image do not multiply it. At least `max_frame_bytes`.
    pub render_memory_bytes: u64,
}

impl Default for ImagingConfig {
    fn default() -> Self {
        ImagingConfig {
            max_frame_bytes: worker_imaging::DEFAULT_MAX_FRAME_BYTES,
            render_memory_bytes: 1 << 30,
        }
    }
}

impl ImagingConfig {
    /// Why the section is inconsistent, if it is.
    pub fn invalid(&self) -> Option<&'static str> {
        if self.max_frame_bytes == 0 {
            return Some("imaging.max_frame_bytes must be at least 1");
        }
        if self.render_memory_bytes < self.max_frame_bytes {
            return Some("imaging.render_memory_bytes must be at least imaging.max_frame_bytes");
        }
        None
    }
}
