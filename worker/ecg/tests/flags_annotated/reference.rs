//! What the reference annotations of a window say: its beats and their labels, the rhythms in
//! effect, the cardiologists' QT where the database has one, and (LUDB) the diagnoses; and
//! which flags that allows.

use std::path::Path;

use worker_ecg::wfdb::{Annotation, Record, mnemonic, read_annotations};
use worker_ecg::{Ecg, Flag, Lead};

/// Signal names that are never ECG leads, whatever units their header gives.
const NOT_ECG: [&str; 8] = ["RESP", "PLETH", "ABP", "ART", "CVP", "PAP", "SPO2", "CO2"];

/// The ECG channels of a record: voltage units, not a known non-ECG name, and the sampling
/// rate shared by most of them (a multi-rate record keeps its ECG group).
pub fn ecg_of(rec: &Record) -> Ecg {
    let h = &rec.header;
    let is_ecg = |i: usize| {
        let s = &h.signals[i];
        let volts = matches!(
            s.units.to_ascii_lowercase().as_str(),
            "mv" | "uv" | "µv" | "v"
        );
        volts && !NOT_ECG.contains(&s.description.trim().to_ascii_uppercase().as_str())
    };
    let ecg: Vec<usize> = (0..h.signals.len()).filter(|&i| is_ecg(i)).collect();
    let fs = ecg
        .iter()
        .map(|&i| rec.fs_of(i))
        .max_by_key(|f| ecg.iter().filter(|&&j| rec.fs_of(j) == *f).count())
        .unwrap_or(h.fs);
    let leads = ecg
        .into_iter()
        .filter(|&i| rec.fs_of(i) == fs)
        .map(|i| Lead {
            name: h.signals[i].description.trim().to_string(),
            samples_uv: rec.microvolts(i),
        })
        .collect();
    Ecg {
        fs,
        leads,
        device: None,
    }
}

/// The samples `[from, from + len)` of every lead.
pub fn window(ecg: &Ecg, from: usize, len: usize) -> Ecg {
    Ecg {
        fs: ecg.fs,
        leads: ecg
            .leads
            .iter()
            .map(|l| Lead {
                name: l.name.clone(),
                samples_uv: l.samples_uv[from..from + len].to_vec(),
            })
            .collect(),
        device: None,
    }
}

/// Rhythm labels of atrial fibrillation and flutter (MIT-BIH `(AFIB`, `(AFL`; LUDB words).
const AF: &[&str] = &["AFIB", "AFL", "FIBRILLATION", "FLUTTER"];

/// The cardiologists' QTc from which a long-QTc flag (critical above 500 ms) is tolerated: 30 ms
/// below the limit, about the QT tolerance of IEC 60601-2-25.
const QTC_TOLERATED_MS: f64 = 470.0;

/// The reference for one analysed window.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// Reference beats in the window: sample (relative to the record) and label.
    pub beats: Vec<(usize, &'static str)>,
    /// Rhythm labels in effect during the window (`(N`, `(AFIB`, …; LUDB: its rhythm line).
    pub rhythms: Vec<String>,
    /// Whether the reference has rhythm labels at all.
    pub has_rhythm: bool,
    /// The cardiologists' QTc (Fridericia, as the flag, from their QT and RR), ms.
    pub qtc_ms: Option<f64>,
    /// Diagnoses (LUDB header lines).
    pub diagnoses: Vec<String>,
    /// Sampling rate, Hz.
    pub fs: f64,
}

impl Reference {
    /// Mean heart rate of the reference beats, bpm.
    pub fn hr_bpm(&self) -> Option<f64> {
        let (a, b) = (self.beats.first()?.0, self.beats.last()?.0);
        (self.beats.len() >= 3 && b > a)
            .then(|| 60.0 * self.fs * (self.beats.len() - 1) as f64 / (b - a) as f64)
    }

    fn rhythm_is(&self, words: &[&str]) -> bool {
        self.rhythms
            .iter()
            .any(|r| words.iter().any(|w| r.to_ascii_uppercase().contains(w)))
    }

