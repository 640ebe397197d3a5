//! Transfer syntaxes and the codecs behind them. Each codec turns one frame's bytes into
//! interleaved samples; `decode` picks the codec and checks what it produced.
//!
//! - `native`: uncompressed data, every layout.
//! - `rle`: RLE Lossless, written here.
//! - `jpeg`: baseline/extended DCT (8 and 12 bit, written here to follow IJG, as DCMTK, GDCM
//!   and pydicom do) and lossless process 14 (written here for speed); the `jpeg-decoder` crate
//!   does only progressive 8-bit DCT.
//! - `jpegls`: JPEG-LS lossless and near-lossless, written here.
//! - `j2k`: JPEG 2000 and HTJ2K through OpenJPEG (the `jpeg2k` crate).
//!
//! Every codec returns `CodecError::Corrupt` for damaged or truncated data, never panics
//! (property-tested with random and truncated input).

mod j2k;
mod jpeg;
mod jpegls;
mod native;
mod rle;

pub(crate) use native::frame_bits as native_frame_bits;

use crate::attrs::{Photometric, PixelAttrs};
use crate::frame::SampleBuf;
use crate::source::locate::Encoding;

/// The decoder a transfer syntax needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Uncompressed samples (native, or encapsulated uncompressed).
    Native,
    /// RLE Lossless (PS3.5 annex G).
    Rle,
    /// JPEG baseline and extended (DCT, 8 and 12 bit).
    JpegDct,
    /// JPEG lossless, process 14.
    JpegLossless,
    /// JPEG-LS, lossless and near-lossless.
    JpegLs,
    /// JPEG 2000 (and High-Throughput JPEG 2000).
    J2k,
}

/// What a Transfer Syntax UID means for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syntax {
    /// The UID.
    pub uid: String,
    /// How the data set around the pixel data is encoded.
    pub(crate) dataset: Encoding,
    /// The data set after the meta group is deflated.
    pub(crate) deflated: bool,
    /// The pixel codec; `None` when this crate does not decode the syntax.
    pub codec: Option<Codec>,
    /// A human name for messages.
    pub name: &'static str,
}

impl Syntax {
    /// Looks a Transfer Syntax UID up.
    pub fn from_uid(uid: &str) -> Self {
        let uid = uid.trim_matches([' ', '\0']).to_string();
        let (codec, name, dataset, deflated) = match uid.as_str() {
            "1.2.840.10008.1.2" => (
                Some(Codec::Native),
                "Implicit VR Little Endian",
                Encoding::IMPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.1" => (
                Some(Codec::Native),
                "Explicit VR Little Endian",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.1.99" => (
                Some(Codec::Native),
                "Deflated Explicit VR Little Endian",
                Encoding::EXPLICIT_LE,
                true,
            ),
            "1.2.840.10008.1.2.1.98" => (
                Some(Codec::Native),
                "Encapsulated Uncompressed Explicit VR Little Endian",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.2" => (
                Some(Codec::Native),
                "Explicit VR Big Endian",
                Encoding::EXPLICIT_BE,
                false,
            ),
            "1.2.840.10008.1.2.5" => (
                Some(Codec::Rle),
                "RLE Lossless",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.50" => (
                Some(Codec::JpegDct),
                "JPEG Baseline",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.51" => (
                Some(Codec::JpegDct),
                "JPEG Extended",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.57" => (
                Some(Codec::JpegLossless),
                "JPEG Lossless",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.70" => (
                Some(Codec::JpegLossless),
                "JPEG Lossless SV1",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.80" => (
                Some(Codec::JpegLs),
                "JPEG-LS Lossless",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.81" => (
                Some(Codec::JpegLs),
                "JPEG-LS Near-Lossless",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.90" => (
                Some(Codec::J2k),
                "JPEG 2000 Lossless",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.91" => {
                (Some(Codec::J2k), "JPEG 2000", Encoding::EXPLICIT_LE, false)
            }
            "1.2.840.10008.1.2.4.201" => (
                Some(Codec::J2k),
                "HTJ2K Lossless",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.202" => (
                Some(Codec::J2k),
                "HTJ2K Lossless RPCL",
                Encoding::EXPLICIT_LE,
                false,
            ),
            "1.2.840.10008.1.2.4.203" => (Some(Codec::J2k), "HTJ2K", Encoding::EXPLICIT_LE, false),
            _ => (
                None,
                "an unsupported transfer syntax",
                Encoding::EXPLICIT_LE,
                false,
            ),
        };
        Self {
            uid,
            dataset,
            deflated,
            codec,
            name,
        }
    }
}

