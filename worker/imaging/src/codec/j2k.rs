//! JPEG 2000 (PS3.5 A.4.4 and A.4.5) through OpenJPEG, by way of the `jpeg2k` crate.
//!
//! Two things the codestream may say differently from the DICOM header, and which one wins:
//! - Signedness: the DICOM Pixel Representation wins (PS3.5 8.2.4 says the codestream's
//!   signedness should match it, and real files disagree). Samples are kept as the codestream's
//!   bit patterns, and [`crate::frame::normalize`] reinterprets them as the header says.
//! - Colour: when the codestream applies its multiple-component transform (RCT or ICT), OpenJPEG
//!   undoes it, so the output is RGB whatever Photometric Interpretation says.

use jpeg2k::{DecodeParameters, Image};

use super::{CodecError, Geometry, RawFrame};
use crate::attrs::Photometric;
use crate::frame::SampleBuf;

pub(crate) fn decode(g: &Geometry, data: &[u8]) -> Result<RawFrame, CodecError> {
    let mct = main_header_mct(data)?;
    let params = DecodeParameters::new().strict(true);
    let img = Image::from_bytes_with(data, params)
        .map_err(|e| CodecError::corrupt(format!("JPEG 2000 codestream: {e}")))?;
    let comps = img.components();
    if comps.len() != g.spp {
        return Err(CodecError::corrupt(format!(
            "JPEG 2000 codestream has {} components, Samples per Pixel is {}",
            comps.len(),
            g.spp
        )));
    }
    for (i, c) in comps.iter().enumerate() {
        if (c.width() as usize, c.height() as usize) != (g.cols, g.rows) {
            return Err(CodecError::corrupt(format!(
                "JPEG 2000 component {i} is {}x{}, the image is {}x{} (Columns x Rows)",
                c.width(),
                c.height(),
                g.cols,
                g.rows
            )));
        }
        if c.precision() > u32::from(g.bits_allocated) {
            return Err(CodecError::corrupt(format!(
                "JPEG 2000 component {i} has {}-bit precision, Bits Allocated is {}",
                c.precision(),
                g.bits_allocated
            )));
        }
    }
    let planes: Vec<&[i32]> = comps.iter().map(|c| c.data()).collect();
    let buf = match g.bits_allocated {
        8 => SampleBuf::U8(interleave(&planes, g.pixels(), |v| v as u8)),
        16 => SampleBuf::U16(interleave(&planes, g.pixels(), |v| v as u16)),
        32 => SampleBuf::U32(interleave(&planes, g.pixels(), |v| v as u32)),
        b => {
            return Err(CodecError::Unsupported(format!(
                "JPEG 2000 with Bits Allocated {b}"
            )));
        }
    };
    let photometric = match (&g.photometric, mct) {
        (_, true) if g.spp == 3 => Photometric::Rgb,
        (Photometric::YbrIct | Photometric::YbrRct, _) => Photometric::Rgb,
        (p, _) => p.clone(),
    };
    Ok(RawFrame { buf, photometric })
}

/// Interleaves component planes, keeping each sample's low bits (its two's-complement pattern).
/// One pass that writes every output sample once: a plain conversion for one component, pixel
/// triplets for three.
fn interleave<T: Copy + Default>(planes: &[&[i32]], pixels: usize, cast: fn(i32) -> T) -> Vec<T> {
    match planes {
        [p] => p.iter().take(pixels).map(|&v| cast(v)).collect(),
        [r, g, b] => {
            let mut out = Vec::with_capacity(pixels * 3);
            for ((&r, &g), &b) in r.iter().zip(*g).zip(*b).take(pixels) {
                out.extend([cast(r), cast(g), cast(b)]);
            }
            out
        }
        _ => {
            let mut out = vec![T::default(); pixels * planes.len()];
            for (s, plane) in planes.iter().enumerate() {
                let dst = out.iter_mut().skip(s).step_by(planes.len());
                for (o, &v) in dst.zip(plane.iter().take(pixels)) {
                    *o = cast(v);
                }
            }
            out
        }
    }
}

