//! The whole pipeline for one ECG: conditioning, quality, QRS detection, rhythm, median-beat
//! measurements and triage flags. Leads are processed in parallel with rayon; many ECGs are
//! analysed in parallel with [`analyse_many`].

use rayon::prelude::*;
use serde::Serialize;

use crate::error::EcgError;
use crate::filter::{condition, mains_frequency};
use crate::leads::standard_name;
use crate::measure::{Measurements, measure, median_beats};
use crate::quality::{LeadQuality, assess, flat_or_saturated};
use crate::{DeviceMeasurements, Ecg, qrs};

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
    /// Irregular enough to suggest atrial fibrillation (see [`IRREGULAR`]).
    pub irregular: bool,
}

/// RMSSD/mean-RR and SD/mean-RR above which the rhythm is called irregular (AF-like): in
/// sinus rhythm, even with sinus arrhythmia, beat-to-beat changes stay a few percent; AF gives
/// 15–30 %. Both must exceed 0.10 and at least 6 RR intervals are needed.
pub const IRREGULAR: f64 = 0.10;

/// Everything measured on one ECG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Sampling rate, Hz.
    pub fs: f64,
    /// QRS fiducials, samples.
    pub beats: Vec<usize>,
    /// Rhythm, when at least two beats were found.
    pub rhythm: Option<Rhythm>,
    /// Median-beat measurements, when a beat could be averaged.
    pub measurements: Option<Measurements>,
    /// QTc Bazett (QT / √RR), ms.
    pub qtc_bazett_ms: Option<f64>,
    /// QTc Fridericia (QT / ∛RR), ms.
    pub qtc_fridericia_ms: Option<f64>,
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
    let bad: Vec<&str> = ecg
        .leads
        .iter()
        .filter(|l| l.samples_uv.iter().any(|v| !v.is_finite()))
        .map(|l| l.name.as_str())
        .collect();
    if !bad.is_empty() {
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
        a.flags.push(flag(
            "INVALID_SAMPLES",
            false,
            false,
            format!("non-finite samples replaced in {}", bad.join(", ")),
        ));
        return Ok(a);
    }
    analyse_finite(ecg)
}

fn analyse_finite(ecg: &Ecg) -> Result<Analysis, EcgError> {
    let fs = ecg.fs;
    let (cond, mains) = conditioned(ecg);
    let pre: Vec<(bool, bool)> = ecg
        .leads
        .par_iter()
        .zip(&cond)
        .map(|(l, c)| flat_or_saturated(&l.samples_uv, c, fs))
        .collect();
    let detect_on: Vec<&[f32]> = cond
        .iter()
        .zip(&pre)
        .filter(|(_, (f, s))| !f && !s)
        .map(|(c, _)| c.as_slice())
        .collect();
    let beats = qrs::detect(&detect_on, fs).beats;
    let quality: Vec<LeadQuality> = ecg
        .leads
        .par_iter()
        .zip(&cond)
        .map(|(l, c)| assess(&l.name, &l.samples_uv, c, fs, &beats))
        .collect();
    let rhythm = rhythm(&beats, fs);
    let usable: Vec<usize> = (0..cond.len()).filter(|&i| quality[i].usable()).collect();
    let names: Vec<String> = usable.iter().map(|&i| ecg.leads[i].name.clone()).collect();
    let sigs: Vec<&[f32]> = usable.iter().map(|&i| cond[i].as_slice()).collect();
    let measurements = median_beats(&names, &sigs, fs, &beats)
        .map(|mb| measure(&mb, rhythm.as_ref().map(|r| r.rr_ms / 1000.0)));
    let qt = measurements.as_ref().and_then(|m| m.qt_ms);
    let rr_s = rhythm.as_ref().map(|r| r.rr_ms / 1000.0);
    let (qtc_b, qtc_f) = match (qt, rr_s) {
        (Some(qt), Some(rr)) if rr > 0.0 => (Some(qt / rr.sqrt()), Some(qt / rr.cbrt())),
        _ => (None, None),
    };
    let mut a = Analysis {
        fs,
        beats,
        rhythm,
        measurements,
        qtc_bazett_ms: qtc_b,
        qtc_fridericia_ms: qtc_f,
        mains_hz: mains,
        quality,
        flags: Vec::new(),
        device: ecg.device.clone(),
    };
    a.flags = flags(&a, ecg.len() as f64 / fs);
    Ok(a)
}

/// Analyses many ECGs in parallel; one bad ECG does not stop the others.
pub fn analyse_many(ecgs: &[Ecg]) -> Vec<Result<Analysis, EcgError>> {
    ecgs.par_iter().map(analyse).collect()
}

