//! JPEG in DICOM: baseline and extended DCT (PS3.5 A.4.1) and lossless process 14 (A.4.3).
//!
//! The `jpeg-decoder` crate does the entropy decoding, IDCT and upsampling for 8-bit DCT and
//! for lossless data. What the crate would otherwise guess is decided here:
//! - Colour: the DICOM Photometric Interpretation decides, as DCMTK does by default and
//!   PS3.5 8.2.1 implies. YBR_FULL/YBR_FULL_422 are converted to RGB; RGB is returned as coded,
//!   whatever the JFIF/Adobe markers or component identifiers suggest (files coded with no
//!   colour transform often carry ids 0, 1, 2, which a JPEG library reads as YCbCr).
//! - Sanity: the frame header is read first and checked against the DICOM attributes, so that
//!   the crate never sees a component count it would panic on.

mod header;

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
    if h.process != LOSSLESS {
        return Err(CodecError::Unsupported(format!(
            "{}-bit DCT JPEG (SOF{}) is not decoded yet",
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
    let buf = if h.precision == 8 || (h.precision < 8 && h.process != LOSSLESS) {
        widen8(bytes, g)?
    } else {
        // Lossless above 8 bits (and below): native-endian u16 per sample.
        let v: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            .collect();
        widen16(v, g)?
    };
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
