//! The per-frame decode budget (issue "Safe to deploy 2/2", item 2): a 4 MiB RLE Lossless file
//! claiming one 16,384 x 16,384 frame is refused by name from its attributes, by every entry
//! point, without the ~620 MB its decode and render once cost; an ordinary CT still renders.
//! The budget is the default one here (tests in one process share it).

mod common;

use std::path::{Path, PathBuf};

use common::dicom;
use dicom_core::value::PixelFragmentSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use worker_imaging::{
    DEFAULT_MAX_FRAME_BYTES, ImagingError, WindowSpec, decode_frame, max_frame_bytes,
    process_instance, render_frame,
};

const SIDE: u16 = 16_384;

/// One RLE Lossless frame of SIDE x SIDE 8-bit zeros: one segment of PackBits runs of 128.
fn rle_bomb(dir: &Path) -> PathBuf {
    let samples = usize::from(SIDE) * usize::from(SIDE);
    let mut frame = Vec::with_capacity(64 + samples / 64);
    frame.extend_from_slice(&1u32.to_le_bytes());
    frame.extend_from_slice(&64u32.to_le_bytes());
    frame.resize(64, 0);
    for _ in 0..samples / 128 {
        frame.extend_from_slice(&[0x81, 0x00]);
    }
    let sop = "2.25.4242424242";
    let mut obj = InMemDicomObject::new_empty();
    for (tag, vr, value) in [
        (tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.7"),
        (tags::SOP_INSTANCE_UID, VR::UI, sop),
        (tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
    ] {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    }
    for (tag, value) in [
        (tags::SAMPLES_PER_PIXEL, 1),
        (tags::ROWS, SIDE),
        (tags::COLUMNS, SIDE),
        (tags::BITS_ALLOCATED, 8),
        (tags::BITS_STORED, 8),
        (tags::HIGH_BIT, 7),
        (tags::PIXEL_REPRESENTATION, 0),
    ] {
        obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
    }
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PixelFragmentSequence::new(vec![], vec![frame]),
    ));
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.7")
        .media_storage_sop_instance_uid(sop)
        .transfer_syntax("1.2.840.10008.1.2.5");
    let path = dir.join("rle-bomb.dcm");
    obj.with_meta(meta).unwrap().write_to_file(&path).unwrap();
    path
}

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kib / 1024
}

#[test]
fn a_16384_square_rle_frame_is_refused_by_name_before_it_is_decoded() {
    assert_eq!(max_frame_bytes(), DEFAULT_MAX_FRAME_BYTES);
    let dir = tempfile::tempdir().unwrap();
    let bomb = rle_bomb(dir.path());
    assert!(std::fs::metadata(&bomb).unwrap().len() < 5 << 20);
    let errors = [
        decode_frame(&bomb, 0).map(|_| ()).unwrap_err(),
        render_frame(&bomb, 0, WindowSpec::Default, None)
            .map(|_| ())
            .unwrap_err(),
        process_instance(&bomb).map(|_| ()).unwrap_err(),
    ];
    for e in errors {
        let ImagingError::FrameTooLarge { bytes, limit, .. } = &e else {
            panic!("not refused for its size: {e}");
        };
        assert_eq!((*bytes, *limit), (1 << 28, DEFAULT_MAX_FRAME_BYTES));
        let message = e.to_string();
        assert!(message.contains("rle-bomb.dcm"), "{message}");
        assert!(message.contains("2.25.4242424242"), "{message}");
        assert!(
            message.contains("16384 x 16384 pixels x 1 samples decodes to 268435456 bytes"),
            "{message}"
        );
    }
    // Decoding it once took 256 MiB for the frame alone.
    let peak = peak_rss_mib();
    assert!(peak < 160, "peak RSS {peak} MiB");
}

#[test]
fn an_ordinary_ct_still_renders() {
    let png = render_frame(
        &dicom("pydicom-test-files/CT_small.dcm"),
        0,
        WindowSpec::Default,
        None,
    )
    .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}
