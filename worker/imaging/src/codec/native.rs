//! Uncompressed pixel data: 1, 8, 16 and 32 bits, little or big endian, planar configuration 0
//! or 1, and YBR_FULL_422's subsampled native layout.

use super::{CodecError, Geometry, RawFrame};
use crate::attrs::Photometric;
use crate::frame::SampleBuf;

/// Bytes one native frame occupies (bits for 1-bit data are rounded up by the caller).
pub(crate) fn frame_bits(g: &Geometry) -> u64 {
    let samples = if g.photometric == Photometric::YbrFull422 && g.spp == 3 {
        // Two luminance samples share one Cb and one Cr (PS3.3 C.7.6.3.1.2).
        g.pixels() as u64 * 2
    } else {
        g.samples() as u64
    };
    samples * u64::from(g.bits_allocated)
}

pub(crate) fn decode(g: &Geometry, data: &[u8], bit_offset: u8) -> Result<RawFrame, CodecError> {
    let need = (frame_bits(g) + u64::from(bit_offset)).div_ceil(8) as usize;
    if data.len() < need {
        return Err(CodecError::corrupt(format!(
            "frame needs {need} bytes of native Pixel Data, {} present",
            data.len()
        )));
    }
    let data = &data[..need];
    let mut photometric = g.photometric.clone();
    let buf = match g.bits_allocated {
        1 => SampleBuf::U8(unpack_bits(data, bit_offset, g.samples())),
        8 if photometric == Photometric::YbrFull422 && g.spp == 3 => {
            photometric = Photometric::YbrFull;
            SampleBuf::U8(upsample_422(data, g)?)
        }
        8 => SampleBuf::U8(deplane(data.to_vec(), g)),
        16 => {
            let v: Vec<u16> = if g.big_endian {
                data.chunks_exact(2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .collect()
            } else {
                data.chunks_exact(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    .collect()
            };
            SampleBuf::U16(deplane(v, g))
        }
        32 => {
            let v: Vec<u32> = if g.big_endian {
                data.chunks_exact(4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            } else {
                data.chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            };
            SampleBuf::U32(deplane(v, g))
        }
        b => {
            return Err(CodecError::Unsupported(format!(
                "native Bits Allocated {b}"
            )));
        }
    };
    Ok(RawFrame { buf, photometric })
}

/// 1-bit data, least significant bit first (PS3.5 8.1.1), starting `bit_offset` bits in.
fn unpack_bits(data: &[u8], bit_offset: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            let bit = i + usize::from(bit_offset);
            (data[bit / 8] >> (bit % 8)) & 1
        })
        .collect()
}

/// Planar configuration 1 (all reds, all greens, all blues) to interleaved.
fn deplane<T: Copy + Default>(v: Vec<T>, g: &Geometry) -> Vec<T> {
    let n = g.samples();
    if !g.planar || g.spp == 1 {
        let mut v = v;
        v.truncate(n);
        return v;
    }
    let plane = g.pixels();
    let mut out = vec![T::default(); n];
    for (s, src) in v[..n].chunks_exact(plane).enumerate() {
        for (px, &value) in src.iter().enumerate() {
            out[px * g.spp + s] = value;
        }
    }
    out
}

/// YBR_FULL_422 native (Y Y Cb Cr per pixel pair) to full YCbCr, repeating the chroma.
fn upsample_422(data: &[u8], g: &Geometry) -> Result<Vec<u8>, CodecError> {
    if !g.cols.is_multiple_of(2) {
        return Err(CodecError::corrupt(
            "YBR_FULL_422 with an odd number of columns",
        ));
    }
    let mut out = Vec::with_capacity(g.samples());
    for quad in data[..g.pixels() * 2].chunks_exact(4) {
        let [y0, y1, cb, cr] = [quad[0], quad[1], quad[2], quad[3]];
        out.extend_from_slice(&[y0, cb, cr, y1, cb, cr]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(bits: u16, spp: usize, planar: bool, pi: Photometric) -> Geometry {
        Geometry {
            rows: 1,
            cols: 2,
            spp,
            bits_allocated: bits,
            bits_stored: bits,
            signed: false,
            planar,
            photometric: pi,
            big_endian: false,
        }
    }

    #[test]
    fn planar_rgb_is_interleaved() {
        let g = geom(8, 3, true, Photometric::Rgb);
        let f = decode(&g, &[1, 2, 3, 4, 5, 6], 0).unwrap();
        assert_eq!(f.buf, SampleBuf::U8(vec![1, 3, 5, 2, 4, 6]));
    }

    #[test]
    fn ybr_422_chroma_is_shared_by_pixel_pairs() {
        let g = geom(8, 3, false, Photometric::YbrFull422);
        let f = decode(&g, &[10, 20, 128, 130], 0).unwrap();
        assert_eq!(f.buf, SampleBuf::U8(vec![10, 128, 130, 20, 128, 130]));
        assert_eq!(f.photometric, Photometric::YbrFull);
    }

    #[test]
    fn big_endian_16_bit_and_unaligned_1_bit() {
        let mut g = geom(16, 1, false, Photometric::Monochrome2);
        g.big_endian = true;
        assert_eq!(
            decode(&g, &[1, 2, 3, 4], 0).unwrap().buf,
            SampleBuf::U16(vec![0x0102, 0x0304])
        );
        let g = geom(1, 1, false, Photometric::Monochrome2);
        assert_eq!(
            decode(&g, &[0b0110_0000], 5).unwrap().buf,
            SampleBuf::U8(vec![1, 1])
        );
    }

    #[test]
    fn short_data_is_corrupt() {
        let g = geom(16, 1, false, Photometric::Monochrome2);
        assert!(matches!(
            decode(&g, &[1, 2, 3], 0),
            Err(CodecError::Corrupt(_))
        ));
    }
}
