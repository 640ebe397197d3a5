//! Multi-lead QRS detection.
//!
//! The detector follows Pan & Tompkins (1985) with a multi-lead front end:
//! 1. each usable lead is band-passed at 5–15 Hz (zero phase, [`crate::filter::qrs_band`]),
//!    differentiated (five-point derivative) and squared;
//! 2. each lead's energy is divided by its own robust scale (the median of its 1-s maxima) so
//!    that a large lead does not drown the others, and the leads are summed; leads that are
//!    flat (lead off) are left out;
//! 3. the sum is integrated over a centred 150 ms window;
//! 4. candidate peaks are the maxima of the integrated signal over ±200 ms;
//! 5. a candidate is a beat when it exceeds `NPK + 0.25 (SPK − NPK)` (running signal and noise
//!    peak levels, updated with weight 1/8), is at least 200 ms (refractory period) after the
//!    previous beat, and, when within 360 ms of it, its energy is at least 30 % of that beat's
//!    (otherwise it is taken as a T wave);
//! 6. search-back: when no beat has come for 1.66 × the mean of the last 8 RR intervals, the
//!    largest candidate of that gap above half the threshold is taken as a beat;
//! 7. the fiducial point is the maximum of the summed energy smoothed over 40 ms (the centre
//!    of the QRS energy) within ±100 ms of the integrated peak.

use crate::filter::qrs_band;

/// Detector output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detection {
    /// Fiducial sample of each QRS complex, ascending.
    pub beats: Vec<usize>,
    /// Index of the leads that took part.
    pub leads_used: Vec<usize>,
}

/// Detects QRS complexes in leads sampled at `fs` Hz (leads must be of equal length).
pub fn detect(leads: &[&[f32]], fs: f64) -> Detection {
    let n = leads.iter().map(|l| l.len()).min().unwrap_or(0);
    if n < (fs * 0.5) as usize || fs <= 0.0 {
        return Detection::default();
    }
    let energies: Vec<(usize, Vec<f32>)> = {
        use rayon::prelude::*;
        leads
            .par_iter()
            .enumerate()
            .filter_map(|(i, l)| lead_energy(&l[..n], fs).map(|e| (i, e)))
            .collect()
    };
    let mut sum = vec![0f32; n];
    for (_, e) in &energies {
        sum.iter_mut().zip(e).for_each(|(s, v)| *s += v);
    }
    let beats = if energies.is_empty() {
        Vec::new()
    } else {
        decide(&sum, fs)
    };
    Detection {
        beats,
        leads_used: energies.into_iter().map(|(i, _)| i).collect(),
    }
}

/// Normalised squared-derivative energy of one lead, `None` when the lead is flat.
fn lead_energy(x: &[f32], fs: f64) -> Option<Vec<f32>> {
    let b = qrs_band(x, fs);
    let n = b.len();
    let mut e = vec![0f32; n];
    // Five-point derivative (Pan & Tompkins), scaled to per-sample units.
    for i in 2..n.saturating_sub(2) {
        let d = (2.0 * b[i + 2] + b[i + 1] - b[i - 1] - 2.0 * b[i - 2]) / 8.0;
        e[i] = d * d;
    }
    let scale = robust_peak(&e, fs);
    // A lead whose band-passed derivative never exceeds ~1 µV/sample is flat or off.
    if scale < 1.0 {
        return None;
    }
    e.iter_mut().for_each(|v| *v /= scale);
    Some(e)
}

/// Median of the per-second maxima of `x`.
fn robust_peak(x: &[f32], fs: f64) -> f32 {
    let w = (fs as usize).max(1);
    let mut m: Vec<f32> = x
        .chunks(w)
        .map(|c| c.iter().copied().fold(0f32, f32::max))
        .collect();
    median(&mut m)
}

pub(crate) fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let k = v.len() / 2;
    *v.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
}

/// Centred moving sum over `w` samples.
fn integrate(x: &[f32], w: usize) -> Vec<f32> {
    let n = x.len();
    let mut c = vec![0f64; n + 1];
    for i in 0..n {
        c[i + 1] = c[i] + x[i] as f64;
    }
    let h = w / 2;
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(h), (i + h + 1).min(n));
            ((c[b] - c[a]) / w as f64) as f32
        })
        .collect()
}

/// Candidate peaks: maxima of `m` over ±`r` samples (first one wins ties). Only local maxima
/// can qualify, and the integrated signal has few, so each is checked against its neighbours
/// in the list rather than against every sample of its window.
fn candidates(m: &[f32], r: usize) -> Vec<usize> {
    let n = m.len();
    let local: Vec<usize> = (0..n)
        .filter(|&i| m[i] > 0.0 && (i == 0 || m[i] > m[i - 1]) && (i + 1 == n || m[i] >= m[i + 1]))
        .collect();
    let mut out = Vec::new();
    for (k, &i) in local.iter().enumerate() {
        let before = local[..k]
            .iter()
            .rev()
            .take_while(|&&j| j + r >= i)
            .all(|&j| m[j] < m[i]);
        let after = local[k + 1..]
            .iter()
            .take_while(|&&j| j <= i + r)
            .all(|&j| m[j] <= m[i]);
        if before && after {
            out.push(i);
        }
    }
    out
}