fn rhythm(beats: &[usize], fs: f64) -> Option<Rhythm> {
    let rr: Vec<f64> = beats
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 * 1000.0 / fs)
        .collect();
    if rr.is_empty() {
        return None;
    }
    let n = rr.len() as f64;
    let mean = rr.iter().sum::<f64>() / n;
    let sd = (rr.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
    let rmssd = if rr.len() > 1 {
        (rr.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let irregularity = rmssd / mean;
    Some(Rhythm {
        rr_ms: mean,
        hr_bpm: 60_000.0 / mean,
        rr_sd_ms: sd,
        irregularity,
        irregular: rr.len() >= 6 && irregularity > IRREGULAR && sd / mean > IRREGULAR,
    })
}

fn flag(code: &str, critical: bool, urgent: bool, message: String) -> Flag {
    Flag {
        code: code.to_string(),
        critical,
        urgent,
        message,
    }
}

/// ST elevation thresholds at J + 60 ms (µV): 200 in V2–V3 (the higher limit of the fourth
/// universal definition of MI, sex unknown), 100 elsewhere.
fn st_threshold(lead: &str) -> f32 {
    if matches!(lead, "V2" | "V3") {
        200.0
    } else {
        100.0
    }
}

/// Contiguous lead pairs: neighbouring precordial leads, the inferior leads, and the high
/// lateral leads.
const CONTIGUOUS: [(&str, &str); 10] = [
    ("V1", "V2"),
    ("V2", "V3"),
    ("V3", "V4"),
    ("V4", "V5"),
    ("V5", "V6"),
    ("II", "III"),
    ("II", "aVF"),
    ("III", "aVF"),
    ("I", "aVL"),
    ("V6", "I"),
];

fn flags(a: &Analysis, duration_s: f64) -> Vec<Flag> {
    let mut f = Vec::new();
    quality_flags(a, duration_s, &mut f);
    if let Some(r) = &a.rhythm {
        if r.hr_bpm < 50.0 {
            f.push(flag(
                "BRADYCARDIA",
                r.hr_bpm < 40.0,
                true,
                format!("heart rate {:.0} bpm (< 50)", r.hr_bpm),
            ));
        }
        if r.hr_bpm > 120.0 {
            f.push(flag(
                "TACHYCARDIA",
                r.hr_bpm > 150.0,
                true,
                format!("heart rate {:.0} bpm (> 120)", r.hr_bpm),
            ));
        }
        if r.irregular {
            f.push(flag(
                "IRREGULAR_RHYTHM",
                false,
                true,
                format!(
                    "irregular RR (RMSSD {:.0} % of mean RR): possible atrial fibrillation",
                    100.0 * r.irregularity
                ),
            ));
        }
    }
    if let Some(q) = a.qtc_bazett_ms.filter(|&q| q > 500.0) {
        f.push(flag(
            "QTC_PROLONGED",
            true,
            true,
            format!("QTc (Bazett) {q:.0} ms (> 500)"),
        ));
    }
    if let Some(m) = &a.measurements {
        let elevated: Vec<(&str, f32)> = m
            .st_uv
            .iter()
            .filter_map(|(n, v)| standard_name(n).map(|s| (s, *v)))
            .filter(|(s, v)| *v >= st_threshold(s))
            .collect();
        let has = |n: &str| elevated.iter().any(|(s, _)| *s == n);
        let pairs: Vec<String> = CONTIGUOUS
            .iter()
            .filter(|(x, y)| has(x) && has(y))
            .map(|(x, y)| format!("{x}+{y}"))
            .collect();
        if !pairs.is_empty() {
            let list: Vec<String> = elevated
                .iter()
                .map(|(s, v)| format!("{s} {:.1} mm", v / 100.0))
                .collect();
            f.push(flag(
                "ST_ELEVATION",
                true,
                true,
                format!(
                    "ST elevation at J+60 ms in contiguous leads ({}): {}",
                    pairs.join(", "),
                    list.join(", ")
                ),
            ));
        }
    }
    f
}

fn quality_flags(a: &Analysis, duration_s: f64, f: &mut Vec<Flag>) {
    let names = |p: &dyn Fn(&LeadQuality) -> bool| -> Vec<String> {
        a.quality
            .iter()
            .filter(|q| p(q))
            .map(|q| q.lead.clone())
            .collect()
    };
    for (code, list, what) in [
        ("LEAD_OFF", names(&|q| q.flat), "flat (lead off?)"),
        ("SATURATION", names(&|q| q.saturated), "saturated"),
        ("NOISE", names(&|q| q.noisy), "too noisy to measure"),
    ] {
        if !list.is_empty() {
            f.push(flag(
                code,
                false,
                false,
                format!("{what}: {}", list.join(", ")),
            ));
        }
    }
    let expected = duration_s >= 4.0;
    if expected && a.beats.len() < 2 {
        f.push(flag(
            "NO_QRS",
            false,
            true,
            format!("no QRS complexes found in {duration_s:.1} s: check the recording"),
        ));
    }
}
