//! Decoded frames as ndarray arrays, and the step that turns a codec's raw output into them
//! (masking to Bits Stored, sign extension for Pixel Representation 1).

use ndarray::Array3;

use crate::attrs::Photometric;

/// A frame's samples, shaped (rows, columns, samples per pixel), interleaved whatever the
/// Planar Configuration of the source. The element type follows Bits Allocated and Pixel
/// Representation (1-bit data is unpacked to one `u8` per pixel).
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    /// Unsigned, Bits Allocated 1 or 8.
    U8(Array3<u8>),
    /// Signed, Bits Allocated 8.
    I8(Array3<i8>),
    /// Unsigned, Bits Allocated 16.
    U16(Array3<u16>),
    /// Signed, Bits Allocated 16.
    I16(Array3<i16>),
    /// Unsigned, Bits Allocated 32.
    U32(Array3<u32>),
    /// Signed, Bits Allocated 32.
    I32(Array3<i32>),
}

macro_rules! each {
    ($s:expr, $a:ident => $e:expr) => {
        match $s {
            Samples::U8($a) => $e,
            Samples::I8($a) => $e,
            Samples::U16($a) => $e,
            Samples::I16($a) => $e,
            Samples::U32($a) => $e,
            Samples::I32($a) => $e,
        }
    };
}

impl Samples {
    /// (rows, columns, samples per pixel).
    pub fn dim(&self) -> (usize, usize, usize) {
        each!(self, a => a.dim())
    }

    /// Every sample widened to i64, in row-major interleaved order (for comparisons and tests).
    pub fn to_i64_vec(&self) -> Vec<i64> {
        each!(self, a => a.iter().map(|&v| i64::from(v)).collect())
    }

    /// Bytes of decoded pixel data this frame holds at its native width (for MB/s figures).
    pub fn byte_len(&self) -> usize {
        let (r, c, s) = self.dim();
        let width = match self {
            Self::U8(_) | Self::I8(_) => 1,
            Self::U16(_) | Self::I16(_) => 2,
            Self::U32(_) | Self::I32(_) => 4,
        };
        r * c * s * width
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFrame {
    /// The samples.
    pub samples: Samples,
    /// The colour space the samples are in. Usually the object's Photometric Interpretation;
    /// RGB where the codec itself undoes a colour transform (JPEG YCbCr, JPEG 2000 RCT/ICT), and
    /// YBR_FULL where YBR_FULL_422 native data was upsampled.
    pub photometric: Photometric,
}

/// A codec's output: interleaved samples in an unsigned container, before masking and sign
/// extension.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SampleBuf {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

/// Masks each sample to `bits` and, when `signed`, sign-extends from bit `bits - 1`.
/// Works in place and hands the buffer to ndarray without copying.
pub(crate) fn normalize(
    buf: SampleBuf,
    shape: (usize, usize, usize),
    bits: u16,
    signed: bool,
) -> Result<Samples, String> {
    let want = shape.0 * shape.1 * shape.2;
    let err = |n: usize| format!("codec produced {n} samples, expected {want}");
    macro_rules! finish {
        ($v:ident, $ut:ty, $it:ty, $uvar:ident, $ivar:ident) => {{
            if $v.len() != want {
                return Err(err($v.len()));
            }
            let width = <$ut>::BITS as u16;
            let b = u32::from(bits.min(width));
            if signed {
                let shift = <$ut>::BITS - b;
                let out: Vec<$it> = $v.iter().map(|&x| ((x << shift) as $it) >> shift).collect();
                Samples::$ivar(Array3::from_shape_vec(shape, out).map_err(|e| e.to_string())?)
            } else {
                if b < <$ut>::BITS {
                    let mask: $ut = ((1u64 << b) - 1) as $ut;
                    $v.iter_mut().for_each(|x| *x &= mask);
                }
                Samples::$uvar(Array3::from_shape_vec(shape, $v).map_err(|e| e.to_string())?)
            }
        }};
    }
    Ok(match buf {
        SampleBuf::U8(mut v) => finish!(v, u8, i8, U8, I8),
        SampleBuf::U16(mut v) => finish!(v, u16, i16, U16, I16),
        SampleBuf::U32(mut v) => finish!(v, u32, i32, U32, I32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_high_bits_and_sign_extends_from_bits_stored() {
        let s = normalize(
            SampleBuf::U16(vec![0xF000, 0x0FFF, 0x0800]),
            (1, 3, 1),
            12,
            true,
        )
        .unwrap();
        assert_eq!(s.to_i64_vec(), vec![0, -1, -2048]);
        let s = normalize(SampleBuf::U16(vec![0xF001, 0x0FFF]), (1, 2, 1), 12, false).unwrap();
        assert_eq!(s.to_i64_vec(), vec![1, 4095]);
        let s = normalize(SampleBuf::U32(vec![u32::MAX]), (1, 1, 1), 32, false).unwrap();
        assert_eq!(s.to_i64_vec(), vec![i64::from(u32::MAX)]);
    }

    #[test]
    fn wrong_sample_count_is_an_error_not_a_panic() {
        assert!(normalize(SampleBuf::U8(vec![1, 2]), (2, 2, 1), 8, false).is_err());
    }
}
