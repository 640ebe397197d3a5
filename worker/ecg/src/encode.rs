//! Writing ECGs as DICOM waveform objects: the one encoder behind the hub's WFDB import and the
//! synthetic sample ECGs.
//!
//! Channels are 16-bit signed samples (`SS`) in one ORIGINAL `RHYTHM` multiplex group, each with
//! its SCP-ECG lead code (CID 3001), its label, and a sensitivity in µV per sample unit (UCUM
//! `uV`), so [`crate::read_dicom`] — and any DICOM reader — gets back exactly the microvolts that
//! went in. WFDB records convert without loss: formats 16, 61, 80, 160 and 212 hold at most 16
//! bits, the header's baseline is subtracted from the samples when the result still fits in 16
//! bits and written as Channel Baseline otherwise, and the gain becomes the sensitivity.
//!
//! The storage SOP class follows the IOD limits of PS3.3 A.34: 12-Lead ECG (≤ 13 channels,
//! 200–1000 Hz, ≤ 16,384 samples), else General ECG (≤ 24 channels, 200–1000 Hz), else
//! Ambulatory ECG (≤ 12 channels, 50–1000 Hz).

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;

use crate::leads::standard_name;
use crate::wfdb::Record;
use crate::{Ecg, EcgError};

/// Implementation Class UID written into the file meta of objects this crate makes.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.207136158418470437163936306112334081741";

/// One channel to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct OutChannel {
    /// Lead label as the source names it (`II`, `MLII`, `V5`, …).
    pub label: String,
    /// The samples.
    pub samples: Vec<i16>,
    /// Microvolts per sample unit.
    pub uv_per_unit: f64,
    /// Microvolts added after scaling (Channel Baseline); 0 when the samples are centred.
    pub baseline_uv: f64,
}

/// Who and what the object describes: the Patient, Study, Series, Equipment and SOP identities.
/// Empty strings are written as empty (Type 2) values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Patient ID.
    pub patient_id: String,
    /// Patient's Name (PN).
    pub patient_name: String,
    /// Patient's Sex (`M`, `F`, `O` or empty).
    pub patient_sex: String,
    /// Patient's Birth Date (YYYYMMDD or empty).
    pub patient_birth_date: String,
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// SOP Instance UID.
    pub sop_uid: String,
    /// Study ID.
    pub study_id: String,
    /// Study, content and acquisition date (YYYYMMDD; the ECG IODs require one).
    pub date: String,
    /// Study, content and acquisition time (HHMMSS; the ECG IODs require one).
    pub time: String,
    /// Institution Name.
    pub institution_name: String,
    /// Accession Number.
    pub accession_number: String,
    /// Study Description.
    pub study_description: String,
    /// Manufacturer.
    pub manufacturer: String,
}

/// The storage SOP class whose IOD admits `channels` channels of `samples` samples at `fs` Hz,
/// as (UID, name), or why none does.
pub fn sop_class(
    fs: f64,
    channels: usize,
    samples: usize,
) -> Result<(&'static str, &'static str), String> {
    let clinical_rate = (200.0..=1000.0).contains(&fs);
    if clinical_rate && (1..=13).contains(&channels) && samples <= 16_384 {
        Ok((uids::TWELVE_LEAD_ECG_WAVEFORM_STORAGE, "12-Lead ECG"))
    } else if clinical_rate && (1..=24).contains(&channels) {
        Ok((uids::GENERAL_ECG_WAVEFORM_STORAGE, "General ECG"))
    } else if (50.0..=1000.0).contains(&fs) && (1..=12).contains(&channels) {
        Ok((uids::AMBULATORY_ECG_WAVEFORM_STORAGE, "Ambulatory ECG"))
    } else {
        Err(format!(
            "{channels} channels at {fs} Hz fit no DICOM ECG object (12-Lead and General ECG take \
             200–1000 Hz and at most 13 / 24 channels, Ambulatory ECG 50–1000 Hz and at most 12)"
        ))
    }
}

