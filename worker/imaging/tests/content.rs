//! `read_checked_with_content` hands over exactly what an object holds (its Pixel Data value, or
//! the Waveform Data values of its Waveform Sequence), whatever the encoding of the rest, so the
//! hub can recognise the same image or signal filed under another patient.

mod common;

use std::path::Path;

use dicom_dictionary_std::tags;
use worker_imaging::read_checked_with_content;

/// The content bytes the header walk feeds for `path`.
fn content(path: &Path) -> Vec<u8> {
    let mut fed = Vec::new();
    read_checked_with_content(path, &|_| false, &mut |b| fed.extend_from_slice(b))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fed
}

#[test]
fn an_images_content_is_its_pixel_data_in_any_vr_encoding() {
    let explicit = common::dicom("pydicom-test-files/MR_small.dcm");
    let obj = dicom_object::open_file(&explicit).unwrap();
    let pixels = obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap();
    assert_eq!(content(&explicit), pixels.as_ref());
    // The same image in Implicit VR Little Endian: other headers, the same content.
    let implicit = common::dicom("pydicom-test-files/MR_small_implicit.dcm");
    assert_eq!(content(&implicit), content(&explicit));
    // In big endian the stored words differ: another content (the hub sees another image).
    let big = common::dicom("pydicom-test-files/MR_small_expb.dcm");
    assert_ne!(content(&big), content(&explicit));
}

#[test]
fn an_ecgs_content_is_its_waveform_data_without_the_channel_definitions() {
    for rel in [
        "ecg/dicom/mortara-eli250_pydicom/waveform_ecg.dcm",
        "ecg/dicom/ge-maclab_dcm-waveform/test_ecg.dcm",
        "ecg/dicom/ecgtoolkit-converted/Example.dcm",
    ] {
        let path = common::corpus().join(rel);
        let obj = dicom_object::open_file(&path).unwrap();
        let mut samples = Vec::new();
        for item in obj
            .element(tags::WAVEFORM_SEQUENCE)
            .unwrap()
            .items()
            .unwrap()
        {
            let data = item
                .element(tags::WAVEFORM_DATA)
                .unwrap()
                .to_bytes()
                .unwrap();
            samples.extend_from_slice(&data);
        }
        assert!(!samples.is_empty(), "{rel}");
        assert_eq!(content(&path), samples, "{rel}");
    }
}

#[test]
fn an_object_without_pixels_or_samples_has_no_content() {
    assert!(content(&common::dicom("pydicom-test-files/rtplan.dcm")).is_empty());
}
