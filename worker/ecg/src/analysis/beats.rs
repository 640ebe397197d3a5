//! Beat classification: each detected beat is normal (N), ventricular ectopic (V) or
//! supraventricular ectopic (S), as ANSI/AAMI EC57 groups the beat labels.
//!
//! A fixed rule set from physiology, with per-record templates learnt without labels (nothing
//! is trained on annotated records, so no record's labels tune what it is scored on):
//! - **dominant beat**: for every block of [`BLOCK`] beats, the sample-wise median of the
//!   QRS windows (±100 ms) of the beats around it that are not premature (a premature beat
//!   is most often an ectopic one; the beat after a compensatory pause is not premature), so
//!   the template follows slow changes of axis and amplitude over a long recording;
//! - **morphology**: the pooled Pearson correlation over ±60 ms with the dominant beat, at the
//!   best lag within ±[`MAX_LAG_S`] (the fiducial of a wide beat may sit off its centre), and
//!   with the [`PEERS`] nearest timely beats one by one, keeping the correlation that a
//!   [`PEER_SHARE`] of them reach (where two normal shapes alternate, a median template looks
//!   like neither, while each normal beat looks like many of its neighbours); the **QRS
//!   width** from the summed absolute slope of all leads, smoothed over 10 ms (from the first
//!   to the last sample over a fifth of its peak); the **amplitude** as the RMS over ±60 ms;
//! - **timing**: the RR before the beat over the local RR (the median of the eight intervals
//!   before it), the RR after it (a compensatory pause), and how regular the local rhythm is.
//!
//! A ventricular ectopic beat starts in the ventricle, outside the conduction system, and
//! comes out of turn. It is called when its timing says so (premature by [`PREMATURE`],
//! followed by a pause of [`PAUSE`], or continuing a ventricular run) and its QRS says so:
//! broad (wider than the dominant one by [`V_BROAD_S`], and unlike it or premature), or
//! unlike both the dominant beat and its peers (correlation under [`V_CORRELATION`]) and
//! either distinct (wider by [`V_WIDER_S`], [`V_LARGER`] times larger, or bizarre: under
//! [`V_BIZARRE`]) or premature in a regular rhythm. In an irregular rhythm (atrial
//! fibrillation: every other beat is premature and conducted beats vary in amplitude),
//! neither prematurity nor a larger amplitude counts as a sign of ventricular origin. A
//! supraventricular ectopic beat is conducted normally (its QRS neither unlike nor wider) but
//! comes early: its RR is under [`S_PREMATURE`] of the local RR, or of the sinus cycle (the
//! median of the last eight intervals between two normal beats, so that every beat of a run
//! of supraventricular tachycardia is premature, not only its first), in a locally regular
//! rhythm (in atrial fibrillation every interval is irregular and no beat is called S).
//!
//! Then the beats are grouped by shape over the whole recording ([`super::clusters`]) and
//! each group of three or more decides for its beats: ventricular where half of them or more
//! are called so, or where its template is unlike the dominant one and broader by
//! [`V_BROAD_S`]; otherwise its beats called ventricular are normal. One beat judged alone
//! is often ambiguous (a ventricular beat in a run or late in the cycle has no timing to show;
//! a conducted beat in noise looks unlike its neighbours); a group of alike beats is not.
//!
//! The thresholds are physiological round numbers, checked on the QT Database records that
//! do not come from the MIT-BIH Arrhythmia Database (other patients); the MIT-BIH development
//! records only score them (`ecg-eval beats`, docs/PERFORMANCE.md).

use serde::Serialize;

/// What a beat is, in EC57's classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BeatClass {
    /// Normal or conducted normally (N, L, R, e, j).
    Normal,
    /// Ventricular ectopic (premature ventricular contraction, 室性早搏; V, E).
    Ventricular,
    /// Supraventricular ectopic (premature atrial or junctional contraction, 房性早搏; A, a,
    /// J, S).
    Supraventricular,
}

impl BeatClass {
    /// EC57's one-letter code: `N`, `V` or `S`.
    pub fn code(self) -> char {
        match self {
            Self::Normal => 'N',
            Self::Ventricular => 'V',
            Self::Supraventricular => 'S',
        }
    }
}

