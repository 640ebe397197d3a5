//! Triage flags from an [`Analysis`]: signal quality, rate, irregularity, long QTc and ST
//! elevation.
//!
//! Every flag names the leads it comes from, and none comes from a lead the quality check
//! rejected: the rhythm is computed only from beats detected on readable leads, and the
//! median beats behind QT and ST only hold readable leads.
//!
//! **Enough readable signal for a rhythm call.** A rate flag (bradycardia, tachycardia) needs
//! at least [`MIN_RR_RATE`] RR intervals and an irregularity flag at least
//! [`MIN_RR_IRREGULAR`], all from readable leads: with fewer, one missed or extra beat moves
//! the mean rate by a quarter or more, and two or three intervals cannot tell an irregular
//! rhythm from a single premature beat. With no readable lead there is no rhythm call at all:
//! a rhythm read from a signal judged too noisy to measure is a guess.

use crate::leads::standard_name;
use crate::measure::Measurements;
use crate::quality::LeadQuality;

use super::{Analysis, Flag};

/// RMSSD/mean-RR and SD/mean-RR above which the rhythm is called irregular (AF-like): in
/// sinus rhythm, even with sinus arrhythmia, beat-to-beat changes stay a few percent; AF gives
/// 15–30 %. Both must exceed 0.10 and at least [`MIN_RR_IRREGULAR`] RR intervals are needed.
pub const IRREGULAR: f64 = 0.10;

/// RR intervals needed before a rate flag is raised (see the module documentation).
pub const MIN_RR_RATE: usize = 4;

/// RR intervals needed before an irregularity flag is raised (see the module documentation).
pub const MIN_RR_IRREGULAR: usize = 6;

/// QRS duration (ms) from which the QRS counts as wide: a bundle branch block or ventricular
/// conduction lengthens QT by the QRS itself, so the long-QT flag then uses
/// [`Analysis::qtc_wide_qrs_ms`] and says so.
pub const WIDE_QRS_MS: f64 = 120.0;

/// QTc (ms) above which the long-QT flag is critical (torsade de pointes risk).
const QTC_CRITICAL_MS: f64 = 500.0;

fn flag(code: &str, critical: bool, urgent: bool, message: String, leads: &[String]) -> Flag {
    Flag {
        code: code.to_string(),
        critical,
        urgent,
        message,
        leads: leads.to_vec(),
    }
}

/// ST elevation thresholds at J + 60 ms (µV): 200 in V2–V3 (the higher limit of the fourth
/// universal definition of MI, sex unknown), 100 elsewhere.
fn st_threshold(lead: &str) -> f32 {
    if matches!(lead, "V2" | "V3") {
        200.0
    } else {
        100.0
    }
}

/// Contiguous lead pairs: neighbouring precordial leads, the inferior leads, and the high
/// lateral leads.
const CONTIGUOUS: [(&str, &str); 10] = [
    ("V1", "V2"),
    ("V2", "V3"),
    ("V3", "V4"),
    ("V4", "V5"),
    ("V5", "V6"),
    ("II", "III"),
    ("II", "aVF"),
    ("III", "aVF"),
    ("I", "aVL"),
    ("V6", "I"),
];

/// All flags of an analysis of `duration_s` seconds of recording.
pub(super) fn flags(a: &Analysis, duration_s: f64) -> Vec<Flag> {
    let mut f = Vec::new();
    quality_flags(a, duration_s, &mut f);
    rhythm_flags(a, &mut f);
    qt_flags(a, &mut f);
    st_flags(a, &mut f);
    f
}

