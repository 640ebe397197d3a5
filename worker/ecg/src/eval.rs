//! Beat-by-beat comparison of detected QRS complexes with reference annotations, in the
//! spirit of WFDB `bxb` and ANSI/AAMI EC57: a reference beat and a detected beat match when
//! they are at most 150 ms apart (each used once, nearest first); the comparison starts
//! 5 minutes into the record (the standard's learning period) and runs to its end.
//! Sensitivity Se = TP / (TP + FN), positive predictivity +P = TP / (TP + FP); gross figures
//! pool the counts of all records, once for every record and once without the paced records
//! (those whose reference holds paced beats, `/` or `f`), which EC57 leaves out of its
//! arrhythmia statistics.
//!
//! Reference beats are EC57's beat labels only (`N L R B A a J S V r F e j n E / f Q ?`): a
//! non-conducted P wave (`x`) is not a QRS complex. Inside ventricular flutter or fibrillation
//! episodes (`[` to `]`) the reference marks flutter waves (`!`), not beats; detections there
//! are counted apart ([`RecordScore::in_vf`]) and left out of FP unless
//! [`Options::count_vf`] is set.
//!
//! A record takes part when its header (`.hea`) has a sibling `.atr` file: `atr` is the
//! reference annotator of the PhysioNet databases. Other annotation files (e.g. `gqrs`, `sqrs`
//! detector outputs) are not references and are not scored.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::EcgError;
use crate::qrs;
use crate::wfdb::{Annotation, read_annotations, read_wfdb};

/// Match window, seconds.
pub const MATCH_WINDOW_S: f64 = 0.150;
/// Comparison start, seconds.
pub const START_S: f64 = 300.0;

/// Beat-level counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    /// Reference beats matched by a detection.
    pub tp: usize,
    /// Reference beats missed.
    pub fn_: usize,
    /// Detections without a reference beat.
    pub fp: usize,
}

impl Score {
    /// Sensitivity in percent (100 when there is nothing to find).
    pub fn se(&self) -> f64 {
        pct(self.tp, self.tp + self.fn_)
    }

    /// Positive predictivity in percent (100 when nothing was detected).
    pub fn ppv(&self) -> f64 {
        pct(self.tp, self.tp + self.fp)
    }

    /// Adds another record's counts.
    pub fn add(&mut self, o: &Score) {
        self.tp += o.tp;
        self.fn_ += o.fn_;
        self.fp += o.fp;
    }
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// Compares detected beat samples with reference beat samples (both ascending) at `fs` Hz,
/// counting only beats at or after `start` samples, matching within `window` samples.
pub fn compare(reference: &[usize], test: &[usize], start: usize, window: usize) -> Score {
    let tp = pairs(reference, test, start, window).len();
    let count = |v: &[usize]| v.iter().filter(|&&s| s >= start).count();
    Score {
        tp,
        fn_: count(reference) - tp,
        fp: count(test) - tp,
    }
}

/// The matches [`compare`] counts, as (index into `reference`, index into `test`): each
/// reference beat at or after `start` takes the nearest unused detection within `window`.
pub fn pairs(
    reference: &[usize],
    test: &[usize],
    start: usize,
    window: usize,
) -> Vec<(usize, usize)> {
    let mut used = vec![false; test.len()];
    let mut out = Vec::new();
    let mut j = test.partition_point(|&t| t < start);
    for (i, &s) in reference.iter().enumerate().filter(|(_, s)| **s >= start) {
        while j < test.len() && test[j] + window < s {
            j += 1;
        }
        // Nearest unused detection within the window.
        let best = (j..test.len())
            .take_while(|&k| test[k] <= s + window)
            .filter(|&k| !used[k])
            .min_by_key(|&k| test[k].abs_diff(s));
        if let Some(k) = best {
            used[k] = true;
            out.push((i, k));
        }
    }
    out
}

/// EC57's beat labels (`N L R B A a J S V r F e j n E / f Q ?`) by WFDB annotation code.
pub fn is_ec57_beat(code: u8) -> bool {
    matches!(code, 1..=13 | 25 | 30 | 34 | 35 | 38 | 41)
}

/// WFDB codes of a paced beat (`/`) and a fusion of paced and normal beat (`f`).
pub(crate) const PACED_CODES: [u8; 2] = [12, 38];
/// WFDB codes of the start (`[`) and end (`]`) of ventricular flutter or fibrillation.
const VF_ON: u8 = 32;
const VF_OFF: u8 = 33;

/// How records are scored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Count detections inside ventricular flutter/fibrillation episodes as false positives.
    pub count_vf: bool,
}

/// One record's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordScore {
    /// Record name (header file stem).
    pub record: String,
    /// Leads the detector used (names).
    pub leads: Vec<String>,
    /// Counts from 5 minutes on.
    pub score: Score,
    /// Whether the reference holds paced beats (EC57 leaves such records out).
    pub paced: bool,
    /// Detections from 5 minutes on inside ventricular flutter/fibrillation episodes.
    pub in_vf: usize,
}

