//! A DICOM ECG as a clinic or cart sends it: file bytes -> read every waveform group -> analyse
//! the leads -> read the page's identity fields. Mirrors the hub's ECG job on a stored file.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

/// As in `wfdb_record`.
const MAX_ANALYSED_SAMPLES: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    // The readers take a path, as the job does; a RAM-backed temporary file keeps this cheap.
    let mut file = tempfile_in_shm();
    if file.as_file_mut().write_all(data).is_err() {
        return;
    }
    let path = file.path();
    if let Ok(recording) = worker_ecg::read_recording(path) {
        let ecg = &recording.ecg;
        if ecg.leads.iter().map(|l| l.samples_uv.len()).sum::<usize>() <= MAX_ANALYSED_SAMPLES {
            let _ = worker_ecg::analyse(ecg);
        }
    }
    let _ = worker_ecg::read_page_info(path);
});

fn tempfile_in_shm() -> tempfile::NamedTempFile {
    let dir = std::path::Path::new("/dev/shm");
    if dir.is_dir() {
        tempfile::NamedTempFile::new_in(dir).expect("temporary file in /dev/shm")
    } else {
        tempfile::NamedTempFile::new().expect("temporary file")
    }
}
