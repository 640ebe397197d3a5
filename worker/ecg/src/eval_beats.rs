//! Beat classification scored as ANSI/AAMI EC57 does: ventricular ectopic beats (VEB) and
//! supraventricular ectopic beats (SVEB), Se, +P and false positive rate, per record and
//! gross.
//!
//! Each record's beats are detected as `ecg-eval qrs` detects them (all leads), classified on
//! the conditioned leads by the analysis's own [`classify`] and matched with the reference
//! beats as `ecg-eval qrs` matches them ([`crate::eval::pairs`]: 150 ms, from minute 5). The
//! analysis judges a lead's quality on the whole recording, which suits a 10-s ECG, not a
//! 30-min Holter record with a noisy minute; the detector is scored on its own by `qrs`. Reference labels fall in EC57's classes: N = `N L R e j` (and `B`), S = `A a J S`,
//! V = `V E`, F = `F`, Q = `/ f Q ?` (left out). Counts, with the reference class in capitals
//! and ours in lower case, `o` a missed beat and `X` a detection with no reference beat:
//! - VEB: TP = Vv; FN = Vn + Vs + Vo; FP = Nv + Sv + Xv (a fusion beat called V is not an
//!   error, as in EC57); FPR = (Nv + Sv) over the N and S beats found;
//! - SVEB: TP = Ss; FN = Sn + Sv + So; FP = Ns + Vs + Fs + Xs; FPR = (Ns + Vs + Fs) over the
//!   N, V and F beats found.
//!
//! Detections inside ventricular flutter or fibrillation (`[` to `]`, where the reference
//! marks flutter waves, not beats) are left out, as `ecg-eval qrs` leaves them out of FP.
//!
//! Records with paced beats (`/`, `f`) are listed but left out of the gross figures, as EC57
//! leaves them out.

use std::path::Path;

use rayon::prelude::*;

use crate::analysis::BeatClass;
use crate::analysis::beats::classify;
use crate::error::EcgError;
use crate::eval::{
    MATCH_WINDOW_S, PACED_CODES, START_S, discover, is_ec57_beat, pairs, vf_episodes,
};
use crate::wfdb::{read_annotations, read_wfdb};

/// EC57's reference classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefClass {
    /// Normal and bundle branch block beats, escapes (`N L R B e j`).
    N,
    /// Supraventricular ectopic (`A a J S`).
    S,
    /// Ventricular ectopic (`V E r`).
    V,
    /// Fusion of ventricular and normal (`F`).
    F,
    /// Paced, fusion of paced and normal, unclassifiable (`/ f Q ?`).
    Q,
}

impl RefClass {
    /// The class of a WFDB beat code.
    pub fn of(code: u8) -> Self {
        match code {
            4 | 7 | 8 | 9 | 35 => Self::S,
            5 | 10 | 41 => Self::V,
            6 => Self::F,
            12 | 13 | 30 | 38 => Self::Q,
            _ => Self::N,
        }
    }
}

/// One class's statistics (ventricular or supraventricular).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassScore {
    /// Ectopic reference beats called so.
    pub tp: usize,
    /// Ectopic reference beats called otherwise or missed.
    pub fn_: usize,
    /// Other beats, or detections without a reference, called ectopic.
    pub fp: usize,
    /// Other reference beats found and not called ectopic.
    pub tn: usize,
    /// Of `fp`, those on reference beats (they count in the false positive rate).
    pub fp_beats: usize,
}

impl ClassScore {
    /// Sensitivity, %; `None` without ectopic reference beats.
    pub fn se(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Positive predictivity, %; `None` when nothing was called ectopic.
    pub fn ppv(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// False positive rate, %: other reference beats called ectopic over all of them.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp_beats, self.fp_beats + self.tn)
    }

    /// Adds another record's counts.
    pub fn add(&mut self, o: &ClassScore) {
        self.tp += o.tp;
        self.fn_ += o.fn_;
        self.fp += o.fp;
        self.tn += o.tn;
        self.fp_beats += o.fp_beats;
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| 100.0 * a as f64 / b as f64)
}

/// One record's VEB and SVEB statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatScore {
    /// Record name.
    pub record: String,
    /// Ventricular ectopic beats.
    pub veb: ClassScore,
    /// Supraventricular ectopic beats.
    pub sveb: ClassScore,
    /// Whether the reference holds paced beats (left out of the gross figures).
    pub paced: bool,
}

/// Scores the reference classes `reference` against our classes `ours` for one record,
/// given the matches (reference index, our index).
pub fn score(
    reference: &[RefClass],
    ours: &[BeatClass],
    matched: &[(usize, usize)],
) -> (ClassScore, ClassScore) {
    let mut veb = ClassScore::default();
    let mut sveb = ClassScore::default();
    let mut found = vec![false; reference.len()];
    let mut ours_matched = vec![false; ours.len()];
    for &(r, t) in matched {
        found[r] = true;
        ours_matched[t] = true;
        tally(
            &mut veb,
            reference[r],
            ours[t],
            RefClass::V,
            BeatClass::Ventricular,
        );
        tally(
            &mut sveb,
            reference[r],
            ours[t],
            RefClass::S,
            BeatClass::Supraventricular,
        );
    }
    let missed = |c: RefClass| {
        (0..reference.len())
            .filter(|&i| !found[i] && reference[i] == c)
            .count()
    };
    veb.fn_ += missed(RefClass::V);
    sveb.fn_ += missed(RefClass::S);
    let extra = |c: BeatClass| {
        (0..ours.len())
            .filter(|&i| !ours_matched[i] && ours[i] == c)
            .count()
    };
    veb.fp += extra(BeatClass::Ventricular);
    sveb.fp += extra(BeatClass::Supraventricular);
    (veb, sveb)
}

