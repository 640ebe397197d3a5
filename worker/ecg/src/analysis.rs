//! The whole pipeline for one ECG: conditioning, quality, QRS detection, rhythm, median-beat
//! measurements and triage flags. Leads are processed in parallel with rayon; many ECGs are
//! analysed in parallel with [`analyse_many`].
//!
//! Only leads that pass the quality check ([`LeadQuality::usable`]) are measured: the beats
//! behind the rhythm, the median beats behind the intervals and ST levels. A recording with no
//! readable lead gets quality flags and no rhythm or interval (see [`flags`] for the rules).

pub mod beats;
pub mod clusters;
pub mod ectopy;
mod flags;
mod rhythm;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::EcgError;
use crate::filter::{condition, mains_frequency};
use crate::measure::{Measurements, measure, median_beats};
use crate::quality::{LeadQuality, assess, flat_or_saturated};
use crate::{DeviceMeasurements, Ecg, qrs};

pub use beats::BeatClass;
pub use ectopy::{Ectopics, Ectopy};
pub use flags::{IRREGULAR, MIN_RR_IRREGULAR, MIN_RR_RATE, WIDE_QRS_MS};
pub use rhythm::{ODD_BEAT_CORRELATION, irregularly_irregular};

/// A finding that sets the case's priority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// Stable code, e.g. `TACHYCARDIA`.
    pub code: String,
    /// Put the case at the top of the queue.
    pub critical: bool,
    /// Read before routine cases.
    pub urgent: bool,
    /// What was found, with the numbers.
    pub message: String,
    /// The leads the finding comes from, as the source names them: the leads the beats were
    /// detected on (rhythm), measured on (QT, ST) or that failed the quality check.
    pub leads: Vec<String>,
}

/// Rhythm statistics from the RR intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rhythm {
    /// Mean RR, ms.
    pub rr_ms: f64,
    /// Heart rate from the mean RR, bpm.
    pub hr_bpm: f64,
    /// Standard deviation of RR, ms.
    pub rr_sd_ms: f64,
    /// RMSSD / mean RR (beat-to-beat irregularity).
    pub irregularity: f64,
    /// RMSSD and SD over the mean RR both above [`IRREGULAR`] (at least
    /// [`MIN_RR_IRREGULAR`] intervals): irregular, from AF or from ectopic beats.
    pub irregular: bool,
    /// Still irregular once beats unlike the median beat, premature beats, the pauses after
    /// them and missed beats are set aside (see [`irregularly_irregular`]): what AF does and
    /// isolated ectopics do not.
    pub irregular_without_ectopics: bool,
    /// The RR intervals between beats that look like the median beat vary by more than
    /// [`IRREGULAR`] (RMSSD and SD over the mean).
    pub irregular_normal_beats: bool,
    /// Number of RR intervals between two beats that look like the median beat.
    pub normal_intervals: usize,
    /// Beats whose QRS does not look like the median beat's (correlation under
    /// [`ODD_BEAT_CORRELATION`]): ventricular ectopics, artefacts or mis-detections.
    pub odd_beats: usize,
    /// Number of RR intervals the statistics come from.
    pub intervals: usize,
    /// The leads the beats were detected on (all of them passed the quality check).
    pub leads: Vec<String>,
}