/// Beats per template block.
pub const BLOCK: usize = 8;
/// Beats on each side of a block whose QRS windows make its dominant beat.
const NEIGHBOURS: usize = 24;
/// Timely beats nearby that a beat is compared with, one by one.
pub const PEERS: usize = 16;
/// Share of those a normal beat looks like at least.
pub const PEER_SHARE: f64 = 0.25;
/// Half-width of the QRS window that templates and widths use, s.
const HALF_S: f64 = 0.1;
/// Half-width of the QRS window that correlations and amplitudes use, s.
const CORR_HALF_S: f64 = 0.06;
/// Largest lag tried when correlating with the template, s.
pub const MAX_LAG_S: f64 = 0.012;
/// RR before a beat under this fraction of the local RR: premature.
pub const PREMATURE: f64 = 0.9;
/// Correlation with the dominant beat under which a QRS is unlike it (as the rhythm's odd
/// beats, [`super::ODD_BEAT_CORRELATION`]).
pub const V_CORRELATION: f64 = 0.8;
/// Correlation at which the lag search stops: a QRS this like the dominant one is normal in
/// shape whatever the other lags give.
pub const ALIKE: f64 = 0.95;
/// Correlation under which a QRS is bizarre (of another origin) by its shape alone.
pub const V_BIZARRE: f64 = 0.5;
/// A QRS wider than the dominant one by this much is of ventricular origin, s (a normal QRS
/// lasts 80–100 ms; a ventricular one 120 ms and more).
pub const V_WIDER_S: f64 = 0.03;
/// A QRS unlike the dominant one and wider than it by this much is ventricular even where
/// it looks like its neighbours (in a run of ventricular tachycardia they are ventricular
/// too), s: a ventricular QRS lasts 120–160 ms and more, a normal one 80–100 ms.
pub const V_BROAD_S: f64 = 0.04;
/// A QRS with this many times the dominant RMS amplitude is of ventricular origin.
pub const V_LARGER: f64 = 1.5;
/// RR after a beat over the local RR from which it is a compensatory pause.
pub const PAUSE: f64 = 1.15;
/// RR before a supraventricular ectopic beat, as a fraction of the local RR.
pub const S_PREMATURE: f64 = 0.8;
/// Median absolute deviation of the local RR over its median above which the rhythm is too
/// irregular to call a beat premature (atrial fibrillation).
pub const IRREGULAR_RR: f64 = 0.1;

/// What is measured on one beat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeatFeatures {
    /// Best pooled correlation with the dominant beat (the search stops at [`ALIKE`]).
    pub correlation: f64,
    /// Correlation reached with a [`PEER_SHARE`] of the timely beats nearby
    /// ([`peer_likeness`]); the same as `correlation` for a beat like the dominant one.
    pub peer_correlation: f64,
    /// QRS width minus the dominant beat's, s.
    pub wider_s: f64,
    /// RMS amplitude over the dominant beat's.
    pub amplitude: f64,
    /// RR before the beat over the local RR (1 for the first beat).
    pub prematurity: f64,
    /// RR after the beat over the local RR (1 for the last beat).
    pub pause: f64,
    /// Spread of the local RR (median absolute deviation over median).
    pub rr_spread: f64,
}

/// Classifies `beats` (fiducial samples, ascending) of the conditioned leads `sigs` at `fs`
/// Hz. Beats too near either end to compare are normal.
pub fn classify(sigs: &[&[f32]], fs: f64, beats: &[usize]) -> Vec<BeatClass> {
    let mut prev = BeatClass::Normal;
    let mut sinus = SinusCycle::default();
    let mut classes: Vec<BeatClass> = features(sigs, fs, beats)
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let rr = (i > 0).then(|| (beats[i] - beats[i - 1]) as f64);
            prev = f.map_or(BeatClass::Normal, |f| {
                let c = rule(f, prev);
                let early = rr.and_then(|rr| sinus.prematurity(rr)).unwrap_or(1.0);
                if c == BeatClass::Normal && early < S_PREMATURE && conducted(&f) {
                    BeatClass::Supraventricular
                } else {
                    c
                }
            });
            sinus.push(rr, prev);
            prev
        })
        .collect();
    super::clusters::vote(&mut classes, &super::clusters::group(sigs, fs, beats));
    classes
}