/// The ECG channels of a WFDB record, without loss: every signal in voltage units sampled at the
/// frame rate (as [`Record::to_ecg`] chooses them).
pub fn from_wfdb(record: &Record) -> Result<Vec<OutChannel>, EcgError> {
    let path = record.header_path.clone();
    let mut out = Vec::new();
    for (i, s) in record.header.signals.iter().enumerate() {
        let to_uv = match s.units.to_ascii_lowercase().as_str() {
            "mv" => 1e3,
            "uv" | "µv" => 1.0,
            "v" => 1e6,
            _ => continue,
        };
        if s.samples_per_frame != 1 {
            continue;
        }
        if !(s.gain.is_finite() && s.gain > 0.0) {
            return Err(EcgError::Header {
                path: path.clone(),
                line: i + 2,
                why: format!("signal {} has gain {}, which cannot be scaled", i, s.gain),
            });
        }
        let uv_per_unit = to_uv / s.gain;
        let digital = &record.digital[i];
        let centred: Option<Vec<i16>> = digital
            .iter()
            .map(|&d| i16::try_from(d - s.baseline).ok())
            .collect();
        let (samples, baseline_uv) = match centred {
            Some(v) => (v, 0.0),
            None => (
                digital
                    .iter()
                    .map(|&d| i16::try_from(d))
                    .collect::<Result<Vec<i16>, _>>()
                    .map_err(|_| EcgError::Signal {
                        path: path.clone(),
                        why: format!("signal {i} ({}) has samples beyond 16 bits", s.description),
                    })?,
                -f64::from(s.baseline) * uv_per_unit,
            ),
        };
        out.push(OutChannel {
            label: s.description.clone(),
            samples,
            uv_per_unit,
            baseline_uv,
        });
    }
    if out.is_empty() {
        return Err(EcgError::Unusable(format!(
            "{}: no signal is in voltage units (mV, uV or V) at the frame rate",
            path.display()
        )));
    }
    Ok(out)
}

/// An [`Ecg`] quantised to `uv_per_unit` microvolts per sample unit (values beyond 16 bits are
/// clipped; 2.5 µV covers ±81 mV).
pub fn quantise(ecg: &Ecg, uv_per_unit: f64) -> Vec<OutChannel> {
    ecg.leads
        .iter()
        .map(|l| OutChannel {
            label: l.name.clone(),
            samples: l
                .samples_uv
                .iter()
                .map(|&v| {
                    (f64::from(v) / uv_per_unit)
                        .round()
                        .clamp(-32768.0, 32767.0) as i16
                })
                .collect(),
            uv_per_unit,
            baseline_uv: 0.0,
        })
        .collect()
}

/// The Waveform Sequence (5400,0100) with one ORIGINAL `RHYTHM` multiplex group of `channels`
/// sampled at `fs` Hz. All channels must have the same length.
pub fn waveform_sequence(
    fs: f64,
    channels: &[OutChannel],
) -> Result<DataElement<InMemDicomObject>, EcgError> {
    let n = channels.first().map_or(0, |c| c.samples.len());
    if channels.is_empty() || n == 0 {
        return Err(EcgError::Unusable("no samples to encode".into()));
    }
    if let Some(c) = channels.iter().find(|c| c.samples.len() != n) {
        return Err(EcgError::Unusable(format!(
            "lead {} has {} samples, the first lead {n}",
            c.label,
            c.samples.len()
        )));
    }
    if !(fs.is_finite() && fs > 0.0) {
        return Err(EcgError::Unusable(format!("sampling rate {fs} Hz")));
    }
    let bytes = n as u64 * channels.len() as u64 * 2;
    if bytes > u64::from(u32::MAX - 1) {
        return Err(EcgError::Unusable(format!(
            "{bytes} bytes of samples exceed one Waveform Data element"
        )));
    }
    let mut interleaved = Vec::with_capacity(n * channels.len());
    for s in 0..n {
        interleaved.extend(channels.iter().map(|c| c.samples[s]));
    }
    let definitions: Vec<InMemDicomObject> = channels
        .iter()
        .enumerate()
        .map(|(i, c)| channel_definition(i, c))
        .collect();
    let mut group = InMemDicomObject::new_empty();
    put_text(&mut group, tags::WAVEFORM_ORIGINALITY, VR::CS, "ORIGINAL");
    group.put(DataElement::new(
        tags::NUMBER_OF_WAVEFORM_CHANNELS,
        VR::US,
        PrimitiveValue::from(channels.len() as u16),
    ));
    group.put(DataElement::new(
        tags::NUMBER_OF_WAVEFORM_SAMPLES,
        VR::UL,
        PrimitiveValue::from(n as u32),
    ));
    put_text(&mut group, tags::SAMPLING_FREQUENCY, VR::DS, &ds(fs));
    put_text(&mut group, tags::MULTIPLEX_GROUP_LABEL, VR::SH, "RHYTHM");
    group.put(DataElement::new(
        tags::CHANNEL_DEFINITION_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(definitions),
    ));
    group.put(DataElement::new(
        tags::WAVEFORM_BITS_ALLOCATED,
        VR::US,
        PrimitiveValue::from(16u16),
    ));
    put_text(
        &mut group,
        tags::WAVEFORM_SAMPLE_INTERPRETATION,
        VR::CS,
        "SS",
    );
    group.put(DataElement::new(
        tags::WAVEFORM_DATA,
        VR::OW,
        PrimitiveValue::I16(interleaved.into()),
    ));
    Ok(DataElement::new(
        tags::WAVEFORM_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(vec![group]),
    ))
}

