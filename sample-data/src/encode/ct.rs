//! The CT head series: axial slices through the [`crate::phantom::head`] phantom.
//!
//! Stored values are signed 16-bit with Rescale Intercept -1024 and Slope 1, so HU = stored - 1024;
//! pixels outside the reconstruction circle hold the padding value [`PADDING`] (HU -3024), as
//! real scanners write, which a reader that ignores Pixel Representation gets visibly wrong.

use dicom_core::VR;
use dicom_core::value::PrimitiveValue;
use dicom_dictionary_std::{tags, uids};

use super::{Builder, StudyContext, ds};
use crate::phantom::head;
use crate::rng::Rng;
use crate::{Error, GeneratedFile};

/// Number of slices.
pub const SLICES: u32 = 24;
/// Rows and columns.
pub const SIZE: u16 = 256;
/// Pixel spacing in millimetres.
pub const PIXEL_SPACING: f64 = 0.9;
/// Slice thickness and spacing in millimetres.
pub const SLICE_THICKNESS: f64 = 5.0;
/// z of the first slice's centre (millimetres).
pub const FIRST_Z: f64 = 2.5;
/// Rescale Intercept.
pub const RESCALE_INTERCEPT: f64 = -1024.0;
/// Stored value outside the reconstruction circle (Pixel Padding Value).
pub const PADDING: i16 = -2000;
/// Standard deviation of the noise in HU.
pub const NOISE_HU: f64 = 4.0;
/// Series Number of the axial series.
pub const SERIES_NUMBER: u32 = 2;

/// Patient position (x, y) of the centre of the first pixel; the image is centred on the origin.
pub fn first_pixel_position() -> (f64, f64) {
    let half = (f64::from(SIZE) - 1.0) / 2.0;
    (-half * PIXEL_SPACING, -half * PIXEL_SPACING)
}

/// z of slice `index` (0-based), from the skull base up.
pub fn slice_z(index: u32) -> f64 {
    FIRST_Z + f64::from(index) * SLICE_THICKNESS
}

/// The stored values of one slice, row by row, with noise from `rng`.
pub fn slice_pixels(z: f64, haemorrhage: bool, rng: &mut Rng) -> Vec<i16> {
    let (x0, y0) = first_pixel_position();
    let size = usize::from(SIZE);
    let centre = (f64::from(SIZE) - 1.0) / 2.0;
    let fov_radius2 = (f64::from(SIZE) / 2.0).powi(2);
    let mut out = Vec::with_capacity(size * size);
    for row in 0..SIZE {
        for col in 0..SIZE {
            let (c, r) = (f64::from(col), f64::from(row));
            if (c - centre).powi(2) + (r - centre).powi(2) > fov_radius2 {
                out.push(PADDING);
                continue;
            }
            let p = [x0 + c * PIXEL_SPACING, y0 + r * PIXEL_SPACING, z];
            let hu = head::hu_at(p, haemorrhage) + rng.noise(NOISE_HU);
            let stored = (hu - RESCALE_INTERCEPT).round().clamp(-32768.0, 32767.0);
            out.push(stored as i16);
        }
    }
    out
}

/// Every slice of the series, as files under `folder`.
pub fn series(
    cx: &StudyContext<'_>,
    folder: &str,
    haemorrhage: bool,
) -> Result<Vec<GeneratedFile>, Error> {
    (0..SLICES)
        .map(|i| {
            let path = format!("{folder}/CT{:04}.dcm", i + 1);
            let mut rng = Rng::for_label(cx.seed, &path);
            let pixels = slice_pixels(slice_z(i), haemorrhage, &mut rng);
            let sop_uid = cx.sop_uid(SERIES_NUMBER, i + 1);
            let bytes = slice(cx, i, &sop_uid, pixels).part10(&path)?;
            Ok(GeneratedFile {
                path,
                sop_instance_uid: sop_uid,
                series_number: SERIES_NUMBER,
                instance_number: i + 1,
                bytes,
            })
        })
        .collect()
}

