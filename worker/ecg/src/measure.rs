//! Median beats and their delineation: QRS onset/offset, P onset, T end, and the intervals,
//! axis and ST levels derived from them.
//!
//! Method (global measurements over all usable leads, as 12-lead programs do):
//! - **median beat** per lead: the sample-wise median of up to 64 beats (evenly spread over
//!   the record) aligned on the detector's fiducial, from 450 ms before to 700 ms after it;
//! - **QRS onset/offset**: on the summed absolute slope of all leads (smoothed over 8 ms),
//!   the first points before and after the fiducial where it stays below 3 % (onset) / 5 % (offset) of its
//!   QRS maximum above the beat's slope floor (10th percentile) for 10 ms;
//! - **isoelectric level** per lead: the mean over 16–4 ms before QRS onset (PR segment);
//! - **P onset**: on the spatial magnitude (root of the summed squared deviations from the
//!   isoelectric levels), the P peak is the maximum 300–30 ms before QRS onset; it must exceed
//!   30 µV and rise clear of the level before it; at fast rates the window starts after the
//!   previous beat's T end (T end − RR); the onset is where the magnitude falls back
//!   to 5 % of the peak above the floor before it;
//! - **T end**: in each lead whose T wave exceeds 1/3 of the largest T amplitude (and 50 µV),
//!   the tangent at the steepest descent after the T peak meets the isoelectric level (the
//!   tangent method); the global T end is the latest of these;
//! - **axis**: the angle of the net QRS areas of leads I and aVF (derived from II and III when
//!   missing); **ST**: the level at J + 60 ms minus the isoelectric level, per lead.

use serde::Serialize;

use crate::leads::find;

/// Median beats of several leads, aligned on the QRS fiducial at index `r`.
#[derive(Debug, Clone, PartialEq)]
pub struct MedianBeats {
    /// Sampling rate, Hz.
    pub fs: f64,
    /// Index of the QRS fiducial.
    pub r: usize,
    /// Lead names.
    pub names: Vec<String>,
    /// One median beat per lead.
    pub beats: Vec<Vec<f32>>,
}

/// Sample-wise median beats of `leads` over `fiducials`; `None` when no beat fits.
pub fn median_beats(
    names: &[String],
    leads: &[&[f32]],
    fs: f64,
    fiducials: &[usize],
) -> Option<MedianBeats> {
    let n = leads.iter().map(|l| l.len()).min()?;
    let (pre, post) = ((0.45 * fs) as usize, (0.70 * fs) as usize);
    let fit: Vec<usize> = fiducials
        .iter()
        .copied()
        .filter(|&b| b >= pre && b + post < n)
        .collect();
    if fit.is_empty() {
        return None;
    }
    let step = fit.len().div_ceil(64);
    let used: Vec<usize> = fit.into_iter().step_by(step).collect();
    let beats = leads
        .iter()
        .map(|l| {
            let mut col = vec![0f32; used.len()];
            (0..pre + post)
                .map(|k| {
                    for (c, &b) in col.iter_mut().zip(&used) {
                        *c = l[b - pre + k];
                    }
                    crate::qrs::median(&mut col)
                })
                .collect()
        })
        .collect();
    Some(MedianBeats {
        fs,
        r: pre,
        names: names.to_vec(),
        beats,
    })
}

/// Wave boundaries on the median beat (indices into it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fiducials {
    /// P onset, when a P wave is found.
    pub p_on: Option<usize>,
    /// QRS onset.
    pub qrs_on: usize,
    /// QRS fiducial (detector alignment point).
    pub r: usize,
    /// QRS offset (J point).
    pub qrs_off: usize,
    /// T end, when a T wave is found.
    pub t_end: Option<usize>,
}

/// Interval and amplitude measurements from the median beats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurements {
    /// Boundaries on the median beat.
    pub fiducials: Fiducials,
    /// PR interval, ms.
    pub pr_ms: Option<f64>,
    /// QRS duration, ms.
    pub qrs_ms: f64,
    /// QT interval, ms.
    pub qt_ms: Option<f64>,
    /// Frontal QRS axis, degrees (−180…180).
    pub axis_deg: Option<f64>,
    /// ST deviation at J + 60 ms per lead, µV (lead name, value).
    pub st_uv: Vec<(String, f32)>,
}

