//! The hub's wave delineation scored against cardiologists' wave boundaries, as the
//! delineation literature does (Martínez et al., "A wavelet-based ECG delineator",
//! IEEE TBME 2004;51:570–81): reference and detected beats are matched on the QRS within
//! 150 ms; on a matched beat, a boundary the cardiologist marked and we found is a true
//! positive and adds its timing error (ours − theirs); one they marked and we did not is a
//! false negative; one we found where they marked none is a false positive. A reference beat
//! we did not detect counts every boundary it has as a false negative. Se = TP / (TP + FN),
//! +P = TP / (TP + FP); mean and SD of the error pool every matched boundary of every record
//! (not the mean of per-record SDs, which would hide a bias that differs between records).
//!
//! References ([`reference`]): LUDB's per-lead files (`.i` … `.v6`) merged per beat into
//! global boundaries as the CSE defines them (earliest onset, latest offset over the leads);
//! the QT Database's `.q1c` (cardiologist 1), and `.q2c` (cardiologist 2) where present,
//! scored against `.q1c` beside ours to show how far two cardiologists differ.
//!
//! Ours ([`run`]): the boundaries of [`crate::analyse`]'s median beat (the ones behind the
//! PR, QRS and QT the hub reports), placed on every beat by its QRS fiducial. LUDB records are
//! analysed whole (10 s, 12 leads); the QT Database's 15-minute records in 10-s windows over
//! the annotated beats. Goal ([`Bar::cse`]): each boundary's SD within the CSE tolerances
//! (P on 10.2, P off 12.7, QRS on 6.5, QRS off 11.6, T off 30.6 ms) and |mean| ≤ 5 ms.

pub mod reference;
mod report;
pub mod run;

pub use report::{misses, record_table, table};
pub use run::{Database, Pooled, RecordResult, Summary, evaluate_dir, evaluate_record, summarise};

/// A wave boundary the delineation is scored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Boundary {
    /// P-wave onset.
    POn,
    /// P-wave offset.
    POff,
    /// QRS onset.
    QrsOn,
    /// QRS offset (J point).
    QrsOff,
    /// T-wave end.
    TOff,
}

impl Boundary {
    /// Every boundary, in the order of [`BeatMarks::marks`].
    pub const ALL: [Boundary; 5] = [
        Boundary::POn,
        Boundary::POff,
        Boundary::QrsOn,
        Boundary::QrsOff,
        Boundary::TOff,
    ];

    /// Its name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Boundary::POn => "P on",
            Boundary::POff => "P off",
            Boundary::QrsOn => "QRS on",
            Boundary::QrsOff => "QRS off",
            Boundary::TOff => "T off",
        }
    }

    /// The CSE working party's tolerance for the SD of the error, ms (2 SD of the
    /// differences between its referees).
    pub fn cse_sd_ms(self) -> f64 {
        match self {
            Boundary::POn => 10.2,
            Boundary::POff => 12.7,
            Boundary::QrsOn => 6.5,
            Boundary::QrsOff => 11.6,
            Boundary::TOff => 30.6,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One beat's QRS position and boundaries (samples), indexed as [`Boundary::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BeatMarks {
    /// QRS position: the annotated QRS peak, or our fiducial.
    pub r: usize,
    /// Boundaries; `None` where not marked (reference) or not found (ours).
    pub marks: [Option<usize>; 5],
}

impl BeatMarks {
    /// The mark of one boundary.
    pub fn get(&self, b: Boundary) -> Option<usize> {
        self.marks[b.index()]
    }
}

/// Counts and timing errors of one boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// Marked by the reference and found.
    pub tp: usize,
    /// Marked by the reference, not found (or on a beat not detected).
    pub fn_: usize,
    /// Found where the reference marks none, on a matched beat.
    pub fp: usize,
    sum_ms: f64,
    sum_sq_ms: f64,
}

impl Stats {
    /// Sensitivity, percent (100 when nothing was marked).
    pub fn se(&self) -> f64 {
        pct(self.tp, self.tp + self.fn_)
    }

    /// Positive predictivity, percent (100 when nothing was found).
    pub fn ppv(&self) -> f64 {
        pct(self.tp, self.tp + self.fp)
    }

    /// Mean error (ours − reference), ms; 0 without true positives.
    pub fn mean_ms(&self) -> f64 {
        self.sum_ms / self.tp.max(1) as f64
    }

    /// Standard deviation of the error, ms (sample SD; 0 below two true positives).
    pub fn sd_ms(&self) -> f64 {
        if self.tp < 2 {
            return 0.0;
        }
        let n = self.tp as f64;
        ((self.sum_sq_ms - self.sum_ms * self.sum_ms / n) / (n - 1.0))
            .max(0.0)
            .sqrt()
    }

    fn hit(&mut self, err_ms: f64) {
        self.tp += 1;
        self.sum_ms += err_ms;
        self.sum_sq_ms += err_ms * err_ms;
    }

