//! Ectopic beats counted as Chinese and Holter ECG reports state them: premature ventricular
//! contractions (室性早搏, PVC) and premature atrial/supraventricular contractions (房性早搏,
//! PAC), each as single beats, couplets, runs of three or more (ventricular or
//! supraventricular tachycardia runs, 室速 / 室上速) and bigeminy; and the urgent flag for a
//! run of ventricular tachycardia.

use serde::Serialize;

use super::Flag;
use super::beats::BeatClass;

/// Beats in a row from which a run counts as a tachycardia run (VT / SVT).
pub const RUN_BEATS: usize = 3;
/// Rate over a run of ventricular beats above which it is ventricular tachycardia, bpm.
pub const VT_RATE_BPM: f64 = 100.0;
/// Ectopic beats, each after one normal beat, that make a bigeminy episode (N E N E N E).
pub const BIGEMINY_CYCLES: usize = 3;

/// Counts for one kind of ectopic beat.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ectopics {
    /// Ectopic beats in all.
    pub beats: usize,
    /// Ectopic beats between two other beats that are not ectopic of this kind.
    pub single: usize,
    /// Pairs (exactly two in a row).
    pub couplets: usize,
    /// Runs of [`RUN_BEATS`] or more in a row.
    pub runs: usize,
    /// Longest run, beats (0 without any ectopic beat).
    pub longest_run: usize,
    /// Rate of the fastest run of [`RUN_BEATS`] or more, bpm: from its first beat to its
    /// last.
    pub fastest_run_bpm: Option<f64>,
    /// Bigeminy episodes: [`BIGEMINY_CYCLES`] or more ectopic beats in a row each following one
    /// normal beat.
    pub bigeminy: usize,
}

/// PVC and PAC counts of one recording.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ectopy {
    /// Premature ventricular contractions (室性早搏).
    pub ventricular: Ectopics,
    /// Premature supraventricular (atrial or junctional) contractions (房性早搏).
    pub supraventricular: Ectopics,
}

impl Ectopy {
    /// Counts the ectopic beats among `classes` (one per beat at `beats`, samples at `fs`).
    pub fn count(classes: &[BeatClass], beats: &[usize], fs: f64) -> Self {
        Self {
            ventricular: Ectopics::count(classes, beats, fs, BeatClass::Ventricular),
            supraventricular: Ectopics::count(classes, beats, fs, BeatClass::Supraventricular),
        }
    }

    /// The report line, in the terms of Chinese ECG reports with the English beside them,
    /// e.g. `室性早搏 PVC 12 (成对 couplets 1, 短阵室速 VT runs 1); 房性早搏 PAC 3`.
    pub fn summary(&self) -> String {
        format!(
            "室性早搏 PVC {}; 房性早搏 PAC {}",
            self.ventricular.detail("短阵室速 VT runs"),
            self.supraventricular.detail("短阵房速 SVT runs")
        )
    }

    /// The urgent flag for a run of ventricular tachycardia ([`RUN_BEATS`] or more ventricular
    /// beats in a row faster than [`VT_RATE_BPM`]); `leads` are the readable leads the beats
    /// were classified on.
    pub fn vt_flag(&self, leads: &[String]) -> Option<Flag> {
        let v = &self.ventricular;
        let rate = v.fastest_run_bpm.filter(|&r| r > VT_RATE_BPM)?;
        Some(Flag {
            code: "VT_RUN".into(),
            critical: false,
            urgent: true,
            message: format!(
                "短阵室速 run of ventricular tachycardia: {} run(s) of {}+ ventricular beats, \
                 longest {} beats, fastest {rate:.0} bpm",
                v.runs, RUN_BEATS, v.longest_run
            ),
            leads: leads.to_vec(),
        })
    }
}

impl Ectopics {
    fn count(classes: &[BeatClass], beats: &[usize], fs: f64, kind: BeatClass) -> Self {
        let mut e = Self::default();
        for (start, len) in runs(classes, kind) {
            e.beats += len;
            e.longest_run = e.longest_run.max(len);
            match len {
                1 => e.single += 1,
                2 => e.couplets += 1,
                _ => {
                    e.runs += 1;
                    let span = (beats[start + len - 1] - beats[start]) as f64 / fs;
                    let bpm = 60.0 * (len - 1) as f64 / span.max(f64::MIN_POSITIVE);
                    e.fastest_run_bpm = Some(e.fastest_run_bpm.map_or(bpm, |b: f64| b.max(bpm)));
                }
            }
        }
        e.bigeminy = bigeminy(classes, kind);
        e
    }

    /// `N` alone, or `N (couplets …, runs …, bigeminy …)` with the non-zero parts.
    fn detail(&self, runs_label: &str) -> String {
        let parts: Vec<String> = [
            ("成对 couplets", self.couplets),
            (runs_label, self.runs),
            ("二联律 bigeminy", self.bigeminy),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
        if parts.is_empty() {
            self.beats.to_string()
        } else {
            format!("{} ({})", self.beats, parts.join(", "))
        }
    }
}

/// Maximal runs of `kind` as (first index, length).
fn runs(classes: &[BeatClass], kind: BeatClass) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < classes.len() {
        if classes[i] != kind {
            i += 1;
            continue;
        }
        let start = i;
        while i < classes.len() && classes[i] == kind {
            i += 1;
        }
        out.push((start, i - start));
    }
    out
}

/// Episodes of [`BIGEMINY_CYCLES`] or more `N kind` pairs in a row.
fn bigeminy(classes: &[BeatClass], kind: BeatClass) -> usize {
    let mut episodes = 0;
    let mut cycles = 0;
    let mut i = 1;
    while i < classes.len() {
        if classes[i] == kind && classes[i - 1] == BeatClass::Normal {
            cycles += 1;
            i += 2;
            continue;
        }
        if cycles >= BIGEMINY_CYCLES {
            episodes += 1;
        }
        cycles = 0;
        i += 1;
    }
    if cycles >= BIGEMINY_CYCLES {
        episodes += 1;
    }
    episodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use BeatClass::{Normal as N, Supraventricular as S, Ventricular as V};

    #[test]
    fn singles_couplets_runs_and_bigeminy() {
        let classes = [N, V, N, V, N, V, N, N, V, V, N, V, V, V, N, S, N];
        let beats: Vec<usize> = (0..classes.len()).map(|i| i * 100).collect();
        let e = Ectopy::count(&classes, &beats, 250.0);
        let v = &e.ventricular;
        assert_eq!((v.beats, v.single, v.couplets, v.runs), (8, 3, 1, 1));
        assert_eq!((v.longest_run, v.bigeminy), (3, 1));
        // 100 samples at 250 Hz between beats: 150 bpm.
        assert_eq!(v.fastest_run_bpm, Some(150.0));
        assert_eq!(e.supraventricular.beats, 1);
        assert!(e.vt_flag(&[]).unwrap().urgent);
        assert!(
            e.summary()
                .starts_with("室性早搏 PVC 8 (成对 couplets 1, 短阵室速 VT runs 1")
        );
    }

    #[test]
    fn a_slow_run_is_no_vt() {
        let classes = [N, V, V, V, N];
        let beats: Vec<usize> = (0..5).map(|i| i * 300).collect(); // 50 bpm at 250 Hz
        let e = Ectopy::count(&classes, &beats, 250.0);
        assert_eq!(e.ventricular.runs, 1);
        assert!(e.vt_flag(&[]).is_none());
    }
}
