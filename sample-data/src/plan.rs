//! What the generator makes: the sample region's patients, clinics and studies.
//!
//! Patients and clinics are the same for every seed (so that results can be recognised across
//! studies generated with different seeds); the seed changes the UIDs, accession numbers and noise.

use crate::id_card;

/// A township clinic. The names match the hub's demo institutions, whose demo sorts the sample
/// files between its two clinics by Institution Name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clinic {
    /// Short name used for the folder of its files.
    pub slug: &'static str,
    /// Institution Name (0008,0080) as written into the files.
    pub name: &'static str,
    /// The hub demo's institution code for this clinic.
    pub demo_code: &'static str,
    /// Institution Address (0008,0081).
    pub address: &'static str,
    /// Station Name (0008,1010) of its modality.
    pub station: &'static str,
    /// First letters of its accession numbers.
    pub accession_prefix: &'static str,
}

/// The two sample clinics.
pub const CLINICS: [Clinic; 2] = [
    Clinic {
        slug: "baishui",
        name: "Baishui Township Health Centre (白水镇卫生院)",
        demo_code: "TS-A",
        address: "1 Health Road, Baishui, Qingshan County",
        station: "BAISHUI-CT1",
        accession_prefix: "BS",
    },
    Clinic {
        slug: "lianhua",
        name: "Lianhua Township Health Centre (莲花乡卫生院)",
        demo_code: "TS-B",
        address: "8 Lotus Street, Lianhua, Qingshan County",
        station: "LIANHUA-DR1",
        accession_prefix: "LH",
    },
];

/// A synthetic patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patient {
    /// Short name used for folders and the manifest.
    pub slug: &'static str,
    /// Patient's Name (0010,0010): an alphabetic and an ideographic component group.
    pub name: &'static str,
    /// Patient's Sex (0010,0040).
    pub sex: &'static str,
    /// Patient's Birth Date (0010,0030).
    pub birth_date: &'static str,
    /// Sequence number of the ID card (odd for men, even for women).
    pub id_sequence: u16,
}

impl Patient {
    /// Patient ID (0010,0020): an 18-character resident ID number with a valid check character.
    pub fn patient_id(&self) -> String {
        id_card::make(id_card::FICTIONAL_REGION, self.birth_date, self.id_sequence)
    }
}

/// The two sample patients.
pub const PATIENTS: [Patient; 2] = [
    Patient {
        slug: "zhang-san",
        name: "Zhang^San=张^三",
        sex: "M",
        birth_date: "19580304",
        id_sequence: 17,
    },
    Patient {
        slug: "wang-fang",
        name: "Wang^Fang=王^芳",
        sex: "F",
        birth_date: "19710921",
        id_sequence: 24,
    },
];

/// What kind of examination a study is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudyKind {
    /// Axial CT of the head: [`crate::encode::ct::SLICES`] slices of 256 x 256, signed 16 bit.
    CtHead {
        /// Put an acute intraparenchymal haemorrhage in the right basal ganglia.
        haemorrhage: bool,
    },
    /// Posteroanterior chest radiograph: one 512 x 512 image, 12 bits stored.
    DrChest {
        /// Put a consolidation in the right lower zone.
        consolidation: bool,
    },
    /// Resting 12-lead ECG, 10 s at 500 Hz, from worker-ecg's synthetic generator; its numeric
    /// truth also goes to `Manifest::ecgs`.
    RestingEcg {
        /// What it shows.
        finding: EcgFinding,
    },
}

/// What a sample ECG shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcgFinding {
    /// Sinus rhythm with inferior ST elevation (II, III, aVF) and reciprocal depression: an
    /// inferior STEMI, a critical finding.
    InferiorStElevation,
    /// Irregularly irregular rhythm without P waves at about 95 bpm (AF-like).
    AtrialFibrillation,
}

/// One study to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StudyPlan {
    /// Number of the study under the UID root (1, 2, ...), also used in its accession number.
    pub number: u32,
    /// Index into [`PATIENTS`].
    pub patient: usize,
    /// Index into [`CLINICS`].
    pub clinic: usize,
    /// What it is.
    pub kind: StudyKind,
    /// Study Date (0008,0020).
    pub date: &'static str,
    /// Study Time (0008,0030).
    pub time: &'static str,
    /// Referring Physician's Name (0008,0090).
    pub referring: &'static str,
    /// What the phantom shows, for the manifest's ground truth.
    pub truth: &'static str,
}

impl StudyPlan {
    /// Folder (relative to the output directory) that holds the study's files.
    pub fn folder(&self) -> String {
        let what = match self.kind {
            StudyKind::CtHead { .. } => "ct-head",
            StudyKind::DrChest { .. } => "dr-chest",
            StudyKind::RestingEcg { .. } => "ecg",
        };
        format!(
            "{}/{}-{what}",
            CLINICS[self.clinic].slug, PATIENTS[self.patient].slug
        )
    }
}

/// The studies of the sample region.
pub const STUDIES: [StudyPlan; 5] = [
    StudyPlan {
        number: 1,
        patient: 0,
        clinic: 0,
        kind: StudyKind::CtHead { haemorrhage: true },
        date: "20260512",
        time: "083015",
        referring: "Liu^Wei=刘^伟",
        truth: "Acute intraparenchymal haemorrhage in the right basal ganglia (about 22 x 28 x 18 mm, \
                68 HU) with the lateral ventricles visible; skull intact.",
    },
    StudyPlan {
        number: 2,
        patient: 0,
        clinic: 0,
        kind: StudyKind::DrChest {
            consolidation: false,
        },
        date: "20260512",
        time: "090540",
        referring: "Liu^Wei=刘^伟",
        truth: "Normal chest: clear lungs, normal heart size, no consolidation.",
    },
    StudyPlan {
        number: 3,
        patient: 1,
        clinic: 1,
        kind: StudyKind::DrChest {
            consolidation: true,
        },
        date: "20260513",
        time: "142210",
        referring: "Zhou^Min=周^敏",
        truth: "Consolidation in the right lower zone, consistent with pneumonia; heart size normal.",
    },
    StudyPlan {
        number: 4,
        patient: 0,
        clinic: 0,
        kind: StudyKind::RestingEcg {
            finding: EcgFinding::InferiorStElevation,
        },
        date: "20260514",
        time: "071205",
        referring: "Liu^Wei=刘^伟",
        truth: "Sinus rhythm 75 bpm, PR 160 ms, QRS 90 ms, QT 380 ms, axis 60°; ST elevation \
                +250 µV in II, III and aVF with reciprocal depression in I and aVL: acute inferior \
                STEMI (critical).",
    },
    StudyPlan {
        number: 5,
        patient: 1,
        clinic: 1,
        kind: StudyKind::RestingEcg {
            finding: EcgFinding::AtrialFibrillation,
        },
        date: "20260514",
        time: "101730",
        referring: "Zhou^Min=周^敏",
        truth: "Irregularly irregular rhythm without P waves, mean 95 bpm (RR spread ±25 %), QRS \
                90 ms, QT 340 ms: atrial fibrillation-like rhythm, no ST changes.",
    },
];
