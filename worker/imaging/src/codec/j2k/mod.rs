//! JPEG 2000 (PS3.5 A.4.4 and A.4.5) through OpenJPEG, by way of the `jpeg2k` crate.
//!
//! Two things the codestream may say differently from the DICOM header, and which one wins:
//! - Signedness: the DICOM Pixel Representation wins (PS3.5 8.2.4 says the codestream's
//!   signedness should match it, and real files disagree). Samples are kept as the codestream's
//!   bit patterns, and [`crate::frame::normalize`] reinterprets them as the header says.
//! - Colour: when the codestream applies its multiple-component transform (RCT or ICT), OpenJPEG
//!   undoes it, so the output is RGB whatever Photometric Interpretation says.

use jpeg2k::{DecodeArea, DecodeParameters, Image, ImageComponent};

use super::{CodecError, Geometry, RawFrame};
use crate::attrs::Photometric;
use crate::frame::SampleBuf;
use crate::parallel;

#[cfg(test)]
mod corpus_tests;

/// Frames with fewer pixels than this decode whole: below it, the fixed cost of each band
/// (parsing the codestream again, decoding the code-blocks a band edge shares with its
/// neighbour) eats the gain. Measured with two threads (docs/PERFORMANCE.md): 0.2-0.3 Mpixel
/// corpus frames gain 0-20 % or lose (256x1024: 55 % slower); RG1 (3.6 Mpixel) gains 1.7x.
const BAND_MIN_PIXELS: usize = 1 << 20;

/// The fewest rows a band is given, so that the code-blocks shared at band edges stay a small
/// part of each band's work.
const BAND_MIN_ROWS: usize = 256;

/// Band edges fall on multiples of this many rows (of the reference grid, 64 being the usual
/// code-block height) where bands are tall enough. Measured on RG1_J2KR (two bands, one
/// thread), edges at rows 960, 977 and 1024 cost the same within noise (544-588 ms against
/// 503 ms whole): the filter margin pulls the neighbouring code-blocks in at any edge.
const BAND_ALIGN: usize = 64;

/// Decodes one frame, in bands when it is large and the pool has threads to spare.
pub(crate) fn decode(g: &Geometry, data: &[u8]) -> Result<RawFrame, CodecError> {
    decode_in_bands(g, data, band_count(g))
}

/// How many horizontal bands a frame is decoded in: one for small frames or when the pool has
/// one thread (or the caller asked for sequential decoding), else one per thread, as long as
/// each gets [`BAND_MIN_ROWS`].
fn band_count(g: &Geometry) -> usize {
    if g.pixels() < BAND_MIN_PIXELS {
        return 1;
    }
    parallel::intra_frame_threads()
        .min(g.rows / BAND_MIN_ROWS)
        .max(1)
}

/// Decodes a frame as `bands` horizontal bands, each by OpenJPEG's partial decoding (its decode
/// area), in parallel on the current rayon pool, and joins them. One band is the plain whole
/// decode. The result is the same whatever `bands` is (`corpus_tests` proves it on every
/// JPEG 2000 file of the corpus).
pub(crate) fn decode_in_bands(
    g: &Geometry,
    data: &[u8],
    bands: usize,
) -> Result<RawFrame, CodecError> {
    let header = main_header(data)?;
    // A codestream whose image is not Columns x Rows is refused before OpenJPEG allocates what
    // its SIZ segment claims (found by fuzzing: 258 bytes claiming 256 x 16,776,960 pixels).
    if let Some((w, h)) = header.size.filter(|_| !header.image_size_matches(g)) {
        return Err(CodecError::corrupt(format!(
            "JPEG 2000 image is {w}x{h} (SIZ segment), the frame is {}x{} (Columns x Rows)",
            g.cols, g.rows
        )));
    }
    let grid = header.image_size_matches(g).then_some(header.origin);
    let buf = match grid {
        Some(origin) if bands > 1 => {
            let edges = band_edges(g.rows, bands, origin.1 as usize);
            let parts = parallel::try_map_in_order(&edges, |&(r0, r1)| {
                let area = DecodeArea::new(
                    origin.0,
                    origin.1 + r0 as u32,
                    origin.0 + g.cols as u32,
                    origin.1 + r1 as u32,
                );
                decode_area(g, data, Some(area), r1 - r0).map_err(|e| match e {
                    CodecError::Corrupt(m) => CodecError::corrupt(format!("{m} (rows {r0}..{r1})")),
                    other => other,
                })
            })?;
            join(parts)
        }
        _ => decode_area(g, data, None, g.rows)?,
    };
    let photometric = match (&g.photometric, header.mct) {
        (_, true) if g.spp == 3 => Photometric::Rgb,
        (Photometric::YbrIct | Photometric::YbrRct, _) => Photometric::Rgb,
        (p, _) => p.clone(),
    };
    Ok(RawFrame { buf, photometric })
}

