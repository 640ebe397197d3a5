//! Making test instances at test time from corpus files (never committed).

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

/// A copy of `template` with new SOP Instance and Study/Series UIDs (`study`, `index`) and a patient
/// ID, encoded as a Part 10 file.
pub fn variant(
    template: &DefaultDicomObject,
    study: &str,
    index: u32,
    patient_id: &str,
) -> Vec<u8> {
    let mut obj = template.clone();
    let sop = format!("{study}.{index}");
    let put = |obj: &mut DefaultDicomObject, tag, vr, value: &str| {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    put(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, &sop);
    put(&mut obj, tags::STUDY_INSTANCE_UID, VR::UI, study);
    put(
        &mut obj,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &format!("{study}.1000"),
    );
    put(&mut obj, tags::PATIENT_ID, VR::LO, patient_id);
    obj.put(DataElement::new(
        tags::INSTANCE_NUMBER,
        VR::IS,
        PrimitiveValue::from(index.to_string()),
    ));
    obj.meta_mut().media_storage_sop_instance_uid = sop;
    obj.meta_mut().update_information_group_length();
    let mut out = Vec::new();
    obj.write_all(&mut out).expect("encode test instance");
    out
}

/// One RLE Lossless frame of `side` x `side` 8-bit zeros (PackBits runs of 128), as its own
/// study (UIDs under `uid_root`) of `patient_id` named `name`; returns the file and its SOP
/// Instance UID. A 16,384-pixel side makes a 4 MB file that decodes to 256 MiB: a decode bomb.
pub fn rle_image(side: u16, uid_root: &str, patient_id: &str, name: &str) -> (Vec<u8>, String) {
    use dicom_core::value::PixelFragmentSequence;
    use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
    let samples = usize::from(side) * usize::from(side);
    let mut frame = Vec::with_capacity(64 + samples / 64);
    frame.extend_from_slice(&1u32.to_le_bytes());
    frame.extend_from_slice(&64u32.to_le_bytes());
    frame.resize(64, 0);
    for _ in 0..samples / 128 {
        frame.extend_from_slice(&[0x81, 0x00]);
    }
    let sop = format!("{uid_root}.1");
    let mut obj = InMemDicomObject::new_empty();
    for (tag, vr, value) in [
        (
            tags::SOP_CLASS_UID,
            VR::UI,
            "1.2.840.10008.5.1.4.1.1.7".to_owned(),
        ),
        (tags::SOP_INSTANCE_UID, VR::UI, sop.clone()),
        (tags::STUDY_INSTANCE_UID, VR::UI, format!("{uid_root}.2")),
        (tags::SERIES_INSTANCE_UID, VR::UI, format!("{uid_root}.3")),
        (tags::PATIENT_ID, VR::LO, patient_id.to_owned()),
        (tags::PATIENT_NAME, VR::PN, name.to_owned()),
        (tags::MODALITY, VR::CS, "OT".to_owned()),
        (
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            "MONOCHROME2".to_owned(),
        ),
    ] {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    }
    for (tag, value) in [
        (tags::SAMPLES_PER_PIXEL, 1),
        (tags::ROWS, side),
        (tags::COLUMNS, side),
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
        .media_storage_sop_instance_uid(&sop)
        .transfer_syntax("1.2.840.10008.1.2.5");
    let mut out = Vec::new();
    obj.with_meta(meta).unwrap().write_all(&mut out).unwrap();
    (out, sop)
}
