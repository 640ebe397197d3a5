//! Beats grouped by QRS shape, as a Holter system groups them into templates: a beat joins
//! the group whose running template it correlates best with, at [`JOIN`] or more (pooled over
//! the leads, ±60 ms, at the best lag within ±12 ms), else starts a group of its own (up to
//! [`MAX_GROUPS`]; past that it stays ungrouped). Ectopic beats of one focus look alike, so
//! a group votes on what its beats are (see [`super::beats::classify`]): a ventricular beat
//! that comes in a run or late in the cycle, with no timing of its own to show, is known by
//! the company it keeps.

use super::beats::BeatClass;
use super::rhythm::correlation;

/// Correlation with a group's template from which a beat joins it.
pub const JOIN: f64 = 0.9;
/// Correlation at which the lag search against one group stops: the other lags cannot
/// change whether the beat joins it (most beats match their group at once).
const ALIKE: f64 = 0.95;
/// Groups kept; a beat like none of them is left ungrouped.
pub const MAX_GROUPS: usize = 24;
/// Half-width of the compared QRS window, s.
const CORR_HALF_S: f64 = 0.06;
/// Half-width of a template, s (wide enough for a ventricular QRS's width).
const HALF_S: f64 = 0.1;
/// Largest lag tried, s (the fiducial of a wide beat may sit off its centre).
const MAX_LAG_S: f64 = 0.012;
/// Beats over which a template is a plain mean; later beats move it by 1/this, so that it
/// follows slow changes of axis over a long recording.
const MEMORY: f32 = 32.0;

/// Beats grouped by shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Groups {
    /// Each beat's group (`None` for beats too near an end, or like none of [`MAX_GROUPS`]
    /// groups), numbered in order of appearance.
    pub of_beat: Vec<Option<usize>>,
    /// Per group, its beats.
    pub size: Vec<usize>,
    /// Per group, the correlation of its template with the largest group's (the dominant
    /// beat), at the best lag.
    pub correlation: Vec<f64>,
    /// Per group, its template's QRS width minus the largest group's, s.
    pub wider_s: Vec<f64>,
}

/// Groups `beats` (fiducial samples, ascending) of the conditioned leads `sigs` at `fs` Hz.
pub fn group(sigs: &[&[f32]], fs: f64, beats: &[usize]) -> Groups {
    let w = Window::new(fs);
    let (of_beat, groups) = assign(sigs, &w, beats);
    let size: Vec<usize> = groups.iter().map(|g| g.size).collect();
    let Some(dominant) = (0..groups.len()).max_by_key(|&k| size[k]) else {
        return Groups {
            of_beat,
            ..Groups::default()
        };
    };
    let d = &groups[dominant];
    let dw = d.width(fs);
    Groups {
        correlation: groups.iter().map(|g| g.correlation(d, &w)).collect(),
        wider_s: groups.iter().map(|g| g.width(fs) - dw).collect(),
        of_beat,
        size,
    }
}

/// Sample counts of the windows.
struct Window {
    /// Template half-width.
    half: usize,
    /// Correlated half-width.
    c: usize,
    /// Largest lag.
    lag: usize,
}

impl Window {
    fn new(fs: f64) -> Self {
        let n = |s: f64| (s * fs).round() as usize;
        Self {
            half: n(HALF_S),
            c: n(CORR_HALF_S),
            lag: n(MAX_LAG_S),
        }
    }
}

fn assign(sigs: &[&[f32]], w: &Window, beats: &[usize]) -> (Vec<Option<usize>>, Vec<Group>) {
    let n = sigs.iter().map(|s| s.len()).min().unwrap_or(0);
    let mut groups: Vec<Group> = Vec::new();
    let mut out = vec![None; beats.len()];
    if sigs.is_empty() {
        return (out, groups);
    }
    for (i, &b) in beats.iter().enumerate() {
        if b < w.half + w.lag || b + w.half + w.lag >= n {
            continue;
        }
        match nearest(&groups, sigs, b, w) {
            Some((k, (r, at))) if r >= JOIN => {
                groups[k].add(sigs, at - w.half);
                out[i] = Some(k);
            }
            _ if groups.len() < MAX_GROUPS => {
                groups.push(Group::new(sigs, b - w.half, 2 * w.half + 1));
                out[i] = Some(groups.len() - 1);
            }
            _ => {}
        }
    }
    (out, groups)
}

