//! Beat-by-beat comparison of detected QRS complexes with reference annotations, in the
//! spirit of WFDB `bxb` and ANSI/AAMI EC57: a reference beat and a detected beat match when
//! they are at most 150 ms apart (each used once, nearest first); the comparison starts
//! 5 minutes into the record (the standard's learning period) and runs to its end.
//! Sensitivity Se = TP / (TP + FN), positive predictivity +P = TP / (TP + FP); gross figures
//! pool the counts of all records.
//!
//! A record takes part when its header (`.hea`) has a sibling `.atr` file: `atr` is the
//! reference annotator of the PhysioNet databases. Other annotation files (e.g. `gqrs`, `sqrs`
//! detector outputs) are not references and are not scored.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::EcgError;
use crate::qrs;
use crate::wfdb::{read_annotations, read_wfdb};

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
    let r: Vec<usize> = reference.iter().copied().filter(|&s| s >= start).collect();
    let t: Vec<usize> = test.iter().copied().filter(|&s| s >= start).collect();
    let mut used = vec![false; t.len()];
    let mut tp = 0;
    let mut j = 0;
    for &s in &r {
        while j < t.len() && t[j] + window < s {
            j += 1;
        }
        // Nearest unused detection within the window.
        let best = (j..t.len())
            .take_while(|&k| t[k] <= s + window)
            .filter(|&k| !used[k])
            .min_by_key(|&k| t[k].abs_diff(s));
        if let Some(k) = best {
            used[k] = true;
            tp += 1;
        }
    }
    Score {
        tp,
        fn_: r.len() - tp,
        fp: t.len() - tp,
    }
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

/// Detects beats in the record at `header` and scores them against its `.atr` beats.
pub fn evaluate_record(header: &Path) -> Result<RecordScore, EcgError> {
    let rec = read_wfdb(header)?;
    let ann = read_annotations(&header.with_extension("atr"))?;
    let ecg = rec.to_ecg();
    let leads: Vec<&[f32]> = ecg.leads.iter().map(|l| l.samples_uv.as_slice()).collect();
    let det = qrs::detect(&leads, ecg.fs);
    let reference: Vec<usize> = ann
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| a.sample as usize)
        .collect();
    let score = compare(
        &reference,
        &det.beats,
        (START_S * ecg.fs).round() as usize,
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
    })
}

/// Scores every annotated record under `dir`, records in parallel. One unreadable record
/// does not stop the others: its error is returned in its place.
pub fn evaluate_dir(dir: &Path) -> Result<Vec<Result<RecordScore, EcgError>>, EcgError> {
    Ok(discover(dir)?
        .par_iter()
        .map(|h| evaluate_record(h))
        .collect())
}

/// Gross counts over the records that could be scored.
pub fn gross(results: &[Result<RecordScore, EcgError>]) -> Score {
    let mut g = Score::default();
    results.iter().flatten().for_each(|r| g.add(&r.score));
    g
}

/// The bxb-style table: one line per record, then the gross line.
pub fn table(results: &[Result<RecordScore, EcgError>]) -> String {
    let mut s = format!(
        "{:<12} {:>6} {:>5} {:>5} {:>8} {:>8}  leads\n",
        "record", "TP", "FN", "FP", "Se%", "+P%"
    );
    for r in results {
        match r {
            Ok(r) => {
                s += &format!(
                    "{:<12} {:>6} {:>5} {:>5} {:>8.3} {:>8.3}  {}\n",
                    r.record,
                    r.score.tp,
                    r.score.fn_,
                    r.score.fp,
                    r.score.se(),
                    r.score.ppv(),
                    r.leads.join(",")
                )
            }
            Err(e) => s += &format!("ERROR {e}\n"),
        }
    }
    let g = gross(results);
    s += &format!(
        "{:<12} {:>6} {:>5} {:>5} {:>8.3} {:>8.3}\n",
        "gross",
        g.tp,
        g.fn_,
        g.fp,
        g.se(),
        g.ppv()
    );
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