fn rhythm_flags(a: &Analysis, f: &mut Vec<Flag>) {
    let Some(r) = &a.rhythm else { return };
    let from = format!("{} RR intervals, leads {}", r.intervals, r.leads.join(", "));
    if r.intervals >= MIN_RR_RATE && r.hr_bpm < 50.0 {
        f.push(flag(
            "BRADYCARDIA",
            r.hr_bpm < 40.0,
            true,
            format!("heart rate {:.0} bpm (< 50; {from})", r.hr_bpm),
            &r.leads,
        ));
    }
    if r.intervals >= MIN_RR_RATE && r.hr_bpm > 120.0 {
        f.push(flag(
            "TACHYCARDIA",
            r.hr_bpm > 150.0,
            true,
            format!("heart rate {:.0} bpm (> 120; {from})", r.hr_bpm),
            &r.leads,
        ));
    }
    if let Some(why) = af_like(a, r) {
        f.push(flag(
            "IRREGULAR_RHYTHM",
            false,
            true,
            format!(
                "irregular RR (RMSSD {:.0} % of mean RR; {from}){why}: possible atrial fibrillation",
                100.0 * r.irregularity
            ),
            &r.leads,
        ));
    }
}

/// Whether an irregular rhythm looks like atrial fibrillation, and why: it stays irregular
/// once odd and premature beats are set aside; or the median beat has no P wave and the
/// intervals between beats that look like the median beat are irregular, or too few to judge
/// (most beats odd: aberrant conduction or ectopy, where absent P waves are the evidence
/// left). Irregularity from ectopic beats over a regular rhythm with P waves is not AF.
fn af_like(a: &Analysis, r: &super::Rhythm) -> Option<&'static str> {
    let no_p = a.measurements.as_ref().is_some_and(|m| m.pr_ms.is_none());
    let normal_irregular = r.irregular_normal_beats || r.normal_intervals < MIN_RR_IRREGULAR;
    if !r.irregular {
        None
    } else if r.irregular_without_ectopics {
        Some(", also without the ectopic beats")
    } else if no_p && normal_irregular {
        Some(" with no P wave")
    } else {
        None
    }
}

/// Leads with a clear T wave a critical long-QT call needs (see [`qt_uncertain`]).
pub const MIN_QT_LEADS: usize = 3;

/// How far (ms) the lead that sets the T end may lie from the nearest other evidence for it
/// (another lead's end, or its own tangent-method end) before it counts as standing alone:
/// normal QT dispersion over 12 leads stays within about 50–65 ms, and the tangent method
/// ends some 20–40 ms before the area method on a normal T wave.
pub const QT_AGREEMENT_MS: f64 = 80.0;

/// Why the T end behind a long QTc is not confident enough for a critical call, or `None`.
///
/// - Fewer than [`MIN_QT_LEADS`] leads with a clear T wave: a 2-lead ambulatory recording
///   (MLII with V1 or V5) cannot confirm its T end in another lead, and on the MIT-BIH
///   development records its long-QTc calls were all on windows whose cardiologists' QT (where
///   the QT Database has one) is normal, or on normal sinus windows: a wave after the T (U
///   wave, a TP-segment step) taken as its end. The 12-lead standard (Rautaharju et al.,
///   Circulation 2009;119:e241) measures QT from the earliest onset to the latest end over
///   simultaneous leads, which a 2-lead strip does not give.
/// - The lead that sets the T end (the latest) is not backed, within [`QT_AGREEMENT_MS`], by
///   another lead's end or by its own tangent-method end: one lead alone, or a method alone,
///   decides the call.
fn qt_uncertain(m: &Measurements, fs: f64) -> Option<String> {
    let t = &m.t_ends;
    if t.len() < MIN_QT_LEADS {
        return Some(format!(
            "T end from {} lead{} with a clear T wave (a critical call needs {MIN_QT_LEADS})",
            t.len(),
            if t.len() == 1 { "" } else { "s" }
        ));
    }
    let last = t.iter().max_by_key(|e| e.area)?;
    let ms = |a: usize, b: usize| a.abs_diff(b) as f64 * 1000.0 / fs;
    let other = t
        .iter()
        .filter(|e| e.lead != last.lead)
        .map(|e| ms(e.area, last.area))
        .fold(f64::INFINITY, f64::min);
    let tangent = last.tangent.map_or(f64::INFINITY, |x| ms(x, last.area));
    (other > QT_AGREEMENT_MS && tangent > QT_AGREEMENT_MS).then(|| {
        format!(
            "the T end in {} stands alone: {other:.0} ms from the next lead's, {tangent:.0} ms \
             from its tangent-method end",
            last.lead
        )
    })
}

