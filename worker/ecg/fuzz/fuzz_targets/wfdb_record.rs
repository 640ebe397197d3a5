//! A WFDB record as it arrives in an upload: header text and signal file bytes -> parse the
//! header -> decode every signal file -> encode the stored DICOM groups -> analyse the leads.
//! Mirrors what the hub's WFDB import and the ECG job do with an uploaded record.
//!
//! Input layout: two bytes (little-endian) giving the header's length, the header, then the bytes
//! every signal file the header names is given (one blob for all of them).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use worker_ecg::wfdb::record_from_parts;

/// Samples analysed at most per input, so that a valid long record does not turn every
/// execution into a long one (the hub bounds uploads by size the same way).
const MAX_ANALYSED_SAMPLES: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (header, signal) = rest.split_at(len);
    let header = String::from_utf8_lossy(header);
    let Ok(record) = record_from_parts(&header, Path::new("up/x.hea"), |_| Ok(signal.to_vec()))
    else {
        return;
    };
    let _ = worker_ecg::encode::from_wfdb(&record);
    let ecg = record.to_ecg();
    if ecg.leads.iter().map(|l| l.samples_uv.len()).sum::<usize>() <= MAX_ANALYSED_SAMPLES {
        let _ = worker_ecg::analyse(&ecg);
    }
});