fn slice(cx: &StudyContext<'_>, index: u32, sop_uid: &str, pixels: Vec<i16>) -> Builder {
    let z = slice_z(index);
    let (x0, y0) = first_pixel_position();
    let spacing = ds(PIXEL_SPACING, 3);
    let mut b = Builder::new();
    b.common(cx, uids::CT_IMAGE_STORAGE, sop_uid)
        .image_common()
        .text(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY\\AXIAL")
        .text(tags::MODALITY, VR::CS, "CT")
        .text(
            tags::STUDY_DESCRIPTION,
            VR::LO,
            "CT head plain (颅脑CT平扫)",
        )
        .text(tags::SERIES_DESCRIPTION, VR::LO, "Head 5mm axial")
        .text(tags::MANUFACTURER_MODEL_NAME, VR::LO, "Synthetic CT 16")
        .text(tags::BODY_PART_EXAMINED, VR::CS, "HEAD")
        .text(tags::SERIES_DATE, VR::DA, cx.plan.date)
        .text(tags::SERIES_TIME, VR::TM, cx.plan.time)
        .text(tags::CONTENT_DATE, VR::DA, cx.plan.date)
        .text(tags::CONTENT_TIME, VR::TM, cx.plan.time)
        .text(tags::ACQUISITION_NUMBER, VR::IS, "1")
        .text(tags::SLICE_THICKNESS, VR::DS, &ds(SLICE_THICKNESS, 3))
        .text(tags::KVP, VR::DS, "120")
        .text(tags::DATA_COLLECTION_DIAMETER, VR::DS, "250")
        .text(
            tags::RECONSTRUCTION_DIAMETER,
            VR::DS,
            &ds(f64::from(SIZE) * PIXEL_SPACING, 3),
        )
        .text(tags::GANTRY_DETECTOR_TILT, VR::DS, "0")
        .text(tags::TABLE_HEIGHT, VR::DS, "150")
        .text(tags::ROTATION_DIRECTION, VR::CS, "CW")
        .text(tags::EXPOSURE_TIME, VR::IS, "1000")
        .text(tags::X_RAY_TUBE_CURRENT, VR::IS, "250")
        .text(tags::CONVOLUTION_KERNEL, VR::SH, "STANDARD")
        .text(tags::PATIENT_POSITION, VR::CS, "HFS")
        .text(
            tags::SERIES_INSTANCE_UID,
            VR::UI,
            &cx.series_uid(SERIES_NUMBER),
        )
        .text(tags::SERIES_NUMBER, VR::IS, &SERIES_NUMBER.to_string())
        .text(tags::INSTANCE_NUMBER, VR::IS, &(index + 1).to_string())
        .text(
            tags::IMAGE_POSITION_PATIENT,
            VR::DS,
            &format!("{}\\{}\\{}", ds(x0, 3), ds(y0, 3), ds(z, 3)),
        )
        .text(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, "1\\0\\0\\0\\1\\0")
        .text(
            tags::FRAME_OF_REFERENCE_UID,
            VR::UI,
            &cx.frame_of_reference_uid(),
        )
        .text(tags::POSITION_REFERENCE_INDICATOR, VR::LO, "")
        .text(tags::SLICE_LOCATION, VR::DS, &ds(z, 3))
        .grayscale(SIZE, SIZE, 16, true)
        .text(
            tags::PIXEL_SPACING,
            VR::DS,
            &format!("{spacing}\\{spacing}"),
        )
        .ss(tags::PIXEL_PADDING_VALUE, PADDING)
        .text(tags::WINDOW_CENTER, VR::DS, "40")
        .text(tags::WINDOW_WIDTH, VR::DS, "80")
        .text(tags::WINDOW_CENTER_WIDTH_EXPLANATION, VR::LO, "BRAIN")
        .text(tags::RESCALE_INTERCEPT, VR::DS, &ds(RESCALE_INTERCEPT, 3))
        .text(tags::RESCALE_SLOPE, VR::DS, "1")
        .text(tags::RESCALE_TYPE, VR::LO, "HU")
        .pixels(PrimitiveValue::I16(pixels.into()));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_head_from_base_to_vertex() {
        assert_eq!(slice_z(0), FIRST_Z);
        let top = slice_z(SLICES - 1);
        assert!(top < head::HEAD.centre[2] + head::HEAD.radii[2]);
        assert!(top > head::HEAD.centre[2] + 0.8 * head::HEAD.radii[2]);
    }

    #[test]
    fn corner_is_padding_and_centre_is_brain() {
        let mut rng = Rng::for_label(1, "t");
        let px = slice_pixels(head::HAEMORRHAGE.centre[2], true, &mut rng);
        assert_eq!(px[0], PADDING);
        let size = usize::from(SIZE);
        let centre = px[size * size / 2 + size / 2];
        let hu = f64::from(centre) + RESCALE_INTERCEPT;
        assert!((hu - head::hu::WHITE).abs() <= 4.0 * NOISE_HU, "{hu}");
    }
}