/// Long QTc: Fridericia above [`QTC_CRITICAL_MS`] is critical for a narrow QRS. Bazett, the
/// formula most devices print, overcorrects above 60 bpm (at 90 bpm a normal QT of 420 ms
/// becomes 514 ms), and a critical call from the formula alone is a false alarm; the
/// AHA/ACCF/HRS recommendations for the standardization of the ECG (Part IV, Rautaharju et
/// al., Circulation 2009;119:e241) advise against it for that reason. Bazett is still shown.
/// For a wide QRS the QRS-adjusted QTc decides, and the message says so; when only the
/// unadjusted QTc is long, a non-urgent note says the QT is lengthened by the wide QRS.
/// A long QTc whose T end is not confident ([`qt_uncertain`]) is a non-critical, non-urgent
/// `QTC_UNCERTAIN` note that says why and asks for a 12-lead ECG: the value is shown, but it
/// does not put the case at the top of the queue.
fn qt_flags(a: &Analysis, f: &mut Vec<Flag>) {
    let (Some(m), Some(bazett), Some(fridericia)) =
        (&a.measurements, a.qtc_bazett_ms, a.qtc_fridericia_ms)
    else {
        return;
    };
    let leads = measured_leads(a);
    let jt = a
        .jt_ms
        .map_or(String::new(), |jt| format!(", JT {jt:.0} ms"));
    let qrs = m.qrs_ms;
    let long = match a.qtc_wide_qrs_ms {
        None if fridericia > QTC_CRITICAL_MS => Some(format!(
            "QTc (Fridericia) {fridericia:.0} ms (> {QTC_CRITICAL_MS:.0}; Bazett {bazett:.0} ms)"
        )),
        Some(adj) if adj > QTC_CRITICAL_MS => Some(format!(
            "QTc adjusted for QRS {qrs:.0} ms {adj:.0} ms (> {QTC_CRITICAL_MS:.0}; \
             QT − 48.5 % QRS, Fridericia; unadjusted {fridericia:.0} ms{jt})"
        )),
        Some(adj) if fridericia > QTC_CRITICAL_MS || bazett > QTC_CRITICAL_MS => {
            f.push(flag(
                "QTC_WIDE_QRS",
                false,
                false,
                format!(
                    "QTc {fridericia:.0} ms (Fridericia; Bazett {bazett:.0}) is lengthened by \
                     the wide QRS ({qrs:.0} ms): adjusted QTc {adj:.0} ms (QT − 48.5 % QRS){jt}"
                ),
                &leads,
            ));
            None
        }
        _ => None,
    };
    let Some(long) = long else { return };
    match qt_uncertain(m, a.fs) {
        None => f.push(flag("QTC_PROLONGED", true, true, long, &leads)),
        Some(why) => f.push(flag(
            "QTC_UNCERTAIN",
            false,
            false,
            format!(
                "{long}, T end uncertain ({why}): not a critical call, confirm on a 12-lead ECG"
            ),
            &leads,
        )),
    }
}

