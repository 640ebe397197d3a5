//! Decoding throughput per codec on real corpus files, in decoded megabytes per second, on the
//! calling thread and across rayon's pool.
//!
//! `REMOTEDX_CORPUS=/path/to/corpus cargo bench -p worker-imaging --bench decode`
//! (the corpus defaults to `../shared/corpus` from the workspace root, as for the tests).

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use worker_imaging::{decode_all_frames, decode_all_frames_sequential};

/// (codec, file under `dicom/`).
const FILES: &[(&str, &str)] = &[
    ("native", "pydicom-data/RG1_UNCR.dcm"),
    ("rle", "pydicom-data/OBXXXX1A_rle_2frame.dcm"),
    (
        "rle_rgb16",
        "pydicom-test-files/SC_rgb_rle_16bit_2frame.dcm",
    ),
    (
        "jpeg_baseline_ybr",
        "pydicom-data/color3d_jpeg_baseline.dcm",
    ),
    ("jpeg_extended_12bit", "pydicom-test-files/JPGExtended.dcm"),
    ("jpeg_lossless_16bit", "pydicom-data/JPEG-LL.dcm"),
    (
        "jpeg_lossless_8bit",
        "pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm",
    ),
    (
        "jpeg_ls_lossless",
        "pydicom-data/emri_small_jpeg_ls_lossless.dcm",
    ),
    (
        "jpeg_ls_near_rgb",
        "pydicom-test-files/SC_rgb_jls_lossy_sample.dcm",
    ),
    ("j2k_lossless", "pydicom-data/RG1_J2KR.dcm"),
    ("j2k_lossy", "pydicom-data/RG1_J2KI.dcm"),
];

fn corpus() -> PathBuf {
    std::env::var_os("REMOTEDX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}

/// Finds `rel` under the corpus, or the same file name anywhere in its `dicom/` tree.
fn locate(rel: &str) -> Option<PathBuf> {
    let dicom = corpus().join("dicom");
    let direct = dicom.join(rel);
    if direct.is_file() {
        return Some(direct);
    }
    let name = Path::new(rel).file_name()?;
    std::fs::read_dir(&dicom)
        .ok()?
        .flatten()
        .map(|d| d.path().join(name))
        .find(|p| p.is_file())
}

fn decoded_bytes(path: &Path) -> u64 {
    decode_all_frames_sequential(path)
        .expect("opens")
        .into_iter()
        .map(|f| f.expect("decodes").samples.byte_len() as u64)
        .sum()
}

fn bench(c: &mut Criterion) {
    for &(codec, rel) in FILES {
        let Some(path) = locate(rel) else {
            eprintln!("skipping {codec}: {rel} is not in the corpus");
            continue;
        };
        let mut g = c.benchmark_group(codec);
        g.throughput(Throughput::Bytes(decoded_bytes(&path)))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        g.bench_function("sequential", |b| {
            b.iter(|| decode_all_frames_sequential(&path).expect("opens"))
        });
        g.bench_function("rayon", |b| {
            b.iter(|| decode_all_frames(&path).expect("opens"))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