/// The group most like the beat at `b`, its correlation and the beat's centre at the best
/// lag (largest group first where two are equally like it).
fn nearest(
    groups: &[Group],
    sigs: &[&[f32]],
    b: usize,
    w: &Window,
) -> Option<(usize, (f64, usize))> {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(groups[k].size));
    let mut best: Option<(usize, (f64, usize))> = None;
    for k in order {
        let found = groups[k].best_lag(sigs, b, w);
        if best.is_none_or(|(_, (r, _))| found.0 > r) {
            best = Some((k, found));
        }
    }
    best
}

/// One group of alike beats.
struct Group {
    /// Per lead, the running template (`2 × half + 1` samples centred on the fiducial).
    template: Vec<Vec<f32>>,
    /// Beats in the group.
    size: usize,
}

impl Group {
    fn new(sigs: &[&[f32]], at: usize, len: usize) -> Self {
        Self {
            template: sigs.iter().map(|s| s[at..at + len].to_vec()).collect(),
            size: 1,
        }
    }

    /// The template's central ±[`CORR_HALF_S`].
    fn centre(&self, w: &Window) -> Vec<&[f32]> {
        let (h, c) = (w.half, w.c);
        self.template.iter().map(|l| &l[h - c..=h + c]).collect()
    }

    /// The best correlation of the template with the beat at `b` (lags within ±lag), and
    /// the beat's centre at that lag.
    /// Lags are tried nearest first, and the search stops at [`ALIKE`].
    fn best_lag(&self, sigs: &[&[f32]], b: usize, w: &Window) -> (f64, usize) {
        let t = self.centre(w);
        let mut best = (f64::MIN, b);
        for d in (0..=w.lag).flat_map(|d| [d, d.wrapping_neg()]).skip(1) {
            let at = b.wrapping_add(d);
            let r = correlation(&t, sigs, at - w.c);
            if r > best.0 {
                best = (r, at);
            }
            if r >= ALIKE {
                break;
            }
        }
        best
    }

    /// Its template's QRS width, s ([`super::beats::width`]).
    fn width(&self, fs: f64) -> f64 {
        let t: Vec<&[f32]> = self.template.iter().map(|l| l.as_slice()).collect();
        super::beats::width(&t, fs)
    }

    /// The best correlation of its template's centre with `other`'s, over lags within ±lag.
    fn correlation(&self, other: &Group, w: &Window) -> f64 {
        let own: Vec<&[f32]> = self.template.iter().map(|l| l.as_slice()).collect();
        (w.half - w.lag..=w.half + w.lag)
            .map(|at| correlation(&other.centre(w), &own, at - w.c))
            .fold(f64::MIN, f64::max)
    }

    /// Moves the template toward the beat whose window starts at `at`.
    fn add(&mut self, sigs: &[&[f32]], at: usize) {
        self.size += 1;
        let k = 1.0 / (self.size as f32).min(MEMORY);
        for (t, s) in self.template.iter_mut().zip(sigs) {
            for (v, x) in t.iter_mut().zip(&s[at..]) {
                *v += k * (x - *v);
            }
        }
    }
}

/// Groups of fewer beats than this keep each beat's own class.
pub const MIN_VOTERS: usize = 3;
/// Share of a group's beats called ventricular from which all of them are.
pub const V_SHARE: f64 = 0.5;