/// A whole DICOM Part 10 file (Explicit VR Little Endian, UTF-8) holding `channels` at `fs` Hz
/// for `who`, in the SOP class [`sop_class`] picks.
pub fn part10(fs: f64, channels: &[OutChannel], who: &Identity) -> Result<Vec<u8>, EcgError> {
    let n = channels.first().map_or(0, |c| c.samples.len());
    let (class, _) = sop_class(fs, channels.len(), n).map_err(EcgError::Unusable)?;
    if who.date.len() != 8 || who.time.len() < 6 {
        return Err(EcgError::Unusable(format!(
            "acquisition date {:?} / time {:?}: the ECG IODs need YYYYMMDD and HHMMSS",
            who.date, who.time
        )));
    }
    let mut o = InMemDicomObject::new_empty();
    let texts: [(Tag, VR, &str); 22] = [
        (tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
        (tags::SOP_CLASS_UID, VR::UI, class),
        (tags::SOP_INSTANCE_UID, VR::UI, &who.sop_uid),
        (tags::STUDY_DATE, VR::DA, &who.date),
        (tags::STUDY_TIME, VR::TM, &who.time),
        (tags::CONTENT_DATE, VR::DA, &who.date),
        (tags::CONTENT_TIME, VR::TM, &who.time),
        (tags::ACCESSION_NUMBER, VR::SH, &who.accession_number),
        (tags::MODALITY, VR::CS, "ECG"),
        (tags::MANUFACTURER, VR::LO, &who.manufacturer),
        (tags::INSTITUTION_NAME, VR::LO, &who.institution_name),
        (tags::REFERRING_PHYSICIAN_NAME, VR::PN, ""),
        (tags::STUDY_DESCRIPTION, VR::LO, &who.study_description),
        (tags::PATIENT_NAME, VR::PN, &who.patient_name),
        (tags::PATIENT_ID, VR::LO, &who.patient_id),
        (tags::PATIENT_BIRTH_DATE, VR::DA, &who.patient_birth_date),
        (tags::PATIENT_SEX, VR::CS, &who.patient_sex),
        (tags::STUDY_INSTANCE_UID, VR::UI, &who.study_uid),
        (tags::SERIES_INSTANCE_UID, VR::UI, &who.series_uid),
        (tags::STUDY_ID, VR::SH, &who.study_id),
        (tags::SERIES_NUMBER, VR::IS, "1"),
        (tags::INSTANCE_NUMBER, VR::IS, "1"),
    ];
    for (tag, vr, value) in texts {
        put_text(&mut o, tag, vr, value);
    }
    let acquired = format!("{}{}", who.date, who.time);
    put_text(&mut o, tags::ACQUISITION_DATE_TIME, VR::DT, &acquired);
    // Type 2 in the ECG IODs: present, empty.
    o.put(DataElement::new(
        tags::ACQUISITION_CONTEXT_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(Vec::<InMemDicomObject>::new()),
    ));
    o.put(waveform_sequence(fs, channels)?);
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name("REMOTEDX_ECG");
    let unusable = |e: &dyn std::fmt::Display| EcgError::Unusable(format!("DICOM encoding: {e}"));
    let file = o.with_meta(meta).map_err(|e| unusable(&e))?;
    let mut out = Vec::new();
    file.write_all(&mut out).map_err(|e| unusable(&e))?;
    Ok(out)
}

/// SCP-ECG lead code (PS3.16 CID 3001) and meaning of a label, `5.6.3-9-0` when it names no
/// standard lead.
pub fn lead_code(label: &str) -> (&'static str, &'static str) {
    match standard_name(label) {
        Some("I") => ("5.6.3-9-1", "Lead I"),
        Some("II") => ("5.6.3-9-2", "Lead II"),
        Some("V1") => ("5.6.3-9-3", "Lead V1"),
        Some("V2") => ("5.6.3-9-4", "Lead V2"),
        Some("V3") => ("5.6.3-9-5", "Lead V3"),
        Some("V4") => ("5.6.3-9-6", "Lead V4"),
        Some("V5") => ("5.6.3-9-7", "Lead V5"),
        Some("V6") => ("5.6.3-9-8", "Lead V6"),
        Some("III") => ("5.6.3-9-61", "Lead III"),
        Some("aVR") => ("5.6.3-9-62", "Lead aVR"),
        Some("aVL") => ("5.6.3-9-63", "Lead aVL"),
        Some("aVF") => ("5.6.3-9-64", "Lead aVF"),
        _ => ("5.6.3-9-0", "Unspecified lead"),
    }
}

fn channel_definition(index: usize, c: &OutChannel) -> InMemDicomObject {
    let (code, meaning) = lead_code(&c.label);
    let mut source = InMemDicomObject::new_empty();
    put_text(&mut source, tags::CODE_VALUE, VR::SH, code);
    put_text(
        &mut source,
        tags::CODING_SCHEME_DESIGNATOR,
        VR::SH,
        "SCPECG",
    );
    put_text(&mut source, tags::CODING_SCHEME_VERSION, VR::SH, "1.3");
    put_text(&mut source, tags::CODE_MEANING, VR::LO, meaning);
    let mut units = InMemDicomObject::new_empty();
    put_text(&mut units, tags::CODE_VALUE, VR::SH, "uV");
    put_text(&mut units, tags::CODING_SCHEME_DESIGNATOR, VR::SH, "UCUM");
    put_text(&mut units, tags::CODE_MEANING, VR::LO, "microvolt");
    let mut d = InMemDicomObject::new_empty();
    put_text(
        &mut d,
        tags::WAVEFORM_CHANNEL_NUMBER,
        VR::IS,
        &(index + 1).to_string(),
    );
    let label: String = c.label.chars().take(16).collect();
    put_text(&mut d, tags::CHANNEL_LABEL, VR::SH, &label);
    d.put(DataElement::new(
        tags::CHANNEL_SOURCE_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(vec![source]),
    ));
    put_text(
        &mut d,
        tags::CHANNEL_SENSITIVITY,
        VR::DS,
        &ds(c.uv_per_unit),
    );
    d.put(DataElement::new(
        tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(vec![units]),
    ));
    put_text(
        &mut d,
        tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR,
        VR::DS,
        "1",
    );
    put_text(&mut d, tags::CHANNEL_BASELINE, VR::DS, &ds(c.baseline_uv));
    put_text(&mut d, tags::CHANNEL_TIME_SKEW, VR::DS, "0");
    d.put(DataElement::new(
        tags::WAVEFORM_BITS_STORED,
        VR::US,
        PrimitiveValue::from(16u16),
    ));
    d
}

fn put_text(o: &mut InMemDicomObject, tag: Tag, vr: VR, value: &str) {
    o.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
}

/// A Decimal String of at most 16 characters: the shortest exact form when it fits, else
/// rounded to as many significant digits as fit.
fn ds(v: f64) -> String {
    let exact = format!("{v}");
    if exact.len() <= 16 {
        return exact;
    }
    (1..=10)
        .rev()
        .map(|digits| format!("{:.*e}", digits, v))
        .find(|s| s.len() <= 16)
        .unwrap_or_else(|| "0".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Spec, generate};

    #[test]
    fn sop_class_follows_the_iod_limits() {
        assert_eq!(sop_class(500.0, 12, 5000).unwrap().1, "12-Lead ECG");
        assert_eq!(sop_class(500.0, 12, 20_000).unwrap().1, "General ECG");
        assert_eq!(sop_class(360.0, 2, 650_000).unwrap().1, "General ECG");
        assert_eq!(sop_class(128.0, 2, 650_000).unwrap().1, "Ambulatory ECG");
        let err = sop_class(2000.0, 2, 100).unwrap_err();
        assert!(err.contains("2 channels at 2000 Hz"), "{err}");
    }

    #[test]
    fn decimal_strings_fit() {
        assert_eq!(ds(5.0), "5");
        assert_eq!(ds(4.8828125), "4.8828125");
        let third = ds(1.0 / 3.0);
        assert!(third.len() <= 16 && third.starts_with("3.33"), "{third}");
    }

    #[test]
    fn synthetic_ecg_round_trips_through_part10() {
        let syn = generate(&Spec::normal());
        let channels = quantise(&syn.ecg, 2.5);
        let who = Identity {
            patient_id: "P1".into(),
            study_uid: "2.25.1".into(),
            series_uid: "2.25.1.1".into(),
            sop_uid: "2.25.1.1.1".into(),
            date: "20261130".into(),
            time: "101500".into(),
            ..Identity::default()
        };
        let bytes = part10(syn.ecg.fs, &channels, &who).unwrap();
        let dir = std::env::temp_dir().join(format!("ecg-encode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("syn.dcm");
        std::fs::write(&path, &bytes).unwrap();
        let back = crate::read_dicom(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.fs, syn.ecg.fs);
        let names: Vec<&str> = back.leads.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names.len(), 12);
        for (a, b) in back.leads.iter().zip(&syn.ecg.leads) {
            assert_eq!(standard_name(&a.name), standard_name(&b.name), "{names:?}");
            let worst = a
                .samples_uv
                .iter()
                .zip(&b.samples_uv)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst <= 1.25 + 1e-3, "lead {}: off by {worst} µV", a.name);
        }
    }
}
