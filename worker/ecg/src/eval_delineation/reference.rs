//! The cardiologists' boundaries per beat: the QT Database's `.q1c` / `.q2c`, LUDB's per-lead
//! files merged into global boundaries.

use std::path::{Path, PathBuf};

use super::{BeatMarks, Boundary};
use crate::error::EcgError;
use crate::wfdb::{Wave, WaveKind, parse_header, read_annotations, waves};

/// How far apart (seconds) the same QRS may be marked in two LUDB leads.
const SAME_BEAT_S: f64 = 0.1;

/// One beat per annotated QRS complex, with the P wave before it (after the previous QRS)
/// and the T wave after it (before the next QRS).
pub fn beats_of(waves: &[Wave]) -> Vec<BeatMarks> {
    let qrs: Vec<usize> = (0..waves.len())
        .filter(|&i| waves[i].kind == WaveKind::Qrs)
        .collect();
    qrs.iter()
        .enumerate()
        .map(|(n, &i)| {
            let prev = n.checked_sub(1).map_or(0, |m| qrs[m] + 1);
            let next = qrs.get(n + 1).copied().unwrap_or(waves.len());
            let p = waves[prev..i].iter().rev().find(|w| w.kind == WaveKind::P);
            let t = waves[i + 1..next].iter().find(|w| w.kind == WaveKind::T);
            let at = |x: Option<u64>| x.map(|s| s as usize);
            let q = &waves[i];
            BeatMarks {
                r: q.peak as usize,
                marks: [
                    at(p.and_then(|w| w.onset)),
                    at(p.and_then(|w| w.offset)),
                    at(q.onset),
                    at(q.offset),
                    at(t.and_then(|w| w.offset)),
                ],
            }
        })
        .collect()
}

/// The beats of one boundary annotation file (`.q1c`, `.q2c`, an LUDB lead file).
pub fn read_beats(path: &Path) -> Result<Vec<BeatMarks>, EcgError> {
    Ok(beats_of(&waves(&read_annotations(path)?)))
}

/// Merges the beats of several leads into global boundaries: the same QRS (within 100 ms)
/// is one beat; its onsets are the earliest and its offsets the latest of the leads that mark
/// them (the CSE's global boundaries), except that where three leads or more mark a boundary
/// the single most extreme mark is set aside (the second earliest onset, the second latest
/// offset): on LUDB one lead's T end is now and then 50–100 ms after all the others (records
/// 29, 55, 57, 84), a mark no reading of the whole 12-lead ECG would make its global T end.
pub fn merge_leads(leads: &[Vec<BeatMarks>], fs: f64) -> Vec<BeatMarks> {
    let tol = (SAME_BEAT_S * fs).round() as usize;
    let mut groups: Vec<(usize, [Vec<usize>; 5])> = Vec::new();
    for b in leads.iter().flatten() {
        let i = match groups.iter().position(|g| g.0.abs_diff(b.r) <= tol) {
            Some(i) => i,
            None => {
                groups.push((b.r, Default::default()));
                groups.len() - 1
            }
        };
        for (all, m) in groups[i].1.iter_mut().zip(b.marks) {
            all.extend(m);
        }
    }
    let mut out: Vec<BeatMarks> = groups
        .into_iter()
        .map(|(r, mut all)| BeatMarks {
            r,
            marks: Boundary::ALL.map(|x| global(x, &mut all[x as usize])),
        })
        .collect();
    out.sort_by_key(|b| b.r);
    out
}

/// The global mark of one boundary from the leads' marks (see [`merge_leads`]).
fn global(b: Boundary, marks: &mut [usize]) -> Option<usize> {
    marks.sort_unstable();
    let k = usize::from(marks.len() >= 3);
    match b {
        Boundary::POn | Boundary::QrsOn => marks.get(k).copied(),
        _ => marks.iter().rev().nth(k).copied(),
    }
}

/// What kind of reference a record has.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// LUDB: one boundary file per lead, named by the lead (`1.i`, `1.v6`).
    PerLead(Vec<PathBuf>),
    /// QT Database: `.q1c`, and `.q2c` when a second cardiologist annotated.
    Qtdb {
        /// Cardiologist 1.
        q1c: PathBuf,
        /// Cardiologist 2, where present.
        q2c: Option<PathBuf>,
    },
}

/// The per-lead boundary files of the record at `header`: a sibling file named after each
/// signal (`.i`, `.ii`, … `.v6`, lower case, as LUDB names them) that exists.
pub fn lead_files(header: &Path) -> Result<Vec<PathBuf>, EcgError> {
    let text = std::fs::read_to_string(header).map_err(|source| EcgError::Io {
        path: header.to_path_buf(),
        source,
    })?;
    let h = parse_header(&text, header)?;
    Ok(h.signals
        .iter()
        .map(|s| s.description.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|d| header.with_extension(d))
        .filter(|p| p.is_file())
        .collect())
}

/// The reference of the record at `header`, `None` when it has none.
pub fn source(header: &Path) -> Result<Option<Source>, EcgError> {
    let q1c = header.with_extension("q1c");
    if q1c.is_file() {
        let q2c = Some(header.with_extension("q2c")).filter(|p| p.is_file());
        return Ok(Some(Source::Qtdb { q1c, q2c }));
    }
    let leads = lead_files(header)?;
    Ok((!leads.is_empty()).then_some(Source::PerLead(leads)))
}

/// Every WFDB header under `dir` (recursively) with a delineation reference, sorted.
pub fn discover(dir: &Path) -> Result<Vec<(PathBuf, Source)>, EcgError> {
    let mut headers = Vec::new();
    walk(dir, &mut headers)?;
    headers.sort();
    let mut out = Vec::new();
    for h in headers {
        if let Some(s) = source(&h)? {
            out.push((h, s));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), EcgError> {
    let rd = std::fs::read_dir(dir).map_err(|source| EcgError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for p in rd.flatten().map(|e| e.path()) {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "hea") {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_merge_into_the_earliest_onset_and_latest_offset() {
        let a = BeatMarks {
            r: 1000,
            marks: [Some(900), Some(950), Some(980), Some(1030), Some(1300)],
        };
        let b = BeatMarks {
            r: 1010,
            marks: [None, Some(960), Some(975), Some(1040), Some(1280)],
        };
        let m = merge_leads(&[vec![a], vec![b]], 500.0);
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].marks,
            [Some(900), Some(960), Some(975), Some(1040), Some(1300)]
        );
        // A third lead with an outlying T end: the second latest is kept.
        let c = BeatMarks {
            r: 995,
            marks: [None, None, Some(978), Some(1035), Some(1400)],
        };
        let m = merge_leads(&[vec![a], vec![b], vec![c]], 500.0);
        assert_eq!(m[0].marks[2..], [Some(978), Some(1035), Some(1300)]);
    }
}
