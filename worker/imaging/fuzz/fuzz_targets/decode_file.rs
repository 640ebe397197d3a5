//! Whole DICOM file bytes -> open -> decode (a bounded number of) frames -> render the first.
//! Mirrors what `worker_imaging::process_instance` does with a stored file.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use worker_imaging::{Image, WindowSpec, render};

/// Frames decoded per input: enough to reach multi-frame offset handling without letting a
/// claimed Number of Frames of 2^31 turn every input into a long loop.
const MAX_FRAMES: u32 = 4;

fuzz_target!(|data: &[u8]| {
    let Ok(img) = Image::from_bytes(Arc::from(data), Path::new("fuzz.dcm")) else {
        return;
    };
    for k in 0..img.attrs().frames.min(MAX_FRAMES) {
        if let Ok(frame) = img.decode_frame(k) {
            if k == 0 {
                let _ = render(&frame, img.attrs(), WindowSpec::Default);
            }
        }
    }
});
