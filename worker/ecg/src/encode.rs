//! Writing ECGs as DICOM waveform objects: the one encoder behind the hub's WFDB import and the
//! synthetic sample ECGs.
//!
//! Channels are 16-bit signed samples (`SS`) in ORIGINAL multiplex groups, one group per
//! sampling rate and kind: the ECG leads first (`RHYTHM`), then the channels that are not ECG
//! leads (`OTHER SIGNALS`: blood pressure, respiration, …). An ECG lead carries its SCP-ECG lead
//! code (CID 3001); another channel a code of the local scheme `99REMOTEDX` naming it, so no
//! reader takes it for a lead. Every channel has its label (the full name in Channel Derivation
//! Description when longer than the label's 16 characters) and a sensitivity in its own unit
//! (UCUM: `mV`, `uV`, `mm[Hg]`, `{NU}` …), so [`crate::dicom::read_recording`] — and any DICOM
//! reader — gets back exactly the values that went in. WFDB records convert without loss: every
//! signal is kept; formats 16, 61, 80, 160 and 212 hold at most 16 bits, the header's baseline
//! is subtracted from the samples when the result still fits in 16 bits and written as Channel
//! Baseline otherwise, and `1 / gain` becomes the sensitivity. A record with no ECG lead is
//! refused ([`from_wfdb`]), naming its channels: the hub files ECGs, not other recordings.
//!
//! The storage SOP class follows the IOD limits of PS3.3 A.34: 12-Lead ECG (≤ 13 channels,
//! 200–1000 Hz, ≤ 16,384 samples), else General ECG (≤ 24 channels, 200–1000 Hz), else
//! Ambulatory ECG (≤ 12 channels, 50–1000 Hz), per group. A record whose groups fit no one
//! class (MIMIC's MCL1 at 500 Hz beside ABP and RESP at 125 Hz) is written as General ECG all the
//! same: keeping every channel comes before the IOD's 200 Hz floor.

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;

use crate::leads::standard_name;
use crate::units::Unit;
use crate::wfdb::Record;
use crate::{Ecg, EcgError};

/// Coding scheme of the Channel Source of channels that are not ECG leads (a private scheme,
/// PS3.3 8.2: designators beginning with `99`).
pub const LOCAL_SCHEME: &str = "99REMOTEDX";

/// Implementation Class UID written into the file meta of objects this crate makes.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.207136158418470437163936306112334081741";

/// One channel to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct OutChannel {
    /// Label as the source names it (`II`, `MLII`, `V5`, `ABP`, …).
    pub label: String,
    /// The samples.
    pub samples: Vec<i16>,
    /// [`OutChannel::unit`]s per sample unit (Channel Sensitivity).
    pub sensitivity: f64,
    /// Added after scaling, in [`OutChannel::unit`] (Channel Baseline); 0 when the samples
    /// are centred.
    pub baseline: f64,
    /// The unit of the channel's values.
    pub unit: Unit,
    /// Whether the channel is an ECG lead (coded with its SCP-ECG lead code) or another
    /// signal (coded in [`LOCAL_SCHEME`]).
    pub ecg: bool,
}

/// One multiplex group to encode: channels sharing a sampling rate and length.
#[derive(Debug, Clone, PartialEq)]
pub struct OutGroup {
    /// Sampling rate, Hz.
    pub fs: f64,
    /// The channels.
    pub channels: Vec<OutChannel>,
}

impl OutGroup {
    /// Samples per channel.
    pub fn len(&self) -> usize {
        self.channels.first().map_or(0, |c| c.samples.len())
    }

    /// Whether the group has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Multiplex Group Label: `RHYTHM` for ECG leads, `OTHER SIGNALS` otherwise.
    pub fn label(&self) -> &'static str {
        if self.channels.iter().all(|c| c.ecg) {
            "RHYTHM"
        } else {
            "OTHER SIGNALS"
        }
    }
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