/// Whether a beat's QRS is conducted normally (like the dominant one or its peers, not wider)
/// in a locally regular rhythm: what a supraventricular beat looks like.
fn conducted(f: &BeatFeatures) -> bool {
    let unlike = f.correlation < V_CORRELATION && f.peer_correlation < V_CORRELATION;
    !unlike && f.wider_s < V_WIDER_S && f.rr_spread < IRREGULAR_RR
}

/// Normal-to-normal intervals before a beat: the sinus cycle that a run of supraventricular
/// tachycardia is premature against (inside the run the local RR has become the run's own).
#[derive(Default)]
struct SinusCycle {
    /// The last [`SINUS_INTERVALS`] RR intervals between two normal beats, samples.
    rr: std::collections::VecDeque<f64>,
    /// Beats since the last normal one.
    since_normal: usize,
}

/// Normal-to-normal intervals the sinus cycle is the median of.
const SINUS_INTERVALS: usize = 8;
/// Beats without a normal one after which the sinus cycle is forgotten (a rhythm that has
/// lasted this long is the patient's rhythm, not a run).
const SINUS_MEMORY: usize = 50;

impl SinusCycle {
    /// `rr` over the sinus cycle, when there is one.
    fn prematurity(&self, rr: f64) -> Option<f64> {
        if self.rr.len() < 2 || self.since_normal >= SINUS_MEMORY {
            return None;
        }
        Some(rr / median(self.rr.iter().copied().collect()))
    }

    /// Records the beat that ended an interval of `rr` samples, called `class`: the interval
    /// counts when both its beats are normal (the pause after an ectopic beat is no cycle).
    fn push(&mut self, rr: Option<f64>, class: BeatClass) {
        if class != BeatClass::Normal {
            self.since_normal += 1;
            return;
        }
        let after_normal = self.since_normal == 0;
        self.since_normal = 0;
        if let Some(rr) = rr.filter(|_| after_normal) {
            self.rr.push_back(rr);
            if self.rr.len() > SINUS_INTERVALS {
                self.rr.pop_front();
            }
        }
    }
}

/// The rules of the module documentation, on one beat's features; `prev` is the class of the
/// beat before it.
pub fn rule(f: BeatFeatures, prev: BeatClass) -> BeatClass {
    let wider = f.wider_s >= V_WIDER_S;
    let larger = f.amplitude >= V_LARGER;
    let premature = f.prematurity < PREMATURE;
    let timed = premature || f.pause >= PAUSE || prev == BeatClass::Ventricular;
    let unlike_dominant = f.correlation < V_CORRELATION;
    let unlike = unlike_dominant && f.peer_correlation < V_CORRELATION;
    let regular = f.rr_spread < IRREGULAR_RR;
    // In an irregular rhythm (atrial fibrillation) every other beat is premature and
    // conducted beats vary in amplitude: neither tells a ventricular beat there.
    let distinct =
        wider || (larger && regular) || f.correlation.max(f.peer_correlation) < V_BIZARRE;
    let broad = f.wider_s >= V_BROAD_S && (unlike_dominant || (premature && regular));
    if timed && (broad || (unlike && (distinct || (premature && regular)))) {
        return BeatClass::Ventricular;
    }
    if f.prematurity < S_PREMATURE && !unlike && !wider && regular {
        return BeatClass::Supraventricular;
    }
    BeatClass::Normal
}