fn argmax(x: &[f32], a: usize, b: usize) -> usize {
    let mut j = a;
    for k in a..b {
        if x[k] > x[j] {
            j = k;
        }
    }
    j
}

/// The adaptive-threshold decision over the summed energy.
fn decide(energy: &[f32], fs: f64) -> Vec<usize> {
    let ms = |t: f64| ((t * fs / 1000.0).round() as usize).max(1);
    let m = integrate(energy, ms(150.0));
    let cands = candidates(&m, ms(200.0));
    // Learning phase: the first 10 s set the signal level; noise starts at an eighth of it.
    let learn = ms(10_000.0).min(m.len());
    let mut spk = robust_peak(&m[..learn], fs);
    let mut npk = spk / 8.0;
    let (refractory, twave) = (ms(200.0), ms(360.0));
    let mut beats: Vec<(usize, f32)> = Vec::new(); // (integrated peak index, energy peak)
    let mut rr: Vec<usize> = Vec::new();
    let mut ci = 0;
    let mut last_cand_checked = 0;
    while ci < cands.len() {
        let c = cands[ci];
        let th1 = npk + 0.25 * (spk - npk);
        // Search-back before taking `c`, if the gap since the last beat is too long.
        if let Some(&(last, _)) = beats.last()
            && rr.len() >= 2
        {
            let mean = rr.iter().rev().take(8).sum::<usize>() / rr.len().min(8);
            if c - last > mean * 166 / 100 {
                let best = cands[last_cand_checked..ci]
                    .iter()
                    .copied()
                    .filter(|&k| k > last + refractory && c > k + refractory)
                    .max_by(|&a, &b| m[a].total_cmp(&m[b]));
                if let Some(k) = best.filter(|&k| m[k] > 0.5 * th1) {
                    spk = 0.25 * m[k] + 0.75 * spk;
                    push_beat(&mut beats, &mut rr, k, peak_energy(energy, k, ms(100.0)));
                    last_cand_checked = ci;
                    continue;
                }
            }
        }
        let e = peak_energy(energy, c, ms(100.0));
        let is_beat = m[c] > th1
            && match beats.last() {
                None => true,
                Some(&(last, le)) => c >= last + refractory && (c >= last + twave || e >= 0.3 * le),
            };
        if is_beat {
            spk = 0.125 * m[c] + 0.875 * spk;
            push_beat(&mut beats, &mut rr, c, e);
            last_cand_checked = ci + 1;
        } else {
            npk = 0.125 * m[c] + 0.875 * npk;
        }
        ci += 1;
    }
    let w = ms(100.0);
    let centre = integrate(energy, ms(40.0));
    beats
        .into_iter()
        .map(|(c, _)| {
            let (a, b) = (c.saturating_sub(w), (c + w + 1).min(energy.len()));
            argmax(&centre, a, b)
        })
        .collect()
}

fn peak_energy(e: &[f32], c: usize, w: usize) -> f32 {
    let (a, b) = (c.saturating_sub(w), (c + w + 1).min(e.len()));
    e[a..b].iter().copied().fold(0f32, f32::max)
}

fn push_beat(beats: &mut Vec<(usize, f32)>, rr: &mut Vec<usize>, c: usize, e: f32) {
    // Keep beats sorted (a search-back beat precedes the current candidate).
    if let Some(&(last, _)) = beats.last() {
        rr.push(c.abs_diff(last));
    }
    beats.push((c, e));
    beats.sort_by_key(|b| b.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaussian "QRS" spikes at known positions on a slow T-like bump and noise-free baseline.
    fn spikes(fs: f64, at: &[usize], n: usize) -> Vec<f32> {
        let mut x = vec![0f32; n];
        for &p in at {
            for (i, v) in x.iter_mut().enumerate() {
                let t = (i as f64 - p as f64) / fs;
                *v += (1000.0 * (-(t / 0.012).powi(2)).exp()
                    + 250.0 * (-((t - 0.3) / 0.06).powi(2)).exp()) as f32;
            }
        }
        x
    }

    #[test]
    fn finds_every_spike_and_no_t_wave() {
        let fs = 500.0;
        let at: Vec<usize> = (0..20).map(|k| 300 + k * 400 + (k % 3) * 20).collect();
        let x = spikes(fs, &at, 9000);
        let d = detect(&[&x], fs);
        assert_eq!(d.beats.len(), at.len(), "{:?}", d.beats);
        for (b, a) in d.beats.iter().zip(&at) {
            assert!(b.abs_diff(*a) <= 5, "{b} vs {a}");
        }
    }

    #[test]
    fn flat_leads_are_ignored() {
        let fs = 500.0;
        let at: Vec<usize> = (0..10).map(|k| 250 + k * 450).collect();
        let x = spikes(fs, &at, 5000);
        let flat = vec![0f32; 5000];
        let d = detect(&[&flat, &x], fs);
        assert_eq!(d.leads_used, vec![1]);
        assert_eq!(d.beats.len(), 10);
        assert!(detect(&[&flat], fs).beats.is_empty());
    }
}