/// Delineates the median beats; `rr_s` (mean RR, seconds) bounds the T-wave search.
pub fn measure(mb: &MedianBeats, rr_s: Option<f64>) -> Measurements {
    let fs = mb.fs;
    let ms = |t: f64| (t * fs / 1000.0).round() as usize;
    let len = mb.beats.iter().map(|b| b.len()).min().unwrap_or(0);
    let slope = smooth(&summed_slope(&mb.beats, len), ms(8.0).max(1));
    let (qrs_on, qrs_off) = qrs_bounds(&slope, mb.r, fs);
    let iso: Vec<f32> = mb
        .beats
        .iter()
        .map(|b| mean(&b[qrs_on.saturating_sub(ms(16.0))..qrs_on.saturating_sub(ms(4.0)).max(1)]))
        .collect();
    let limit = {
        let by_rr = rr_s.map_or(usize::MAX, |rr| mb.r + (rr * 0.7 * fs) as usize);
        by_rr.min(len - 2)
    };
    let t_end = t_end(mb, &iso, qrs_off + ms(60.0), limit, fs);
    // At fast rates the previous beat's T wave falls in the P search window: start the
    // window after it.
    let prev_t_end = match (t_end, rr_s) {
        (Some(t), Some(rr)) => (t + ms(10.0)).checked_sub((rr * fs) as usize),
        _ => None,
    };
    let p_on = p_onset(mb, &iso, qrs_on, prev_t_end.unwrap_or(0), fs);
    let to_ms = |a: usize, b: usize| (b as f64 - a as f64) * 1000.0 / fs;
    let j60 = (qrs_off + ms(60.0)).min(len - 1);
    Measurements {
        fiducials: Fiducials {
            p_on,
            qrs_on,
            r: mb.r,
            qrs_off,
            t_end,
        },
        pr_ms: p_on.map(|p| to_ms(p, qrs_on)),
        qrs_ms: to_ms(qrs_on, qrs_off),
        qt_ms: t_end.map(|t| to_ms(qrs_on, t)),
        axis_deg: axis(mb, &iso, qrs_on, qrs_off),
        st_uv: mb
            .names
            .iter()
            .zip(&mb.beats)
            .zip(&iso)
            .map(|((n, b), i)| (n.clone(), b[j60] - i))
            .collect(),
    }
}

/// Centred moving average over `w` samples.
fn smooth(x: &[f32], w: usize) -> Vec<f32> {
    let h = w / 2;
    let mut c = vec![0f64; x.len() + 1];
    for (i, v) in x.iter().enumerate() {
        c[i + 1] = c[i] + *v as f64;
    }
    (0..x.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(h), (i + h + 1).min(x.len()));
            ((c[b] - c[a]) / (b - a) as f64) as f32
        })
        .collect()
}

fn mean(x: &[f32]) -> f32 {
    x.iter().sum::<f32>() / x.len().max(1) as f32
}

fn summed_slope(beats: &[Vec<f32>], len: usize) -> Vec<f32> {
    let mut s = vec![0f32; len];
    for b in beats {
        for i in 1..len - 1 {
            s[i] += (b[i + 1] - b[i - 1]).abs() / 2.0;
        }
    }
    s
}

fn qrs_bounds(slope: &[f32], r: usize, fs: f64) -> (usize, usize) {
    let ms = |t: f64| ((t * fs / 1000.0).round() as usize).max(1);
    let w = ms(80.0);
    let smax = slope[r.saturating_sub(w)..(r + w).min(slope.len())]
        .iter()
        .copied()
        .fold(0f32, f32::max);
    let mut sorted = slope.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let floor = sorted[sorted.len() / 10];
    let hold = ms(10.0);
    let quiet = |i: usize, k: f32| slope[i] < floor + k * (smax - floor);
    // Onset: walking back from the fiducial, the first run of `hold` quiet samples.
    let mut on = r;
    let mut run = 0;
    let lo = r.saturating_sub(ms(200.0));
    let mut i = r;
    while i > lo {
        i -= 1;
        if quiet(i, 0.03) {
            run += 1;
            if run >= hold {
                on = i + hold - 1;
                break;
            }
        } else {
            run = 0;
            on = i;
        }
    }
    let mut off = r;
    run = 0;
    let hi = (r + ms(200.0)).min(slope.len() - 1);
    for j in r..hi {
        if quiet(j, 0.05) {
            run += 1;
            if run >= hold {
                off = j + 1 - hold;
                break;
            }
        } else {
            run = 0;
            off = j;
        }
    }
    (on, off)
}