/// Each beat's features (`None` for beats too near an end of the recording).
pub fn features(sigs: &[&[f32]], fs: f64, beats: &[usize]) -> Vec<Option<BeatFeatures>> {
    let n = sigs.iter().map(|s| s.len()).min().unwrap_or(0);
    let half = (HALF_S * fs).round() as usize;
    let lag = (MAX_LAG_S * fs).round() as usize;
    let fits = |b: usize| b >= half + lag && b + half + lag < n;
    let rr = Timing::new(beats);
    let mut out = vec![None; beats.len()];
    if sigs.is_empty() {
        return out;
    }
    let mut cached: Option<(Vec<usize>, Template)> = None;
    for start in (0..beats.len()).step_by(BLOCK) {
        let lo = start.saturating_sub(NEIGHBOURS);
        let hi = (start + BLOCK + NEIGHBOURS).min(beats.len());
        let pick = template_beats(beats, lo..hi, &fits, &rr);
        // A short recording has one neighbourhood: its template is made once.
        if cached.as_ref().is_none_or(|(p, _)| *p != pick) {
            let at: Vec<usize> = pick.iter().map(|&j| beats[j]).collect();
            cached = Template::new(sigs, fs, &at).map(|t| (pick, t));
        }
        let Some((pick, t)) = &cached else { continue };
        for i in start..(start + BLOCK).min(beats.len()) {
            if fits(beats[i]) {
                let mut f = t.compare(sigs, beats[i], &rr, i);
                // Only a beat unlike the dominant one needs its peers (see [`rule`]).
                if f.correlation < V_CORRELATION {
                    f.peer_correlation = peer_likeness(sigs, fs, beats, pick, i);
                }
                out[i] = Some(f);
            }
        }
    }
    out
}

/// How much beat `i` looks like the timely beats around it (`pick`): of its pooled
/// correlations (±60 ms, at the fiducials) with the [`PEERS`] nearest of them, the one that a
/// [`PEER_SHARE`] of them reach. A normal beat looks like most of them even where two normal
/// shapes alternate (the template, a median, is then like neither).
fn peer_likeness(sigs: &[&[f32]], fs: f64, beats: &[usize], pick: &[usize], i: usize) -> f64 {
    let c = (CORR_HALF_S * fs).round() as usize;
    let own: Vec<&[f32]> = sigs
        .iter()
        .map(|s| &s[beats[i] - c..=beats[i] + c])
        .collect();
    let mut near: Vec<usize> = pick.iter().copied().filter(|&j| j != i).collect();
    near.sort_by_key(|&j| j.abs_diff(i));
    near.truncate(PEERS);
    let mut r: Vec<f64> = near
        .iter()
        .map(|&j| super::rhythm::correlation(&own, sigs, beats[j] - c))
        .collect();
    if r.is_empty() {
        return f64::MIN;
    }
    r.sort_by(|a, b| b.total_cmp(a));
    r[((r.len() as f64 * PEER_SHARE) as usize).min(r.len() - 1)]
}

/// The beats of `range` whose QRS makes the dominant beat: those that fit and are not
/// premature, or all that fit when fewer than three are not premature.
fn template_beats(
    beats: &[usize],
    range: std::ops::Range<usize>,
    fits: &impl Fn(usize) -> bool,
    rr: &Timing<'_>,
) -> Vec<usize> {
    let fit: Vec<usize> = range.filter(|&j| fits(beats[j])).collect();
    let timely: Vec<usize> = fit
        .iter()
        .copied()
        .filter(|&j| rr.prematurity(j) >= PREMATURE)
        .collect();
    if timely.len() >= 3 { timely } else { fit }
}

/// RR intervals around each beat.
struct Timing<'a> {
    beats: &'a [usize],
}

impl<'a> Timing<'a> {
    fn new(beats: &'a [usize]) -> Self {
        Self { beats }
    }

    /// The (up to) eight RR intervals before the RR that ends at beat `i`.
    fn local(&self, i: usize) -> Vec<f64> {
        let first = i.saturating_sub(9).max(1);
        (first..i)
            .map(|j| (self.beats[j] - self.beats[j - 1]) as f64)
            .collect()
    }

    /// RR before beat `i` over the median of the local RR; 1 when there is no history.
    fn prematurity(&self, i: usize) -> f64 {
        let local = self.local(i);
        if i == 0 || local.len() < 2 {
            return 1.0;
        }
        (self.beats[i] - self.beats[i - 1]) as f64 / median(local)
    }

