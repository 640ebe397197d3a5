//! RLE Lossless (PS3.5 annex G).
//!
//! A frame is a 64-byte header (the number of segments, then fifteen segment offsets, all
//! little-endian `u32`) followed by PackBits-coded segments. Each segment holds one byte plane:
//! for every sample in turn, its most significant byte first (G.2), so a 16-bit RGB frame has six
//! segments. Whatever the Planar Configuration says, the output is interleaved.

use super::{CodecError, Geometry, RawFrame};
use crate::frame::SampleBuf;

/// At most fifteen segments fit in the header (G.5).
const MAX_SEGMENTS: usize = 15;
const HEADER_LEN: usize = 64;

pub(crate) fn decode(g: &Geometry, data: &[u8]) -> Result<RawFrame, CodecError> {
    let bytes = match g.bits_allocated {
        8 => 1,
        16 => 2,
        32 => 4,
        b => {
            return Err(CodecError::Unsupported(format!(
                "RLE Lossless with Bits Allocated {b} (8, 16 and 32 are decoded)"
            )));
        }
    };
    let segments = segment_ranges(data, g.spp * bytes)?;
    let pixels = g.pixels();
    // Byte planes laid out the way little-endian samples sit in memory: plane `s * bytes + b`
    // of the output is byte `b` (least significant first) of sample `s`.
    let mut out = vec![0u8; pixels * g.spp * bytes];
    let mut plane = vec![0u8; pixels];
    for (i, range) in segments.into_iter().enumerate() {
        let (sample, msb_index) = (i / bytes, i % bytes);
        let byte = bytes - 1 - msb_index;
        unpack_bits(&data[range], &mut plane).map_err(|e| {
            CodecError::corrupt(format!("RLE segment {} of {}: {e}", i + 1, g.spp * bytes))
        })?;
        let stride = g.spp * bytes;
        let first = sample * bytes + byte;
        for (dst, &v) in out[first..].iter_mut().step_by(stride).zip(&plane) {
            *dst = v;
        }
    }
    let buf = match bytes {
        1 => SampleBuf::U8(out),
        2 => SampleBuf::U16(
            out.chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ),
        _ => SampleBuf::U32(
            out.chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
    };
    Ok(RawFrame {
        buf,
        photometric: g.photometric.clone(),
    })
}

/// The byte range of each segment, checked against the header and the data.
fn segment_ranges(data: &[u8], expected: usize) -> Result<Vec<std::ops::Range<usize>>, CodecError> {
    if data.len() < HEADER_LEN {
        return Err(CodecError::corrupt(format!(
            "RLE frame of {} bytes is shorter than its 64-byte header",
            data.len()
        )));
    }
    let word = |i: usize| {
        u32::from_le_bytes([
            data[4 * i],
            data[4 * i + 1],
            data[4 * i + 2],
            data[4 * i + 3],
        ]) as usize
    };
    let count = word(0);
    if count != expected {
        let why = if count > MAX_SEGMENTS {
            format!("RLE header claims {count} segments (at most {MAX_SEGMENTS} are allowed)")
        } else {
            format!(
                "RLE header has {count} segments; Samples per Pixel and Bits Allocated need {expected}"
            )
        };
        return Err(CodecError::corrupt(why));
    }
    let offsets: Vec<usize> = (1..=count).map(word).collect();
    (0..count)
        .map(|i| {
            let start = offsets[i];
            let end = offsets.get(i + 1).copied().unwrap_or(data.len());
            if start < HEADER_LEN || start > end || end > data.len() {
                Err(CodecError::corrupt(format!(
                    "RLE segment {} spans bytes {start}..{end} of a {}-byte frame",
                    i + 1,
                    data.len()
                )))
            } else {
                Ok(start..end)
            }
        })
        .collect()
}

/// PackBits (G.3.1): a header byte `n` then `n + 1` literal bytes (0..=127), or one byte
/// repeated `1 - n` times (-127..=-1); -128 is a no-op. Fills `out` exactly: a segment may carry
/// a trailing pad byte past the plane, but one that stops short is corrupt.
fn unpack_bits(src: &[u8], out: &mut [u8]) -> Result<(), String> {
    let (mut i, mut o) = (0usize, 0usize);
    while o < out.len() {
        let Some(&h) = src.get(i) else {
            return Err(format!(
                "decodes to {o} bytes, the plane needs {}",
                out.len()
            ));
        };
        i += 1;
        let n = h as i8;
        if n >= 0 {
            let len = n as usize + 1;
            let lit = src.get(i..i + len).ok_or_else(|| {
                format!(
                    "literal run of {len} bytes at byte {} runs past the segment",
                    i - 1
                )
            })?;
            let take = len.min(out.len() - o);
            out[o..o + take].copy_from_slice(&lit[..take]);
            (i, o) = (i + len, o + take);
        } else if n != -128 {
            let len = 1 - isize::from(n);
            let &v = src
                .get(i)
                .ok_or_else(|| format!("replicate run at byte {} has no value", i - 1))?;
            let take = (len as usize).min(out.len() - o);
            out[o..o + take].fill(v);
            (i, o) = (i + 1, o + take);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn geom(rows: usize, cols: usize, spp: usize, bits: u16) -> Geometry {
        Geometry::plain(rows, cols, spp, bits)
    }

    /// Encodes planes as literal runs, the simplest valid PackBits.
    fn encode(planes: &[Vec<u8>]) -> Vec<u8> {
        let mut header = vec![0u8; HEADER_LEN];
        header[..4].copy_from_slice(&(planes.len() as u32).to_le_bytes());
        let mut body = Vec::new();
        for (i, p) in planes.iter().enumerate() {
            let at = (HEADER_LEN + body.len()) as u32;
            header[4 + 4 * i..8 + 4 * i].copy_from_slice(&at.to_le_bytes());
            for chunk in p.chunks(128) {
                body.push((chunk.len() - 1) as u8);
                body.extend_from_slice(chunk);
            }
        }
        header.extend(body);
        header
    }

    #[test]
    fn packbits_literal_replicate_and_noop() {
        let mut out = [0u8; 7];
        unpack_bits(&[0x80, 2, 1, 2, 3, 0xFD, 9], &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 9, 9, 9, 9]);
    }

    #[test]
    fn short_segment_is_corrupt() {
        let mut out = [0u8; 4];
        assert!(unpack_bits(&[1, 5, 6], &mut out).is_err());
        assert!(unpack_bits(&[5, 1], &mut out).is_err());
    }

    #[test]
    fn sixteen_bit_rgb_puts_the_most_significant_byte_first() {
        let g = geom(1, 2, 3, 16);
        // Planes: R hi, R lo, G hi, G lo, B hi, B lo.
        let planes = vec![
            vec![0x01, 0x02],
            vec![0x10, 0x20],
            vec![0, 0],
            vec![5, 6],
            vec![0xFF, 0x80],
            vec![0xFF, 0x00],
        ];
        let f = decode(&g, &encode(&planes)).unwrap();
        assert_eq!(
            f.buf,
            SampleBuf::U16(vec![0x0110, 5, 0xFFFF, 0x0220, 6, 0x8000])
        );
    }

    #[test]
    fn thirty_two_bit_grey() {
        let g = geom(1, 1, 1, 32);
        let planes = vec![vec![0x12], vec![0x34], vec![0x56], vec![0x78]];
        let f = decode(&g, &encode(&planes)).unwrap();
        assert_eq!(f.buf, SampleBuf::U32(vec![0x1234_5678]));
    }

    #[test]
    fn wrong_segment_count_names_both_numbers() {
        let g = geom(1, 2, 3, 8);
        let err = decode(&g, &encode(&[vec![1, 2]])).unwrap_err();
        assert_eq!(
            err,
            CodecError::corrupt(
                "RLE header has 1 segments; Samples per Pixel and Bits Allocated need 3"
            )
        );
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400),
                                    spp in prop::sample::select(vec![1usize, 3]),
                                    bits in prop::sample::select(vec![8u16, 16, 32])) {
            let _ = decode(&geom(5, 7, spp, bits), &data);
        }

        #[test]
        fn truncated_valid_frames_are_corrupt_not_panics(
            pixels in proptest::collection::vec(any::<u8>(), 12),
            cut in 0usize..100,
        ) {
            let g = geom(3, 4, 1, 8);
            let full = encode(std::slice::from_ref(&pixels));
            prop_assert_eq!(decode(&g, &full).unwrap().buf, SampleBuf::U8(pixels));
            let cut = cut.min(full.len() - 1);
            prop_assert!(matches!(decode(&g, &full[..cut]), Err(CodecError::Corrupt(_))));
        }
    }
}
