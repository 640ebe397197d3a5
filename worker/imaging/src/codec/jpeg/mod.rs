//! JPEG in DICOM: baseline and extended DCT (PS3.5 A.4.1) and lossless process 14 (A.4.3).
//!
//! Sequential DCT (`dct`) and lossless (`lossless`) are decoded here; the `jpeg-decoder` crate
//! does only progressive 8-bit DCT. What that crate would otherwise guess is decided here:
//! - Colour: the DICOM Photometric Interpretation decides, as DCMTK does by default and
//!   PS3.5 8.2.1 implies. YBR_FULL/YBR_FULL_422 are converted to RGB; RGB is returned as coded,
//!   whatever the JFIF/Adobe markers or component identifiers suggest (files coded with no
//!   colour transform often carry ids 0, 1, 2, which a JPEG library reads as YCbCr).
//! - Sanity: the frame header is read first and checked against the DICOM attributes, so that
//!   the crate never sees a component count it would panic on.

mod color;
mod dct;
mod header;
mod huffman;
mod lossless;

use std::panic::{AssertUnwindSafe, catch_unwind};

use jpeg_decoder::{ColorTransform, Decoder};

use super::{CodecError, Geometry, RawFrame};
use crate::attrs::Photometric;
use crate::frame::SampleBuf;

/// SOF3: lossless, Huffman coded.
const LOSSLESS: u8 = 3;

pub(crate) fn decode(g: &Geometry, data: &[u8]) -> Result<RawFrame, CodecError> {
    let h = header::read(data)?;
    check(&h, g)?;
    let ycbcr = matches!(
        g.photometric,
        Photometric::YbrFull | Photometric::YbrFull422
    ) && g.spp == 3
        && h.process != LOSSLESS;
    if matches!(h.process, 0 | 1) {
        let planes = dct::decode(data)?;
        let photometric = if ycbcr {
            Photometric::Rgb
        } else {
            g.photometric.clone()
        };
        return Ok(RawFrame {
            buf: from_planes(planes, g, ycbcr)?,
            photometric,
        });
    }
    if h.process == LOSSLESS {
        let img = lossless::decode(data)?;
        if (img.height, img.width, img.components) != (g.rows, g.cols, g.spp) {
            return Err(CodecError::corrupt(format!(
                "JPEG lossless frame is {}x{}x{}, the DICOM header says {}x{}x{}",
                img.height, img.width, img.components, g.rows, g.cols, g.spp
            )));
        }
        if u16::from(img.precision) > g.bits_allocated {
            return Err(CodecError::corrupt(format!(
                "JPEG precision {} exceeds Bits Allocated {}",
                img.precision, g.bits_allocated
            )));
        }
        return Ok(RawFrame {
            buf: widen16(img.samples, g)?,
            photometric: g.photometric.clone(),
        });
    }
    if h.precision > 8 {
        return Err(CodecError::Unsupported(format!(
            "{}-bit progressive JPEG (SOF{})",
            h.precision, h.process
        )));
    }
    let mut dec = Decoder::new(data);
    dec.set_color_transform(match (g.spp, ycbcr) {
        (1, _) => ColorTransform::Grayscale,
        (_, true) => ColorTransform::YCbCr,
        // `None` would return each line plane by plane; `RGB` interleaves without converting.
        (_, false) => ColorTransform::RGB,
    });
    // The crate asserts on some malformed input; a bad frame must be an error, not a crash of
    // the worker that holds a whole batch.
    let bytes = catch_unwind(AssertUnwindSafe(|| dec.decode()))
        .map_err(|_| CodecError::corrupt("JPEG decoder gave up on malformed data"))?
        .map_err(|e| match e {
            jpeg_decoder::Error::Unsupported(f) => {
                CodecError::Unsupported(format!("JPEG feature {f:?}"))
            }
            e => CodecError::corrupt(format!("JPEG: {e}")),
        })?;
    let want = g.samples();
    let buf = widen8(bytes, g)?;
    if buf_len(&buf) != want {
        return Err(CodecError::corrupt(format!(
            "JPEG decoded to {} samples, the frame has {want}",
            buf_len(&buf)
        )));
    }
    let photometric = if ycbcr {
        Photometric::Rgb
    } else {
        g.photometric.clone()
    };
    Ok(RawFrame { buf, photometric })
}

