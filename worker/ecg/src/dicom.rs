//! DICOM waveform objects (12-Lead ECG, General ECG, Hemodynamic and other Waveform IODs):
//! the Waveform Sequence's multiplex groups, their channel definitions, and the device's own
//! measurements from the Waveform Annotation Sequence.
//!
//! Scaling (PS3.3 C.10.9.1.4): a channel's value is `sample × Channel Sensitivity × Channel
//! Sensitivity Correction Factor + Channel Baseline`, in the units of the Channel Sensitivity
//! Units Sequence (UCUM `uV`, `mV`, `V`, `nV` are converted to µV; other units are kept).
//!
//! Which channels are ECG leads: a voltage channel coded with an SCP-ECG or MDC lead code, or
//! one whose name is not that of another signal ([`crate::leads::is_ecg`]); channels in other
//! units (mmHg on a hemodynamic object) or named as other signals (`RESP`, coded in
//! [`crate::encode::LOCAL_SCHEME`] by our encoder) are not, and never enter an [`Ecg`]: they come
//! back as [`OtherChannel`]s from [`read_recording`].
//! Samples equal to Waveform Padding Value read as 0 µV. 8-bit µ-law (`MB`) and A-law (`AB`)
//! samples are expanded with ITU-T G.711 to 14-bit and 13-bit linear values before scaling.

use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use crate::error::EcgError;
use crate::leads::{display_name, is_ecg, standard_name};
use crate::units::Unit;
use crate::{DeviceMeasurements, Ecg, Lead, OtherChannel, Recording};

/// One channel of a multiplex group.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Lead or channel name: for ECG leads [`display_name`] of the label (or of the lead
    /// code's meaning), for other channels the label as stated (the Channel Derivation
    /// Description where it holds the whole of a cut label).
    pub name: String,
    /// Samples in the channel's units scaled to µV when the units are a voltage.
    pub samples: Vec<f32>,
    /// Whether the units were a voltage (samples are µV).
    pub voltage: bool,
    /// Units code value as stated (`uV`, `mV`, `mm[Hg]`, …).
    pub units: String,
    /// The unit of the samples: [`Unit::Microvolt`] for any voltage, else the stated unit.
    pub unit: Unit,
    /// Whether the channel is an ECG lead (see the module doc).
    pub ecg: bool,
}

/// One item of the Waveform Sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiplexGroup {
    /// Multiplex Group Label (`RHYTHM`, `MEDIAN BEAT`, …), empty when absent.
    pub label: String,
    /// Waveform Originality (`ORIGINAL` or `DERIVED`).
    pub originality: String,
    /// Sampling Frequency, Hz.
    pub fs: f64,
    /// The channels.
    pub channels: Vec<Channel>,
}

