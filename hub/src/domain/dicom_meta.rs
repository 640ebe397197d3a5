//! Reads what the index needs from a DICOM Part 10 file, and checks the file is whole.
//!
//! The whole file is checked, to its last byte, so that a truncated or malformed file is refused at
//! upload instead of failing later in a specialist's viewer: the worker's header walk
//! ([`worker_imaging::read_checked`]) follows every element header, including the items of
//! encapsulated pixel data, without reading values, and in the same pass keeps the few top-level
//! elements listed in [`WANTED`], which are all that dicom-object then parses (not the rest of the
//! header, nor Pixel Data, which it would decode into memory). The raw patient identifiers read
//! here leave this module only to be pseudonymised and masked; they are never stored in the index.

use std::path::Path;

use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use worker_imaging::{CheckedHeader, ImagingError};

/// The top-level attributes the index reads (Specific Character Set for the text of the others).
pub const WANTED: [Tag; 21] = [
    tags::SPECIFIC_CHARACTER_SET,
    tags::SOP_CLASS_UID,
    tags::SOP_INSTANCE_UID,
    tags::STUDY_DATE,
    tags::MODALITY,
    tags::STUDY_DESCRIPTION,
    tags::PATIENT_NAME,
    tags::PATIENT_ID,
    tags::ISSUER_OF_PATIENT_ID,
    tags::PATIENT_BIRTH_DATE,
    tags::PATIENT_SEX,
    tags::PATIENT_AGE,
    tags::BODY_PART_EXAMINED,
    tags::STUDY_INSTANCE_UID,
    tags::SERIES_INSTANCE_UID,
    tags::SERIES_NUMBER,
    tags::INSTANCE_NUMBER,
    tags::NUMBER_OF_FRAMES,
    tags::ROWS,
    tags::COLUMNS,
    tags::REQUESTED_PROCEDURE_PRIORITY,
];

fn wanted(tag: (u16, u16)) -> bool {
    WANTED.contains(&Tag(tag.0, tag.1))
}

/// What the index keeps about an instance, plus the raw patient fields for pseudonymisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceMeta {
    /// SOP Instance UID.
    pub sop_instance_uid: String,
    /// SOP Class UID.
    pub sop_class_uid: String,
    /// Study Instance UID.
    pub study_instance_uid: String,
    /// Series Instance UID.
    pub series_instance_uid: String,
    /// Transfer syntax of the file.
    pub transfer_syntax_uid: String,
    /// Modality (CT, DX, ECG, ...).
    pub modality: String,
    /// Series Number, 0 if absent.
    pub series_number: i64,
    /// Instance Number, 0 if absent.
    pub instance_number: i64,
    /// Patient ID (raw; pseudonymise before storing).
    pub patient_id: String,
    /// Issuer of Patient ID (raw).
    pub issuer_of_patient_id: String,
    /// Patient's Name (raw; mask before storing).
    pub patient_name: String,
    /// Patient's Sex.
    pub patient_sex: String,
    /// Patient's Birth Date (YYYYMMDD).
    pub patient_birth_date: String,
    /// Patient's Age (e.g. "045Y").
    pub patient_age: String,
    /// Study Date (YYYYMMDD).
    pub study_date: String,
    /// Study Description.
    pub study_description: String,
    /// Body Part Examined.
    pub body_part: String,
    /// Requested Procedure Priority (STAT, HIGH, ROUTINE, MEDIUM, LOW).
    pub requested_priority: String,
    /// Rows, 0 if not an image.
    pub rows: i64,
    /// Columns, 0 if not an image.
    pub columns: i64,
    /// Number of Frames (1 for single-frame images, 0 for non-images).
    pub frames: i64,
    /// What the object holds (pixels or waveform samples), independent of whose it says it is;
    /// `None` when it holds neither, or nothing but one repeated byte (a blank image identifies
    /// no one).
    pub content_key: Option<ContentKey>,
}

/// The SHA-256 (lower-case hex) of an object's pixel or waveform content, as
/// [`worker_imaging::read_checked_with_content`] delimits it: the same image or signal has the
/// same key whatever patient attributes and UIDs are sent with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentKey(String);