/// Every WFDB header under `dir` (recursively) with a sibling `.atr` file, sorted.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, EcgError> {
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    out.retain(|p| p.extension().is_some_and(|e| e == "hea") && p.with_extension("atr").is_file());
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), EcgError> {
    let rd = std::fs::read_dir(dir).map_err(|source| EcgError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Sample ranges `[on, off]` of the ventricular flutter/fibrillation episodes.
pub(crate) fn vf_episodes(ann: &[Annotation]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut on = None;
    for a in ann {
        match a.code {
            VF_ON => on = Some(a.sample as usize),
            VF_OFF => out.extend(on.take().map(|s| (s, a.sample as usize))),
            _ => {}
        }
    }
    out.extend(on.map(|s| (s, usize::MAX)));
    out
}

/// Detects beats in the record at `header` and scores them against its `.atr` beats.
pub fn evaluate_record(header: &Path, opts: Options) -> Result<RecordScore, EcgError> {
    let rec = read_wfdb(header)?;
    let ann = read_annotations(&header.with_extension("atr"))?;
    let ecg = rec.to_ecg();
    let leads: Vec<&[f32]> = ecg.leads.iter().map(|l| l.samples_uv.as_slice()).collect();
    let det = qrs::detect(&leads, ecg.fs);
    let reference: Vec<usize> = ann
        .iter()
        .filter(|a| is_ec57_beat(a.code))
        .map(|a| a.sample as usize)
        .collect();
    let start = (START_S * ecg.fs).round() as usize;
    let vf = vf_episodes(&ann);
    let inside = |s: &usize| vf.iter().any(|&(a, b)| (a..=b).contains(s));
    let in_vf = det
        .beats
        .iter()
        .filter(|&s| *s >= start && inside(s))
        .count();
    let test: Vec<usize> = if opts.count_vf {
        det.beats.clone()
    } else {
        det.beats.iter().copied().filter(|s| !inside(s)).collect()
    };
    let score = compare(
        &reference,
        &test,
        start,
        (MATCH_WINDOW_S * ecg.fs).round() as usize,
    );
    Ok(RecordScore {
        record: rec.header.record.clone(),
        leads: det
            .leads_used
            .iter()
            .map(|&i| ecg.leads[i].name.clone())
            .collect(),
        score,
        paced: ann.iter().any(|a| PACED_CODES.contains(&a.code)),
        in_vf,
    })
}

/// Scores every annotated record under `dir`, records in parallel. One unreadable record
/// does not stop the others: its error is returned in its place.
pub fn evaluate_dir(
    dir: &Path,
    opts: Options,
) -> Result<Vec<Result<RecordScore, EcgError>>, EcgError> {
    Ok(discover(dir)?
        .par_iter()
        .map(|h| evaluate_record(h, opts))
        .collect())
}

/// Gross counts over every record that could be scored.
pub fn gross(results: &[Result<RecordScore, EcgError>]) -> Score {
    gross_where(results, |_| true)
}

/// Gross counts over the records without paced beats.
pub fn gross_unpaced(results: &[Result<RecordScore, EcgError>]) -> Score {
    gross_where(results, |r| !r.paced)
}

fn gross_where(
    results: &[Result<RecordScore, EcgError>],
    keep: impl Fn(&RecordScore) -> bool,
) -> Score {
    let mut g = Score::default();
    results
        .iter()
        .flatten()
        .filter(|r| keep(r))
        .for_each(|r| g.add(&r.score));
    g
}

fn row(name: &str, s: &Score, vf: &str, leads: &str) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {:.2} | {:.2} | {vf} | {leads} |\n",
        s.tp + s.fn_,
        s.tp,
        s.fn_,
        s.fp,
        s.se(),
        s.ppv()
    )
}

/// The Markdown table: one row per record (paced ones marked), then the gross rows with and
/// without the paced records. Unreadable records are listed under the table.
pub fn table(results: &[Result<RecordScore, EcgError>]) -> String {
    let mut s = String::from(
        "| record | beats | TP | FN | FP | Se % | +P % | in VF | leads |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in results.iter().flatten() {
        let name = if r.paced {
            format!("{} (paced)", r.record)
        } else {
            r.record.clone()
        };
        s += &row(&name, &r.score, &r.in_vf.to_string(), &r.leads.join(", "));
    }
    s += &row("**gross**", &gross(results), "", "");
    s += &row("**gross without paced**", &gross_unpaced(results), "", "");
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        s += &format!("\nnot scored: {e}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_counts() {
        // 100 is 3 samples off (match), 200 missed, 290 false, 400 exact; 5 before start.
        let s = compare(&[5, 100, 200, 400], &[5, 103, 290, 400], 50, 54);
        assert_eq!(
            s,
            Score {
                tp: 2,
                fn_: 1,
                fp: 1
            }
        );
        // One detection cannot match two references.
        let s = compare(&[100, 110], &[105], 0, 54);
        assert_eq!(
            s,
            Score {
                tp: 1,
                fn_: 1,
                fp: 0
            }
        );
        assert_eq!(s.se(), 50.0);
    }
}