/// The leads of the median beats (all readable).
fn measured_leads(a: &Analysis) -> Vec<String> {
    a.measurements
        .as_ref()
        .map(|m| m.st_uv.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default()
}

/// The inferior leads; the leads facing the opposite (high lateral) wall are I and aVL.
const INFERIOR: [&str; 3] = ["II", "III", "aVF"];

/// ST depression (µV, at J + 60 ms) that counts as a reciprocal change.
const RECIPROCAL_UV: f32 = -50.0;

/// ST elevation in two contiguous leads (thresholds of [`st_threshold`]) is critical when its
/// morphology bears out an infarct: reciprocal ST depression of at least 0.5 mm in a lead
/// facing the opposite wall (I or aVL for inferior elevation, II, III or aVF for anterior or
/// lateral elevation), or an elevation of at least twice the threshold in one of the pair.
/// Reciprocal depression is what best separates an infarct from early repolarisation,
/// pericarditis and non-specific repolarisation changes (the fourth universal definition of
/// MI, Thygesen et al., Circulation 2018;138:e618, counts it as supporting evidence), and a
/// large elevation needs no support. Borderline elevation without it is an urgent,
/// non-critical `ST_ELEVATION_UNCONFIRMED` note: read before routine cases and compared with a
/// previous ECG, without putting the case at the top of the queue.
fn st_flags(a: &Analysis, f: &mut Vec<Flag>) {
    let Some(m) = &a.measurements else { return };
    let st: Vec<(&str, &str, f32)> = m
        .st_uv
        .iter()
        .filter_map(|(n, v)| standard_name(n).map(|s| (n.as_str(), s, *v)))
        .collect();
    let level = |n: &str| st.iter().find(|x| x.1 == n).map(|x| x.2);
    let elevated = |n: &str| level(n).is_some_and(|v| v >= st_threshold(n));
    let pairs: Vec<(&str, &str)> = CONTIGUOUS
        .iter()
        .copied()
        .filter(|(x, y)| elevated(x) && elevated(y))
        .collect();
    if pairs.is_empty() {
        return;
    }
    let confirmed = |(x, y): &(&str, &str)| {
        let opposite: &[&str] = if INFERIOR.contains(x) {
            &["I", "aVL"]
        } else {
            &INFERIOR
        };
        let reciprocal = opposite
            .iter()
            .any(|o| level(o).is_some_and(|v| v <= RECIPROCAL_UV));
        let large = [x, y]
            .iter()
            .any(|n| level(n).is_some_and(|v| v >= 2.0 * st_threshold(n)));
        reciprocal || large
    };
    let critical = pairs.iter().any(confirmed);
    let up: Vec<&(&str, &str, f32)> = st.iter().filter(|x| elevated(x.1)).collect();
    let list: Vec<String> = up
        .iter()
        .map(|(_, s, v)| format!("{s} {:.1} mm", v / 100.0))
        .collect();
    let down: Vec<String> = st
        .iter()
        .filter(|x| x.2 <= RECIPROCAL_UV)
        .map(|(_, s, v)| format!("{s} {:.1} mm", v / 100.0))
        .collect();
    let pairs: Vec<String> = pairs.iter().map(|(x, y)| format!("{x}+{y}")).collect();
    let mut message = format!(
        "ST elevation at J+60 ms in contiguous leads ({}): {}",
        pairs.join(", "),
        list.join(", ")
    );
    if !down.is_empty() {
        message.push_str(&format!("; ST depression {}", down.join(", ")));
    }
    if !critical {
        message.push_str(
            "; borderline, no reciprocal depression: early repolarisation, pericarditis or \
             non-specific change possible, compare with a previous ECG",
        );
    }
    let code = if critical {
        "ST_ELEVATION"
    } else {
        "ST_ELEVATION_UNCONFIRMED"
    };
    let leads: Vec<String> = up.iter().map(|(n, _, _)| n.to_string()).collect();
    f.push(flag(code, critical, true, message, &leads));
}

fn quality_flags(a: &Analysis, duration_s: f64, f: &mut Vec<Flag>) {
    let names = |p: &dyn Fn(&LeadQuality) -> bool| -> Vec<String> {
        a.quality
            .iter()
            .filter(|q| p(q))
            .map(|q| q.lead.clone())
            .collect()
    };
    let none_readable = !a.quality.iter().any(LeadQuality::usable);
    let tail = if none_readable {
        ": no readable lead, rhythm and intervals not measured"
    } else {
        ""
    };
    for (code, list, what) in [
        ("LEAD_OFF", names(&|q| q.flat), "flat (lead off?)"),
        ("SATURATION", names(&|q| q.saturated), "saturated"),
        ("NOISE", names(&|q| q.noisy), "too noisy to measure"),
    ] {
        if !list.is_empty() {
            let message = format!("{what}: {}", list.join(", "));
            f.push(flag(code, false, false, message, &list));
        }
    }
    if let Some(last) = f.last_mut().filter(|_| none_readable) {
        last.message.push_str(tail);
    }
    let expected = duration_s >= 4.0;
    if expected && a.beats.len() < 2 {
        let all = names(&|q| q.usable());
        f.push(flag(
            "NO_QRS",
            false,
            true,
            format!("no QRS complexes found in {duration_s:.1} s: check the recording"),
            &all,
        ));
    }
}
