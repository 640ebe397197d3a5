//! Signal quality per lead: lead off / flat, saturation (clipping at the ADC rails) and
//! noise, so that a bad recording says so instead of reporting confident numbers.
//!
//! Rules (on the raw lead, and on the conditioned lead for noise):
//! - **flat**: peak-to-peak of the conditioned lead below 50 µV (no ECG can be that small;
//!   a disconnected electrode reads flat or pure mains hum, which the notch removes);
//! - **saturated**: more than 0.5 % of samples sit at the lead's extreme value in runs of at
//!   least 20 ms (a clipping amplifier or ADC);
//! - **noisy**: the 40–100 Hz residual (muscle noise) outside the QRS complexes (±80 ms) has
//!   an RMS above 30 µV, or above 15 µV
//!   and 30 % of the lead's median QRS peak-to-peak amplitude (a lead nearly perpendicular to
//!   the QRS vector has a small QRS and is not noisy for that), or the 1-s means of the raw
//!   lead (baseline wander) span more than 2 mV.

use serde::Serialize;

use crate::filter::Biquad;

/// Quality of one lead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadQuality {
    /// Lead name.
    pub lead: String,
    /// Lead off or flat.
    pub flat: bool,
    /// Clipped at the rails.
    pub saturated: bool,
    /// Too noisy to measure.
    pub noisy: bool,
    /// Muscle-noise RMS relative to the QRS amplitude.
    pub noise_ratio: f32,
}

impl LeadQuality {
    /// Whether the lead can be used for detection and measurement.
    pub fn usable(&self) -> bool {
        !(self.flat || self.saturated || self.noisy)
    }
}

/// Assesses a lead from its raw and conditioned samples and the detected beats.
pub fn assess(name: &str, raw: &[f32], cond: &[f32], fs: f64, beats: &[usize]) -> LeadQuality {
    let (flat, saturated) = flat_or_saturated(raw, cond, fs);
    // Muscle noise: a 40 Hz high-pass of the conditioned lead (already limited to 100 Hz),
    // one forward pass: only its power matters, not its phase.
    let mut hf = cond.to_vec();
    Biquad::highpass(40.0_f64.min(0.4 * fs), fs, std::f64::consts::FRAC_1_SQRT_2)
        .run(&mut hf, false);
    // Outside the QRS complexes only: the QRS itself has energy above 40 Hz.
    let mut outside = vec![true; cond.len()];
    let w = (0.08 * fs) as usize;
    for &b in beats {
        let end = (b + w + 1).min(outside.len());
        outside[b.saturating_sub(w).min(end)..end].fill(false);
    }
    let (sum, cnt) = hf
        .iter()
        .zip(&outside)
        .filter(|(_, o)| **o)
        .fold((0f64, 0usize), |(s, c), (v, _)| {
            (s + (*v as f64).powi(2), c + 1)
        });
    let resid = sum / cnt.max(1) as f64;
    let qrs = qrs_amplitude(cond, fs, beats).max(1.0);
    let noise_ratio = (resid.sqrt() as f32) / qrs;
    // Baseline wander: range of the 1-s means of the raw lead.
    let wander = {
        let means: Vec<f32> = raw
            .chunks((fs as usize).max(1))
            .map(|c| c.iter().sum::<f32>() / c.len() as f32)
            .collect();
        let (a, b) = min_max(&means);
        b - a
    };
    LeadQuality {
        lead: name.to_string(),
        flat,
        saturated,
        noisy: !flat
            && ((resid.sqrt() > 30.0)
                || (resid.sqrt() > 15.0 && noise_ratio > 0.3)
                || wander > 2000.0),
        noise_ratio,
    }
}

/// The checks that need no beats: (flat, saturated).
pub fn flat_or_saturated(raw: &[f32], cond: &[f32], fs: f64) -> (bool, bool) {
    let (lo, hi) = min_max(cond);
    (hi - lo < 50.0, saturation(raw, fs))
}

fn min_max(x: &[f32]) -> (f32, f32) {
    x.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        })
}

fn saturation(x: &[f32], fs: f64) -> bool {
    let (lo, hi) = min_max(x);
    if hi <= lo {
        return false;
    }
    let min_run = ((0.02 * fs) as usize).max(2);
    let mut clipped = 0usize;
    let mut run = 0usize;
    for &v in x {
        if v == lo || v == hi {
            run += 1;
        } else {
            if run >= min_run {
                clipped += run;
            }
            run = 0;
        }
    }
    if run >= min_run {
        clipped += run;
    }
    clipped * 200 > x.len()
}

/// Median peak-to-peak amplitude within ±60 ms of each beat.
fn qrs_amplitude(x: &[f32], fs: f64, beats: &[usize]) -> f32 {
    let w = (0.06 * fs) as usize;
    let mut a: Vec<f32> = beats
        .iter()
        .map(|&b| {
            let s = &x[b.saturating_sub(w)..(b + w + 1).min(x.len())];
            let (lo, hi) = min_max(s);
            hi - lo
        })
        .collect();
    crate::qrs::median(&mut a)
}
