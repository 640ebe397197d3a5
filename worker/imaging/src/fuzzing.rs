//! Entry points for the fuzz targets in `worker/imaging/fuzz` (feature `fuzzing` only; not part
//! of the supported API). They reach the codecs without a DICOM wrapper so that the fuzzer
//! spends its time inside the codestream parsers.

use crate::attrs::Photometric;
use crate::codec::{self, Codec, Geometry};
use crate::frame::normalize;

/// Bytes at the start of a [`decode_codestream`] input that describe the frame geometry.
pub const GEOMETRY_BYTES: usize = 8;

/// Reads a geometry from the first [`GEOMETRY_BYTES`] of `input` and decodes the rest as one
/// frame with `codec`, the way [`crate::Image::decode_frame`] does (codec, then Bits Stored
/// normalisation). The geometry is always one that the attribute checks accept: rows and
/// columns 1..=65535, 1 or 3 samples, 1/8/16/32 bits allocated, bits stored within them.
///
/// Layout: rows (u16 LE), columns (u16 LE), a flags byte (bit 0 signed, bit 1 planar, bit 2
/// three samples, bits 3-4 bits-allocated choice, bits 5-7 photometric choice), bits stored
/// (taken modulo bits allocated, plus 1), two unused bytes.
///
/// Returns the number of decoded sample bytes, or the codec's error as text.
pub fn decode_codestream(codec: Codec, input: &[u8]) -> Result<usize, String> {
    if input.len() < GEOMETRY_BYTES {
        return Err("input shorter than the geometry header".into());
    }
    let (head, data) = input.split_at(GEOMETRY_BYTES);
    let rows = usize::from(u16::from_le_bytes([head[0], head[1]]).max(1));
    let cols = usize::from(u16::from_le_bytes([head[2], head[3]]).max(1));
    let flags = head[4];
    let bits_allocated = [8u16, 16, 1, 32][usize::from((flags >> 3) & 3)];
    let bits_stored = u16::from(head[5]) % bits_allocated + 1;
    let photometric = match flags >> 5 {
        0 => Photometric::Monochrome1,
        1 | 2 => Photometric::Monochrome2,
        3 => Photometric::PaletteColor,
        4 => Photometric::Rgb,
        5 => Photometric::YbrFull,
        6 => Photometric::YbrFull422,
        _ => Photometric::YbrRct,
    };
    let g = Geometry {
        rows,
        cols,
        spp: if flags & 4 != 0 { 3 } else { 1 },
        bits_allocated,
        bits_stored,
        signed: flags & 1 != 0,
        planar: flags & 2 != 0,
        photometric,
        big_endian: false,
    };
    let raw = codec::decode(codec, &g, data, 0).map_err(|e| format!("{e:?}"))?;
    let bits = if bits_allocated == 1 { 8 } else { bits_stored };
    let samples = normalize(raw.buf, (g.rows, g.cols, g.spp), bits, g.signed)?;
    Ok(samples.byte_len())
}
