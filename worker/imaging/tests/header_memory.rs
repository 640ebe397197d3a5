//! Found by fuzzing (`fuzz/`, target decode_file, seeded with the corpus's UN_sequence.dcm): a
//! private element of VR UN and undefined length holding nested Implicit VR sequences made
//! dicom-object misread an item tag as a 3.7 GB length and allocate it, for a 700-byte file. The
//! header walk now hands the attribute parser only the elements imaging reads, so such elements
//! are skipped by our walker (which reads them correctly) and never reach dicom-object.
//!
//! The same goes for an unknown VR that dicom-object reads with a 32-bit length where the walk
//! read a 16-bit one. Both inputs are hand-built (tests/fuzz-regressions/README.md).
//!
//! Its own test binary, so that the process's peak resident memory belongs to this test alone.

use std::path::Path;
use std::sync::Arc;

use worker_imaging::Image;

fn regression(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Peak resident set size of this process in kB (Linux), from /proc/self/status.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn malformed_headers_neither_fail_the_image_for_nothing_nor_cost_memory() {
    let before = peak_rss_kb();
    // A private UN element of undefined length (nested Implicit VR sequences): not imaging's
    // business, so the image still opens.
    let data = regression("decode_file-private-un-sequence.dcm");
    let img = Image::from_bytes(Arc::from(data), Path::new("private-un-sequence.dcm"))
        .expect("the private UN element does not concern imaging");
    let frame = img.decode_frame(0).expect("8x8 native frame");
    assert_eq!(frame.samples.to_i64_vec(), (0..64).collect::<Vec<i64>>());
    // (0008,0005) with an unknown VR whose long-form length is 1.6 GB: refused by the walk.
    let data = regression("decode_file-bogus-vr-length.dcm");
    let err = Image::from_bytes(Arc::from(data), Path::new("bogus-vr.dcm"))
        .expect_err("an element longer than the file");
    assert!(err.to_string().contains("past the end"), "{err}");
    // A defined-length VOI LUT Sequence whose LUT Data claims 0xF0000000 bytes: the malformed
    // sequence is left out and the image opens with its default window.
    let data = regression("decode_file-nested-length.dcm");
    let img = Image::from_bytes(Arc::from(data), Path::new("nested-length.dcm"))
        .expect("the malformed sequence is left out");
    assert!(img.attrs().voi_luts.is_empty());
    assert_eq!(img.decode_frame(0).unwrap().samples.to_i64_vec().len(), 64);
    if let (Some(before), Some(after)) = (before, peak_rss_kb()) {
        assert!(
            after.saturating_sub(before) < 64 * 1024,
            "opening three files of under 1 kB raised peak memory by {} kB",
            after - before
        );
    }
}