impl ContentKey {
    /// A key as stored in the index.
    pub fn from_stored(hex: String) -> Self {
        ContentKey(hex)
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hashes content as the walk hands it over, noting whether it is all one byte value.
#[derive(Default)]
struct ContentHasher {
    sha: sha2::Sha256,
    first: Option<u8>,
    varied: bool,
}

impl ContentHasher {
    fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.sha.update(bytes);
        if self.varied {
            return;
        }
        if let Some(&b) = self.first.as_ref().or(bytes.first()) {
            self.first = Some(b);
            self.varied = bytes.iter().any(|&x| x != b);
        }
    }

    fn finish(self) -> Option<ContentKey> {
        use sha2::Digest;
        self.varied
            .then(|| ContentKey(hex::encode(self.sha.finalize())))
    }
}

/// Why a file was not accepted as DICOM.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetaError {
    /// No "DICM" marker after the 128-byte preamble.
    #[error("{file}: not a DICOM Part 10 file (no DICM marker at byte 128)")]
    NotDicom {
        /// The file.
        file: String,
    },
    /// The file ends early or a data element cannot be parsed.
    #[error("{file}: cannot be parsed as DICOM ({reason})")]
    Malformed {
        /// The file.
        file: String,
        /// What the parser said.
        reason: String,
    },
    /// Its deflated data set inflates past the hub's budget (`ingest.max_inflated_bytes`).
    #[error(
        "{file}: its deflated data set inflates to more than {limit} bytes, the hub's limit \
         (ingest.max_inflated_bytes); send it uncompressed or in another transfer syntax, or ask \
         the hub's administrator to raise the limit"
    )]
    InflatesTooLarge {
        /// The file.
        file: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A required attribute is missing or empty.
    #[error("{file}: required attribute {attribute} is missing or empty")]
    MissingAttribute {
        /// The file.
        file: String,
        /// The attribute's keyword and tag.
        attribute: &'static str,
    },
}

/// True if the file starts like a DICOM Part 10 file.
pub fn looks_like_dicom(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 132];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head[128..132] == b"DICM")
        .unwrap_or(false)
}

/// Checks `path` (named `file_name` in messages) to its last byte and returns its index fields.
pub fn read(path: &Path, file_name: &str) -> Result<InstanceMeta, MetaError> {
    if !looks_like_dicom(path) {
        return Err(MetaError::NotDicom {
            file: file_name.to_owned(),
        });
    }
    let malformed = |reason: String| MetaError::Malformed {
        file: file_name.to_owned(),
        reason,
    };
    let mut content = ContentHasher::default();
    let header =
        worker_imaging::read_checked_with_content(path, &wanted, &mut |b| content.update(b))
            .map_err(|e| match e {
                ImagingError::Parse { reason, .. } => malformed(reason),
                ImagingError::InflatesTooLarge { limit, .. } => MetaError::InflatesTooLarge {
                    file: file_name.to_owned(),
                    limit,
                },
                other => malformed(other.to_string()),
            })?;
    let mut meta = extract(&header, file_name)?;
    meta.content_key = content.finish();
    Ok(meta)
}

/// An attribute's value as trimmed text ("" when absent or not text).
pub fn text(obj: &InMemDicomObject, tag: Tag) -> String {
    let Some(element) = obj.element_opt(tag).ok().flatten() else {
        return String::new();
    };
    let value = if element.vr() == VR::UN {
        // Explicit VR with UN for an attribute the writer did not know (a converter's output):
        // the bytes are the attribute's text (every text attribute the index reads is ASCII but
        // names, which are rarely sent this way).
        element
            .to_bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    } else {
        element.to_str().map(|s| s.into_owned())
    };
    value
        .map(|s| {
            s.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                .to_owned()
        })
        .unwrap_or_default()
}

/// An attribute's value as an integer (0 when absent or not a number).
pub fn int(obj: &InMemDicomObject, tag: Tag) -> i64 {
    let Some(element) = obj.element_opt(tag).ok().flatten() else {
        return 0;
    };
    if element.vr() == VR::UN {
        // Rows and Columns are US: two bytes, little endian (the only byte order still in use);
        // the other integers the index reads are IS, text.
        return match element.to_bytes().as_deref() {
            Ok([lo, hi]) if matches!(tag, tags::ROWS | tags::COLUMNS) => {
                i64::from(u16::from_le_bytes([*lo, *hi]))
            }
            _ => text(obj, tag).parse().unwrap_or(0),
        };
    }
    element.to_int::<i64>().unwrap_or(0)
}