/// Everything a codec needs to know about the frame it decodes.
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub rows: usize,
    pub cols: usize,
    pub spp: usize,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    pub planar: bool,
    pub photometric: Photometric,
    /// Native data in Explicit VR Big Endian.
    pub big_endian: bool,
}

#[cfg(test)]
impl Geometry {
    /// For tests: unsigned, interleaved, little endian, all bits stored; RGB with three samples,
    /// else MONOCHROME2.
    pub(crate) fn plain(rows: usize, cols: usize, spp: usize, bits: u16) -> Self {
        Self {
            rows,
            cols,
            spp,
            bits_allocated: bits,
            bits_stored: bits,
            signed: false,
            planar: false,
            photometric: if spp == 3 {
                Photometric::Rgb
            } else {
                Photometric::Monochrome2
            },
            big_endian: false,
        }
    }
}

impl Geometry {
    pub(crate) fn new(a: &PixelAttrs, big_endian: bool) -> Self {
        Self {
            rows: a.rows as usize,
            cols: a.columns as usize,
            spp: usize::from(a.samples_per_pixel),
            bits_allocated: a.bits_allocated,
            bits_stored: a.bits_stored,
            signed: a.signed,
            planar: a.planar,
            photometric: a.photometric.clone(),
            big_endian,
        }
    }

    pub(crate) fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    pub(crate) fn samples(&self) -> usize {
        self.pixels() * self.spp
    }
}

/// Why a codec could not decode a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodecError {
    /// The codestream is corrupt or truncated.
    Corrupt(String),
    /// Valid, but a variant this crate does not decode.
    Unsupported(String),
}

impl CodecError {
    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        Self::Corrupt(msg.into())
    }
}

/// The body of the JPEG-family marker segment whose marker (0xFF, `marker`) is at `at`: the bytes
/// after its two-byte length, which counts itself (T.81 B.1.1.4, T.87 C.1). `what` names the codec
/// in errors.
pub(crate) fn segment_body<'a>(
    data: &'a [u8],
    at: usize,
    marker: u8,
    what: &str,
) -> Result<&'a [u8], CodecError> {
    let len = data
        .get(at + 2..at + 4)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or_else(|| CodecError::corrupt(format!("{what}: truncated marker segment")))?;
    data.get(at + 4..at + 2 + len)
        .filter(|_| len >= 2)
        .ok_or_else(|| {
            CodecError::corrupt(format!(
                "{what}: marker {marker:#04X} at byte {at} runs past the data"
            ))
        })
}

/// A codec's output.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawFrame {
    pub buf: SampleBuf,
    pub photometric: Photometric,
}

/// The most samples (Rows x Columns x Samples per Pixel) one frame may have. Decoders allocate
/// the frame before they read its data (OpenJPEG four bytes per sample per component), so without
/// a bound a few hundred bytes claiming 65,535 x 65,535 pixels exhaust memory (found by fuzzing
/// the JPEG 2000 codec). 2^28 samples is 16,384 x 16,384 monochrome: more than any single frame a
/// modality sends (a detector is at most about 4,300 x 3,500; whole-slide images come in tiles).
pub(crate) const MAX_FRAME_SAMPLES: usize = 1 << 28;

/// Decodes one frame's bytes. `bit_offset` is where the frame starts within the first byte
/// (1-bit native data only).
pub(crate) fn decode(
    codec: Codec,
    g: &Geometry,
    data: &[u8],
    bit_offset: u8,
) -> Result<RawFrame, CodecError> {
    let samples = g.rows.saturating_mul(g.cols).saturating_mul(g.spp);
    if samples > MAX_FRAME_SAMPLES {
        return Err(CodecError::Unsupported(format!(
            "a frame of {} x {} pixels x {} samples is larger than this worker decodes \
             ({MAX_FRAME_SAMPLES} samples)",
            g.cols, g.rows, g.spp
        )));
    }
    match codec {
        Codec::Native => native::decode(g, data, bit_offset),
        Codec::J2k => j2k::decode(g, data),
        Codec::Rle => rle::decode(g, data),
        Codec::JpegDct | Codec::JpegLossless => jpeg::decode(g, data),
        Codec::JpegLs => jpegls::decode(g, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_beyond_the_sample_limit_is_not_decoded_by_any_codec() {
        let g = Geometry::plain(65535, 65535, 1, 16);
        for codec in [
            Codec::Native,
            Codec::Rle,
            Codec::JpegLossless,
            Codec::JpegLs,
            Codec::J2k,
        ] {
            match decode(codec, &g, &[0xFF, 0x4F], 0) {
                Err(CodecError::Unsupported(m)) => {
                    assert!(m.contains("65535 x 65535 pixels"), "{m}")
                }
                other => panic!("{codec:?}: {:?}", other.map(|f| f.photometric)),
            }
        }
    }
}