/// Whether the main header's COD segment turns the multiple-component transform on
/// (ISO 15444-1 A.6.1). Accepts a raw codestream or a JP2 file (whose codestream is in a
/// `jp2c` box).
fn main_header_mct(data: &[u8]) -> Result<bool, CodecError> {
    let cs = codestream(data)?;
    let mut at = 2; // after SOC
    while at + 4 <= cs.len() {
        let marker = u16::from_be_bytes([cs[at], cs[at + 1]]);
        let len = usize::from(u16::from_be_bytes([cs[at + 2], cs[at + 3]]));
        match marker {
            // SOT or SOD: the main header is over without a COD.
            0xFF90 | 0xFF93 => break,
            // COD: Lcod(2) Scod(1) progression(1) layers(2) MCT(1).
            0xFF52 => {
                return cs
                    .get(at + 8)
                    .map(|&m| m != 0)
                    .ok_or_else(|| CodecError::corrupt("JPEG 2000 COD segment is truncated"));
            }
            m if m >> 8 != 0xFF || len < 2 => {
                return Err(CodecError::corrupt(format!(
                    "JPEG 2000 main header: bad marker {m:#06X} at byte {at}"
                )));
            }
            _ => at += 2 + len,
        }
    }
    Err(CodecError::corrupt(
        "JPEG 2000 main header has no COD segment",
    ))
}

/// The codestream inside `data`: `data` itself when it starts with SOC, else the contents of
/// the first `jp2c` box of a JP2 file.
fn codestream(data: &[u8]) -> Result<&[u8], CodecError> {
    if data.starts_with(&[0xFF, 0x4F]) {
        return Ok(data);
    }
    let mut at = 0usize;
    // `at` may saturate on a box claiming an absurd length: compare without overflowing.
    while data.len().checked_sub(at).is_some_and(|rest| rest >= 8) {
        let len = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        let kind = &data[at + 4..at + 8];
        let (header, len) = match len {
            0 => (8, data.len() - at),
            1 if at + 16 <= data.len() => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[at + 8..at + 16]);
                (
                    16,
                    usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX),
                )
            }
            n => (8, n),
        };
        if len < header {
            break;
        }
        if kind == b"jp2c" {
            let end = at.saturating_add(len).min(data.len());
            return Ok(&data[at + header..end]);
        }
        at = at.saturating_add(len);
    }
    Err(CodecError::corrupt(
        "neither a JPEG 2000 codestream (no SOC marker) nor a JP2 file with a codestream box",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_of_absurd_length_ends_the_search() {
        // A box with the 64-bit length form claiming 2^64 - 1 bytes, then nothing (found by
        // fuzzing: the box walk overflowed).
        let mut jp2 = vec![0, 0, 0, 1, b'j', b'P', b' ', b' '];
        jp2.extend_from_slice(&u64::MAX.to_be_bytes());
        jp2.extend_from_slice(&[0, 0, 0, 0, b'x', b'x', b'x', b'x']);
        assert!(codestream(&jp2).is_err());
    }

    #[test]
    fn cod_mct_flag_is_read_from_the_main_header() {
        // SOC, SIZ (length 6, dummy payload), COD with MCT 1, SOT.
        let cs = [
            0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x06, 0, 0, 0, 0, 0xFF, 0x52, 0x00, 0x0C, 0, 0, 0, 1, 1,
            5, 4, 4, 0, 0, 0xFF, 0x90,
        ];
        assert_eq!(main_header_mct(&cs), Ok(true));
        let mut off = cs;
        off[18] = 0;
        assert_eq!(main_header_mct(&off), Ok(false));
    }

    #[test]
    fn interleave_keeps_low_bits_in_pixel_order() {
        let (r, g, b) = ([1, -1], [2, 300], [3, 4]);
        assert_eq!(interleave(&[&r], 2, |v| v as u16), vec![1, 0xFFFF]);
        assert_eq!(
            interleave(&[&r, &g, &b], 2, |v| v as u8),
            vec![1, 2, 3, 0xFF, 44, 4]
        );
        assert_eq!(
            interleave(&[&r, &g], 2, |v| v as u16),
            vec![1, 2, 0xFFFF, 300]
        );
    }

    #[test]
    fn garbage_and_truncated_headers_are_corrupt() {
        assert!(matches!(
            main_header_mct(&[0xFF, 0x4F, 0x12, 0x34, 0, 0]),
            Err(CodecError::Corrupt(_))
        ));
        assert!(matches!(
            main_header_mct(&[1, 2, 3]),
            Err(CodecError::Corrupt(_))
        ));
    }
}