/// The storage SOP class whose IOD admits every group (at most 5 groups for 12-Lead ECG, 4 for
/// General ECG, 1 for Ambulatory ECG), as (UID, name); General ECG when none does (see the
/// module doc), and why not when there is nothing to store.
pub fn sop_class_of(groups: &[OutGroup]) -> Result<(&'static str, &'static str), String> {
    let first = groups.first().ok_or("no multiplex group to store")?;
    if groups.len() == 1 {
        return sop_class(first.fs, first.channels.len(), first.len());
    }
    let classes: Vec<_> = groups
        .iter()
        .map(|g| sop_class(g.fs, g.channels.len(), g.len()))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let all = |name: &str| classes.len() == groups.len() && classes.iter().all(|c| c.1 == name);
    if all("12-Lead ECG") && groups.len() <= 5 {
        return Ok(classes[0]);
    }
    Ok((uids::GENERAL_ECG_WAVEFORM_STORAGE, "General ECG"))
}

/// Every signal of a WFDB record, without loss, in multiplex groups: the ECG leads at the rate
/// most of them share first ([`Record::ecg_signals`]), then one group per rate for the rest,
/// ECG leads apart from other signals; header order within a group. Refused, naming the
/// channels, when no signal is an ECG lead.
pub fn from_wfdb(record: &Record) -> Result<Vec<OutGroup>, EcgError> {
    let signals = &record.header.signals;
    if !signals.iter().any(|s| s.is_ecg()) {
        let names: Vec<String> = signals
            .iter()
            .map(|s| format!("{} [{}]", s.description.trim(), s.unit()))
            .collect();
        return Err(EcgError::Unusable(format!(
            "{}: no signal is an ECG lead (channels: {}); only ECG recordings are accepted",
            record.header_path.display(),
            names.join(", ")
        )));
    }
    let ecg = record.ecg_signals();
    let mut keys: Vec<(bool, usize)> = vec![(true, signals[ecg[0]].samples_per_frame)];
    for s in signals {
        let key = (s.is_ecg(), s.samples_per_frame);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.iter()
        .map(|&(is_ecg, spf)| {
            let idx = (0..signals.len())
                .filter(|&i| signals[i].is_ecg() == is_ecg && signals[i].samples_per_frame == spf);
            Ok(OutGroup {
                fs: record.header.fs * spf as f64,
                channels: idx
                    .map(|i| wfdb_channel(record, i))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Signal `i` of a record as a channel in its own unit, 16-bit samples.
fn wfdb_channel(record: &Record, i: usize) -> Result<OutChannel, EcgError> {
    let path = &record.header_path;
    let s = &record.header.signals[i];
    if !(s.gain.is_finite() && s.gain > 0.0) {
        return Err(EcgError::Header {
            path: path.clone(),
            line: i + 2,
            why: format!("signal {} has gain {}, which cannot be scaled", i, s.gain),
        });
    }
    let sensitivity = 1.0 / s.gain;
    let digital = &record.digital[i];
    let centred: Option<Vec<i16>> = digital
        .iter()
        .map(|&d| i16::try_from(i64::from(d) - i64::from(s.baseline)).ok())
        .collect();
    let (samples, baseline) = match centred {
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
            -f64::from(s.baseline) * sensitivity,
        ),
    };
    Ok(OutChannel {
        label: s.description.trim().to_owned(),
        samples,
        sensitivity,
        baseline,
        unit: s.unit(),
        ecg: s.is_ecg(),
    })
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
            sensitivity: uv_per_unit,
            baseline: 0.0,
            unit: Unit::Microvolt,
            ecg: true,
        })
        .collect()
}

/// The Waveform Sequence (5400,0100) with one ORIGINAL `RHYTHM` multiplex group of `channels`
/// sampled at `fs` Hz. All channels must have the same length.
pub fn waveform_sequence(
    fs: f64,
    channels: &[OutChannel],
) -> Result<DataElement<InMemDicomObject>, EcgError> {
    let label = if channels.iter().all(|c| c.ecg) {
        "RHYTHM"
    } else {
        "OTHER SIGNALS"
    };
    sequence(vec![group_item(fs, channels, label)?])
}

/// The Waveform Sequence (5400,0100) with one ORIGINAL multiplex group per item of `groups`.
pub fn waveform_sequence_of(
    groups: &[OutGroup],
) -> Result<DataElement<InMemDicomObject>, EcgError> {
    let items = groups
        .iter()
        .map(|g| group_item(g.fs, &g.channels, g.label()))
        .collect::<Result<Vec<_>, _>>()?;
    sequence(items)
}

fn sequence(items: Vec<InMemDicomObject>) -> Result<DataElement<InMemDicomObject>, EcgError> {
    if items.is_empty() {
        return Err(EcgError::Unusable("no multiplex group to encode".into()));
    }
    Ok(DataElement::new(
        tags::WAVEFORM_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(items),
    ))
}

/// One multiplex group item: `channels` at `fs` Hz under `label`.
fn group_item(fs: f64, channels: &[OutChannel], label: &str) -> Result<InMemDicomObject, EcgError> {
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
    put_text(&mut group, tags::MULTIPLEX_GROUP_LABEL, VR::SH, label);
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
    Ok(group)
}

/// A whole DICOM Part 10 file (Explicit VR Little Endian, UTF-8) holding `channels` at `fs` Hz
/// for `who`, in the SOP class [`sop_class`] picks.
pub fn part10(fs: f64, channels: &[OutChannel], who: &Identity) -> Result<Vec<u8>, EcgError> {
    let group = OutGroup {
        fs,
        channels: channels.to_vec(),
    };
    part10_groups(std::slice::from_ref(&group), who)
}

/// A whole DICOM Part 10 file (Explicit VR Little Endian, UTF-8) holding `groups` for `who`,
/// in the SOP class [`sop_class_of`] picks.
pub fn part10_groups(groups: &[OutGroup], who: &Identity) -> Result<Vec<u8>, EcgError> {
    let (class, _) = sop_class_of(groups).map_err(EcgError::Unusable)?;
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
    o.put(waveform_sequence_of(groups)?);
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

/// The Channel Source Sequence item: the SCP-ECG lead code of an ECG lead, a
/// [`LOCAL_SCHEME`] code naming any other signal.
fn channel_source(c: &OutChannel) -> InMemDicomObject {
    let mut source = InMemDicomObject::new_empty();
    if c.ecg {
        let (code, meaning) = lead_code(&c.label);
        put_text(&mut source, tags::CODE_VALUE, VR::SH, code);
        put_text(
            &mut source,
            tags::CODING_SCHEME_DESIGNATOR,
            VR::SH,
            "SCPECG",
        );
        put_text(&mut source, tags::CODING_SCHEME_VERSION, VR::SH, "1.3");
        put_text(&mut source, tags::CODE_MEANING, VR::LO, meaning);
    } else {
        let code: String = c
            .label
            .to_ascii_uppercase()
            .chars()
            .filter(|ch| ch.is_ascii_graphic() && *ch != '\\')
            .take(16)
            .collect();
        let code = if code.is_empty() {
            "SIGNAL".into()
        } else {
            code
        };
        put_text(&mut source, tags::CODE_VALUE, VR::SH, &code);
        put_text(
            &mut source,
            tags::CODING_SCHEME_DESIGNATOR,
            VR::SH,
            LOCAL_SCHEME,
        );
        let meaning: String = format!("{} (not an ECG lead)", c.label)
            .chars()
            .take(64)
            .collect();
        put_text(&mut source, tags::CODE_MEANING, VR::LO, &meaning);
    }
    source
}

fn channel_definition(index: usize, c: &OutChannel) -> InMemDicomObject {
    let source = channel_source(c);
    let mut units = InMemDicomObject::new_empty();
    put_text(&mut units, tags::CODE_VALUE, VR::SH, &c.unit.ucum());
    put_text(&mut units, tags::CODING_SCHEME_DESIGNATOR, VR::SH, "UCUM");
    put_text(&mut units, tags::CODE_MEANING, VR::LO, &c.unit.meaning());
    let mut d = InMemDicomObject::new_empty();
    put_text(
        &mut d,
        tags::WAVEFORM_CHANNEL_NUMBER,
        VR::IS,
        &(index + 1).to_string(),
    );
    let label: String = c.label.chars().take(16).collect();
    put_text(&mut d, tags::CHANNEL_LABEL, VR::SH, &label);
    if label != c.label {
        // The whole name, where the 16-character label cuts it.
        let full: String = c.label.chars().take(64).collect();
        put_text(&mut d, tags::CHANNEL_DERIVATION_DESCRIPTION, VR::LO, &full);
    }
    d.put(DataElement::new(
        tags::CHANNEL_SOURCE_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(vec![source]),
    ));
    put_text(
        &mut d,
        tags::CHANNEL_SENSITIVITY,
        VR::DS,
        &ds(c.sensitivity),
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
    put_text(&mut d, tags::CHANNEL_BASELINE, VR::DS, &ds(c.baseline));
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
