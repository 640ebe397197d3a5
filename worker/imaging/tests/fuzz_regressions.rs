//! Every input in tests/fuzz-regressions/ (inputs the fuzzer in fuzz/ found to panic, hang or
//! exhaust memory, minimised, and not derived from corpus files) goes through the decode entry
//! point as the `decode_file` fuzz target does: open, decode the first frames, render the
//! first. Each must give `Ok` or `Err` within a time bound, never a panic.
//!
//! File names say which target found them: `decode_file-*` are whole DICOM files, `codec_<name>-*`
//! are raw codestreams with the geometry header of `fuzzing::decode_codestream` (those run only
//! with `--features fuzzing`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use worker_imaging::{Image, WindowSpec, render};

/// Generous for a debug build on a loaded 2-core machine; a hang runs forever.
const BOUND: Duration = Duration::from_secs(20);
/// As the fuzz target.
const MAX_FRAMES: u32 = 4;

fn inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
        .collect();
    v.sort();
    v
}

fn decode_file(data: Vec<u8>, label: &Path) -> Result<usize, String> {
    let img = Image::from_bytes(Arc::from(data), label).map_err(|e| e.to_string())?;
    let mut decoded = 0;
    for k in 0..img.attrs().frames.min(MAX_FRAMES) {
        let frame = img.decode_frame(k).map_err(|e| e.to_string())?;
        if k == 0 {
            render(&frame, img.attrs(), WindowSpec::Default)?;
        }
        decoded += 1;
    }
    Ok(decoded)
}

#[cfg(feature = "fuzzing")]
fn decode_codestream(name: &str, data: &[u8]) -> Option<Result<usize, String>> {
    use worker_imaging::codec::Codec;
    let codec = match name.split('-').next()? {
        "codec_rle" => Codec::Rle,
        "codec_jpeg" => Codec::JpegLossless,
        "codec_jpegls" => Codec::JpegLs,
        "codec_j2k" => Codec::J2k,
        _ => return None,
    };
    Some(worker_imaging::fuzzing::decode_codestream(codec, data))
}

#[cfg(not(feature = "fuzzing"))]
fn decode_codestream(_name: &str, _data: &[u8]) -> Option<Result<usize, String>> {
    None
}

#[test]
fn every_saved_fuzz_input_is_an_error_or_an_image_in_bounded_time() {
    let files = inputs();
    assert!(
        files.iter().any(|p| p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("decode_file-"))),
        "tests/fuzz-regressions/ holds no decode_file input"
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let data = std::fs::read(&path).unwrap();
        let (tx, rx) = mpsc::channel();
        let label = path.clone();
        let worker = std::thread::spawn(move || {
            let r = if name.starts_with("decode_file-") {
                Some(decode_file(data, &label))
            } else {
                decode_codestream(&name, &data)
            };
            let _ = tx.send(r);
        });
        match rx.recv_timeout(BOUND) {
            Ok(Some(Ok(n))) => eprintln!("{}: ok, {n} frame(s)", path.display()),
            Ok(Some(Err(e))) => eprintln!("{}: error: {e}", path.display()),
            Ok(None) => eprintln!("{}: skipped (needs --features fuzzing)", path.display()),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{} still decoding after {BOUND:?}", path.display())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let why = worker.join().err().map(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                });
                panic!("{} panicked: {why:?}", path.display());
            }
        }
    }
}
