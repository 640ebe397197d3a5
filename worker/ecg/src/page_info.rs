//! What the ECG page prints to tie it to its patient: name, masked ID, age, sex, acquisition
//! time, institution, device and the device's filters, read from the DICOM ECG object.
//!
//! A printed page that cannot be matched to its patient is unsafe, so the page shows the name
//! as stored (decoded, every group) and the ID masked exactly as the hub's index masks it
//! ([`mask_id`], which the hub calls too). Times are DICOM local times as stored, with their
//! UTC offset when the object gives one: the page never converts them.

use std::fmt;
use std::path::Path;

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use serde::Serialize;

pub use patient_id::{mask as mask_id, normalise as normalise_id};

use crate::error::EcgError;

/// The page's identification block. Every field may be missing: the page then says so.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PageInfo {
    /// Patient's Name for display, e.g. `张三 (Zhang San)`; empty when none is stored.
    pub patient_name: String,
    /// Patient ID masked as the index masks it, e.g. `1101**********002X`.
    pub patient_id_masked: String,
    /// Patient's Sex.
    pub sex: Option<Sex>,
    /// Patient's Age as stored (`042Y` → `42 y`), else from the birth date.
    pub age: Option<String>,
    /// Patient's Birth Date, `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// When the ECG was acquired (local time as stored).
    pub acquired: Option<LocalTime>,
    /// Institution Name (and Institutional Department Name).
    pub institution: Option<String>,
    /// Manufacturer, model and software version.
    pub device: Option<String>,
    /// The device's filters, over the channels of the displayed group.
    pub filters: Option<Filters>,
    /// Channels stored beside the ECG that are not leads (or are leads at another rate), as
    /// `name (unit, rate)`, e.g. `ABP (mmHg, 125 Hz)`; filled by the caller from the recording.
    pub other_channels: Vec<String>,
}

/// Patient's Sex (0010,0040).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sex {
    /// `F`.
    Female,
    /// `M`.
    Male,
    /// `O`.
    Other,
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
        })
    }
}

/// A DICOM local date and time as stored, with its UTC offset when one is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalTime {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM:SS` (or shorter when stored so).
    pub time: Option<String>,
    /// `+08:00` from the DT value or Timezone Offset From UTC.
    pub utc_offset: Option<String>,
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.date)?;
        if let Some(t) = &self.time {
            write!(f, " {t}")?;
        }
        match &self.utc_offset {
            Some(o) => write!(f, " (UTC{o})"),
            None => f.write_str(" (local time, no UTC offset stored)"),
        }
    }
}

/// Filter Low / High Frequency and Notch Filter Frequency of the channels, Hz; a range when
/// the channels differ.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filters {
    /// High-pass corner(s): (lowest, highest) over the channels.
    pub low_hz: Option<(f64, f64)>,
    /// Low-pass corner(s).
    pub high_hz: Option<(f64, f64)>,
    /// Notch frequency(ies); 0 means off.
    pub notch_hz: Option<(f64, f64)>,
}

impl fmt::Display for Filters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hz = |r: Option<(f64, f64)>| match r {
            None => "?".to_string(),
            Some((a, b)) if a == b => format!("{a}"),
            Some((a, b)) => format!("{a}/{b}"),
        };
        write!(f, "{}–{} Hz", hz(self.low_hz), hz(self.high_hz))?;
        match self.notch_hz {
            None => Ok(()),
            Some((a, b)) if a == 0.0 && b == 0.0 => f.write_str(", notch off"),
            r => write!(f, ", notch {} Hz", hz(r)),
        }
    }
}

/// Reads the page's identification from a DICOM ECG object.
pub fn read_page_info(path: &Path) -> Result<PageInfo, EcgError> {
    Ok(page_info(&crate::dicom::open_checked(path)?))
}

