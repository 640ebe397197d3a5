//! The public API on real corpus files: previews, renders with windows, strips, errors that
//! name the input, and parallel == sequential.

mod common;

use std::path::PathBuf;

use common::dicom;
use worker_imaging::{
    ImagingError, Preset, Samples, WindowSpec, decode_all_frames, decode_all_frames_sequential,
    decode_frame, for_each_frame, process_instance, process_instances,
    process_instances_sequential, render_frame, series_strip,
};

fn png_size(png: &[u8]) -> (u32, u32, image::ColorType) {
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png).expect("a PNG");
    (img.width(), img.height(), img.color())
}

#[test]
fn preview_and_thumbnail_are_fitted_pngs() {
    let out = process_instance(&dicom("pydicom-data/RG1_UNCR.dcm")).unwrap();
    assert_eq!((out.columns, out.rows, out.frames), (1841, 1955, 1));
    assert_eq!(png_size(&out.preview_png), (482, 512, image::ColorType::L8));
    assert_eq!(
        png_size(&out.thumbnail_png)
            .0
            .max(png_size(&out.thumbnail_png).1),
        128
    );
    assert_eq!(out.transfer_syntax, "1.2.840.10008.1.2.1");
}

#[test]
fn multi_frame_preview_shows_the_middle_frame() {
    let path = dicom("pydicom-data/emri_small.dcm");
    let out = process_instance(&path).unwrap();
    assert_eq!((out.frames, out.preview_frame), (10, 5));
    let direct = render_frame(&path, 5, WindowSpec::Default, Some(512)).unwrap();
    assert_eq!(out.preview_png, direct);
}

#[test]
fn colour_objects_preview_as_rgb() {
    for f in [
        "pydicom-data/color-pl.dcm",
        "pydicom-data/OBXXXX1A.dcm",
        "pydicom-test-files/SC_ybr_full_422_uncompressed.dcm",
    ] {
        let out = process_instance(&dicom(f)).unwrap();
        assert_eq!(png_size(&out.preview_png).2, image::ColorType::Rgb8, "{f}");
    }
}

#[test]
fn windows_change_the_render_and_full_resolution_is_kept() {
    let path = dicom("pydicom-test-files/CT_small.dcm");
    let brain = render_frame(&path, 0, WindowSpec::Preset(Preset::Brain), None).unwrap();
    let bone = render_frame(&path, 0, WindowSpec::Preset(Preset::Bone), None).unwrap();
    let explicit = render_frame(
        &path,
        0,
        WindowSpec::Explicit {
            center: 40.0,
            width: 80.0,
        },
        None,
    )
    .unwrap();
    assert_ne!(brain, bone);
    assert_eq!(brain, explicit);
    assert_eq!(png_size(&brain).0, 128);
    let default = render_frame(&path, 0, WindowSpec::Preset(Preset::Default), None).unwrap();
    assert_eq!(
        default,
        render_frame(&path, 0, WindowSpec::Default, None).unwrap()
    );
}

#[test]
fn series_strip_lays_thumbnails_out_in_order() {
    let paths: Vec<PathBuf> = ["MR_small.dcm", "CT_small.dcm"]
        .iter()
        .map(|f| dicom(&format!("pydicom-test-files/{f}")))
        .collect();
    let thumbs: Vec<Vec<u8>> = process_instances(&paths)
        .into_iter()
        .map(|r| r.unwrap().thumbnail_png)
        .collect();
    let strip = series_strip(&thumbs).unwrap();
    let (w, h, _) = png_size(&strip);
    assert_eq!((w, h), (64 + 2 + 128, 128));
    assert!(matches!(
        series_strip(&[]),
        Err(ImagingError::Thumbnail { .. })
    ));
    assert!(matches!(
        series_strip(&[b"not a png".to_vec()]),
        Err(ImagingError::Thumbnail { index: 0, .. })
    ));
}