    /// Whether atrial fibrillation or flutter is in effect during the window.
    pub fn atrial_fibrillation(&self) -> bool {
        self.rhythm_is(AF)
    }

    /// Sinus rhythm throughout and at least 95 % of the beats labelled normal (a few isolated
    /// premature beats do not make a normal ECG abnormal).
    pub fn normal(&self) -> bool {
        let sinus = self.has_rhythm
            && !self.rhythms.is_empty()
            && self
                .rhythms
                .iter()
                .all(|r| r == "(N" || r.eq_ignore_ascii_case("Sinus rhythm."));
        let n = self.beats.iter().filter(|b| b.1 == "N").count();
        sinus && !self.beats.is_empty() && n * 100 >= 95 * self.beats.len()
    }

    /// Whether the diagnoses name an ST-T change: an infarct (STEMI, or LUDB's "undefined
    /// ischemia/scar/supp.NSTEMI") or a repolarisation abnormality. LUDB 97 ("non-specific
    /// repolarization abnormalities: inferior wall", ST +1.1 mm in II and +1.0 mm in aVF with
    /// no reciprocal depression) is the case in point: the elevation is real and worth a note,
    /// but the cardiologists did not call an infarct, so a critical ST-elevation flag there is
    /// a false alarm while the non-critical `ST_ELEVATION_UNCONFIRMED` note is allowed.
    pub fn st_change(&self) -> bool {
        self.diagnoses.iter().any(|d| {
            let d = d.to_ascii_lowercase();
            ["stemi", "ischemia", "repolarization"]
                .iter()
                .any(|w| d.contains(w))
        })
    }

    /// Why the reference does not allow `flag`, or `None` when it does.
    pub fn disallows(&self, flag: &Flag) -> Option<String> {
        let hr = self.hr_bpm();
        let why = |s: &str| {
            Some(format!(
                "{s} (reference HR {hr:.0?}, rhythms {:?})",
                self.rhythms
            ))
        };
        let long_qt = self.qtc_ms.is_some_and(|q| q >= QTC_TOLERATED_MS);
        if flag.critical && self.normal() && !(flag.code == "QTC_PROLONGED" && long_qt) {
            return why("critical flag on a normal sinus window");
        }
        match flag.code.as_str() {
            "BRADYCARDIA" if !hr.is_some_and(|h| h < if flag.critical { 45.0 } else { 55.0 }) => {
                why("rate: bradycardia not in the reference beats")
            }
            "TACHYCARDIA"
                if !hr.is_some_and(|h| h > if flag.critical { 145.0 } else { 115.0 })
                    && !self.rhythm_is(&["(VT", "(VFL", "(SVTA", "(AFL"]) =>
            {
                why("rate: tachycardia not in the reference beats")
            }
            "IRREGULAR_RHYTHM" if !self.atrial_fibrillation() => {
                why("AF-like flag without AF/AFL in the reference rhythm")
            }
            "QTC_PROLONGED" if self.qtc_ms.is_some_and(|q| q < QTC_TOLERATED_MS) => Some(format!(
                "QTc against the reference: the cardiologists' QTc is {:.0} ms",
                self.qtc_ms.unwrap_or_default()
            )),
            "ST_ELEVATION" if !self.diagnoses.iter().any(|d| d.starts_with("STEMI:")) => {
                why("ST elevation without STEMI in the reference diagnoses")
            }
            "ST_ELEVATION_UNCONFIRMED" if !self.st_change() => {
                why("ST note without an ST-T change in the reference diagnoses")
            }
            _ => None,
        }
    }
}

