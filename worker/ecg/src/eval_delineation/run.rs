//! Runs the hub's analysis on every annotated record and scores its boundaries.

use std::path::Path;

use rayon::prelude::*;

use super::reference::{Source, discover, merge_leads, read_beats};
use super::{BeatMarks, Boundary, WaveScores, score};
use crate::error::EcgError;
use crate::wfdb::read_wfdb;
use crate::{Analysis, Ecg, Lead, analyse};

/// Length of the windows a long record is analysed in, seconds (what a cart sends).
const WINDOW_S: f64 = 10.0;
/// Margin at each end of a window whose beats are left to the neighbouring window, seconds.
const MARGIN_S: f64 = 1.0;

/// Which database a record's reference comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// LUDB: per-lead boundaries, 12 leads, 10 s.
    Ludb,
    /// QT Database: `.q1c` (and `.q2c`), 2 leads, 15 min.
    Qtdb,
}

/// The intervals the hub reports (PR, QRS, QT) against those from the cardiologists'
/// global boundaries (median over the annotated beats), ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intervals {
    /// Ours: PR, QRS, QT.
    pub ours: [Option<f64>; 3],
    /// The cardiologists': PR, QRS, QT.
    pub reference: [Option<f64>; 3],
}

/// The IEC 60601-2-25 tolerances of PR, QRS and QT, ms.
pub const INTERVAL_TOLERANCE_MS: [f64; 3] = [10.0, 10.0, 25.0];
/// Names of the intervals of [`Intervals`].
pub const INTERVAL_NAMES: [&str; 3] = ["PR", "QRS", "QT"];

impl Intervals {
    /// Whether interval `i` is within its tolerance; `None` when the reference has none.
    pub fn within(&self, i: usize) -> Option<bool> {
        let r = self.reference[i]?;
        Some(self.ours[i].is_some_and(|o| (o - r).abs() <= INTERVAL_TOLERANCE_MS[i]))
    }
}

/// One record's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordResult {
    /// Record name (header file stem).
    pub record: String,
    /// Where its reference comes from.
    pub database: Database,
    /// Ours against the (first) cardiologist.
    pub ours: WaveScores,
    /// Where a second cardiologist annotated (`.q2c`), on the beats both marked: ours and the
    /// second cardiologist's, each against the first's.
    pub two_cardiologists: Option<(WaveScores, WaveScores)>,
    /// The reported intervals against the cardiologists' (LUDB).
    pub intervals: Option<Intervals>,
}

/// Analyses and scores the record at `header` against its reference `source`.
pub fn evaluate_record(header: &Path, source: &Source) -> Result<RecordResult, EcgError> {
    let rec = read_wfdb(header)?;
    let ecg = rec.to_ecg();
    if ecg.leads.is_empty() {
        return Err(EcgError::Unusable(format!(
            "{}: no ECG lead to delineate",
            header.display()
        )));
    }
    let record = rec.header.record.clone();
    match source {
        Source::PerLead(files) => {
            let leads = files
                .iter()
                .map(|f| read_beats(f))
                .collect::<Result<Vec<_>, _>>()?;
            let reference = merge_leads(&leads, ecg.fs);
            let a = analyse(&ecg)?;
            let ours = project(&a, 0..ecg.len(), 0);
            Ok(RecordResult {
                record,
                database: Database::Ludb,
                ours: score(&reference, &ours, ecg.fs),
                two_cardiologists: None,
                intervals: Some(intervals(&a, &reference, ecg.fs)),
            })
        }
        Source::Qtdb { q1c, q2c } => {
            let reference = read_beats(q1c)?;
            let ours = windowed(&ecg, &reference)?;
            let two = match q2c {
                Some(p) => {
                    let second = read_beats(p)?;
                    let both = beats_near(&reference, &second, ecg.fs);
                    Some((score(&both, &ours, ecg.fs), score(&both, &second, ecg.fs)))
                }
                None => None,
            };
            Ok(RecordResult {
                record,
                database: Database::Qtdb,
                ours: score(&reference, &ours, ecg.fs),
                two_cardiologists: two,
                intervals: None,
            })
        }
    }
}

/// The beats of `reference` that `other` also marks (QRS within the match window): where two
/// cardiologists can be compared.
fn beats_near(reference: &[BeatMarks], other: &[BeatMarks], fs: f64) -> Vec<BeatMarks> {
    let w = (super::MATCH_WINDOW_S * fs).round() as usize;
    reference
        .iter()
        .filter(|b| other.iter().any(|o| o.r.abs_diff(b.r) <= w))
        .copied()
        .collect()
}

/// Our boundaries on every beat of `a` within `keep`: the median beat's boundaries placed
/// on each beat by its QRS fiducial, shifted by `offset` samples.
fn project(a: &Analysis, keep: std::ops::Range<usize>, offset: usize) -> Vec<BeatMarks> {
    let f = a.measurements.as_ref().map(|m| m.fiducials);
    a.beats
        .iter()
        .filter(|b| keep.contains(b))
        .map(|&b| {
            let at = |x: Option<usize>| {
                x.and_then(|x| (b + x).checked_sub(f?.r))
                    .map(|s| s + offset)
            };
            BeatMarks {
                r: b + offset,
                marks: match f {
                    Some(f) => [
                        at(f.p_on),
                        at(f.p_off),
                        at(Some(f.qrs_on)),
                        at(Some(f.qrs_off)),
                        at(f.t_end),
                    ],
                    None => [None; 5],
                },
            }
        })
        .collect()
}