/// Opens a DICOM file and reads its waveform groups and device measurements.
pub fn read_waveforms(path: &Path) -> Result<(Vec<MultiplexGroup>, DeviceMeasurements), EcgError> {
    let obj = open_checked(path)?;
    let items = obj
        .get(tags::WAVEFORM_SEQUENCE)
        .and_then(|e| e.items())
        .ok_or_else(|| EcgError::Dicom {
            path: path.to_path_buf(),
            why: "no Waveform Sequence (5400,0100): not a waveform object".into(),
        })?;
    let groups = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            group(item).map_err(|(field, why)| EcgError::Waveform {
                path: path.to_path_buf(),
                group: i,
                field,
                why,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let device = device_measurements(&obj, &groups);
    Ok((groups, device))
}

/// Opens a DICOM file for the readers of this crate: the structural walk of `dicom-check` first
/// (every element length, at every nesting level, must fit inside its item and the file), then
/// dicom-object parses only the checked bytes. A crafted length is refused by name instead of
/// making the parser allocate the gigabytes it claims (found by fuzzing, `fuzz/`).
pub(crate) fn open_checked(path: &Path) -> Result<InMemDicomObject, EcgError> {
    let refused = |why: String| EcgError::Dicom {
        path: path.to_path_buf(),
        why,
    };
    let checked = dicom_check::read_checked(path, &|_| true).map_err(|e| {
        refused(match e {
            dicom_check::CheckError::Io { source, .. } => format!("cannot read the file: {source}"),
            dicom_check::CheckError::InflatesTooLarge { limit, .. } => format!(
                "its deflated data set inflates to more than {limit} bytes; send it uncompressed"
            ),
            dicom_check::CheckError::Malformed { reason, .. } => format!(
                "not a well-formed DICOM object ({reason}); the file is damaged or was cut \
                 short: export it again from the ECG cart or archive and resend it"
            ),
        })
    })?;
    let waveforms = (tags::WAVEFORM_SEQUENCE.0, tags::WAVEFORM_SEQUENCE.1);
    if checked.left_out.contains(&waveforms) {
        return Err(refused(
            "the Waveform Sequence (5400,0100) is malformed: an element inside it claims more \
             bytes than its item holds; export the ECG again from the cart and resend it"
                .into(),
        ));
    }
    Ok(checked.attributes)
}

/// Reads a DICOM ECG: the ECG leads of the original (non-derived) group with the most ECG
/// leads, the longest on a tie (usually `RHYTHM`), become the [`Ecg`]; the device's
/// measurements come along. Channels that are not ECG leads are never in it.
pub fn read_dicom(path: &Path) -> Result<Ecg, EcgError> {
    read_recording(path).map(|r| r.ecg)
}

/// Reads a DICOM ECG as [`read_dicom`] does, with every original channel that is not in the
/// [`Ecg`] (other signals, ECG leads of other groups) as an [`OtherChannel`], in file order.
/// Derived groups (median beats) are left out.
pub fn read_recording(path: &Path) -> Result<Recording, EcgError> {
    let (groups, device) = read_waveforms(path)?;
    let pick = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.channels.iter().any(|c| c.ecg))
        .max_by_key(|(_, g)| {
            (
                g.originality != "DERIVED",
                g.channels.iter().filter(|c| c.ecg).count(),
                g.channels.first().map_or(0, |c| c.samples.len()),
            )
        })
        .map(|(i, _)| i)
        .ok_or_else(|| EcgError::Dicom {
            path: path.to_path_buf(),
            why: "no multiplex group has an ECG lead (a channel in voltage units that names no \
                  other signal)"
                .into(),
        })?;
    let fs = groups[pick].fs;
    let mut others = Vec::new();
    let mut leads = Vec::new();
    for (i, g) in groups.into_iter().enumerate() {
        if i != pick && g.originality == "DERIVED" {
            continue;
        }
        for c in g.channels {
            if i == pick && c.ecg {
                leads.push(Lead {
                    name: c.name,
                    samples_uv: c.samples,
                });
            } else {
                others.push(OtherChannel {
                    name: c.name,
                    unit: c.unit,
                    fs: g.fs,
                    samples: c.samples,
                });
            }
        }
    }
    Ok(Recording {
        ecg: Ecg {
            fs,
            leads,
            device: Some(device),
        },
        others,
    })
}

type FieldError = (&'static str, String);

fn text(o: &InMemDicomObject, tag: dicom_core::Tag) -> Option<String> {
    o.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches([' ', '\0']).to_string())
}

fn num(
    o: &InMemDicomObject,
    tag: dicom_core::Tag,
    field: &'static str,
) -> Result<Option<f64>, FieldError> {
    match o.get(tag) {
        None => Ok(None),
        Some(e) if e.header().len.0 == 0 => Ok(None),
        Some(e) => e
            .to_float64()
            .map(Some)
            .map_err(|err| (field, format!("not a number: {err}"))),
    }
}

fn required(
    o: &InMemDicomObject,
    tag: dicom_core::Tag,
    field: &'static str,
) -> Result<f64, FieldError> {
    num(o, tag, field)?.ok_or((field, "missing".to_string()))
}

fn code_meaning(o: &InMemDicomObject, seq: dicom_core::Tag) -> Option<(String, String)> {
    let item = o.get(seq)?.items()?.first()?;
    Some((
        text(item, tags::CODE_VALUE).unwrap_or_default(),
        text(item, tags::CODE_MEANING).unwrap_or_default(),
    ))
}

/// Decodes one sample from its little-endian bytes.
type SampleDecoder = fn(&[u8]) -> i32;

/// Sample interpretation → (bytes per sample, decoder).
fn decoder(interp: &str) -> Option<(usize, SampleDecoder)> {
    Some(match interp {
        "SS" => (2, |b| i16::from_le_bytes([b[0], b[1]]) as i32),
        "US" => (2, |b| u16::from_le_bytes([b[0], b[1]]) as i32),
        "SB" => (1, |b| b[0] as i8 as i32),
        "UB" => (1, |b| b[0] as i32),
        "MB" => (1, |b| mu_law(b[0])),
        "AB" => (1, |b| a_law(b[0])),
        "SL" => (4, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => return None,
    })
}

/// ITU-T G.711 µ-law expansion to a 14-bit linear value.
pub fn mu_law(b: u8) -> i32 {
    let u = !b;
    let exp = (u >> 4) & 7;
    let mag = ((((u & 0x0f) as i32) << 3) + 0x84) << exp;
    // The 16-bit-scaled G.711 value divided by 4: the 14-bit linear code.
    let v = (mag - 0x84) >> 2;
    if u & 0x80 != 0 { -v } else { v }
}

/// ITU-T G.711 A-law expansion to a 13-bit linear value.
pub fn a_law(b: u8) -> i32 {
    let a = b ^ 0x55;
    let exp = (a >> 4) & 7;
    let man = (a & 0x0f) as i32;
    let mag = if exp == 0 {
        (man << 4) + 8
    } else {
        ((man << 4) + 0x108) << (exp - 1)
    };
    // The 16-bit-scaled G.711 value divided by 8: the 13-bit linear code.
    let mag = mag >> 3;
    if a & 0x80 != 0 { mag } else { -mag }
}

fn group(item: &InMemDicomObject) -> Result<MultiplexGroup, FieldError> {
    let n_ch = required(
        item,
        tags::NUMBER_OF_WAVEFORM_CHANNELS,
        "NumberOfWaveformChannels",
    )? as usize;
    let n_s = required(
        item,
        tags::NUMBER_OF_WAVEFORM_SAMPLES,
        "NumberOfWaveformSamples",
    )? as usize;
    let fs = required(item, tags::SAMPLING_FREQUENCY, "SamplingFrequency")?;
    if !(fs > 0.0 && fs.is_finite()) {
        return Err((
            "SamplingFrequency",
            format!("{fs} Hz is not a positive rate"),
        ));
    }
    if n_ch == 0 {
        return Err(("NumberOfWaveformChannels", "zero channels".into()));
    }
    let interp = text(item, tags::WAVEFORM_SAMPLE_INTERPRETATION)
        .ok_or(("WaveformSampleInterpretation", "missing".to_string()))?;
    let (width, dec) = decoder(&interp).ok_or((
        "WaveformSampleInterpretation",
        format!("unknown sample interpretation {interp:?} (SS, US, SB, UB, MB, AB, SL are known)"),
    ))?;
    let bits = required(item, tags::WAVEFORM_BITS_ALLOCATED, "WaveformBitsAllocated")? as usize;
    if bits != width * 8 {
        return Err((
            "WaveformBitsAllocated",
            format!(
                "{bits} bits but interpretation {interp} needs {}",
                width * 8
            ),
        ));
    }
    let data = item
        .get(tags::WAVEFORM_DATA)
        .ok_or(("WaveformData", "missing".to_string()))?
        .to_bytes()
        .map_err(|e| ("WaveformData", e.to_string()))?;
    let need = n_ch
        .checked_mul(n_s)
        .and_then(|v| v.checked_mul(width))
        .ok_or((
            "NumberOfWaveformSamples",
            format!("{n_ch} x {n_s} samples overflow"),
        ))?;
    if data.len() != need && data.len() != need + 1 {
        return Err((
            "WaveformData",
            format!(
                "{} bytes, but {n_ch} channels x {n_s} samples x {width} bytes = {need}",
                data.len()
            ),
        ));
    }
    let defs = item
        .get(tags::CHANNEL_DEFINITION_SEQUENCE)
        .and_then(|e| e.items())
        .ok_or(("ChannelDefinitionSequence", "missing".to_string()))?;
    if defs.len() != n_ch {
        return Err((
            "ChannelDefinitionSequence",
            format!("{} items for {n_ch} channels", defs.len()),
        ));
    }
    let padding = item
        .get(tags::WAVEFORM_PADDING_VALUE)
        .and_then(|e| e.to_bytes().ok())
        .filter(|b| b.len() >= width)
        .map(|b| dec(&b[..width]));
    let channels = defs
        .iter()
        .enumerate()
        .map(|(c, def)| channel(def, c, &data, n_ch, n_s, width, dec, padding))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MultiplexGroup {
        label: text(item, tags::MULTIPLEX_GROUP_LABEL).unwrap_or_default(),
        originality: text(item, tags::WAVEFORM_ORIGINALITY).unwrap_or_default(),
        fs,
        channels,
    })
}

#[allow(clippy::too_many_arguments)]
fn channel(
    def: &InMemDicomObject,
    c: usize,
    data: &[u8],
    n_ch: usize,
    n_s: usize,
    width: usize,
    dec: SampleDecoder,
    padding: Option<i32>,
) -> Result<Channel, FieldError> {
    let source = channel_source(def);
    let name = channel_name(def, &source, c);
    let sens = num(def, tags::CHANNEL_SENSITIVITY, "ChannelSensitivity")?.unwrap_or(1.0);
    let cf = num(
        def,
        tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR,
        "ChannelSensitivityCorrectionFactor",
    )?
    .unwrap_or(1.0);
    let base = num(def, tags::CHANNEL_BASELINE, "ChannelBaseline")?.unwrap_or(0.0);
    let units = code_meaning(def, tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE)
        .map(|(v, _)| v)
        .unwrap_or_else(|| "uV".into());
    let stated = Unit::from_ucum(&units);
    let to_uv = stated.microvolts();
    // A specific lead code settles it; "Unspecified lead" (which objects written before the
    // channels were told apart carry on RESP) leaves it to the name.
    let lead_coded =
        matches!(source.scheme.as_str(), "SCPECG" | "MDC") && source.code != "5.6.3-9-0";
    let ecg = to_uv.is_some() && (lead_coded || is_ecg(&name, &stated));
    let name = if ecg { display_name(&name) } else { name };
    let k = sens * cf * to_uv.unwrap_or(1.0);
    let b = base * to_uv.unwrap_or(1.0);
    let stride = n_ch * width;
    let samples = (0..n_s)
        .map(|s| {
            let o = s * stride + c * width;
            let v = dec(&data[o..o + width]);
            if Some(v) == padding {
                0.0
            } else {
                (v as f64 * k + b) as f32
            }
        })
        .collect();
    Ok(Channel {
        name,
        samples,
        voltage: to_uv.is_some(),
        unit: if to_uv.is_some() {
            Unit::Microvolt
        } else {
            stated
        },
        units,
        ecg,
    })
}

/// A channel's Channel Source code.
struct Source {
    scheme: String,
    code: String,
    meaning: Option<String>,
}

fn channel_source(def: &InMemDicomObject) -> Source {
    let item = def
        .get(tags::CHANNEL_SOURCE_SEQUENCE)
        .and_then(|e| e.items())
        .and_then(|i| i.first());
    Source {
        scheme: item
            .and_then(|i| text(i, tags::CODING_SCHEME_DESIGNATOR))
            .unwrap_or_default(),
        code: item
            .and_then(|i| text(i, tags::CODE_VALUE))
            .unwrap_or_default(),
        meaning: item
            .and_then(|i| text(i, tags::CODE_MEANING))
            .filter(|m| !m.is_empty()),
    }
}

/// The label ("MLII", "V5" under "Unspecified lead"; the Channel Derivation Description when
/// it holds the whole of a cut label), else the lead code's meaning when it names a standard
/// lead the label does not, else whatever the code says.
fn channel_name(def: &InMemDicomObject, source: &Source, c: usize) -> String {
    let label = text(def, tags::CHANNEL_LABEL).filter(|l| !l.is_empty());
    let label = match (label, text(def, tags::CHANNEL_DERIVATION_DESCRIPTION)) {
        (Some(l), Some(full)) if full.len() > l.len() && full.starts_with(&l) => Some(full),
        (l, _) => l,
    };
    let coded = source
        .meaning
        .as_deref()
        .and_then(standard_name)
        .filter(|_| source.scheme != crate::encode::LOCAL_SCHEME);
    match (label, coded) {
        (Some(l), Some(std)) if standard_name(&l) != Some(std) => std.to_owned(),
        (Some(l), _) => l,
        (None, Some(std)) => std.to_owned(),
        (None, None) => source
            .meaning
            .clone()
            .unwrap_or_else(|| format!("channel {}", c + 1)),
    }
}

/// The device's interval measurements, statements and per-beat QRS fiducials.
///
/// Per-beat fiducials: the `Fiducial Point` annotations that point into the rhythm group.
/// Mortara writes the median beat's fiducial first (annotation group 2, an index into the
/// median beat although it references the rhythm group); when a MEDIAN BEAT group exists, the
/// fiducials of the annotation group of the first one are taken as the median beat's and left
/// out.
fn device_measurements(obj: &InMemDicomObject, groups: &[MultiplexGroup]) -> DeviceMeasurements {
    let mut d = DeviceMeasurements::default();
    let Some(items) = obj
        .get(tags::WAVEFORM_ANNOTATION_SEQUENCE)
        .and_then(|e| e.items())
    else {
        return d;
    };
    let mut fiducials: Vec<(u32, usize)> = Vec::new();
    for a in items {
        if let Some(t) = text(a, tags::UNFORMATTED_TEXT_VALUE).filter(|t| !t.is_empty()) {
            d.statements.push(t);
        }
        let Some((_, meaning)) = code_meaning(a, tags::CONCEPT_NAME_CODE_SEQUENCE) else {
            continue;
        };
        let value = num(a, tags::NUMERIC_VALUE, "NumericValue").ok().flatten();
        let slot = match meaning.to_ascii_lowercase().as_str() {
            "rr interval" => &mut d.rr_ms,
            "pr interval" => &mut d.pr_ms,
            "qrs duration" => &mut d.qrs_ms,
            "qt interval" => &mut d.qt_ms,
            "qtc interval" => &mut d.qtc_ms,
            "heart rate" | "ventricular rate" | "ventricular heart rate" => &mut d.hr_bpm,
            _ if a.get(tags::REFERENCED_SAMPLE_POSITIONS).is_some() => {
                let g = a
                    .get(tags::ANNOTATION_GROUP_NUMBER)
                    .and_then(|e| e.to_int::<u32>().ok())
                    .unwrap_or(0);
                if let Some(p) = a
                    .get(tags::REFERENCED_SAMPLE_POSITIONS)
                    .and_then(|e| e.to_multi_int::<u32>().ok())
                    .and_then(|v| v.first().copied())
                {
                    // Sample positions are 1-based (PS3.3 C.10.10.1.1).
                    let sample = (p as usize).saturating_sub(1);
                    if meaning.eq_ignore_ascii_case("fiducial point") {
                        fiducials.push((g, sample));
                    }
                    d.fiducials.push(crate::DeviceFiducial {
                        name: meaning.clone(),
                        group: g,
                        sample,
                    });
                }
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = value.filter(|v| *v > 0.0);
        }
    }
    let has_median = groups
        .iter()
        .any(|g| g.label.to_ascii_uppercase().contains("MEDIAN"));
    if has_median
        && fiducials.len() > 1
        && let Some(&(g0, _)) = fiducials.first()
    {
        fiducials.retain(|&(g, _)| g != g0);
    }
    d.qrs_samples = fiducials.into_iter().map(|(_, p)| p).collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_expansion() {
        // µ-law 0xff and 0x7f are +0 and -0; 0x80 is the largest positive, 0x00 the most negative.
        assert_eq!(mu_law(0xff), 0);
        assert_eq!(mu_law(0x80), 8031);
        assert_eq!(mu_law(0x00), -8031);
        // A-law 0xd5 is the smallest positive step (+1), 0x55 the smallest negative.
        assert_eq!(a_law(0xd5), 1);
        assert_eq!(a_law(0x55), -1);
        assert_eq!(a_law(0xaa), 4032);
        assert_eq!(a_law(0x2a), -4032);
    }

    use dicom_core::value::{DataSetSequence, PrimitiveValue, Value};
    use dicom_core::{DataElement, VR};

    /// A multiplex group of `ch` channels in µV at 10 µV/LSB.
    fn group_obj(
        ch: u16,
        n: u32,
        fs: &str,
        interp: &str,
        bits: u16,
        data: Vec<u8>,
    ) -> InMemDicomObject {
        let units = InMemDicomObject::from_element_iter([DataElement::new(
            tags::CODE_VALUE,
            VR::SH,
            PrimitiveValue::from("uV"),
        )]);
        let def = |name: &str| {
            let src = InMemDicomObject::from_element_iter([DataElement::new(
                tags::CODE_MEANING,
                VR::LO,
                PrimitiveValue::from(name),
            )]);
            InMemDicomObject::from_element_iter([
                DataElement::new(
                    tags::CHANNEL_SOURCE_SEQUENCE,
                    VR::SQ,
                    Value::from(DataSetSequence::from(vec![src])),
                ),
                DataElement::new(
                    tags::CHANNEL_SENSITIVITY,
                    VR::DS,
                    PrimitiveValue::from("10"),
                ),
                DataElement::new(
                    tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE,
                    VR::SQ,
                    Value::from(DataSetSequence::from(vec![units.clone()])),
                ),
                DataElement::new(tags::CHANNEL_BASELINE, VR::DS, PrimitiveValue::from("5")),
            ])
        };
        let defs: Vec<_> = (0..ch)
            .map(|c| def(&format!("Lead {}", ["I", "II", "III"][c as usize % 3])))
            .collect();
        InMemDicomObject::from_element_iter([
            DataElement::new(
                tags::NUMBER_OF_WAVEFORM_CHANNELS,
                VR::US,
                PrimitiveValue::from(ch),
            ),
            DataElement::new(
                tags::NUMBER_OF_WAVEFORM_SAMPLES,
                VR::UL,
                PrimitiveValue::from(n),
            ),
            DataElement::new(tags::SAMPLING_FREQUENCY, VR::DS, PrimitiveValue::from(fs)),
            DataElement::new(
                tags::WAVEFORM_BITS_ALLOCATED,
                VR::US,
                PrimitiveValue::from(bits),
            ),
            DataElement::new(
                tags::WAVEFORM_SAMPLE_INTERPRETATION,
                VR::CS,
                PrimitiveValue::from(interp),
            ),
            DataElement::new(
                tags::CHANNEL_DEFINITION_SEQUENCE,
                VR::SQ,
                Value::from(DataSetSequence::from(defs)),
            ),
            DataElement::new(tags::WAVEFORM_DATA, VR::OB, PrimitiveValue::from(data)),
        ])
    }

    #[test]
    fn interleaved_ss_samples_are_scaled() {
        // Two channels, two samples: (1, -2), (3, -4).
        let data = [1i16, -2, 3, -4]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let g = group(&group_obj(2, 2, "500", "SS", 16, data)).unwrap();
        assert_eq!(g.channels[0].name, "I");
        assert_eq!(g.channels[0].samples, vec![15.0, 35.0]);
        assert_eq!(g.channels[1].samples, vec![-15.0, -35.0]);
    }

    #[test]
    fn mu_law_samples_are_expanded() {
        let g = group(&group_obj(1, 2, "250", "MB", 8, vec![0x80, 0xff])).unwrap();
        assert_eq!(g.channels[0].samples, vec![80315.0, 5.0]);
    }

    #[test]
    fn malformed_groups_name_the_field() {
        let e = group(&group_obj(2, 2, "0", "SS", 16, vec![0; 8])).unwrap_err();
        assert_eq!(e.0, "SamplingFrequency");
        let e = group(&group_obj(2, 2, "500", "XX", 16, vec![0; 8])).unwrap_err();
        assert_eq!(e.0, "WaveformSampleInterpretation");
        assert!(e.1.contains("XX"));
        let e = group(&group_obj(3, 2, "500", "SS", 16, vec![0; 8])).unwrap_err();
        assert_eq!(e.0, "WaveformData");
        assert!(e.1.contains("3 channels x 2 samples"), "{}", e.1);
        let e = group(&group_obj(2, 2, "500", "SS", 8, vec![0; 8])).unwrap_err();
        assert_eq!(e.0, "WaveformBitsAllocated");
    }
}