/// Beats and rhythms of an MIT-format reference annotation list within `[from, to)`.
pub fn from_atr(ann: &[Annotation], from: usize, to: usize, fs: f64) -> Reference {
    let rhythm_of = |a: &Annotation| {
        (a.code == 28)
            .then(|| {
                a.aux
                    .as_deref()
                    .map(|s| s.trim_matches(char::from(0)).trim().to_string())
            })
            .flatten()
            .filter(|s| s.starts_with('('))
    };
    let mut rhythms: Vec<String> = ann
        .iter()
        .rev()
        .filter(|a| (a.sample as usize) <= from)
        .find_map(rhythm_of)
        .into_iter()
        .collect();
    let inside = |a: &&Annotation| (from..to).contains(&(a.sample as usize));
    rhythms.extend(ann.iter().filter(inside).filter_map(rhythm_of));
    rhythms.dedup();
    Reference {
        beats: ann
            .iter()
            .filter(inside)
            .filter(|a| a.is_beat())
            .map(|a| (a.sample as usize, mnemonic(a.code)))
            .collect(),
        has_rhythm: ann.iter().any(|a| rhythm_of(a).is_some()),
        rhythms,
        fs,
        ..Reference::default()
    }
}

/// Per beat of a wave-boundary annotation list (QT Database `.q1c`, LUDB per-lead files):
/// (QRS peak, QRS onset, T end), where both boundaries are annotated.
pub fn qt_boundaries(ann: &[Annotation]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for (i, a) in ann.iter().enumerate() {
        if !a.is_beat() {
            continue;
        }
        let on = ann[..i].last().filter(|b| b.code == 39).map(|b| b.sample);
        let t = ann[i + 1..]
            .iter()
            .take_while(|b| !b.is_beat())
            .skip_while(|b| b.code != 27)
            .find(|b| b.code == 40)
            .map(|b| b.sample);
        if let (Some(on), Some(t)) = (on, t) {
            out.push((a.sample as usize, on as usize, t as usize));
        }
    }
    out
}

/// The median of `x` (`None` when empty).
pub fn median(mut x: Vec<f64>) -> Option<f64> {
    x.sort_by(f64::total_cmp);
    x.get(x.len() / 2).copied()
}

/// Reference QT (median over the annotated beats) and RR (median of the gaps between
/// consecutive annotated beats), ms.
pub fn reference_qt_rr(b: &[(usize, usize, usize)], fs: f64) -> Option<(f64, f64)> {
    let ms = |n: usize| n as f64 * 1000.0 / fs;
    let qt = median(b.iter().map(|&(_, on, t)| ms(t - on)).collect())?;
    let rr = median(b.windows(2).map(|w| ms(w[1].0 - w[0].0)).collect())?;
    Some((qt, rr))
}

/// LUDB: all twelve per-lead annotation files merged per beat: the earliest QRS onset and the
/// latest T end across leads, matched on the QRS peak (within 100 ms).
pub fn ludb_boundaries(header: &Path, fs: f64) -> Vec<(usize, usize, usize)> {
    let tol = (0.1 * fs) as usize;
    let mut beats: Vec<(usize, usize, usize)> = Vec::new();
    for lead in [
        "i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6",
    ] {
        let path = header.with_extension(lead);
        let ann = read_annotations(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (r, on, t) in qt_boundaries(&ann) {
            match beats.iter_mut().find(|b| b.0.abs_diff(r) <= tol) {
                Some(b) => *b = (b.0, b.1.min(on), b.2.max(t)),
                None => beats.push((r, on, t)),
            }
        }
    }
    beats.sort();
    beats
}

/// The sampling rate a WFDB header gives.
pub fn header_fs(header: &Path) -> f64 {
    let text =
        std::fs::read_to_string(header).unwrap_or_else(|e| panic!("{}: {e}", header.display()));
    worker_ecg::wfdb::parse_header(&text, header)
        .unwrap_or_else(|e| panic!("{e}"))
        .fs
}

/// LUDB reference beats: the QRS peaks annotated in lead II.
pub fn ludb_beats(header: &Path) -> Vec<(usize, &'static str)> {
    let path = header.with_extension("ii");
    read_annotations(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| (a.sample as usize, "N"))
        .collect()
}

/// LUDB header lines: the rhythm line and the diagnoses.
pub fn ludb_comments(rec: &Record) -> (Vec<String>, Vec<String>) {
    let lines: Vec<String> = rec
        .header
        .comments
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    let rhythm = lines
        .iter()
        .filter_map(|l| l.strip_prefix("Rhythm:"))
        .map(|r| r.trim().to_string())
        .collect();
    (rhythm, lines)
}
