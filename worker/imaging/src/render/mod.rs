//! From decoded samples to 8-bit pictures: modality LUT, VOI window, MONOCHROME1 inversion and
//! photometric conversion to RGB (`mono`, `colour`), then fitting (`resize`) and PNG (`png`).

pub(crate) mod colour;
pub(crate) mod mono;
pub(crate) mod png;
pub(crate) mod resize;
pub mod window;

use crate::attrs::PixelAttrs;
use crate::frame::DecodedFrame;
use window::WindowSpec;

/// An 8-bit picture: grey (1 channel) or RGB (3 channels), rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image8 {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    /// `width * height * channels` bytes, interleaved.
    pub data: Vec<u8>,
}

/// Renders a decoded frame for display. Monochrome frames go through the modality LUT and the
/// VOI stage chosen by `window`; colour frames are converted to RGB (the window does not apply).
pub fn render(
    frame: &DecodedFrame,
    attrs: &PixelAttrs,
    window: WindowSpec,
) -> Result<Image8, String> {
    let (rows, cols, spp) = frame.samples.dim();
    let (data, channels) = if frame.photometric.is_monochrome() && spp == 1 {
        (mono::render(&frame.samples, attrs, window), 1)
    } else {
        (colour::render(frame, attrs)?, 3)
    };
    Ok(Image8 {
        width: cols as u32,
        height: rows as u32,
        channels,
        data,
    })
}