fn magnitude(mb: &MedianBeats, iso: &[f32], a: usize, b: usize) -> Vec<f32> {
    (a..b)
        .map(|k| {
            mb.beats
                .iter()
                .zip(iso)
                .map(|(x, i)| (x[k] - i).powi(2))
                .sum::<f32>()
                .sqrt()
        })
        .collect()
}

fn p_onset(mb: &MedianBeats, iso: &[f32], qrs_on: usize, after: usize, fs: f64) -> Option<usize> {
    let ms = |t: f64| (t * fs / 1000.0).round() as usize;
    let a = qrs_on.saturating_sub(ms(350.0)).max(after);
    let b = qrs_on.checked_sub(ms(30.0))?;
    if b <= a + 2 {
        return None;
    }
    let m = magnitude(mb, iso, a, b);
    let w0 = (qrs_on.saturating_sub(ms(300.0))).saturating_sub(a);
    let pk = w0 + argmax(&m[w0..]);
    let apk = m[pk];
    let floor = m[..=pk].iter().copied().fold(f32::INFINITY, f32::min);
    if apk < 30.0 || apk - floor < 0.5 * apk {
        return None;
    }
    let th = floor + 0.05 * (apk - floor);
    let mut k = pk;
    while k > 0 && m[k] > th {
        k -= 1;
    }
    Some(a + k)
}

fn argmax(x: &[f32]) -> usize {
    let mut j = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[j] {
            j = i;
        }
    }
    j
}

fn t_end(mb: &MedianBeats, iso: &[f32], from: usize, to: usize, fs: f64) -> Option<usize> {
    if from + 4 >= to {
        return None;
    }
    let peaks: Vec<(usize, f32)> = mb
        .beats
        .iter()
        .zip(iso)
        .map(|(x, &i)| {
            let k = from
                + argmax(
                    &x[from..to]
                        .iter()
                        .map(|v| (v - i).abs())
                        .collect::<Vec<_>>(),
                );
            (k, x[k] - i)
        })
        .collect();
    let biggest = peaks.iter().map(|p| p.1.abs()).fold(0f32, f32::max);
    let ends: Vec<usize> = mb
        .beats
        .iter()
        .zip(iso)
        .zip(&peaks)
        .filter(|(_, (_, a))| a.abs() >= 50.0 && a.abs() >= biggest / 3.0)
        .filter_map(|((x, &i), &(tp, a))| tangent_end(x, i, tp, a.signum(), to, fs))
        .collect();
    ends.into_iter().max()
}

/// Tangent method in one lead: steepest return towards the baseline after the T peak, and
/// where that tangent crosses the isoelectric level.
fn tangent_end(x: &[f32], iso: f32, tp: usize, sign: f32, to: usize, fs: f64) -> Option<usize> {
    // The descending limb follows the peak within 150 ms; looking further would take the
    // slope of whatever comes next (U or P wave, drift).
    let end = (tp + (0.15 * fs) as usize)
        .min(to + (0.05 * fs) as usize)
        .min(x.len() - 1);
    let (mut best, mut slope) = (tp, 0f32);
    for k in tp + 1..end {
        let d = (x[k + 1] - x[k - 1]) / 2.0 * sign;
        if d < slope {
            slope = d;
            best = k;
        }
    }
    if slope >= 0.0 {
        return None;
    }
    let dx = ((x[best] - iso) * sign / -slope).max(0.0);
    Some((best as f32 + dx).round() as usize).filter(|&e| e <= end + (0.05 * fs) as usize)
}

fn axis(mb: &MedianBeats, iso: &[f32], on: usize, off: usize) -> Option<f64> {
    let area = |name: &str| {
        find(&mb.names, name).map(|i| {
            mb.beats[i][on..=off]
                .iter()
                .map(|v| (v - iso[i]) as f64)
                .sum::<f64>()
        })
    };
    let (i, avf) = match (area("I"), area("aVF"), area("II"), area("III")) {
        (Some(i), Some(f), _, _) => (i, f),
        (Some(i), None, Some(ii), _) => (i, ii - i / 2.0),
        (None, Some(f), Some(ii), Some(iii)) => (ii - iii, f),
        (None, None, Some(ii), Some(iii)) => (ii - iii, (ii + iii) / 2.0),
        _ => return None,
    };
    // Goldberger's aVF is √3/2 of the frontal vector's vertical component.
    Some((avf * 2.0 / 3f64.sqrt()).atan2(i).to_degrees())
}
