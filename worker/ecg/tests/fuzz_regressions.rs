//! Every input in tests/fuzz-regressions/ (inputs the fuzzer in fuzz/ found to panic, hang or
//! exhaust memory, rebuilt by hand when the found one was derived from corpus files) goes through
//! the readers as the `dicom_ecg` fuzz target does: `read_recording`, then `read_page_info`. Each
//! must give `Ok` or `Err` within a time bound and without raising the process's peak memory by
//! more than [`MAX_PEAK_RISE_KB`], never a panic or an abort.
//!
//! File names say which target found them: `dicom_ecg-*` are whole DICOM files.
//! Its own test binary, so that the process's peak resident memory belongs to this test alone.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Generous for a debug build on a loaded 2-core machine; a hang runs forever.
const BOUND: Duration = Duration::from_secs(20);
/// Files of under 1 kB; what the fuzzer found allocated gigabytes.
const MAX_PEAK_RISE_KB: u64 = 64 * 1024;

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

/// Peak resident set size of this process in kB (Linux), from /proc/self/status.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What the `dicom_ecg` target calls, as text: the recording's outcome, then the page's.
fn dicom_ecg(path: &Path) -> (Result<usize, String>, Result<(), String>) {
    let recording = worker_ecg::read_recording(path)
        .map(|r| r.ecg.leads.len())
        .map_err(|e| e.to_string());
    let page = worker_ecg::read_page_info(path)
        .map(|_| ())
        .map_err(|e| e.to_string());
    (recording, page)
}

fn run_bounded(path: &Path) -> (Result<usize, String>, Result<(), String>) {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(dicom_ecg(&p));
    });
    match rx.recv_timeout(BOUND) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{} still reading after {BOUND:?}", path.display())
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

#[test]
fn every_saved_fuzz_input_is_an_error_or_an_ecg_in_bounded_time_and_memory() {
    let files = inputs();
    assert!(
        files.iter().any(|p| p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("dicom_ecg-"))),
        "tests/fuzz-regressions/ holds no dicom_ecg input"
    );
    let before = peak_rss_kb();
    for path in files {
        let (recording, page) = run_bounded(&path);
        eprintln!("{}: recording {recording:?}, page {page:?}", path.display());
    }
    if let (Some(before), Some(after)) = (before, peak_rss_kb()) {
        assert!(
            after.saturating_sub(before) < MAX_PEAK_RISE_KB,
            "reading the saved inputs raised peak memory by {} kB",
            after - before
        );
    }
}

/// The two hand-built equivalents of the `dicom_ecg` out-of-memory (a Waveform Sequence item
/// holding an element whose length claims 2.4 GB in a file of under 500 bytes) are refused by
/// the structural check, with the file named and what is wrong.
#[test]
fn a_length_past_the_end_of_the_file_is_refused_by_name() {
    for name in [
        "dicom_ecg-waveform-data-length.dcm",
        "dicom_ecg-bogus-vr-in-waveform-item.dcm",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-regressions")
            .join(name);
        let (recording, page) = run_bounded(&path);
        for err in [recording.unwrap_err(), page.unwrap_err()] {
            assert!(err.contains(name), "{err}");
            assert!(err.contains("not a well-formed DICOM object"), "{err}");
            assert!(
                err.contains("past the end of the file") || err.contains("invalid VR"),
                "{err}"
            );
        }
    }
}