/// The frame header against the DICOM attributes.
fn check(h: &header::Header, g: &Geometry) -> Result<(), CodecError> {
    if (usize::from(h.rows), usize::from(h.cols)) != (g.rows, g.cols) {
        return Err(CodecError::corrupt(format!(
            "JPEG frame is {}x{} (rows x columns), the DICOM header says {}x{}",
            h.rows, h.cols, g.rows, g.cols
        )));
    }
    if h.component_ids.len() != g.spp {
        return Err(CodecError::corrupt(format!(
            "JPEG frame has {} components, Samples per Pixel is {}",
            h.component_ids.len(),
            g.spp
        )));
    }
    if !matches!(h.process, 0..=3) {
        return Err(CodecError::Unsupported(format!(
            "JPEG process SOF{} (arithmetic or hierarchical coding)",
            h.process
        )));
    }
    if u16::from(h.precision) > g.bits_allocated {
        return Err(CodecError::corrupt(format!(
            "JPEG precision {} exceeds Bits Allocated {}",
            h.precision, g.bits_allocated
        )));
    }
    Ok(())
}

/// Interleaves decoded planes into the container Bits Allocated asks for, converting YCbCr to
/// RGB on the way when asked.
fn from_planes(mut p: dct::Planes, g: &Geometry, ycbcr: bool) -> Result<SampleBuf, CodecError> {
    let n = p.width * p.height;
    let out: Vec<u16> = if ycbcr {
        let mut out = Vec::with_capacity(n * p.planes.len());
        let max = (1i32 << p.precision) - 1;
        let conv = color::YccTables::new(p.precision);
        for i in 0..n {
            let rgb = conv.to_rgb(
                i32::from(p.planes[0][i]),
                i32::from(p.planes[1][i]),
                i32::from(p.planes[2][i]),
            );
            out.extend(rgb.map(|v| v.clamp(0, max) as u16));
        }
        out
    } else if p.planes.len() == 1 {
        p.planes.pop().unwrap_or_default()
    } else {
        let k = p.planes.len();
        let mut out = vec![0u16; n * k];
        for (c, plane) in p.planes.iter().enumerate() {
            for (o, &v) in out.iter_mut().skip(c).step_by(k).zip(plane) {
                *o = v;
            }
        }
        out
    };
    match g.bits_allocated {
        8 if p.precision == 8 => Ok(SampleBuf::U8(out.into_iter().map(|v| v as u8).collect())),
        16 => Ok(SampleBuf::U16(out)),
        b => Err(CodecError::corrupt(format!(
            "{}-bit JPEG in Bits Allocated {b}",
            p.precision
        ))),
    }
}

fn buf_len(b: &SampleBuf) -> usize {
    match b {
        SampleBuf::U8(v) => v.len(),
        SampleBuf::U16(v) => v.len(),
        SampleBuf::U32(v) => v.len(),
    }
}

/// 8-bit samples into the container Bits Allocated asks for.
fn widen8(v: Vec<u8>, g: &Geometry) -> Result<SampleBuf, CodecError> {
    Ok(match g.bits_allocated {
        8 => SampleBuf::U8(v),
        16 => SampleBuf::U16(v.into_iter().map(u16::from).collect()),
        b => return Err(unsupported_bits(b)),
    })
}

fn widen16(v: Vec<u16>, g: &Geometry) -> Result<SampleBuf, CodecError> {
    Ok(match g.bits_allocated {
        8 => SampleBuf::U8(v.into_iter().map(|x| x as u8).collect()),
        16 => SampleBuf::U16(v),
        b => return Err(unsupported_bits(b)),
    })
}

