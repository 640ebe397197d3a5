//! Synthetic sample data for remotedx: DICOM studies and 12-lead ECGs with known ground truth.
//!
//! [`render`] makes a whole set in memory from a seed; [`generate`] writes it to a folder with its
//! `manifest.json`. The set committed under `sample-data/files` is `render(DEFAULT_SEED)`, and a
//! test checks that it never drifts from what the generator makes. The hub's demo and the
//! end-to-end tests upload it.
//!
//! The same seed always gives the same bytes: noise comes from our own [`rng`], values from
//! platform-independent arithmetic, and every date and time is fixed.
//!
//! Modules:
//! - [`plan`]: the patients, clinics and studies.
//! - [`phantom`]: pure pixel phantoms (a head in HU, a PA chest).
//! - [`encode`]: DICOM encoding (shared modules, [`encode::ct`], [`encode::dx`], [`encode::ecg`]).
//! - [`manifest`]: the ground-truth JSON.
//! - [`id_card`]: resident ID numbers with their MOD 11-2 check character.
//! - [`uid`]: the UID root derived from the seed.
//! - [`rng`]: the deterministic noise source.

pub mod encode;
pub mod id_card;
pub mod manifest;
pub mod phantom;
pub mod plan;
pub mod rng;
pub mod uid;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use encode::StudyContext;
use manifest::{
    EcgEntry, FileEntry, InstitutionEntry, Manifest, PatientEntry, SeriesEntry, StudyEntry,
};
use plan::{CLINICS, EcgFinding, PATIENTS, STUDIES, StudyKind, StudyPlan};

/// The seed of the committed set.
pub const DEFAULT_SEED: u64 = 20_260_512;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An instance could not be encoded.
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// The file being made.
        what: String,
        /// What dicom-object said.
        reason: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output folder, with `/`.
    pub path: String,
    /// Its SOP Instance UID.
    pub sop_instance_uid: String,
    /// Its Series Number.
    pub series_number: u32,
    /// Its Instance Number.
    pub instance_number: u32,
    /// The Part 10 bytes.
    pub bytes: Vec<u8>,
}

/// A generated set: the files and their manifest.
#[derive(Debug, Clone)]
pub struct SampleSet {
    /// Every file, in study, series and instance order.
    pub files: Vec<GeneratedFile>,
    /// The ground truth.
    pub manifest: Manifest,
}

impl SampleSet {
    /// The manifest as written to `manifest.json` (pretty JSON with a final newline).
    pub fn manifest_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.manifest).expect("manifest serialises");
        s.push('\n');
        s
    }
}

/// Where the committed set lives.
pub fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("files")
}

/// Makes the whole set for `seed` in memory.
pub fn render(seed: u64) -> Result<SampleSet, Error> {
    let root = uid::root(seed);
    let mut files = Vec::new();
    let mut studies = Vec::new();
    let mut ecgs = Vec::new();
    for plan in &STUDIES {
        let cx = StudyContext {
            seed,
            root: &root,
            plan,
        };
        let study_files = study_files(&cx)?;
        let study = study_entry(&cx, &study_files);
        if let StudyKind::RestingEcg { finding } = plan.kind {
            ecgs.push(ecg_entry(&cx, finding, &study));
        }
        studies.push(study);
        files.extend(study_files);
    }
    let manifest = Manifest {
        generator: format!("sample-data {}", env!("CARGO_PKG_VERSION")),
        seed,
        uid_root: root,
        institutions: CLINICS
            .iter()
            .map(|c| InstitutionEntry {
                name: c.name.into(),
                demo_code: c.demo_code.into(),
            })
            .collect(),
        patients: PATIENTS
            .iter()
            .map(|p| PatientEntry {
                key: p.slug.into(),
                patient_id: p.patient_id(),
                name: p.name.into(),
                sex: p.sex.into(),
                birth_date: p.birth_date.into(),
            })
            .collect(),
        studies,
        ecgs,
    };
    Ok(SampleSet { files, manifest })
}