    /// Adds another set of counts and errors.
    pub fn add(&mut self, o: &Stats) {
        self.tp += o.tp;
        self.fn_ += o.fn_;
        self.fp += o.fp;
        self.sum_ms += o.sum_ms;
        self.sum_sq_ms += o.sum_sq_ms;
    }
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// [`Stats`] of every boundary, indexed as [`Boundary::ALL`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WaveScores(pub [Stats; 5]);

impl WaveScores {
    /// The stats of one boundary.
    pub fn get(&self, b: Boundary) -> &Stats {
        &self.0[b.index()]
    }

    /// Adds another record's scores.
    pub fn add(&mut self, o: &WaveScores) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            a.add(b);
        }
    }
}

/// Match window for the QRS, seconds.
pub const MATCH_WINDOW_S: f64 = 0.150;

/// Scores `ours` against `reference` (both sorted by `r`) at `fs` Hz; see the module doc.
pub fn score(reference: &[BeatMarks], ours: &[BeatMarks], fs: f64) -> WaveScores {
    let window = (MATCH_WINDOW_S * fs).round() as usize;
    let to_ms = |d: f64| d * 1000.0 / fs;
    let mut used = vec![false; ours.len()];
    let mut s = WaveScores::default();
    for rb in reference {
        let best = (0..ours.len())
            .filter(|&k| !used[k] && ours[k].r.abs_diff(rb.r) <= window)
            .min_by_key(|&k| ours[k].r.abs_diff(rb.r));
        if let Some(k) = best {
            used[k] = true;
        }
        for b in Boundary::ALL {
            let st = &mut s.0[b.index()];
            match (rb.get(b), best.and_then(|k| ours[k].get(b))) {
                (Some(r), Some(o)) => st.hit(to_ms(o as f64 - r as f64)),
                (Some(_), None) => st.fn_ += 1,
                (None, Some(_)) => st.fp += 1,
                (None, None) => {}
            }
        }
    }
    s
}

/// When `ecg-eval delineation` fails: a boundary's SD above `sd_scale` times its CSE
/// tolerance, or its |mean| above `max_mean_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Multiplies every CSE tolerance (1 = the CSE's own).
    pub sd_scale: f64,
    /// Largest |mean error| allowed, ms.
    pub max_mean_ms: f64,
}

impl Bar {
    /// The goal: the CSE tolerances and |mean| ≤ 5 ms.
    pub fn cse() -> Bar {
        Bar {
            sd_scale: 1.0,
            max_mean_ms: 5.0,
        }
    }

    /// Why `s` misses this bar for boundary `b`, or `None` when it meets it.
    pub fn miss(&self, b: Boundary, s: &Stats) -> Option<String> {
        let sd_max = self.sd_scale * b.cse_sd_ms();
        if s.sd_ms() > sd_max {
            return Some(format!(
                "{}: SD {:.1} ms above {sd_max:.1} ms",
                b.name(),
                s.sd_ms()
            ));
        }
        (s.mean_ms().abs() > self.max_mean_ms).then(|| {
            format!(
                "{}: mean {:+.1} ms beyond ±{:.1} ms",
                b.name(),
                s.mean_ms(),
                self.max_mean_ms
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(r: usize, marks: [Option<usize>; 5]) -> BeatMarks {
        BeatMarks { r, marks }
    }

    #[test]
    fn boundaries_are_scored_on_matched_beats() {
        let reference = [
            beat(100, [Some(50), Some(60), Some(90), Some(110), Some(200)]),
            beat(300, [None, None, Some(290), Some(310), None]),
            beat(500, [None, None, Some(490), None, None]),
        ];
        // 1000 Hz: errors in ms are sample differences. Beat 500 is not detected.
        let ours = [
            beat(102, [Some(54), None, Some(88), Some(110), Some(210)]),
            beat(298, [Some(250), None, Some(292), Some(314), Some(400)]),
        ];
        let s = score(&reference, &ours, 1000.0);
        let p_on = s.get(Boundary::POn);
        assert_eq!((p_on.tp, p_on.fn_, p_on.fp), (1, 0, 1));
        assert_eq!(p_on.mean_ms(), 4.0);
        let qrs_on = s.get(Boundary::QrsOn);
        assert_eq!((qrs_on.tp, qrs_on.fn_, qrs_on.fp), (2, 1, 0));
        assert_eq!(qrs_on.mean_ms(), 0.0);
        assert!((qrs_on.sd_ms() - 8f64.sqrt()).abs() < 1e-9);
        assert_eq!(s.get(Boundary::POff).fn_, 1);
        assert!(Bar::cse().miss(Boundary::QrsOn, qrs_on).is_none());
        assert!(Bar::cse().miss(Boundary::POn, p_on).is_none());
        let t = s.get(Boundary::TOff);
        assert_eq!((t.tp, t.fp), (1, 1));
        assert!(Bar::cse().miss(Boundary::TOff, t).unwrap().contains("mean"));
    }
}