/// The row ranges of `bands` bands splitting `rows` rows as evenly as possible; inner edges are
/// moved to multiples of [`BAND_ALIGN`] on the reference grid (whose first row is `y0`) when the
/// bands are tall enough for that. Never an empty band.
fn band_edges(rows: usize, bands: usize, y0: usize) -> Vec<(usize, usize)> {
    let bands = bands.clamp(1, rows.max(1));
    let align = if rows / bands >= 2 * BAND_ALIGN {
        BAND_ALIGN
    } else {
        1
    };
    let mut cuts = vec![0];
    for i in 1..bands {
        let ideal = y0 + i * rows / bands;
        let cut = (ideal + align / 2) / align * align - y0;
        if cut > *cuts.last().unwrap_or(&0) && cut < rows {
            cuts.push(cut);
        }
    }
    cuts.push(rows);
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Decodes `area` (the whole image when `None`), which is `rows` rows of the frame, checks the
/// components against the DICOM header, and interleaves them.
fn decode_area(
    g: &Geometry,
    data: &[u8],
    area: Option<DecodeArea>,
    rows: usize,
) -> Result<SampleBuf, CodecError> {
    let params = DecodeParameters::new().strict(true).decode_area(area);
    let img = Image::from_bytes_with(data, params)
        .map_err(|e| CodecError::corrupt(format!("JPEG 2000 codestream: {e}")))?;
    let comps = img.components();
    check_components(g, comps, rows)?;
    let planes: Vec<&[i32]> = comps.iter().map(|c| c.data()).collect();
    let pixels = rows * g.cols;
    Ok(match g.bits_allocated {
        8 => SampleBuf::U8(interleave(&planes, pixels, |v| v as u8)),
        16 => SampleBuf::U16(interleave(&planes, pixels, |v| v as u16)),
        32 => SampleBuf::U32(interleave(&planes, pixels, |v| v as u32)),
        b => {
            return Err(CodecError::Unsupported(format!(
                "JPEG 2000 with Bits Allocated {b}"
            )));
        }
    })
}

/// The decoded components must be as many as Samples per Pixel, each `rows` x Columns, with no
/// more bits than Bits Allocated.
fn check_components(g: &Geometry, comps: &[ImageComponent], rows: usize) -> Result<(), CodecError> {
    if comps.len() != g.spp {
        return Err(CodecError::corrupt(format!(
            "JPEG 2000 codestream has {} components, Samples per Pixel is {}",
            comps.len(),
            g.spp
        )));
    }
    for (i, c) in comps.iter().enumerate() {
        if (c.width() as usize, c.height() as usize) != (g.cols, rows) {
            return Err(CodecError::corrupt(format!(
                "JPEG 2000 component {i} is {}x{}, the image is {}x{} (Columns x Rows)",
                c.width(),
                c.height(),
                g.cols,
                rows
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
    Ok(())
}

/// Concatenates bands decoded top to bottom (all of the same sample width, being decoded with
/// the same Bits Allocated).
fn join(parts: Vec<SampleBuf>) -> SampleBuf {
    fn cat<T: Copy>(parts: Vec<SampleBuf>, get: fn(SampleBuf) -> Option<Vec<T>>) -> Vec<T> {
        let mut parts = parts.into_iter().filter_map(get);
        let mut out = parts.next().unwrap_or_default();
        for p in parts {
            out.extend_from_slice(&p);
        }
        out
    }
    match parts.first() {
        Some(SampleBuf::U8(_)) => SampleBuf::U8(cat(parts, |p| match p {
            SampleBuf::U8(v) => Some(v),
            _ => None,
        })),
        Some(SampleBuf::U32(_)) => SampleBuf::U32(cat(parts, |p| match p {
            SampleBuf::U32(v) => Some(v),
            _ => None,
        })),
        _ => SampleBuf::U16(cat(parts, |p| match p {
            SampleBuf::U16(v) => Some(v),
            _ => None,
        })),
    }
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

/// What the decoder needs from the main header before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MainHeader {
    /// The COD segment turns the multiple-component transform on (ISO 15444-1 A.6.1).
    mct: bool,
    /// The image's first column and row on the reference grid (XOsiz, YOsiz; A.5.1).
    origin: (u32, u32),
    /// The image's width and height (Xsiz - XOsiz, Ysiz - YOsiz); `None` when the SIZ segment
    /// is short or inconsistent (OpenJPEG then says what is wrong).
    size: Option<(u32, u32)>,
}

impl MainHeader {
    /// Whether the codestream's image is Columns x Rows (a known size that differs is refused
    /// before decoding; an unknown one is left to OpenJPEG, decoded whole).
    fn image_size_matches(&self, g: &Geometry) -> bool {
        self.size == Some((g.cols as u32, g.rows as u32))
    }
}

/// Reads the SIZ and COD segments of the main header. Accepts a raw codestream or a JP2 file
/// (whose codestream is in a `jp2c` box).
fn main_header(data: &[u8]) -> Result<MainHeader, CodecError> {
    let cs = codestream(data)?;
    let be32 = |at: usize| {
        cs.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (mut origin, mut size) = ((0, 0), None);
    let mut at = 2; // after SOC
    while at + 4 <= cs.len() {
        let marker = u16::from_be_bytes([cs[at], cs[at + 1]]);
        let len = usize::from(u16::from_be_bytes([cs[at + 2], cs[at + 3]]));
        match marker {
            // SOT or SOD: the main header is over without a COD.
            0xFF90 | 0xFF93 => break,
            // SIZ: Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) ...
            0xFF51 if len >= 38 => {
                if let (Some(x1), Some(y1), Some(x0), Some(y0)) =
                    (be32(at + 6), be32(at + 10), be32(at + 14), be32(at + 18))
                {
                    origin = (x0, y0);
                    size = x1.checked_sub(x0).zip(y1.checked_sub(y0));
                }
                at += 2 + len;
            }
            // COD: Lcod(2) Scod(1) progression(1) layers(2) MCT(1).
            0xFF52 => {
                let mct = cs
                    .get(at + 8)
                    .map(|&m| m != 0)
                    .ok_or_else(|| CodecError::corrupt("JPEG 2000 COD segment is truncated"))?;
                return Ok(MainHeader { mct, origin, size });
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
        assert_eq!(main_header(&cs).map(|h| h.mct), Ok(true));
        let mut off = cs;
        off[18] = 0;
        assert_eq!(main_header(&off).map(|h| h.mct), Ok(false));
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

    /// Found by fuzzing (rebuilt by hand in tests/fuzz-regressions): a SIZ segment claiming
    /// 256 x 16,776,960 pixels made OpenJPEG allocate gigabytes before reading any data.
    #[test]
    fn a_siz_segment_that_disagrees_with_the_frame_is_refused_before_decoding() {
        let input =
            include_bytes!("../../../tests/fuzz-regressions/codec_j2k-siz-claims-16m-rows.bin");
        // After the 8-byte geometry header of `fuzzing::decode_codestream`.
        let codestream = &input[8..];
        match decode(&Geometry::plain(1024, 256, 1, 16), codestream) {
            Err(CodecError::Corrupt(m)) => {
                assert!(m.contains("256x16776960 (SIZ segment)"), "{m}");
                assert!(m.contains("256x1024 (Columns x Rows)"), "{m}");
            }
            other => panic!("{:?}", other.map(|f| f.photometric)),
        }
    }

    #[test]
    fn garbage_and_truncated_headers_are_corrupt() {
        assert!(matches!(
            main_header(&[0xFF, 0x4F, 0x12, 0x34, 0, 0]),
            Err(CodecError::Corrupt(_))
        ));
        assert!(matches!(
            main_header(&[1, 2, 3]),
            Err(CodecError::Corrupt(_))
        ));
    }
}