/// Writes the set for `seed` into `out` (creating folders), replacing files of the same names.
pub fn generate(out: &Path, seed: u64) -> Result<SampleSet, Error> {
    let set = render(seed)?;
    for f in &set.files {
        write(&out.join(&f.path), &f.bytes)?;
    }
    write(&out.join(MANIFEST), set.manifest_json().as_bytes())?;
    Ok(set)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    std::fs::write(path, bytes).map_err(err)
}

fn study_files(cx: &StudyContext<'_>) -> Result<Vec<GeneratedFile>, Error> {
    let folder = cx.plan.folder();
    match cx.plan.kind {
        StudyKind::CtHead { haemorrhage } => encode::ct::series(cx, &folder, haemorrhage),
        StudyKind::DrChest { consolidation } => {
            Ok(vec![encode::dx::image(cx, &folder, consolidation)?])
        }
        StudyKind::RestingEcg { finding } => Ok(vec![encode::ecg::record(cx, finding)?]),
    }
}

fn ecg_entry(cx: &StudyContext<'_>, finding: EcgFinding, study: &StudyEntry) -> EcgEntry {
    let syn = encode::ecg::synthetic(cx, finding);
    let spec = &syn.spec;
    EcgEntry {
        path: encode::ecg::file_path(cx),
        study_instance_uid: study.study_instance_uid.clone(),
        patient: study.patient.clone(),
        institution: study.institution.clone(),
        rhythm: if spec.p_waves { "sinus" } else { "af-like" }.into(),
        hr_bpm: spec.hr_bpm.round() as u32,
        pr_ms: spec.p_waves.then_some(spec.pr_ms.round() as u32),
        qrs_ms: spec.qrs_ms.round() as u32,
        qt_ms: spec.qt_ms.round() as u32,
        axis_deg: spec.axis_deg.round() as i32,
        st_uv: spec
            .st_uv
            .iter()
            .map(|(lead, uv)| ((*lead).to_owned(), uv.round() as i32))
            .collect(),
        beats: syn.beats.iter().map(|&b| b as u64).collect(),
        critical_finding: study.critical_finding,
        ground_truth: study.ground_truth.clone(),
    }
}

fn study_entry(cx: &StudyContext<'_>, files: &[GeneratedFile]) -> StudyEntry {
    let plan: &StudyPlan = cx.plan;
    let (modality, body_part, exam_item, description, critical) = match plan.kind {
        StudyKind::CtHead { haemorrhage } => (
            "CT",
            "HEAD",
            "CT-HEAD",
            "CT head plain (颅脑CT平扫)",
            haemorrhage,
        ),
        StudyKind::DrChest { .. } => ("DX", "CHEST", "DR-CHEST", "DR chest PA (胸部正位DR)", false),
        StudyKind::RestingEcg { finding } => (
            "ECG",
            "",
            "ECG-12",
            "Resting 12-lead ECG (静息十二导联心电图)",
            finding == EcgFinding::InferiorStElevation,
        ),
    };
    let mut series: Vec<SeriesEntry> = Vec::new();
    for f in files {
        if series
            .last()
            .is_none_or(|s| s.series_number != f.series_number)
        {
            series.push(SeriesEntry {
                series_instance_uid: cx.series_uid(f.series_number),
                series_number: f.series_number,
                files: Vec::new(),
            });
        }
        let entry = FileEntry {
            path: f.path.clone(),
            sop_instance_uid: f.sop_instance_uid.clone(),
            instance_number: f.instance_number,
            size: f.bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&f.bytes)),
        };
        series.last_mut().expect("pushed above").files.push(entry);
    }
    StudyEntry {
        study_instance_uid: cx.study_uid(),
        accession_number: cx.accession_number(),
        patient: PATIENTS[plan.patient].slug.into(),
        institution: CLINICS[plan.clinic].name.into(),
        demo_institution_code: CLINICS[plan.clinic].demo_code.into(),
        modality: modality.into(),
        body_part: body_part.into(),
        exam_item: exam_item.into(),
        description: description.into(),
        study_date: plan.date.into(),
        ground_truth: plan.truth.split_whitespace().collect::<Vec<_>>().join(" "),
        critical_finding: critical,
        series,
    }
}