/// The identification of an opened object (see [`read_page_info`]).
pub fn page_info(o: &InMemDicomObject) -> PageInfo {
    let acquired = acquisition_time(o);
    let birth_date = text(o, tags::PATIENT_BIRTH_DATE).and_then(|d| iso_date(&d));
    let age = text(o, tags::PATIENT_AGE)
        .and_then(|a| age_from_as(&a))
        .or_else(|| age_from_dates(birth_date.as_deref()?, &acquired.as_ref()?.date));
    let device = join(&[
        text(o, tags::MANUFACTURER).filter(|m| !m.eq_ignore_ascii_case("unknown")),
        text(o, tags::MANUFACTURER_MODEL_NAME),
        text(o, tags::SOFTWARE_VERSIONS).map(|v| format!("software {v}")),
    ]);
    PageInfo {
        patient_name: text(o, tags::PATIENT_NAME)
            .map(|n| display_name(&n))
            .unwrap_or_default(),
        patient_id_masked: text(o, tags::PATIENT_ID)
            .map(|id| mask_id(&normalise_id(&id)))
            .unwrap_or_default(),
        sex: text(o, tags::PATIENT_SEX).and_then(|s| match s.as_str() {
            "F" => Some(Sex::Female),
            "M" => Some(Sex::Male),
            "O" => Some(Sex::Other),
            _ => None,
        }),
        age,
        birth_date,
        acquired,
        institution: join(&[
            text(o, tags::INSTITUTION_NAME),
            text(o, tags::INSTITUTIONAL_DEPARTMENT_NAME),
        ]),
        device,
        filters: filters(o),
        other_channels: Vec::new(),
    }
}

fn text(o: &InMemDicomObject, tag: Tag) -> Option<String> {
    let s = o.get(tag)?.to_str().ok()?;
    let s = s.trim_matches([' ', '\0']).to_string();
    (!s.is_empty()).then_some(s)
}

fn join(parts: &[Option<String>]) -> Option<String> {
    let s: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
    (!s.is_empty()).then(|| s.join(", "))
}

/// A DICOM Person Name for a page: the ideographic group (its components run together, as
/// Chinese names are written) followed by the alphabetic one in parentheses, e.g.
/// `Zhang^San=张^三` → `张三 (Zhang San)`; components are separated by spaces otherwise.
pub fn display_name(pn: &str) -> String {
    let group = |g: &str, sep: &str| {
        let parts: Vec<&str> = g
            .split('^')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        parts.join(sep)
    };
    let groups: Vec<&str> = pn.split('=').collect();
    let alphabetic = group(groups[0], " ");
    let ideographic = groups.get(1).map_or(String::new(), |g| {
        let cjk = g.chars().any(|c| c as u32 >= 0x2E80);
        group(g, if cjk { "" } else { " " })
    });
    match (ideographic.is_empty(), alphabetic.is_empty()) {
        (false, false) => format!("{ideographic} ({alphabetic})"),
        (false, true) => ideographic,
        _ => alphabetic,
    }
}

/// `YYYYMMDD` → `YYYY-MM-DD`, `None` unless eight digits.
fn iso_date(d: &str) -> Option<String> {
    let d = d.trim();
    (d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]))
}

/// `HHMMSS.FFFFFF` (or `HH`, `HHMM`, `HH:MM:SS`) → `HH:MM:SS` (or shorter).
fn iso_time(t: &str) -> Option<String> {
    let digits: String = t.split('.').next()?.chars().filter(|c| *c != ':').collect();
    let ok = matches!(digits.len(), 2 | 4 | 6) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| {
        let pairs: Vec<&str> = (0..digits.len() / 2)
            .map(|k| &digits[2 * k..2 * k + 2])
            .collect();
        pairs.join(":")
    })
}

/// `+0800` → `+08:00`.
fn iso_offset(z: &str) -> Option<String> {
    let z = z.trim();
    let ok = z.len() == 5
        && (z.starts_with('+') || z.starts_with('-'))
        && z[1..].bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("{}:{}", &z[..3], &z[3..]))
}

/// Acquisition DateTime, else Acquisition, Content or Study Date and Time; the UTC offset from
/// the DT value, else Timezone Offset From UTC.
fn acquisition_time(o: &InMemDicomObject) -> Option<LocalTime> {
    let tz = text(o, tags::TIMEZONE_OFFSET_FROM_UTC).and_then(|z| iso_offset(&z));
    if let Some(dt) = text(o, tags::ACQUISITION_DATE_TIME) {
        let (value, offset) = match dt.find(['+', '-']) {
            Some(k) => (&dt[..k], iso_offset(&dt[k..])),
            None => (dt.as_str(), None),
        };
        if let Some(date) = value.get(..8).and_then(iso_date) {
            return Some(LocalTime {
                date,
                time: value.get(8..).and_then(iso_time),
                utc_offset: offset.or(tz),
            });
        }
    }
    let pairs = [
        (tags::ACQUISITION_DATE, tags::ACQUISITION_TIME),
        (tags::CONTENT_DATE, tags::CONTENT_TIME),
        (tags::STUDY_DATE, tags::STUDY_TIME),
    ];
    pairs.iter().find_map(|&(d, t)| {
        Some(LocalTime {
            date: iso_date(&text(o, d)?)?,
            time: text(o, t).and_then(|t| iso_time(&t)),
            utc_offset: tz.clone(),
        })
    })
}

