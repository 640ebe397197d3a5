//! DICOM encoding: the modules every sample instance shares and the Part 10 writer.
//!
//! - [`ct`]: the CT head series (CT Image Storage).
//! - [`dx`]: the chest radiograph (Digital X-Ray Image Storage - For Presentation).
//! - [`ecg`]: resting 12-lead ECGs (12-Lead ECG Waveform Storage) from worker-ecg's generator.
//!
//! Files are written in Explicit VR Little Endian with Specific Character Set "ISO_IR 192"
//! (UTF-8), so Patient's Name can carry its ideographic component group.

pub mod ct;
pub mod dx;
pub mod ecg;

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;
use sha2::{Digest, Sha256};

use crate::plan::{CLINICS, PATIENTS, StudyPlan};
use crate::{Error, uid};

/// Manufacturer (0008,0070) of every sample instance.
pub const MANUFACTURER: &str = "remotedx-synthetic";

/// Where a study's UIDs and numbers come from.
#[derive(Debug, Clone, Copy)]
pub struct StudyContext<'a> {
    /// The seed of the run.
    pub seed: u64,
    /// The UID root of the run.
    pub root: &'a str,
    /// The study.
    pub plan: &'a StudyPlan,
}

impl StudyContext<'_> {
    /// Study Instance UID: `<root>.<study>`.
    pub fn study_uid(&self) -> String {
        uid::under(self.root, &[self.plan.number])
    }

    /// Series Instance UID: `<root>.<study>.<series>`.
    pub fn series_uid(&self, series: u32) -> String {
        uid::under(self.root, &[self.plan.number, series])
    }

    /// SOP Instance UID: `<root>.<study>.<series>.<instance>`.
    pub fn sop_uid(&self, series: u32, instance: u32) -> String {
        uid::under(self.root, &[self.plan.number, series, instance])
    }

    /// Frame of Reference UID: `<root>.<study>.0.1` (series numbers start at 1, so no clash).
    pub fn frame_of_reference_uid(&self) -> String {
        uid::under(self.root, &[self.plan.number, 0, 1])
    }

    /// Accession Number: clinic prefix, study date (YYMMDD) and four digits from the seed.
    pub fn accession_number(&self) -> String {
        let digest = Sha256::digest(format!("accession:{}:{}", self.seed, self.plan.number));
        let n = u16::from_le_bytes([digest[0], digest[1]]) % 10_000;
        let prefix = CLINICS[self.plan.clinic].accession_prefix;
        format!("{prefix}{}{n:04}", &self.plan.date[2..])
    }
}

/// A data set under construction.
pub(crate) struct Builder(InMemDicomObject);

impl Builder {
    pub(crate) fn new() -> Self {
        Builder(InMemDicomObject::new_empty())
    }

    /// A text element (one value, or several separated by `\`).
    pub(crate) fn text(&mut self, tag: Tag, vr: VR, value: &str) -> &mut Self {
        let value = if value.contains('\\') {
            PrimitiveValue::Strs(value.split('\\').map(str::to_owned).collect())
        } else {
            PrimitiveValue::from(value)
        };
        self.0.put(DataElement::new(tag, vr, value));
        self
    }

    /// An unsigned short (US).
    pub(crate) fn us(&mut self, tag: Tag, value: u16) -> &mut Self {
        self.0
            .put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
        self
    }

    /// A signed short (SS).
    pub(crate) fn ss(&mut self, tag: Tag, value: i16) -> &mut Self {
        self.0
            .put(DataElement::new(tag, VR::SS, PrimitiveValue::from(value)));
        self
    }

    /// A sequence (SQ) of the given items (none for an empty Type 2 sequence).
    pub(crate) fn sequence(&mut self, tag: Tag, items: Vec<Builder>) -> &mut Self {
        let items: Vec<InMemDicomObject> = items.into_iter().map(|b| b.0).collect();
        self.0
            .put(DataElement::new(tag, VR::SQ, DataSetSequence::from(items)));
        self
    }

    /// A code sequence item (Code Value, Coding Scheme Designator, Code Meaning).
    pub(crate) fn code(value: &str, scheme: &str, meaning: &str) -> Builder {
        let mut item = Builder::new();
        item.text(tags::CODE_VALUE, VR::SH, value)
            .text(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme)
            .text(tags::CODE_MEANING, VR::LO, meaning);
        item
    }

    /// Pixel data (OW) from any primitive value (I16 or U16).
    pub(crate) fn pixels(&mut self, value: PrimitiveValue) -> &mut Self {
        self.0
            .put(DataElement::new(tags::PIXEL_DATA, VR::OW, value));
        self
    }

