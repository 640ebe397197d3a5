//! The chest radiograph: one posteroanterior image of the [`crate::phantom::chest`] phantom.
//!
//! 16 bits allocated, 12 stored, unsigned, MONOCHROME2, identity rescale.

use dicom_core::VR;
use dicom_core::value::PrimitiveValue;
use dicom_dictionary_std::{tags, uids};

use super::{Builder, StudyContext, ds};
use crate::phantom::chest;
use crate::rng::Rng;
use crate::{Error, GeneratedFile};

/// Rows and columns.
pub const SIZE: u16 = 512;
/// Pixel spacing (and imager pixel spacing) in millimetres.
pub const PIXEL_SPACING: f64 = 0.7;
/// Bits stored.
pub const BITS_STORED: u16 = 12;
/// Standard deviation of the noise in stored values.
pub const NOISE: f64 = 25.0;
/// Series Number.
pub const SERIES_NUMBER: u32 = 1;

/// The image's stored values, row by row, with noise from `rng`.
pub fn image_pixels(consolidation: bool, rng: &mut Rng) -> Vec<u16> {
    let size = f64::from(SIZE);
    let max = f64::from((1u16 << BITS_STORED) - 1);
    let mut out = Vec::with_capacity(usize::from(SIZE) * usize::from(SIZE));
    for row in 0..SIZE {
        for col in 0..SIZE {
            let u = (f64::from(col) + 0.5) / size * 2.0 - 1.0;
            let v = (f64::from(row) + 0.5) / size * 2.0 - 1.0;
            let value = chest::value_at(u, v, consolidation) + rng.noise(NOISE);
            out.push(value.round().clamp(0.0, max) as u16);
        }
    }
    out
}

/// The image, as a file under `folder`.
pub fn image(
    cx: &StudyContext<'_>,
    folder: &str,
    consolidation: bool,
) -> Result<GeneratedFile, Error> {
    let path = format!("{folder}/DX0001.dcm");
    let mut rng = Rng::for_label(cx.seed, &path);
    let pixels = image_pixels(consolidation, &mut rng);
    let sop_uid = cx.sop_uid(SERIES_NUMBER, 1);
    let spacing = ds(PIXEL_SPACING, 3);
    let spacing = format!("{spacing}\\{spacing}");
    let mut b = Builder::new();
    b.common(
        cx,
        uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION,
        &sop_uid,
    )
    .image_common()
    .text(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY")
    .text(tags::MODALITY, VR::CS, "DX")
    .text(tags::PRESENTATION_INTENT_TYPE, VR::CS, "FOR PRESENTATION")
    .text(tags::STUDY_DESCRIPTION, VR::LO, "DR chest PA (胸部正位DR)")
    .text(tags::SERIES_DESCRIPTION, VR::LO, "Chest PA")
    .text(tags::MANUFACTURER_MODEL_NAME, VR::LO, "Synthetic DR 4343")
    .text(tags::BODY_PART_EXAMINED, VR::CS, "CHEST")
    .text(tags::VIEW_POSITION, VR::CS, "PA")
    .sequence(
        tags::VIEW_CODE_SEQUENCE,
        vec![Builder::code("399348003", "SCT", "postero-anterior")],
    )
    .sequence(
        tags::ANATOMIC_REGION_SEQUENCE,
        vec![Builder::code("51185008", "SCT", "Chest")],
    )
    .text(tags::IMAGE_LATERALITY, VR::CS, "U")
    .text(tags::POSITIONER_TYPE, VR::CS, "COLUMN")
    .sequence(tags::ACQUISITION_CONTEXT_SEQUENCE, Vec::new())
    .text(tags::PRESENTATION_LUT_SHAPE, VR::CS, "IDENTITY")
    .text(tags::PATIENT_ORIENTATION, VR::CS, "L\\F")
    .text(tags::SERIES_DATE, VR::DA, cx.plan.date)
    .text(tags::SERIES_TIME, VR::TM, cx.plan.time)
    .text(tags::CONTENT_DATE, VR::DA, cx.plan.date)
    .text(tags::CONTENT_TIME, VR::TM, cx.plan.time)
    .text(tags::ACQUISITION_NUMBER, VR::IS, "1")
    .text(tags::KVP, VR::DS, "125")
    .text(tags::DISTANCE_SOURCE_TO_DETECTOR, VR::DS, "1800")
    .text(tags::EXPOSURE_TIME, VR::IS, "10")
    .text(tags::X_RAY_TUBE_CURRENT, VR::IS, "320")
    .text(tags::IMAGER_PIXEL_SPACING, VR::DS, &spacing)
    .text(tags::DETECTOR_TYPE, VR::CS, "SCINTILLATOR")
    .text(
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &cx.series_uid(SERIES_NUMBER),
    )
    .text(tags::SERIES_NUMBER, VR::IS, &SERIES_NUMBER.to_string())
    .text(tags::INSTANCE_NUMBER, VR::IS, "1")
    .grayscale(SIZE, SIZE, BITS_STORED, false)
    .text(tags::PIXEL_SPACING, VR::DS, &spacing)
    .text(tags::PIXEL_INTENSITY_RELATIONSHIP, VR::CS, "LOG")
    .ss(tags::PIXEL_INTENSITY_RELATIONSHIP_SIGN, 1)
    .text(tags::WINDOW_CENTER, VR::DS, "2000")
    .text(tags::WINDOW_WIDTH, VR::DS, "3800")
    .text(tags::RESCALE_INTERCEPT, VR::DS, "0")
    .text(tags::RESCALE_SLOPE, VR::DS, "1")
    .text(tags::RESCALE_TYPE, VR::LO, "US")
    .pixels(PrimitiveValue::U16(pixels.into()));
    let bytes = b.part10(&path)?;
    Ok(GeneratedFile {
        path,
        sop_instance_uid: sop_uid,
        series_number: SERIES_NUMBER,
        instance_number: 1,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_stay_within_twelve_bits_and_show_the_lungs() {
        let mut rng = Rng::for_label(3, "dx");
        let px = image_pixels(false, &mut rng);
        assert_eq!(px.len(), 512 * 512);
        assert!(px.iter().all(|&p| p < 4096));
        // Row through the middle of the lungs: darker at the lungs than at the spine.
        let row = usize::from(SIZE) * 200;
        let lung = px[row + 140];
        let spine = px[row + 256];
        assert!(lung < spine, "lung {lung} spine {spine}");
    }
}