fn required(value: String, file: &str, attribute: &'static str) -> Result<String, MetaError> {
    if value.is_empty() {
        return Err(MetaError::MissingAttribute {
            file: file.to_owned(),
            attribute,
        });
    }
    Ok(value)
}

/// Refuses a file meta group UID that is not digits and dots (padding already trimmed), as
/// dicom-object does. The data set's own UIDs are taken as they are: anonymisers write hashes
/// there, and such studies must still reach a specialist.
fn check_uid(value: &str, file: &str, attribute: &str) -> Result<(), MetaError> {
    if value.chars().all(|c| c == '.' || c.is_ascii_digit()) {
        return Ok(());
    }
    Err(MetaError::Malformed {
        file: file.to_owned(),
        reason: format!("{attribute} {value:?} is not a UID (digits and dots only)"),
    })
}

fn extract(header: &CheckedHeader, file: &str) -> Result<InstanceMeta, MetaError> {
    if !header.transfer_syntax_declared {
        return Err(MetaError::Malformed {
            file: file.to_owned(),
            reason: "the file meta group has no TransferSyntaxUID (0002,0010)".into(),
        });
    }
    check_uid(
        &header.transfer_syntax,
        file,
        "TransferSyntaxUID (0002,0010)",
    )?;
    if let Some(uid) = &header.media_sop_class_uid {
        check_uid(uid, file, "MediaStorageSOPClassUID (0002,0002)")?;
    }
    if let Some(uid) = &header.media_sop_instance_uid {
        check_uid(uid, file, "MediaStorageSOPInstanceUID (0002,0003)")?;
    }
    let obj = &header.attributes;
    let mut sop_uid = text(obj, tags::SOP_INSTANCE_UID);
    if sop_uid.is_empty() {
        sop_uid = header.media_sop_instance_uid.clone().unwrap_or_default();
    }
    let mut sop_class = text(obj, tags::SOP_CLASS_UID);
    if sop_class.is_empty() {
        sop_class = header.media_sop_class_uid.clone().unwrap_or_default();
    }
    let rows = int(obj, tags::ROWS);
    let frames = match int(obj, tags::NUMBER_OF_FRAMES) {
        0 if rows > 0 => 1,
        n => n,
    };
    Ok(InstanceMeta {
        sop_instance_uid: required(sop_uid, file, "SOPInstanceUID (0008,0018)")?,
        sop_class_uid: required(sop_class, file, "SOPClassUID (0008,0016)")?,
        study_instance_uid: required(
            text(obj, tags::STUDY_INSTANCE_UID),
            file,
            "StudyInstanceUID (0020,000D)",
        )?,
        series_instance_uid: required(
            text(obj, tags::SERIES_INSTANCE_UID),
            file,
            "SeriesInstanceUID (0020,000E)",
        )?,
        transfer_syntax_uid: header.transfer_syntax.clone(),
        modality: text(obj, tags::MODALITY).to_ascii_uppercase(),
        series_number: int(obj, tags::SERIES_NUMBER),
        instance_number: int(obj, tags::INSTANCE_NUMBER),
        patient_id: required(text(obj, tags::PATIENT_ID), file, "PatientID (0010,0020)")?,
        issuer_of_patient_id: text(obj, tags::ISSUER_OF_PATIENT_ID),
        patient_name: text(obj, tags::PATIENT_NAME),
        patient_sex: text(obj, tags::PATIENT_SEX).to_ascii_uppercase(),
        patient_birth_date: text(obj, tags::PATIENT_BIRTH_DATE),
        patient_age: text(obj, tags::PATIENT_AGE),
        study_date: text(obj, tags::STUDY_DATE),
        study_description: text(obj, tags::STUDY_DESCRIPTION),
        body_part: text(obj, tags::BODY_PART_EXAMINED).to_ascii_uppercase(),
        requested_priority: text(obj, tags::REQUESTED_PROCEDURE_PRIORITY).to_ascii_uppercase(),
        rows,
        columns: int(obj, tags::COLUMNS),
        frames,
        content_key: None,
    })
}

/// The Patient's Name of a stored file, reading only its header; empty if unreadable.
pub fn patient_name(path: &Path) -> String {
    let wanted = |tag| {
        matches!(
            Tag::from(tag),
            tags::SPECIFIC_CHARACTER_SET | tags::PATIENT_NAME
        )
    };
    worker_imaging::read_checked(path, &wanted)
        .map(|header| text(&header.attributes, tags::PATIENT_NAME))
        .unwrap_or_default()
}