/// Age String `nnnD|W|M|Y` → `42 y`, `6 mo`, `3 wk`, `10 d`.
fn age_from_as(a: &str) -> Option<String> {
    let (n, unit) = a.trim().split_at_checked(3)?;
    let n: u32 = n.parse().ok()?;
    let unit = match unit {
        "Y" => "y",
        "M" => "mo",
        "W" => "wk",
        "D" => "d",
        _ => return None,
    };
    Some(format!("{n} {unit}"))
}

/// Whole years from `YYYY-MM-DD` birth to `YYYY-MM-DD` acquisition.
fn age_from_dates(birth: &str, on: &str) -> Option<String> {
    let ymd = |s: &str| -> Option<(i32, u32)> {
        Some((
            s.get(..4)?.parse().ok()?,
            s.get(5..7)?.parse::<u32>().ok()? * 100 + s.get(8..10)?.parse::<u32>().ok()?,
        ))
    };
    let ((by, bmd), (y, md)) = (ymd(birth)?, ymd(on)?);
    let years = y - by - i32::from(md < bmd);
    (years >= 0).then(|| format!("{years} y"))
}

/// The filters of the channels of the group the page draws: the original group with the
/// most samples (as [`read_dicom`](crate::read_dicom) picks it).
fn filters(o: &InMemDicomObject) -> Option<Filters> {
    let groups = o.get(tags::WAVEFORM_SEQUENCE)?.items()?;
    let samples = |g: &InMemDicomObject| -> (bool, u64) {
        let derived = text(g, tags::WAVEFORM_ORIGINALITY).as_deref() == Some("DERIVED");
        let n = g.get(tags::NUMBER_OF_WAVEFORM_SAMPLES);
        (
            !derived,
            n.and_then(|e| e.to_int::<u64>().ok()).unwrap_or(0),
        )
    };
    let g = groups.iter().max_by_key(|g| samples(g))?;
    let channels = g.get(tags::CHANNEL_DEFINITION_SEQUENCE)?.items()?;
    let range = |tag: Tag| -> Option<(f64, f64)> {
        let v: Vec<f64> = channels
            .iter()
            .filter_map(|c| c.get(tag)?.to_float64().ok())
            .filter(|v| v.is_finite())
            .collect();
        let lo = v.iter().copied().reduce(f64::min)?;
        Some((lo, v.iter().copied().fold(lo, f64::max)))
    };
    let f = Filters {
        low_hz: range(tags::FILTER_LOW_FREQUENCY),
        high_hz: range(tags::FILTER_HIGH_FREQUENCY),
        notch_hz: range(tags::NOTCH_FILTER_FREQUENCY),
    };
    (f != Filters::default()).then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_show_every_group() {
        assert_eq!(display_name("Zhang^San=张^三"), "张三 (Zhang San)");
        assert_eq!(display_name("Patient^Test"), "Patient Test");
        assert_eq!(display_name("=王^小明"), "王小明");
        assert_eq!(display_name(""), "");
    }

    #[test]
    fn ids_are_masked_as_the_index_masks_them() {
        assert_eq!(
            mask_id(&normalise_id("110105 19491231 002x")),
            "1101**********002X"
        );
        assert_eq!(
            mask_id(&normalise_id("１１０１０５１９４９１２３１００２Ｘ")),
            "1101**********002X"
        );
        assert_eq!(mask_id("9988776655"), "99******55");
        assert_eq!(mask_id("12345"), "*****");
        assert_eq!(mask_id(""), "*");
    }

    #[test]
    fn dates_times_and_ages() {
        assert_eq!(iso_time("105919.123"), Some("10:59:19".into()));
        assert_eq!(iso_time("1059"), Some("10:59".into()));
        assert_eq!(iso_time("1x"), None);
        assert_eq!(iso_offset("+0800"), Some("+08:00".into()));
        assert_eq!(age_from_as("042Y"), Some("42 y".into()));
        assert_eq!(age_from_as("006M"), Some("6 mo".into()));
        assert_eq!(
            age_from_dates("1971-01-23", "2013-01-22"),
            Some("41 y".into())
        );
        assert_eq!(
            age_from_dates("1971-01-23", "2013-01-23"),
            Some("42 y".into())
        );
    }

    #[test]
    fn filters_print_ranges_and_notch() {
        let f = Filters {
            low_hz: Some((0.05, 0.05)),
            high_hz: Some((100.0, 150.0)),
            notch_hz: Some((0.0, 0.0)),
        };
        assert_eq!(f.to_string(), "0.05–100/150 Hz, notch off");
    }
}