#[test]
fn errors_name_the_file_the_sop_instance_and_the_syntax() {
    let path = dicom("pydicom-test-files/MR_truncated.dcm");
    let err = process_instance(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("MR_truncated.dcm"), "{msg}");
    assert!(
        msg.contains("1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"),
        "{msg}"
    );
    assert!(msg.contains("1.2.840.10008.1.2.1"), "{msg}");
    let sr = process_instance(&dicom("pydicom-test-files/test-SR.dcm")).unwrap_err();
    assert!(matches!(sr, ImagingError::NoPixelData { .. }), "{sr}");
    let missing = process_instance(&dicom("does-not-exist.dcm")).unwrap_err();
    assert!(matches!(missing, ImagingError::Io { .. }));
    let out_of_range = decode_frame(&dicom("pydicom-data/emri_small.dcm"), 10).unwrap_err();
    assert!(matches!(
        out_of_range,
        ImagingError::FrameOutOfRange {
            frame: 10,
            frames: 10,
            ..
        }
    ));
}

#[test]
fn one_bad_instance_does_not_sink_the_batch() {
    let paths = vec![
        dicom("pydicom-test-files/MR_small.dcm"),
        dicom("pydicom-test-files/MR_truncated.dcm"),
        dicom("pydicom-test-files/CT_small.dcm"),
    ];
    let out = process_instances(&paths);
    assert!(out[0].is_ok() && out[1].is_err() && out[2].is_ok());
}

#[test]
fn parallel_equals_sequential() {
    let (files, _) = common::dicom_files(&common::corpus().join("dicom/pydicom-data"));
    let par = process_instances(&files);
    let seq = process_instances_sequential(&files);
    assert_eq!(par.len(), seq.len());
    for ((p, s), f) in par.iter().zip(&seq).zip(&files) {
        match (p, s) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", f.display()),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("{}: parallel and sequential disagree", f.display()),
        }
    }
    let multi = dicom("pydicom-data/emri_small.dcm");
    let a: Vec<_> = decode_all_frames(&multi)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let b: Vec<_> = decode_all_frames_sequential(&multi)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(a, b);
    let seen = std::sync::Mutex::new(vec![None; 10]);
    let n = for_each_frame(&multi, |k, f| {
        seen.lock().unwrap()[k as usize] = Some(f.unwrap())
    })
    .unwrap();
    assert_eq!(n, 10);
    let seen: Vec<_> = seen
        .into_inner()
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(seen, a);
}

#[test]
fn decode_frame_gives_typed_arrays() {
    let f = decode_frame(&dicom("pydicom-test-files/CT_small.dcm"), 0).unwrap();
    let Samples::I16(a) = &f.samples else {
        panic!("CT_small is signed 16-bit")
    };
    assert_eq!(a.dim(), (128, 128, 1));
    let f = decode_frame(&dicom("pydicom-data/liver.dcm"), 2).unwrap();
    assert!(matches!(&f.samples, Samples::U8(a) if a.iter().all(|&v| v <= 1)));
}

/// Regression: this file's J2K codestream has four bytes of its SIZ marker replaced by a
/// Sequence Delimiter (the DICOM structure is intact). It must be located as one frame and
/// reported as corrupt pixel data naming the file, not as an unsupported syntax.
#[test]
fn jpeg2000_embedded_sequence_delimiter_is_corrupt_pixel_data() {
    let path = dicom("pydicom-test-files/JPEG2000-embedded-sequence-delimiter.dcm");
    let err = decode_frame(&path, 0).unwrap_err();
    assert!(
        matches!(err, ImagingError::Corrupt { frame: 0, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("JPEG2000-embedded-sequence-delimiter.dcm"),
        "{err}"
    );
}

/// Every compressed codec gives the same frames on rayon's pool as on the calling thread.
#[test]
fn compressed_codecs_decode_the_same_in_parallel_and_sequentially() {
    for f in [
        "pydicom-data/OBXXXX1A_rle_2frame.dcm",
        "pydicom-data/emri_small_jpeg_ls_lossless.dcm",
        "pydicom-data/emri_small_jpeg_2k_lossless.dcm",
        "pydicom-test-files/SC_rgb_dcmtk_+eb+cy+s2.dcm",
        "pydicom-test-files/JPGExtended.dcm",
        "pydicom-data/JPEG-LL.dcm",
    ] {
        let path = dicom(f);
        let par: Vec<_> = decode_all_frames(&path)
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let seq: Vec<_> = decode_all_frames_sequential(&path)
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert!(!par.is_empty(), "{f}");
        assert_eq!(par, seq, "{f}");
    }
}