/// Age in whole years at the study, from Patient's Age ("045Y", "006M") or from the birth and
/// study dates; -1 if unknown.
pub fn age_years(meta: &InstanceMeta) -> i64 {
    let age = meta.patient_age.trim();
    if let Some(n) = age.strip_suffix('Y').and_then(|n| n.parse::<i64>().ok()) {
        return n;
    }
    if age.ends_with(['M', 'W', 'D']) && age.len() > 1 {
        return 0;
    }
    let (Some(birth), Some(study)) = (ymd(&meta.patient_birth_date), ymd(&meta.study_date)) else {
        return -1;
    };
    let mut years = study.0 - birth.0;
    if (study.1, study.2) < (birth.1, birth.2) {
        years -= 1;
    }
    if years >= 0 { years } else { -1 }
}

fn ymd(date: &str) -> Option<(i64, i64, i64)> {
    let d = date.trim();
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((
        d[0..4].parse().ok()?,
        d[4..6].parse().ok()?,
        d[6..8].parse().ok()?,
    ))
}

/// True for the waveform storage SOP classes (ECG and other waveforms: 1.2.840.10008.5.1.4.1.1.9.*).
pub fn is_waveform(sop_class_uid: &str) -> bool {
    sop_class_uid.starts_with("1.2.840.10008.5.1.4.1.1.9.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text is decoded in the file's Specific Character Set, which the walk keeps for that reason.
    #[test]
    fn names_are_decoded_in_the_files_character_set() {
        use dicom_core::{DataElement, VR};
        use dicom_object::meta::FileMetaTableBuilder;
        let mut obj = InMemDicomObject::new_empty();
        let put = |obj: &mut InMemDicomObject, tag, vr, value: &str| {
            obj.put(DataElement::new(
                tag,
                vr,
                dicom_core::PrimitiveValue::from(value),
            ));
        };
        put(&mut obj, tags::SPECIFIC_CHARACTER_SET, VR::CS, "GB18030");
        put(
            &mut obj,
            tags::SOP_CLASS_UID,
            VR::UI,
            "1.2.840.10008.5.1.4.1.1.7",
        );
        put(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, "1.2.3.4.5");
        put(
            &mut obj,
            tags::PATIENT_NAME,
            VR::PN,
            "\u{738b}^\u{5c0f}\u{660e}",
        );
        put(&mut obj, tags::PATIENT_ID, VR::LO, "P1");
        put(&mut obj, tags::STUDY_INSTANCE_UID, VR::UI, "1.2.3.4");
        put(&mut obj, tags::SERIES_INSTANCE_UID, VR::UI, "1.2.3.4.1");
        let meta = FileMetaTableBuilder::new()
            .transfer_syntax("1.2.840.10008.1.2.1")
            .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.7")
            .media_storage_sop_instance_uid("1.2.3.4.5");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gb18030.dcm");
        obj.with_meta(meta).unwrap().write_to_file(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // 王 in GB18030 (it is E7 8E 8B in UTF-8).
        assert!(
            bytes.windows(3).any(|w| w == b"\xcd\xf5^"),
            "the name is written in GB18030"
        );
        let meta = read(&path, "gb18030.dcm").unwrap();
        assert_eq!(meta.patient_name, "\u{738b}^\u{5c0f}\u{660e}");
        assert_eq!(patient_name(&path), "\u{738b}^\u{5c0f}\u{660e}");
    }

    #[test]
    fn age_from_age_attribute_or_dates() {
        let mut m = InstanceMeta {
            patient_age: "045Y".into(),
            ..Default::default()
        };
        assert_eq!(age_years(&m), 45);
        m.patient_age = String::new();
        m.patient_birth_date = "19800615".into();
        m.study_date = "20260614".into();
        assert_eq!(age_years(&m), 45);
        m.study_date = "20260615".into();
        assert_eq!(age_years(&m), 46);
        m.study_date = "garbage".into();
        assert_eq!(age_years(&m), -1);
    }

    #[test]
    fn waveform_classes() {
        assert!(is_waveform("1.2.840.10008.5.1.4.1.1.9.1.1"));
        assert!(!is_waveform("1.2.840.10008.5.1.4.1.1.2"));
    }
}