/// Lets each group of [`MIN_VOTERS`] or more beats decide for its beats. A group is
/// ventricular where at least [`V_SHARE`] of its beats are called so one by one (a beat of
/// the same focus inside a run, or late in the cycle, has no timing of its own to show), or
/// where its template is unlike the dominant one (correlation under
/// [`super::beats::V_CORRELATION`]) and broader by [`super::beats::V_BROAD_S`] (a QRS from
/// the ventricle is broad whatever its timing: an idioventricular rhythm is not premature).
/// In any other group the beats called ventricular are called normal: a beat shaped like
/// many conducted ones is conducted, whatever its timing. So are beats left ungrouped.
pub fn vote(classes: &mut [BeatClass], groups: &Groups) {
    let mut ventricular = vec![0usize; groups.size.len()];
    for (c, g) in classes.iter().zip(&groups.of_beat) {
        if let Some(g) = *g {
            ventricular[g] += usize::from(*c == BeatClass::Ventricular);
        }
    }
    let decided: Vec<Option<bool>> = (0..groups.size.len())
        .map(|g| {
            let size = groups.size[g];
            let broad = groups.correlation[g] < super::beats::V_CORRELATION
                && groups.wider_s[g] >= super::beats::V_BROAD_S;
            (size >= MIN_VOTERS).then(|| broad || ventricular[g] as f64 >= V_SHARE * size as f64)
        })
        .collect();
    for (c, g) in classes.iter_mut().zip(&groups.of_beat) {
        match g.map(|g| decided[g]) {
            Some(Some(true)) => *c = BeatClass::Ventricular,
            Some(Some(false)) if *c == BeatClass::Ventricular => *c = BeatClass::Normal,
            // Like none of the groups, once there are [`MAX_GROUPS`] of them (a long, noisy
            // recording: the beats too near an end are normal already): an artefact or a
            // false detection more often than an ectopic beat.
            None if *c == BeatClass::Ventricular => *c = BeatClass::Normal,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BeatClass::{Normal as N, Supraventricular as S, Ventricular as V};

    fn groups(of_beat: &[usize], correlation: Vec<f64>, wider_s: Vec<f64>) -> Groups {
        let mut size = vec![0; correlation.len()];
        for &g in of_beat {
            size[g] += 1;
        }
        Groups {
            of_beat: of_beat.iter().map(|&g| Some(g)).collect(),
            size,
            correlation,
            wider_s,
        }
    }

    #[test]
    fn a_group_mostly_ventricular_is_ventricular_and_a_lone_call_in_a_normal_group_is_not() {
        let mut classes = [N, V, N, V, V, N, N, V, S, N];
        let g = groups(
            &[0, 0, 1, 0, 0, 1, 1, 1, 1, 1],
            vec![0.9, 1.0],
            vec![0.0, 0.0],
        );
        vote(&mut classes, &g);
        assert_eq!(classes, [V, V, N, V, V, N, N, N, S, N]);
    }

    #[test]
    fn a_beat_like_none_of_the_groups_is_not_ventricular() {
        let mut classes = [N, V, V];
        let mut g = groups(&[0, 0, 0], vec![1.0], vec![0.0]);
        g.of_beat[1] = None;
        g.size[0] = 2;
        vote(&mut classes, &g);
        assert_eq!(classes, [N, N, V]);
    }

    #[test]
    fn a_broad_group_unlike_the_dominant_one_is_ventricular_whatever_its_timing() {
        let mut classes = [N, N, N, N, N, N];
        let g = groups(&[0, 1, 1, 1, 0, 0], vec![1.0, 0.3], vec![0.0, 0.05]);
        vote(&mut classes, &g);
        assert_eq!(classes, [N, V, V, V, N, N]);
    }

    /// A 2-lead recording at 360 Hz, a beat every 800 ms, beats 30 to 35 wide and inverted
    /// at the same rate: an accelerated idioventricular rhythm, with no premature beat.
    #[test]
    fn an_idioventricular_run_on_time_is_ventricular() {
        let fs = 360.0;
        let at: Vec<usize> = (0..60)
            .map(|i| ((0.5 + 0.8 * i as f64) * fs) as usize)
            .collect();
        let n = at.last().unwrap() + fs as usize;
        let mut leads = vec![vec![0f32; n]; 2];
        for (i, &b) in at.iter().enumerate() {
            let (sd, gain) = if (30..36).contains(&i) {
                (0.025, -1.6)
            } else {
                (0.008, 1.0)
            };
            for (l, lead) in leads.iter_mut().enumerate() {
                let g = gain * if l == 0 { 1000.0 } else { 600.0 };
                for (k, v) in lead.iter_mut().enumerate().skip(b - 100).take(200) {
                    let x = (k as f64 - b as f64) / fs / sd;
                    *v += (g * (-0.5 * x * x).exp()) as f32;
                }
            }
        }
        let sigs: Vec<&[f32]> = leads.iter().map(|l| l.as_slice()).collect();
        let classes = super::super::beats::classify(&sigs, fs, &at);
        for (i, c) in classes.iter().enumerate() {
            let want = if (30..36).contains(&i) { V } else { N };
            assert_eq!(*c, want, "beat {i}");
        }
    }
}
