//! Synthetic 12-lead ECGs with known beats and intervals, for tests, demos and benchmarks.
//!
//! Each wave is a raised-cosine (Hann) pulse, so its onset and end are exact: P (100 ms,
//! ending 40 ms before QRS onset… precisely starting `pr_ms` before it), Q/R/S (20/45/35 % of
//! the QRS duration), and an asymmetric T wave (rising over 3/4, falling over 1/4) ending exactly `qt_ms` after QRS onset. Limb leads follow Einthoven and
//! Goldberger from leads I and II (so the frontal QRS axis is exactly `axis_deg`); precordial
//! leads use fixed R/S/T progressions. ST elevation is a plateau from the J point, tapering
//! to zero at T end, added to the chosen leads. Beat times follow the heart rate with a small
//! sinus jitter, or a random (AF-like) RR sequence without P waves.

use crate::leads::STANDARD;
use crate::{Ecg, Lead};

/// What to synthesise.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Sampling rate, Hz.
    pub fs: f64,
    /// Duration, s.
    pub seconds: f64,
    /// Mean heart rate, bpm.
    pub hr_bpm: f64,
    /// Relative RR spread: ±2 % for sinus rhythm, ±25 % for AF-like rhythms.
    pub rr_spread: f64,
    /// Whether beats have P waves (false for AF).
    pub p_waves: bool,
    /// PR interval (P onset to QRS onset), ms.
    pub pr_ms: f64,
    /// QRS duration, ms.
    pub qrs_ms: f64,
    /// QT interval (QRS onset to T end), ms.
    pub qt_ms: f64,
    /// Frontal QRS axis, degrees.
    pub axis_deg: f64,
    /// ST elevation (µV) added to the named leads.
    pub st_uv: Vec<(&'static str, f32)>,
    /// White noise RMS, µV.
    pub noise_uv: f32,
    /// Mains interference amplitude at 50 Hz, µV.
    pub mains_uv: f32,
    /// Random seed.
    pub seed: u64,
}

impl Spec {
    /// Normal sinus rhythm, 75 bpm, PR 160, QRS 90, QT 380 ms, axis 60°, 10 s at 500 Hz.
    pub fn normal() -> Self {
        Spec {
            fs: 500.0,
            seconds: 10.0,
            hr_bpm: 75.0,
            rr_spread: 0.02,
            p_waves: true,
            pr_ms: 160.0,
            qrs_ms: 90.0,
            qt_ms: 380.0,
            axis_deg: 60.0,
            st_uv: Vec::new(),
            noise_uv: 10.0,
            mains_uv: 40.0,
            seed: 1,
        }
    }
    /// Sinus bradycardia, 42 bpm, QT 440 ms.
    pub fn brady() -> Self {
        Spec {
            hr_bpm: 42.0,
            qt_ms: 440.0,
            ..Self::normal()
        }
    }
    /// Sinus tachycardia, 140 bpm, PR 120, QT 280 ms.
    pub fn tachy() -> Self {
        Spec {
            hr_bpm: 140.0,
            pr_ms: 120.0,
            qt_ms: 280.0,
            ..Self::normal()
        }
    }
    /// AF-like: irregular RR (±25 %), no P waves, 95 bpm.
    pub fn af() -> Self {
        Spec {
            hr_bpm: 95.0,
            rr_spread: 0.25,
            p_waves: false,
            qt_ms: 340.0,
            ..Self::normal()
        }
    }
    /// Long QT: 560 ms at 60 bpm (QTc 560 ms).
    pub fn long_qt() -> Self {
        Spec {
            hr_bpm: 60.0,
            qt_ms: 560.0,
            ..Self::normal()
        }
    }
    /// Inferior ST elevation: +250 µV in II, III and aVF, reciprocal −150 µV in aVL and I.
    pub fn st_elevation() -> Self {
        Spec {
            st_uv: vec![
                ("II", 250.0),
                ("III", 250.0),
                ("aVF", 250.0),
                ("aVL", -150.0),
                ("I", -100.0),
            ],
            ..Self::normal()
        }
    }
}

/// A synthetic ECG and its truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    /// The ECG (12 standard leads).
    pub ecg: Ecg,
    /// Sample of each R-wave peak.
    pub beats: Vec<usize>,
    /// The spec it was made from (intervals, axis and ST are its truth).
    pub spec: Spec,
}

/// xorshift64* (deterministic, no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Hann pulse of unit height over [0, d).
fn hann(t: f64, d: f64) -> f64 {
    if t < 0.0 || t >= d {
        0.0
    } else {
        0.5 - 0.5 * (2.0 * std::f64::consts::PI * t / d).cos()
    }
}

/// Asymmetric T: rises over 3/4 of `d`, falls (more steeply, as real T waves do) over the
/// last 1/4.
fn t_wave(t: f64, d: f64) -> f64 {
    let up = d * 0.75;
    if t < 0.0 || t >= d {
        0.0
    } else if t < up {
        hann(t, 2.0 * up)
    } else {
        hann(t - up + (d - up), 2.0 * (d - up))
    }
}