    /// RR after beat `i` over the median of the local RR; 1 for the last beat.
    fn pause(&self, i: usize) -> f64 {
        let local = self.local(i);
        if i + 1 >= self.beats.len() || local.len() < 2 {
            return 1.0;
        }
        (self.beats[i + 1] - self.beats[i]) as f64 / median(local)
    }

    /// Median absolute deviation of the local RR over their median (0 without history).
    fn spread(&self, i: usize) -> f64 {
        let local = self.local(i);
        if local.len() < 2 {
            return 0.0;
        }
        let m = median(local.clone());
        median(local.iter().map(|r| (r - m).abs()).collect()) / m
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The dominant beat of a block: per lead, the median QRS window.
struct Template {
    fs: f64,
    /// Per lead, `2 × half + 1` samples centred on the fiducial.
    leads: Vec<Vec<f32>>,
    width: f64,
    rms: f64,
}

impl Template {
    fn new(sigs: &[&[f32]], fs: f64, at: &[usize]) -> Option<Self> {
        if at.is_empty() {
            return None;
        }
        let half = (HALF_S * fs).round() as usize;
        let mut col = vec![0f32; at.len()];
        let leads: Vec<Vec<f32>> = sigs
            .iter()
            .map(|s| {
                (0..=2 * half)
                    .map(|k| {
                        for (c, &b) in col.iter_mut().zip(at) {
                            *c = s[b - half + k];
                        }
                        crate::qrs::median(&mut col)
                    })
                    .collect()
            })
            .collect();
        let views: Vec<&[f32]> = leads.iter().map(|l| l.as_slice()).collect();
        let width = width(&views, fs);
        let c = (CORR_HALF_S * fs).round() as usize;
        let rms = rms(&views, half - c, 2 * c + 1);
        Some(Self {
            fs,
            leads,
            width,
            rms,
        })
    }

    /// The features of the beat at `b` against this template.
    fn compare(&self, sigs: &[&[f32]], b: usize, rr: &Timing<'_>, i: usize) -> BeatFeatures {
        let half = (HALF_S * self.fs).round() as usize;
        let c = (CORR_HALF_S * self.fs).round() as usize;
        let lag = (MAX_LAG_S * self.fs).round() as usize;
        let tmpl: Vec<&[f32]> = self.leads.iter().map(|l| &l[half - c..=half + c]).collect();
        // Lags nearest first; a normal beat matches at once, and no rule looks past
        // [`ALIKE`].
        let mut correlation = f64::MIN;
        for d in (0..=lag).flat_map(|d| [d, d.wrapping_neg()]).skip(1) {
            let at = (b - c).wrapping_add(d);
            correlation = correlation.max(super::rhythm::correlation(&tmpl, sigs, at));
            if correlation >= ALIKE {
                break;
            }
        }
        let own: Vec<&[f32]> = sigs.iter().map(|s| &s[b - half..=b + half]).collect();
        BeatFeatures {
            correlation,
            peer_correlation: correlation,
            wider_s: width(&own, self.fs) - self.width,
            amplitude: rms(&own, half - c, 2 * c + 1) / self.rms.max(f64::MIN_POSITIVE),
            prematurity: rr.prematurity(i),
            pause: rr.pause(i),
            rr_spread: rr.spread(i),
        }
    }
}

/// QRS width, s: how long the absolute slope summed over the leads stays above a fifth of
/// its peak (first to last such sample).
pub(super) fn width(leads: &[&[f32]], fs: f64) -> f64 {
    let len = leads.iter().map(|l| l.len()).min().unwrap_or(0);
    let raw: Vec<f32> = (1..len)
        .map(|k| leads.iter().map(|l| (l[k] - l[k - 1]).abs()).sum())
        .collect();
    // Smoothed over 10 ms, so that a noise spike does not stretch the QRS.
    let k = ((0.01 * fs).round() as usize).max(1);
    let slope: Vec<f32> = raw.windows(k).map(|w| w.iter().sum::<f32>()).collect();
    let peak = slope.iter().copied().fold(0f32, f32::max);
    let above = |v: &f32| *v > 0.2 * peak;
    match (slope.iter().position(above), slope.iter().rposition(above)) {
        (Some(a), Some(b)) if peak > 0.0 => (b - a + 1) as f64 / fs,
        _ => 0.0,
    }
}

/// Pooled RMS about each lead's mean over `len` samples from `from`.
fn rms(leads: &[&[f32]], from: usize, len: usize) -> f64 {
    let mut sum = 0f64;
    for l in leads {
        let x = &l[from..from + len];
        let m = x.iter().map(|&v| v as f64).sum::<f64>() / len as f64;
        sum += x.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>();
    }
    (sum / (len * leads.len().max(1)) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2-lead recording at 360 Hz: a narrow beat every 800 ms, with beat 10 a wide,
    /// inverted beat 480 ms early (followed by a compensatory pause) and beat 20 a narrow
    /// beat 520 ms early: a PVC and a PAC.
    fn recording() -> (Vec<Vec<f32>>, Vec<usize>) {
        let fs = 360.0;
        let mut at = Vec::new();
        let mut t = 0.5;
        for i in 0..30 {
            t += match i {
                0 => 0.0,
                10 => 0.48,
                11 => 1.12,
                20 => 0.52,
                _ => 0.8,
            };
            at.push((t * fs) as usize);
        }
        let n = ((t + 1.0) * fs) as usize;
        let mut leads = vec![vec![0f32; n]; 2];
        for (i, &b) in at.iter().enumerate() {
            let (sd, gain) = if i == 10 { (0.025, -1.6) } else { (0.008, 1.0) };
            for (l, lead) in leads.iter_mut().enumerate() {
                let g = gain * if l == 0 { 1000.0 } else { 600.0 };
                for (k, v) in lead.iter_mut().enumerate() {
                    let x = (k as f64 / fs - b as f64 / fs) / sd;
                    *v += (g * (-0.5 * x * x).exp()) as f32;
                }
            }
        }
        (leads, at)
    }

    #[test]
    fn a_wide_premature_beat_is_ventricular_and_a_narrow_one_supraventricular() {
        let (leads, beats) = recording();
        let sigs: Vec<&[f32]> = leads.iter().map(|l| l.as_slice()).collect();
        let classes = classify(&sigs, 360.0, &beats);
        for (i, c) in classes.iter().enumerate() {
            let want = match i {
                10 => BeatClass::Ventricular,
                20 => BeatClass::Supraventricular,
                _ => BeatClass::Normal,
            };
            assert_eq!(*c, want, "beat {i}");
        }
    }

    /// Narrow beats every 800 ms at 360 Hz with beats `run` (a range) every 480 ms: a run of
    /// supraventricular tachycardia.
    fn svt(run: std::ops::Range<usize>) -> (Vec<Vec<f32>>, Vec<usize>) {
        let fs = 360.0;
        let mut at = Vec::new();
        let mut t = 0.5;
        for i in 0..40 {
            t += if run.contains(&i) { 0.48 } else { 0.8 };
            at.push((t * fs) as usize);
        }
        let mut lead = vec![0f32; ((t + 1.0) * fs) as usize];
        for &b in &at {
            for (k, v) in lead.iter_mut().enumerate() {
                let x = (k as f64 - b as f64) / fs / 0.008;
                *v += (1000.0 * (-0.5 * x * x).exp()) as f32;
            }
        }
        (vec![lead], at)
    }

    #[test]
    fn every_beat_of_a_supraventricular_run_is_supraventricular() {
        let (leads, beats) = svt(15..27);
        let sigs: Vec<&[f32]> = leads.iter().map(|l| l.as_slice()).collect();
        let classes = classify(&sigs, 360.0, &beats);
        for (i, c) in classes.iter().enumerate() {
            let want = if (15..27).contains(&i) {
                BeatClass::Supraventricular
            } else {
                BeatClass::Normal
            };
            assert_eq!(*c, want, "beat {i}");
        }
    }

    #[test]
    fn no_readable_lead_means_no_ectopic_beat() {
        let (_, beats) = recording();
        assert!(
            classify(&[], 360.0, &beats)
                .iter()
                .all(|&c| c == BeatClass::Normal)
        );
    }
}