/// Everything measured on one ECG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Sampling rate, Hz.
    pub fs: f64,
    /// QRS fiducials, samples.
    pub beats: Vec<usize>,
    /// Class of each beat (one per fiducial in `beats`), from the readable leads: normal,
    /// ventricular or supraventricular ectopic (see [`beats`]). All normal when no lead is
    /// readable.
    pub beat_classes: Vec<BeatClass>,
    /// PVC (室性早搏) and PAC (房性早搏) counts, couplets, runs and bigeminy; `None` when no
    /// lead is readable.
    pub ectopy: Option<Ectopy>,
    /// Rhythm, when at least two beats were found on readable leads.
    pub rhythm: Option<Rhythm>,
    /// Median-beat measurements, when a beat could be averaged.
    pub measurements: Option<Measurements>,
    /// QTc Bazett (QT / √RR), ms.
    pub qtc_bazett_ms: Option<f64>,
    /// QTc Fridericia (QT / ∛RR), ms.
    pub qtc_fridericia_ms: Option<f64>,
    /// JT interval (QT − QRS), ms: repolarisation alone, unaffected by a wide QRS.
    pub jt_ms: Option<f64>,
    /// QTc adjusted for a wide QRS (QRS ≥ [`WIDE_QRS_MS`]), ms: Bogossian's modified QT,
    /// QT − 48.5 % of the QRS duration (Bogossian et al., Heart Rhythm 2014;11:2273–2277),
    /// Fridericia-corrected like the long-QT flag; comparable with the usual QTc limits.
    /// `None` for a narrow QRS.
    pub qtc_wide_qrs_ms: Option<f64>,
    /// Mains frequency notched, Hz.
    pub mains_hz: Option<f64>,
    /// Quality per lead.
    pub quality: Vec<LeadQuality>,
    /// Triage flags.
    pub flags: Vec<Flag>,
    /// The device's own measurements, for display beside ours.
    pub device: Option<DeviceMeasurements>,
}

impl Analysis {
    /// Whether any flag is critical.
    pub fn critical(&self) -> bool {
        self.flags.iter().any(|f| f.critical)
    }

    /// Whether any flag is urgent or critical.
    pub fn urgent(&self) -> bool {
        self.flags.iter().any(|f| f.urgent || f.critical)
    }
}

/// Conditions every lead (in parallel): the mains frequency is chosen on the lead with the
/// most mains power and notched in all leads.
pub fn conditioned(ecg: &Ecg) -> (Vec<Vec<f32>>, Option<f64>) {
    let mains = ecg
        .leads
        .first()
        .and_then(|l| mains_frequency(&l.samples_uv, ecg.fs));
    let leads = ecg
        .leads
        .par_iter()
        .map(|l| {
            let mut x = l.samples_uv.clone();
            condition(&mut x, ecg.fs, mains);
            x
        })
        .collect();
    (leads, mains)
}

/// Analyses one ECG. Fails only when the ECG is structurally unusable (no leads, zero
/// sampling rate, leads of different lengths); bad signal is reported as flags.
pub fn analyse(ecg: &Ecg) -> Result<Analysis, EcgError> {
    ecg.validate()?;
    // Non-finite samples (NaN, ±inf) would spread through every IIR filter: hold the last
    // finite value instead, and say so.
    let bad: Vec<String> = ecg
        .leads
        .iter()
        .filter(|l| l.samples_uv.iter().any(|v| !v.is_finite()))
        .map(|l| l.name.clone())
        .collect();
    if bad.is_empty() {
        return analyse_finite(ecg);
    }
    let mut clean = ecg.clone();
    for l in &mut clean.leads {
        let mut last = 0f32;
        for v in &mut l.samples_uv {
            if v.is_finite() {
                last = *v;
            } else {
                *v = last;
            }
        }
    }
    let mut a = analyse_finite(&clean)?;
    a.flags.push(Flag {
        code: "INVALID_SAMPLES".into(),
        critical: false,
        urgent: false,
        message: format!("non-finite samples replaced in {}", bad.join(", ")),
        leads: bad,
    });
    Ok(a)
}

