//! Band decoding against the whole-frame decode on every JPEG 2000 frame of the corpus: the
//! output must be identical (samples and photometric), for lossless and lossy codestreams,
//! grey and colour, odd sizes, whatever the band count.

use std::path::{Path, PathBuf};

use super::{decode_in_bands, main_header};
use crate::attrs::Photometric;
use crate::codec::Codec;
use crate::source::Image;

#[path = "../../../tests/common/mod.rs"]
mod common;

/// Band counts that give even, uneven and thin bands.
const BAND_COUNTS: &[usize] = &[2, 3, 7];

/// Frames checked per multi-frame object (every frame decodes through the same path).
const FRAMES_PER_OBJECT: u32 = 2;

fn j2k_objects() -> Vec<(PathBuf, Image)> {
    let (files, _) = common::dicom_files(&common::corpus().join("dicom"));
    files
        .into_iter()
        .filter_map(|p| Image::open(&p).ok().map(|img| (p, img)))
        .filter(|(_, img)| img.codec() == Codec::J2k)
        .collect()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap_or_default().to_string_lossy().into()
}

#[test]
fn bands_decode_identically_to_the_whole_frame_on_every_corpus_j2k_file() {
    let objects = j2k_objects();
    let (mut frames, mut lossy, mut colour, mut failing) = (0, 0, 0, 0);
    for (path, img) in &objects {
        let g = img.geometry();
        for k in 0..img.attrs().frames.min(FRAMES_PER_OBJECT) {
            let Ok((data, _)) = img.frame_bytes(k) else {
                continue;
            };
            let whole = decode_in_bands(g, &data, 1);
            // Banding needs the codestream's size to be the header's; otherwise `n` bands
            // would quietly be one whole decode and prove nothing.
            let bandable = main_header(&data).is_ok_and(|h| h.image_size_matches(g));
            assert!(
                bandable || whole.is_err(),
                "{} frame {k} decodes but cannot be banded",
                name(path)
            );
            eprintln!(
                "{} frame {k}: {}x{}x{} {}-bit {}, whole decode {}",
                name(path),
                g.cols,
                g.rows,
                g.spp,
                g.bits_allocated,
                img.syntax().name,
                if whole.is_ok() { "ok" } else { "refused" }
            );
            for &n in BAND_COUNTS {
                let banded = decode_in_bands(g, &data, n);
                match (&whole, &banded) {
                    (Ok(w), Ok(b)) => assert!(
                        w == b,
                        "{} frame {k}: {n} bands differ from the whole decode",
                        name(path)
                    ),
                    (Err(_), Err(_)) => {}
                    _ => panic!(
                        "{} frame {k}: whole decode {:?}, {n} bands {:?}",
                        name(path),
                        whole.as_ref().err(),
                        banded.as_ref().err()
                    ),
                }
            }
            frames += 1;
            failing += usize::from(whole.is_err());
            lossy += usize::from(img.syntax().uid.ends_with(".4.91"));
            colour += usize::from(whole.is_ok_and(|w| w.photometric == Photometric::Rgb));
        }
    }
    eprintln!(
        "{} objects, {frames} frames ({lossy} lossy, {colour} colour, {failing} refused by both)",
        objects.len()
    );
    // The corpus holds a dozen or more JPEG 2000 objects, lossy and colour among them: finding
    // fewer means the walk is broken, not that banding is right.
    assert!(frames >= 10, "only {frames} JPEG 2000 frames found");
    assert!(
        lossy >= 1 && colour >= 1,
        "{lossy} lossy, {colour} colour frames"
    );
}

#[test]
fn band_edges_cover_every_row_once() {
    use super::band_edges;
    for (rows, bands, y0) in [
        (1841, 2, 0),
        (1841, 7, 0),
        (10, 3, 0),
        (5, 7, 0),
        (1000, 2, 3),
    ] {
        let edges = band_edges(rows, bands, y0);
        assert_eq!(edges.first().map(|e| e.0), Some(0));
        assert_eq!(edges.last().map(|e| e.1), Some(rows));
        assert!(edges.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(edges.iter().all(|e| e.0 < e.1));
        assert!(edges.len() <= bands);
    }
    // Tall bands: inner edges on the alignment grid.
    assert_eq!(band_edges(1841, 2, 0), vec![(0, 896), (896, 1841)]);
    assert_eq!(band_edges(5, 7, 0).len(), 5);
}

/// Synthetic codestreams at odd sizes (`tests/j2k-odd/make.py` writes them): file, columns,
/// rows, samples per pixel, bits allocated, signed.
const ODD: &[(&str, usize, usize, usize, u16, bool)] = &[
    ("gray12_173x259_lossless.j2k", 173, 259, 1, 16, false),
    ("gray12_173x259_lossy.j2k", 173, 259, 1, 16, false),
    ("signed16_97x211_lossy.j2k", 97, 211, 1, 16, true),
    ("rgb8_131x187_lossless_rct.j2k", 131, 187, 3, 8, false),
    ("rgb8_131x187_lossy_ict.j2k", 131, 187, 3, 8, false),
    ("rgb8_131x187_lossy_ict.jp2", 131, 187, 3, 8, false),
];

#[test]
fn bands_decode_identically_at_odd_sizes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/j2k-odd");
    for &(file, cols, rows, spp, bits_allocated, signed) in ODD {
        let data = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let g = crate::codec::Geometry {
            signed,
            ..crate::codec::Geometry::plain(rows, cols, spp, bits_allocated)
        };
        let whole = decode_in_bands(&g, &data, 1).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert!(main_header(&data).is_ok_and(|h| h.image_size_matches(&g)));
        for n in [2, 3, 5, 7, 16] {
            let banded = decode_in_bands(&g, &data, n);
            assert!(
                banded.as_ref() == Ok(&whole),
                "{file}: {n} bands differ from the whole decode"
            );
        }
    }
}
