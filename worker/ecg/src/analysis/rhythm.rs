//! Rhythm statistics from the RR intervals, and the beats to set aside before calling a rhythm
//! irregular: beats that do not look like the median beat (ventricular ectopics, artefacts,
//! T waves taken for a QRS) and premature beats with their pauses. Holter programs call atrial
//! fibrillation on the intervals between normal beats for the same reason: a few ectopic beats
//! make a sinus rhythm look irregular, and AF stays irregular without them.

use crate::measure::MedianBeats;

use super::{IRREGULAR, MIN_RR_IRREGULAR, Rhythm};

/// Correlation with the median beat's QRS (±60 ms, all readable leads pooled) under which a
/// beat counts as odd: sinus beats of one recording correlate above 0.9 even with noise and
/// respiration; ventricular ectopics and T waves taken for a QRS fall well below.
pub const ODD_BEAT_CORRELATION: f64 = 0.8;

/// Rhythm statistics of `beats` (samples at `fs` Hz) detected on `leads`; `odd[i]` says that
/// beat `i` does not look like the median beat.
pub(super) fn rhythm(beats: &[usize], fs: f64, leads: &[String], odd: &[bool]) -> Option<Rhythm> {
    let rr: Vec<f64> = beats
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 * 1000.0 / fs)
        .collect();
    if rr.is_empty() {
        return None;
    }
    let (mean, sd, rmssd) = rr_stats(&rr);
    let irregularity = rmssd / mean;
    let normal: Vec<f64> = (0..rr.len())
        .filter(|&i| !odd[i] && !odd[i + 1])
        .map(|i| rr[i])
        .collect();
    Some(Rhythm {
        rr_ms: mean,
        hr_bpm: 60_000.0 / mean,
        rr_sd_ms: sd,
        irregularity,
        irregular: varies(&rr),
        irregular_without_ectopics: irregularly_irregular(&rr, odd),
        irregular_normal_beats: varies(&normal),
        normal_intervals: normal.len(),
        odd_beats: odd.iter().filter(|&&o| o).count(),
        intervals: rr.len(),
        leads: leads.to_vec(),
    })
}

/// At least [`MIN_RR_IRREGULAR`] intervals whose RMSSD and SD both exceed [`IRREGULAR`] of
/// their mean.
fn varies(rr: &[f64]) -> bool {
    if rr.len() < MIN_RR_IRREGULAR {
        return false;
    }
    let (mean, sd, rmssd) = rr_stats(rr);
    rmssd / mean > IRREGULAR && sd / mean > IRREGULAR
}

/// Mean, standard deviation and RMSSD of RR intervals.
fn rr_stats(rr: &[f64]) -> (f64, f64, f64) {
    let n = rr.len() as f64;
    let mean = rr.iter().sum::<f64>() / n;
    let sd = (rr.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
    let rmssd = if rr.len() > 1 {
        (rr.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (mean, sd, rmssd)
}

/// AF-like irregularity that survives ectopic beats (RR intervals in ms; `odd` has one entry
/// per beat, one more than `rr`): the intervals next to an odd beat, a premature beat (an RR
/// under 85 % of the median), the pause after it, and a gap over 160 % of the median (a missed
/// or blocked beat) are set aside, and the remaining intervals must still vary by more than
/// [`IRREGULAR`] (RMSSD and SD over the mean), with at least [`MIN_RR_IRREGULAR`] of them
/// left. In sinus rhythm with isolated ectopics the remaining intervals are regular; in atrial
/// fibrillation they are not, since there is no underlying regular rhythm to return to.
pub fn irregularly_irregular(rr: &[f64], odd: &[bool]) -> bool {
    if rr.is_empty() {
        return false;
    }
    let mut sorted = rr.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let premature = |i: usize| rr[i] < 0.85 * median;
    let after_premature = |i: usize| i > 0 && premature(i - 1);
    let next_to_odd = |i: usize| odd.get(i) == Some(&true) || odd.get(i + 1) == Some(&true);
    let kept: Vec<f64> = (0..rr.len())
        .filter(|&i| !premature(i) && !after_premature(i) && !next_to_odd(i))
        .filter(|&i| rr[i] <= 1.6 * median)
        .map(|i| rr[i])
        .collect();
    varies(&kept)
}

/// Which beats do not look like the median beat: the Pearson correlation of the ±60 ms
/// around each beat with the same span of the median beats, all leads pooled, under
/// [`ODD_BEAT_CORRELATION`]. Beats too close to either end to compare are not odd.
pub(super) fn odd_beats(mb: &MedianBeats, sigs: &[&[f32]], beats: &[usize]) -> Vec<bool> {
    let w = (0.06 * mb.fs) as usize;
    let template: Vec<&[f32]> = mb.beats.iter().map(|b| &b[mb.r - w..=mb.r + w]).collect();
    let n = sigs.iter().map(|s| s.len()).min().unwrap_or(0);
    beats
        .iter()
        .map(|&b| b >= w && b + w < n && correlation(&template, sigs, b - w) < ODD_BEAT_CORRELATION)
        .collect()
}

/// Pooled Pearson correlation of `template` (one slice per lead) with the same number of
/// samples of `sigs` from `start`.
pub(super) fn correlation(template: &[&[f32]], sigs: &[&[f32]], start: usize) -> f64 {
    let (mut sxy, mut sxx, mut syy) = (0f64, 0f64, 0f64);
    for (t, s) in template.iter().zip(sigs) {
        let x = &s[start..start + t.len()];
        let (mx, my) = (mean(x), mean(t));
        for (a, b) in x.iter().zip(t.iter()) {
            let (dx, dy) = (*a as f64 - mx, *b as f64 - my);
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}

fn mean(x: &[f32]) -> f64 {
    x.iter().map(|&v| v as f64).sum::<f64>() / x.len().max(1) as f64
}