/// Per-lead wave amplitudes (µV) of one beat: (P, Q, R, S, T).
fn amplitudes(spec: &Spec) -> Vec<[f64; 5]> {
    let a = spec.axis_deg.to_radians();
    // Lead I and II gains of a frontal vector at angle `x`.
    let proj = |x: f64| (x.cos(), (x - 60f64.to_radians()).cos());
    let (p1, p2) = proj(60f64.to_radians());
    let (q1, q2) = proj(a);
    let (t1, t2) = proj(45f64.to_radians());
    let limb = |i: f64, ii: f64| [i, ii, ii - i, -(i + ii) / 2.0, i - ii / 2.0, ii - i / 2.0];
    let (p, q, t) = (limb(p1, p2), limb(q1, q2), limb(t1, t2));
    let mut out: Vec<[f64; 5]> = (0..6)
        .map(|k| {
            [
                150.0 * p[k],
                -120.0 * q[k],
                1200.0 * q[k],
                -300.0 * q[k],
                300.0 * t[k],
            ]
        })
        .collect();
    let r = [0.2, 0.45, 0.75, 1.1, 1.2, 1.0];
    let s = [1.0, 1.3, 0.9, 0.45, 0.2, 0.1];
    let tv = [0.3, 1.0, 1.2, 1.1, 0.9, 0.7];
    for k in 0..6 {
        out.push([80.0, -60.0, 1200.0 * r[k], -1000.0 * s[k], 300.0 * tv[k]]);
    }
    out
}

/// Synthesises the ECG described by `spec`.
pub fn generate(spec: &Spec) -> Synthetic {
    let fs = spec.fs;
    let n = (spec.seconds * fs) as usize;
    let mut rng = Rng(spec.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let rr = 60.0 / spec.hr_bpm;
    // QRS onsets (seconds): first after room for the P wave, last with room for T.
    let mut onsets = Vec::new();
    let mut t = 0.4;
    while t + spec.qt_ms / 1000.0 + 0.05 < spec.seconds {
        onsets.push(t);
        t += rr * (1.0 + spec.rr_spread * (2.0 * rng.next() - 1.0));
    }
    let amp = amplitudes(spec);
    let (qrs, qt, pr) = (
        spec.qrs_ms / 1000.0,
        spec.qt_ms / 1000.0,
        spec.pr_ms / 1000.0,
    );
    let (dq, dr, ds) = (0.2 * qrs, 0.45 * qrs, 0.35 * qrs);
    let t_start = qrs + 0.3 * (qt - qrs);
    let st_end = qt;
    let mut leads: Vec<Vec<f32>> = vec![vec![0f32; n]; 12];
    for (k, lead) in leads.iter_mut().enumerate() {
        let [ap, aq, ar, as_, at] = amp[k];
        let st = spec
            .st_uv
            .iter()
            .find(|(l, _)| *l == STANDARD[k])
            .map_or(0.0, |s| s.1 as f64);
        for &q0 in &onsets {
            let a = ((q0 - pr - 0.01) * fs).max(0.0) as usize;
            let b = (((q0 + qt + 0.01) * fs) as usize).min(n);
            for (i, v) in lead.iter_mut().enumerate().take(b).skip(a) {
                let x = i as f64 / fs - q0;
                let mut y = 0.0;
                if spec.p_waves {
                    y += ap * hann(x + pr, 0.1f64.min(pr - 0.03));
                }
                y += aq * hann(x, dq) + ar * hann(x - dq, dr) + as_ * hann(x - dq - dr, ds);
                y += at * t_wave(x - t_start, qt - t_start);
                if st != 0.0 {
                    y += st * st_shape(x, qrs, st_end);
                }
                *v += y as f32;
            }
        }
    }
    for (k, lead) in leads.iter_mut().enumerate() {
        let phase = k as f64;
        for (i, v) in lead.iter_mut().enumerate() {
            let ts = i as f64 / fs;
            let mains =
                spec.mains_uv as f64 * (2.0 * std::f64::consts::PI * 50.0 * ts + phase).sin();
            let wander = 80.0 * (2.0 * std::f64::consts::PI * 0.15 * ts + phase).sin();
            *v += (mains + wander + spec.noise_uv as f64 * rng.gauss()) as f32;
        }
    }
    let beats = onsets
        .iter()
        .map(|q0| ((q0 + dq + dr / 2.0) * fs).round() as usize)
        .collect();
    Synthetic {
        ecg: Ecg {
            fs,
            leads: leads
                .into_iter()
                .zip(STANDARD)
                .map(|(samples_uv, name)| Lead {
                    name: name.to_string(),
                    samples_uv,
                })
                .collect(),
            device: None,
        },
        beats,
        spec: spec.clone(),
    }
}

/// ST plateau: rises over the last 10 ms of the QRS, flat to mid-way to T end, then tapers.
fn st_shape(x: f64, qrs: f64, end: f64) -> f64 {
    let mid = qrs + 0.5 * (end - qrs);
    if x < qrs - 0.01 || x >= end {
        0.0
    } else if x < qrs {
        (x - qrs + 0.01) / 0.01
    } else if x < mid {
        1.0
    } else {
        0.5 + 0.5 * (std::f64::consts::PI * (x - mid) / (end - mid)).cos()
    }
}
