//! Resting 12-lead ECGs: worker-ecg's synthetic generator ([`worker_ecg::synth`]) written as
//! 12-Lead ECG Waveform Storage objects through worker-ecg's encoder
//! ([`worker_ecg::encode::waveform_sequence`], the same one the hub uses for WFDB uploads), with
//! this crate's Patient, Study and Equipment modules.
//!
//! 10 s, 12 leads, 500 Hz, 16-bit signed samples of 2.5 µV (a common device resolution).

use dicom_core::VR;
use dicom_dictionary_std::{tags, uids};
use worker_ecg::synth::{Spec, Synthetic, generate};

use super::{Builder, StudyContext};
use crate::plan::EcgFinding;
use crate::rng::Rng;
use crate::{Error, GeneratedFile};

/// Microvolts per sample unit.
pub const UV_PER_UNIT: f64 = 2.5;
/// Series Number.
pub const SERIES_NUMBER: u32 = 1;

/// What the generator is asked for, with a seed derived from the run's seed and the file.
pub fn spec(cx: &StudyContext<'_>, finding: EcgFinding) -> Spec {
    let base = match finding {
        EcgFinding::InferiorStElevation => Spec::st_elevation(),
        EcgFinding::AtrialFibrillation => Spec::af(),
    };
    Spec {
        seed: Rng::for_label(cx.seed, &file_path(cx)).next_u64() | 1,
        ..base
    }
}

/// The synthetic ECG and its truth.
pub fn synthetic(cx: &StudyContext<'_>, finding: EcgFinding) -> Synthetic {
    generate(&spec(cx, finding))
}

/// The file's path under the set.
pub fn file_path(cx: &StudyContext<'_>) -> String {
    format!("{}/ECG0001.dcm", cx.plan.folder())
}

/// The ECG as a DICOM file.
pub fn record(cx: &StudyContext<'_>, finding: EcgFinding) -> Result<GeneratedFile, Error> {
    let path = file_path(cx);
    let syn = synthetic(cx, finding);
    let channels = worker_ecg::encode::quantise(&syn.ecg, UV_PER_UNIT);
    let waveform = worker_ecg::encode::waveform_sequence(syn.ecg.fs, &channels).map_err(|e| {
        Error::Encode {
            what: path.clone(),
            reason: e.to_string(),
        }
    })?;
    let sop_uid = cx.sop_uid(SERIES_NUMBER, 1);
    let plan = cx.plan;
    let mut b = Builder::new();
    b.common(cx, uids::TWELVE_LEAD_ECG_WAVEFORM_STORAGE, &sop_uid)
        .text(tags::MODALITY, VR::CS, "ECG")
        .text(
            tags::STUDY_DESCRIPTION,
            VR::LO,
            "Resting 12-lead ECG (静息十二导联心电图)",
        )
        .text(tags::SERIES_DESCRIPTION, VR::LO, "Resting 12-lead")
        .text(tags::MANUFACTURER_MODEL_NAME, VR::LO, "Synthetic ECG-12")
        .text(
            tags::SERIES_INSTANCE_UID,
            VR::UI,
            &cx.series_uid(SERIES_NUMBER),
        )
        .text(tags::SERIES_NUMBER, VR::IS, &SERIES_NUMBER.to_string())
        .text(tags::INSTANCE_NUMBER, VR::IS, "1")
        .text(tags::CONTENT_DATE, VR::DA, plan.date)
        .text(tags::CONTENT_TIME, VR::TM, plan.time)
        .text(
            tags::ACQUISITION_DATE_TIME,
            VR::DT,
            &format!("{}{}", plan.date, plan.time),
        )
        .sequence(tags::ACQUISITION_CONTEXT_SEQUENCE, Vec::new())
        .element(waveform);
    let bytes = b.part10(&path)?;
    Ok(GeneratedFile {
        path,
        sop_instance_uid: sop_uid,
        series_number: SERIES_NUMBER,
        instance_number: 1,
        bytes,
    })
}
