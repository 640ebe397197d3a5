//! ECG pipelines for remotedx: pure functions over sample buffers, no network, no database.
//!
//! Read an ECG ([`read_dicom`], [`read_wfdb`] then [`Record::to_ecg`]), analyse it
//! ([`analyse`]: conditioning, signal quality, multi-lead QRS detection, rhythm, median-beat
//! intervals, axis, ST levels and triage [`Flag`]s), and draw its pages ([`render::pages`]
//! with the object's [`PageInfo`], written by [`render::page_svg`] and [`render::page_png`]).
//!
//! ```
//! use worker_ecg::synth::{Spec, generate};
//!
//! let ecg = generate(&Spec::tachy()).ecg; // 10 s, 12 leads, 500 Hz, 140 bpm
//! let a = worker_ecg::analyse(&ecg).unwrap();
//! assert!(a.flags.iter().any(|f| f.code == "TACHYCARDIA" && f.urgent));
//! let svg = worker_ecg::render_svg(&ecg, &a);
//! assert!(svg.starts_with("<svg"));
//! ```
//!
//! Module map:
//! - [`analysis`]: the pipeline ([`analyse`], [`analyse_many`]) and the triage flags; rayon
//!   runs leads (and, in `analyse_many` and `eval`, records) in parallel.
//! - [`filter`]: zero-phase conditioning (baseline, mains notch, low-pass, QRS band).
//! - [`qrs`]: multi-lead QRS detector (Pan–Tompkins style, documented there).
//! - [`measure`]: median beats, PR / QRS / QT, axis, ST at J + 60 ms.
//! - [`quality`]: lead off, saturation, noise.
//! - [`eval`]: bxb / EC57-style scoring against reference annotations (binary `ecg-eval`).
//! - [`eval_beats`]: EC57 VEB / SVEB scoring of the beat classes (`ecg-eval beats`).
//! - [`eval_delineation`]: P / QRS / T boundaries scored against the cardiologists' (LUDB,
//!   QT Database), the `ecg-eval delineation` table.
//! - [`dicom`]: DICOM waveform objects (multiplex groups, channels, device measurements).
//! - [`encode`]: the DICOM ECG writer (WFDB records and synthetic ECGs become 12-Lead, General
//!   or Ambulatory ECG objects).
//! - [`wfdb`]: WFDB headers, signal formats 16/61/80/160/212, MIT annotation files.
//! - [`render`]: the pages as SVG and PNG: the 12-lead page (identification, our measurements
//!   beside the device's, flags, traces clipped to their cells) and rhythm pages of the whole
//!   recording; PNG text in embedded bitmap fonts (ours, and GNU Unifont for CJK).
//! - [`page_info`]: who, when, where and with which device and filters, read from the DICOM
//!   object for the pages; the ID masking rule the hub's index shares ([`page_info::mask_id`],
//!   from `patient-id`).
//! - [`synth`]: synthetic 12-lead ECGs with known truth.
//! - [`leads`]: lead-name normalisation, and which channels are ECG leads at all.
//! - [`units`]: channel units (WFDB spellings, UCUM codes). [`error`]: the crate's error type.
//!
//! Accuracy, as tested: QRS detection gross Se 99.78 % / +P 99.68 % on the 27 development
//! MIT-BIH Arrhythmia records (`tests/qrs_mitdb.rs`, bar 99.6 %; `ecg-eval qrs`); Mortara ELI 250 intervals within IEC 60601-2-25
//! tolerances of the device's (PR ±10, QRS ±10, QT ±25 ms) and all 10 device beats found
//! (`tests/dicom.rs`); synthetic intervals, axis, ST and flags against their truth
//! (`tests/synth.rs`).
//!
//! Wave boundaries against the cardiologists' (`tests/delineation.rs`, `ecg-eval
//! delineation`; docs/PERFORMANCE.md): on LUDB 1–100 P on +10.2 ± 10.4, P off −2.4 ± 10.9,
//! QRS on +2.7 ± 15.8, QRS off +3.0 ± 15.7, T off −6.3 ± 25.3 ms; on the 21 QT Database records
//! +4.7 ± 16.7, +3.5 ± 15.3, +2.2 ± 17.8, +16.3 ± 31.8, −12.0 ± 40.7 ms (the CSE tolerances for
//! the SD are 10.2, 12.7, 6.5, 11.6 and 30.6 ms). The reported PR, QRS and QT are within
//! ±10 / ±10 / ±25 ms of those from LUDB's marks on 76.5, 46 and 78 % of the records.
//!
//! QT against the cardiologists' annotations (`tests/flags_annotated`): mean absolute error
//! 16 ms on the 21 QT Database development records, 30 ms on LUDB records 1–100; MIT-BIH 100
//! QT 386 ms (400 ms in the QT Database). Flags are checked against what the reference
//! annotations of every development record allow (same test): no critical flag on a normal
//! sinus window.
//!
//! Known limits: P onset on 2-lead ambulatory records is less reliable than on 12 leads, and
//! so is the T end: a long QTc from fewer than three leads with a clear T wave is a
//! non-critical note, not a critical flag;
//! AF-like flags on windows with frequent ectopy; no HL7 aECG / SCP-ECG readers.
//!
//! The common currency is [`Ecg`]: a sampling rate and named leads in microvolts, ECG leads
//! only. A [`Recording`] ([`wfdb::Record::to_recording`], [`read_recording`]) adds the
//! channels that are not ECG leads (blood pressure, respiration, …), kept in their own units
//! to be stored and shown, never measured.