    /// The SOP Common, Patient, General Study and General Equipment modules, shared by every
    /// instance.
    pub(crate) fn common(
        &mut self,
        cx: &StudyContext<'_>,
        sop_class: &str,
        sop_uid: &str,
    ) -> &mut Self {
        let plan = cx.plan;
        let patient = &PATIENTS[plan.patient];
        let clinic = &CLINICS[plan.clinic];
        self.text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192")
            .text(tags::SOP_CLASS_UID, VR::UI, sop_class)
            .text(tags::SOP_INSTANCE_UID, VR::UI, sop_uid)
            .text(tags::INSTANCE_CREATION_DATE, VR::DA, plan.date)
            .text(tags::INSTANCE_CREATION_TIME, VR::TM, plan.time)
            .text(tags::PATIENT_NAME, VR::PN, patient.name)
            .text(tags::PATIENT_ID, VR::LO, &patient.patient_id())
            .text(tags::PATIENT_BIRTH_DATE, VR::DA, patient.birth_date)
            .text(tags::PATIENT_SEX, VR::CS, patient.sex)
            .text(
                tags::PATIENT_AGE,
                VR::AS,
                &age_string(patient.birth_date, plan.date),
            )
            .text(tags::STUDY_INSTANCE_UID, VR::UI, &cx.study_uid())
            .text(tags::STUDY_DATE, VR::DA, plan.date)
            .text(tags::STUDY_TIME, VR::TM, plan.time)
            .text(tags::REFERRING_PHYSICIAN_NAME, VR::PN, plan.referring)
            .text(tags::STUDY_ID, VR::SH, &plan.number.to_string())
            .text(tags::ACCESSION_NUMBER, VR::SH, &cx.accession_number())
            .text(tags::MANUFACTURER, VR::LO, MANUFACTURER)
            .text(tags::INSTITUTION_NAME, VR::LO, clinic.name)
            .text(tags::INSTITUTION_ADDRESS, VR::ST, clinic.address)
            .text(tags::STATION_NAME, VR::SH, clinic.station)
            .text(
                tags::DEVICE_SERIAL_NUMBER,
                VR::LO,
                &format!("SYN-{}", clinic.slug.to_ascii_uppercase()),
            )
            .text(tags::SOFTWARE_VERSIONS, VR::LO, env!("CARGO_PKG_VERSION"))
    }

    /// The General Image attributes every sample image shares (not part of waveform objects).
    pub(crate) fn image_common(&mut self) -> &mut Self {
        self.text(tags::BURNED_IN_ANNOTATION, VR::CS, "NO").text(
            tags::LOSSY_IMAGE_COMPRESSION,
            VR::CS,
            "00",
        )
    }

    /// Any prepared element (such as a Waveform Sequence).
    pub(crate) fn element(&mut self, element: DataElement<InMemDicomObject>) -> &mut Self {
        self.0.put(element);
        self
    }

    /// Grayscale Image Pixel module attributes other than Pixel Data.
    pub(crate) fn grayscale(
        &mut self,
        rows: u16,
        columns: u16,
        bits_stored: u16,
        signed: bool,
    ) -> &mut Self {
        self.us(tags::SAMPLES_PER_PIXEL, 1)
            .text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2")
            .us(tags::ROWS, rows)
            .us(tags::COLUMNS, columns)
            .us(tags::BITS_ALLOCATED, 16)
            .us(tags::BITS_STORED, bits_stored)
            .us(tags::HIGH_BIT, bits_stored - 1)
            .us(tags::PIXEL_REPRESENTATION, u16::from(signed))
    }

    /// Encodes the data set as a DICOM Part 10 file in Explicit VR Little Endian.
    pub(crate) fn part10(self, what: &str) -> Result<Vec<u8>, Error> {
        let meta = FileMetaTableBuilder::new()
            .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
            .implementation_class_uid(uid::IMPLEMENTATION_CLASS_UID)
            .implementation_version_name(uid::IMPLEMENTATION_VERSION_NAME);
        let file = self.0.with_meta(meta).map_err(|e| Error::Encode {
            what: what.to_owned(),
            reason: e.to_string(),
        })?;
        let mut out = Vec::new();
        file.write_all(&mut out).map_err(|e| Error::Encode {
            what: what.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(out)
    }
}

/// Patient's Age (AS) at the study date, e.g. "068Y".
pub fn age_string(birth_date: &str, study_date: &str) -> String {
    let year = |d: &str| d[..4].parse::<i32>().unwrap_or(0);
    let mut years = year(study_date) - year(birth_date);
    if study_date[4..] < birth_date[4..] {
        years -= 1;
    }
    format!("{:03}Y", years.max(0))
}

/// A decimal string (DS) with at most `decimals` decimals and no trailing zeros.
pub fn ds(value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_birthdays() {
        assert_eq!(age_string("19580304", "20260512"), "068Y");
        assert_eq!(age_string("19580604", "20260512"), "067Y");
        assert_eq!(age_string("19580512", "20260512"), "068Y");
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(ds(0.9, 3), "0.9");
        assert_eq!(ds(-114.75, 3), "-114.75");
        assert_eq!(ds(5.0, 3), "5");
        assert_eq!(ds(-0.0001, 2), "0");
    }
}