/// Our boundaries over the annotated stretch of a long record: 10-s windows analysed as the
/// hub would, overlapping so that each beat is taken from a window where it is not at an edge.
fn windowed(ecg: &Ecg, reference: &[BeatMarks]) -> Result<Vec<BeatMarks>, EcgError> {
    let (Some(first), Some(last)) = (reference.first(), reference.last()) else {
        return Ok(Vec::new());
    };
    let s = |t: f64| (t * ecg.fs).round() as usize;
    let (len, margin, n) = (s(WINDOW_S), s(MARGIN_S), ecg.len());
    let mut out = Vec::new();
    let mut from = first.r.saturating_sub(2 * margin);
    while from <= last.r + margin && from < n {
        let to = (from + len).min(n);
        let a = analyse(&slice(ecg, from, to))?;
        let lo = if from == 0 { 0 } else { margin };
        let hi = if to == n { to - from } else { len - margin };
        out.extend(project(&a, lo..hi, from));
        from += len - 2 * margin;
    }
    Ok(out)
}

fn slice(ecg: &Ecg, from: usize, to: usize) -> Ecg {
    Ecg {
        fs: ecg.fs,
        leads: ecg
            .leads
            .iter()
            .map(|l| Lead {
                name: l.name.clone(),
                samples_uv: l.samples_uv[from..to].to_vec(),
            })
            .collect(),
        device: None,
    }
}

/// The reported intervals of `a` against the medians of the reference's.
fn intervals(a: &Analysis, reference: &[BeatMarks], fs: f64) -> Intervals {
    let m = a.measurements.as_ref();
    let median_ms = |from: Boundary, to: Boundary| {
        let mut d: Vec<f64> = reference
            .iter()
            .filter_map(|b| Some(b.get(to)? as f64 - b.get(from)? as f64))
            .map(|d| d * 1000.0 / fs)
            .collect();
        d.sort_by(f64::total_cmp);
        d.get(d.len() / 2).copied()
    };
    Intervals {
        ours: [
            m.and_then(|m| m.pr_ms),
            m.map(|m| m.qrs_ms),
            m.and_then(|m| m.qt_ms),
        ],
        reference: [
            median_ms(Boundary::POn, Boundary::QrsOn),
            median_ms(Boundary::QrsOn, Boundary::QrsOff),
            median_ms(Boundary::QrsOn, Boundary::TOff),
        ],
    }
}

/// Scores every record under `dir` with a delineation reference, records in parallel. One
/// unreadable record does not stop the others: its error is returned in its place.
pub fn evaluate_dir(dir: &Path) -> Result<Vec<Result<RecordResult, EcgError>>, EcgError> {
    Ok(discover(dir)?
        .par_iter()
        .map(|(h, s)| evaluate_record(h, s))
        .collect())
}

/// Pooled scores of one database.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pooled {
    /// Records scored.
    pub records: usize,
    /// Ours against the (first) cardiologist.
    pub ours: WaveScores,
}

/// Everything the table and the bar need, pooled over the records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// LUDB.
    pub ludb: Pooled,
    /// QT Database against `.q1c`.
    pub qtdb: Pooled,
    /// QT Database records with a `.q2c`: ours against `.q1c` on the beats both marked.
    pub qtdb_two_ours: Pooled,
    /// The same records: `.q2c` against `.q1c`.
    pub qtdb_two_cardiologists: WaveScores,
    /// Per interval (PR, QRS, QT): LUDB records within tolerance, and with a reference.
    pub intervals: [(usize, usize); 3],
    /// LUDB records with all three reference intervals, and of those with all three within.
    pub intervals_all: (usize, usize),
}

impl Summary {
    /// Percentage of LUDB records whose interval `i` is within tolerance.
    pub fn interval_pct(&self, i: usize) -> f64 {
        let (k, n) = self.intervals[i];
        100.0 * k as f64 / n.max(1) as f64
    }
}

/// Pools the records that could be scored.
pub fn summarise(results: &[Result<RecordResult, EcgError>]) -> Summary {
    let mut s = Summary::default();
    for r in results.iter().flatten() {
        let pool = match r.database {
            Database::Ludb => &mut s.ludb,
            Database::Qtdb => &mut s.qtdb,
        };
        pool.records += 1;
        pool.ours.add(&r.ours);
        if let Some((ours, second)) = &r.two_cardiologists {
            s.qtdb_two_ours.records += 1;
            s.qtdb_two_ours.ours.add(ours);
            s.qtdb_two_cardiologists.add(second);
        }
        if let Some(iv) = &r.intervals {
            let w: Vec<Option<bool>> = (0..3).map(|i| iv.within(i)).collect();
            for (i, x) in w.iter().enumerate() {
                if let Some(ok) = x {
                    s.intervals[i].0 += usize::from(*ok);
                    s.intervals[i].1 += 1;
                }
            }
            if w.iter().all(Option::is_some) {
                s.intervals_all.0 += 1;
                s.intervals_all.1 += usize::from(w.iter().all(|x| *x == Some(true)));
            }
        }
    }
    s
}
