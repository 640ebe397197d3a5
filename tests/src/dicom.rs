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
