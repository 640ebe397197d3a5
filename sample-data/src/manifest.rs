//! `manifest.json`: the ground truth of a generated set, for tests and the demo.
//!
//! The JSON has exactly these fields (all present, in this order). Paths are relative to the
//! manifest's own folder and use `/`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `"sample-data <version>"`.
    pub generator: String,
    /// The seed the set was made with.
    pub seed: u64,
    /// The root every UID of the set starts with.
    pub uid_root: String,
    /// The clinics.
    pub institutions: Vec<InstitutionEntry>,
    /// The patients.
    pub patients: Vec<PatientEntry>,
    /// The imaging studies.
    pub studies: Vec<StudyEntry>,
    /// The numeric truth of the resting 12-lead ECGs.
    pub ecgs: Vec<EcgEntry>,
}

/// A clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionEntry {
    /// Institution Name as in the files.
    pub name: String,
    /// The hub demo's code for it (TS-A, TS-B).
    pub demo_code: String,
}

/// A patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientEntry {
    /// Short key used by the study entries.
    pub key: String,
    /// Patient ID: 18-character resident ID number.
    pub patient_id: String,
    /// Patient's Name as in the files (alphabetic=ideographic).
    pub name: String,
    /// Patient's Sex.
    pub sex: String,
    /// Patient's Birth Date (YYYYMMDD).
    pub birth_date: String,
}

/// An imaging study (one case at the hub).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyEntry {
    /// Study Instance UID.
    pub study_instance_uid: String,
    /// Accession Number.
    pub accession_number: String,
    /// Key of the patient.
    pub patient: String,
    /// Institution Name.
    pub institution: String,
    /// The hub demo's code of the institution.
    pub demo_institution_code: String,
    /// Modality (CT, DX).
    pub modality: String,
    /// Body Part Examined.
    pub body_part: String,
    /// The exam item the hub's default catalogue maps it to.
    pub exam_item: String,
    /// Study Description.
    pub description: String,
    /// Study Date (YYYYMMDD).
    pub study_date: String,
    /// What the phantom shows.
    pub ground_truth: String,
    /// True if the ground truth is a critical finding (the specialist should mark it critical).
    pub critical_finding: bool,
    /// Its series.
    pub series: Vec<SeriesEntry>,
}

/// A series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesEntry {
    /// Series Instance UID.
    pub series_instance_uid: String,
    /// Series Number.
    pub series_number: u32,
    /// Its files, by instance number.
    pub files: Vec<FileEntry>,
}

/// One file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the manifest.
    pub path: String,
    /// SOP Instance UID.
    pub sop_instance_uid: String,
    /// Instance Number.
    pub instance_number: u32,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the file (the hub reports the same for the stored instance).
    pub sha256: String,
}

/// The numeric truth of a resting 12-lead ECG (the file itself is also listed under `studies`):
/// what worker-ecg's generator was asked for and where it put each beat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcgEntry {
    /// Path relative to the manifest.
    pub path: String,
    /// Its study.
    pub study_instance_uid: String,
    /// Key of the patient.
    pub patient: String,
    /// Institution Name.
    pub institution: String,
    /// `sinus` or `af-like` (irregular, no P waves).
    pub rhythm: String,
    /// Mean heart rate the beats were placed at, beats per minute.
    pub hr_bpm: u32,
    /// PR interval in milliseconds; absent without P waves.
    pub pr_ms: Option<u32>,
    /// QRS duration in milliseconds.
    pub qrs_ms: u32,
    /// QT interval in milliseconds.
    pub qt_ms: u32,
    /// Frontal QRS axis in degrees.
    pub axis_deg: i32,
    /// ST deviation by lead in microvolts (leads not listed: 0).
    pub st_uv: BTreeMap<String, i32>,
    /// Sample number (at 500 Hz) of each R-wave peak.
    pub beats: Vec<u64>,
    /// Whether the finding is critical (it is also the study's `critical_finding`).
    pub critical_finding: bool,
    /// What the synthetic record shows, in words.
    pub ground_truth: String,
}

impl Manifest {
    /// Every file of the set, in study, series and instance order.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.studies
            .iter()
            .flat_map(|s| s.series.iter().flat_map(|se| se.files.iter()))
    }
}