fn unsupported_bits(b: u16) -> CodecError {
    CodecError::Unsupported(format!("JPEG with Bits Allocated {b}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grey8(rows: usize, cols: usize) -> Geometry {
        Geometry {
            rows,
            cols,
            spp: 1,
            bits_allocated: 8,
            bits_stored: 8,
            signed: false,
            planar: false,
            photometric: Photometric::Monochrome2,
            big_endian: false,
        }
    }

    /// The smallest baseline JPEG: one 8x8 grey block whose only code is DC 0 then EOB, so
    /// every sample is the level-shift centre (128).
    fn flat_block() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
        v.extend([1u8; 64]);
        // DC table 0 and AC table 0, each with one 1-bit code for the value 0.
        for class in [0x00, 0x10] {
            v.extend([0xFF, 0xC4, 0x00, 0x14, class, 1]);
            v.extend([0u8; 15]);
            v.push(0);
        }
        v.extend([0xFF, 0xC0, 0x00, 0x0B, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
        v.extend([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0]);
        v.push(0b0011_1111); // '0' (DC category 0), '0' (EOB), padding 1s
        v.extend([0xFF, 0xD9]);
        v
    }

    /// The smallest lossless JPEG: 8x8 grey, predictor 1, one 1-bit code for difference 0, so
    /// every sample is the default prediction 2^(P-1) = 128.
    fn flat_lossless() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend([0xFF, 0xC4, 0x00, 0x14, 0x00, 1]);
        v.extend([0u8; 15]);
        v.push(0);
        v.extend([0xFF, 0xC3, 0x00, 0x0B, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
        v.extend([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 1, 0, 0]);
        v.extend([0u8; 8]); // 64 codes '0'
        v.extend([0xFF, 0xD9]);
        v
    }

    #[test]
    fn flat_lossless_frame_decodes_to_the_default_prediction() {
        let f = decode(&grey8(8, 8), &flat_lossless()).unwrap();
        assert_eq!(f.buf, SampleBuf::U8(vec![128; 64]));
    }

    #[test]
    fn flat_baseline_block_decodes_to_the_centre_value() {
        let f = decode(&grey8(8, 8), &flat_block()).unwrap();
        assert_eq!(f.buf, SampleBuf::U8(vec![128; 64]));
    }

    #[test]
    fn component_count_disagreeing_with_samples_per_pixel_is_corrupt() {
        let mut g = grey8(8, 8);
        g.spp = 3;
        g.photometric = Photometric::Rgb;
        let err = decode(&g, &flat_block()).unwrap_err();
        assert_eq!(
            err,
            CodecError::corrupt("JPEG frame has 1 components, Samples per Pixel is 3")
        );
    }

    #[test]
    fn a_dct_frame_larger_than_its_data_can_hold_is_refused_before_allocating() {
        let mut data = flat_block();
        let sof = data.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        data[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        let err = dct::decode(&data).err().expect("refused");
        assert!(
            matches!(&err, CodecError::Corrupt(m) if m.contains("65535x65535 with 1 components cannot fit")),
            "{err:?}"
        );
    }

    proptest! {
        #[test]
        fn truncated_or_damaged_jpeg_never_panics(cut in 0usize..200, at in 0usize..200, byte: u8) {
            let mut data = flat_block();
            let at = at % data.len();
            data[at] = byte;
            let cut = cut.min(data.len());
            let _ = decode(&grey8(8, 8), &data[..cut]);
        }

        #[test]
        fn truncated_or_damaged_lossless_jpeg_never_panics(cut in 0usize..200, at in 0usize..200, byte: u8) {
            let mut data = flat_lossless();
            let at = at % data.len();
            data[at] = byte;
            let cut = cut.min(data.len());
            let _ = decode(&grey8(8, 8), &data[..cut]);
        }

        #[test]
        fn random_bytes_after_soi_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut data = vec![0xFF, 0xD8];
            data.extend(tail);
            let _ = decode(&grey8(8, 8), &data);
        }
    }
}