/// One matched beat into the statistics of class `pos` (ours `call`).
fn tally(s: &mut ClassScore, r: RefClass, t: BeatClass, pos: RefClass, call: BeatClass) {
    // Q beats are left out; F beats called V are no VEB error, yet count against SVEB.
    let ignored = r == RefClass::Q || (r == RefClass::F && pos == RefClass::V);
    match (r == pos, t == call) {
        _ if ignored => {}
        (true, true) => s.tp += 1,
        (true, false) => s.fn_ += 1,
        (false, true) => {
            s.fp += 1;
            s.fp_beats += 1;
        }
        (false, false) => s.tn += 1,
    }
}

/// Analyses the record at `header` and scores its beat classes against its `.atr` labels.
pub fn evaluate_record(header: &Path) -> Result<BeatScore, EcgError> {
    let rec = read_wfdb(header)?;
    let ann = read_annotations(&header.with_extension("atr"))?;
    let ecg = rec.to_ecg();
    let raw: Vec<&[f32]> = ecg.leads.iter().map(|l| l.samples_uv.as_slice()).collect();
    let mut beats = crate::qrs::detect(&raw, ecg.fs).beats;
    let (cond, _) = crate::analysis::conditioned(&ecg);
    let cond: Vec<&[f32]> = cond.iter().map(|l| l.as_slice()).collect();
    let mut beat_classes = classify(&cond, ecg.fs, &beats);
    // Inside ventricular flutter the reference marks no beats: EC57 leaves those spans out.
    let vf = vf_episodes(&ann);
    let outside = |s: usize| !vf.iter().any(|&(a, b)| (a..=b).contains(&s));
    (beat_classes, beats) = beat_classes
        .into_iter()
        .zip(beats)
        .filter(|&(_, b)| outside(b))
        .unzip();
    let refs: Vec<_> = ann.iter().filter(|a| is_ec57_beat(a.code)).collect();
    let samples: Vec<usize> = refs.iter().map(|a| a.sample as usize).collect();
    let classes: Vec<RefClass> = refs.iter().map(|a| RefClass::of(a.code)).collect();
    let start = (START_S * ecg.fs).round() as usize;
    let window = (MATCH_WINDOW_S * ecg.fs).round() as usize;
    let matched = pairs(&samples, &beats, start, window);
    // Only beats from minute 5 count, ours as the reference's.
    let from = beats.partition_point(|&b| b < start);
    let ours: Vec<BeatClass> = beat_classes[from..].to_vec();
    let matched: Vec<(usize, usize)> = matched.iter().map(|&(r, t)| (r, t - from)).collect();
    let skip = samples.partition_point(|&s| s < start);
    let matched: Vec<(usize, usize)> = matched.iter().map(|&(r, t)| (r - skip, t)).collect();
    let (veb, sveb) = score(&classes[skip..], &ours, &matched);
    Ok(BeatScore {
        record: rec.header.record.clone(),
        veb,
        sveb,
        paced: ann.iter().any(|a| PACED_CODES.contains(&a.code)),
    })
}

/// Scores every annotated record under `dir`, records in parallel; an unreadable record is
/// returned as its error and does not stop the others.
pub fn evaluate_dir(dir: &Path) -> Result<Vec<Result<BeatScore, EcgError>>, EcgError> {
    Ok(discover(dir)?
        .par_iter()
        .map(|h| evaluate_record(h))
        .collect())
}

/// Gross VEB and SVEB counts over the records without paced beats.
pub fn gross(results: &[Result<BeatScore, EcgError>]) -> (ClassScore, ClassScore) {
    let mut g = (ClassScore::default(), ClassScore::default());
    for r in results.iter().flatten().filter(|r| !r.paced) {
        g.0.add(&r.veb);
        g.1.add(&r.sveb);
    }
    g
}

fn pct(v: Option<f64>, digits: usize) -> String {
    v.map_or("—".into(), |v| format!("{v:.digits$}"))
}

fn row(name: &str, v: &ClassScore, s: &ClassScore) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        v.tp + v.fn_,
        pct(v.se(), 2),
        pct(v.ppv(), 2),
        pct(v.fpr(), 3),
        s.tp + s.fn_,
        pct(s.se(), 2),
        pct(s.ppv(), 2),
        pct(s.fpr(), 3),
    )
}

/// The Markdown table: one row per record (paced ones marked and left out of the gross row),
/// then the gross row; unreadable records are listed under it.
pub fn table(results: &[Result<BeatScore, EcgError>]) -> String {
    let mut out = String::from(
        "| record | VEB | VEB Se % | VEB +P % | VEB FPR % | SVEB | SVEB Se % | SVEB +P % | SVEB FPR % |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results.iter().flatten() {
        let name = if r.paced {
            format!("{} (paced, left out)", r.record)
        } else {
            r.record.clone()
        };
        out += &row(&name, &r.veb, &r.sveb);
    }
    let (v, s) = gross(results);
    out += &row("**gross**", &v, &s);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        out += &format!("\nnot scored: {e}\n");
    }
    out
}