pub mod analysis;
pub mod dicom;
pub mod encode;
pub mod error;
pub mod eval;
pub mod eval_beats;
pub mod eval_delineation;
pub mod filter;
pub mod leads;
pub mod measure;
pub mod page_info;
pub mod qrs;
pub mod quality;
pub mod render;
pub mod synth;
pub mod units;
pub mod wfdb;

pub use analysis::{Analysis, Flag, analyse, analyse_many};
pub use dicom::{read_dicom, read_recording};
pub use error::EcgError;
pub use page_info::{PageInfo, read_page_info};
pub use render::{render_png, render_svg};
pub use units::Unit;
pub use wfdb::{Record, read_wfdb};

use serde::Serialize;

/// One lead of an ECG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    /// Lead name for display, [`leads::display_name`] of the source's label: `II`, `V1`,
    /// `aVR` for the twelve standard leads however the source spells them, else as stated
    /// (`MLII`, `MCL1`, `V`, `vx`). (Synthetic ECGs name theirs directly.)
    pub name: String,
    /// Samples in microvolts.
    pub samples_uv: Vec<f32>,
}

/// A channel of a recording that is not an ECG lead (arterial pressure, respiration,
/// plethysmogram, …), in its own units and at its own rate: stored and shown, never measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherChannel {
    /// The channel's name as the source states it (`ABP`, `RESP`, `PLETH`).
    pub name: String,
    /// The unit of [`OtherChannel::samples`].
    pub unit: Unit,
    /// Sampling rate in Hz.
    pub fs: f64,
    /// Samples in [`OtherChannel::unit`].
    pub samples: Vec<f32>,
}

/// Everything a recording holds: the ECG leads, ready for analysis and the 12-lead page, and
/// the other channels beside them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recording {
    /// The ECG leads (only these are measured and drawn as leads).
    pub ecg: Ecg,
    /// The channels that are not ECG leads, or ECG leads at another sampling rate than
    /// [`Recording::ecg`]'s, in source order.
    pub others: Vec<OtherChannel>,
}

/// Measurements the recording device stored with the ECG (DICOM annotations), kept to show
/// beside ours and to check ours against.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceMeasurements {
    /// RR interval, ms.
    pub rr_ms: Option<f64>,
    /// PR interval, ms.
    pub pr_ms: Option<f64>,
    /// QRS duration, ms.
    pub qrs_ms: Option<f64>,
    /// QT interval, ms.
    pub qt_ms: Option<f64>,
    /// QTc as the device computed it, ms.
    pub qtc_ms: Option<f64>,
    /// Heart rate, beats per minute.
    pub hr_bpm: Option<f64>,
    /// QRS positions (0-based sample indices of the rhythm waveform) the device marked.
    pub qrs_samples: Vec<usize>,
    /// Every point fiducial the device stored (P onset, QRS onset, T offset, …), with its
    /// annotation group, in file order; positions are 0-based samples.
    pub fiducials: Vec<DeviceFiducial>,
    /// Free-text statements (e.g. "SINUS RHYTHM").
    pub statements: Vec<String>,
}

/// One point fiducial from a DICOM Waveform Annotation Sequence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceFiducial {
    /// Concept name code meaning, e.g. `QRS Onset`.
    pub name: String,
    /// Annotation Group Number (Mortara: 2 for the median beat, 100+ per rhythm beat).
    pub group: u32,
    /// 0-based sample position.
    pub sample: usize,
}

/// An ECG ready for analysis: all leads share one sampling rate and length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ecg {
    /// Sampling rate in Hz.
    pub fs: f64,
    /// The leads.
    pub leads: Vec<Lead>,
    /// What the device measured, if the source carried it.
    pub device: Option<DeviceMeasurements>,
}

impl Ecg {
    /// Number of samples per lead (the shortest lead's length).
    pub fn len(&self) -> usize {
        self.leads
            .iter()
            .map(|l| l.samples_uv.len())
            .min()
            .unwrap_or(0)
    }

    /// Whether the ECG has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that the ECG can be analysed: a positive sampling rate, at least one lead,
    /// and leads of equal length.
    pub fn validate(&self) -> Result<(), EcgError> {
        if !(self.fs > 0.0 && self.fs.is_finite()) {
            return Err(EcgError::Unusable(format!("sampling rate {} Hz", self.fs)));
        }
        let Some(first) = self.leads.first() else {
            return Err(EcgError::Unusable("no leads".into()));
        };
        if let Some(l) = self
            .leads
            .iter()
            .find(|l| l.samples_uv.len() != first.samples_uv.len())
        {
            return Err(EcgError::Unusable(format!(
                "lead {} has {} samples but lead {} has {}",
                l.name,
                l.samples_uv.len(),
                first.name,
                first.samples_uv.len()
            )));
        }
        Ok(())
    }
}