/// Beats and quality: the detector first runs on every lead that is neither flat nor
/// saturated (the noise check needs beats to mask the QRS complexes); when the noise check
/// then rejects some of those leads, it runs again on the readable leads alone, so that no
/// rhythm comes from a lead the quality check rejects. Returns the beats, the quality per lead
/// and the indices of the readable leads (empty when none is).
fn beats_and_quality(ecg: &Ecg, cond: &[Vec<f32>]) -> (Vec<usize>, Vec<LeadQuality>, Vec<usize>) {
    let fs = ecg.fs;
    let pre: Vec<(bool, bool)> = ecg
        .leads
        .par_iter()
        .zip(cond)
        .map(|(l, c)| flat_or_saturated(&l.samples_uv, c, fs))
        .collect();
    let candidates: Vec<usize> = (0..cond.len())
        .filter(|&i| !pre[i].0 && !pre[i].1)
        .collect();
    let detect = |idx: &[usize]| {
        let sigs: Vec<&[f32]> = idx.iter().map(|&i| cond[i].as_slice()).collect();
        qrs::detect(&sigs, fs).beats
    };
    let first = detect(&candidates);
    let quality: Vec<LeadQuality> = ecg
        .leads
        .par_iter()
        .zip(cond)
        .map(|(l, c)| assess(&l.name, &l.samples_uv, c, fs, &first))
        .collect();
    let usable: Vec<usize> = (0..cond.len()).filter(|&i| quality[i].usable()).collect();
    let beats = if usable == candidates || usable.is_empty() {
        first
    } else {
        detect(&usable)
    };
    (beats, quality, usable)
}

fn analyse_finite(ecg: &Ecg) -> Result<Analysis, EcgError> {
    let fs = ecg.fs;
    let (cond, mains) = conditioned(ecg);
    let (beats, quality, usable) = beats_and_quality(ecg, &cond);
    let names: Vec<String> = usable.iter().map(|&i| ecg.leads[i].name.clone()).collect();
    let sigs: Vec<&[f32]> = usable.iter().map(|&i| cond[i].as_slice()).collect();
    let mb = median_beats(&names, &sigs, fs, &beats);
    let odd = match &mb {
        Some(mb) => rhythm::odd_beats(mb, &sigs, &beats),
        None => vec![false; beats.len()],
    };
    let rhythm = if usable.is_empty() {
        None
    } else {
        rhythm::rhythm(&beats, fs, &names, &odd)
    };
    let rr_s = rhythm.as_ref().map(|r| r.rr_ms / 1000.0);
    let measurements = mb.map(|mb| measure(&mb, rr_s));
    let beat_classes = beats::classify(&sigs, fs, &beats);
    let ectopy = (!usable.is_empty()).then(|| Ectopy::count(&beat_classes, &beats, fs));
    let mut a = Analysis {
        fs,
        beats,
        beat_classes,
        ectopy,
        rhythm,
        measurements,
        qtc_bazett_ms: None,
        qtc_fridericia_ms: None,
        jt_ms: None,
        qtc_wide_qrs_ms: None,
        mains_hz: mains,
        quality,
        flags: Vec::new(),
        device: ecg.device.clone(),
    };
    corrected_qt(&mut a);
    a.flags = flags::flags(&a, ecg.len() as f64 / fs);
    let vt = a.ectopy.as_ref().and_then(|e| e.vt_flag(&names));
    a.flags.extend(vt);
    Ok(a)
}

/// Fills the rate-corrected QT values from the measured QT, QRS and mean RR.
fn corrected_qt(a: &mut Analysis) {
    let Some(m) = &a.measurements else { return };
    let Some(qt) = m.qt_ms else { return };
    a.jt_ms = Some(qt - m.qrs_ms);
    let Some(rr) = a.rhythm.as_ref().map(|r| r.rr_ms / 1000.0) else {
        return;
    };
    if rr <= 0.0 {
        return;
    }
    a.qtc_bazett_ms = Some(qt / rr.sqrt());
    a.qtc_fridericia_ms = Some(qt / rr.cbrt());
    if m.qrs_ms >= WIDE_QRS_MS {
        a.qtc_wide_qrs_ms = Some((qt - 0.485 * m.qrs_ms) / rr.cbrt());
    }
}

/// Analyses many ECGs in parallel; one bad ECG does not stop the others.
pub fn analyse_many(ecgs: &[Ecg]) -> Vec<Result<Analysis, EcgError>> {
    ecgs.par_iter().map(analyse).collect()
}
