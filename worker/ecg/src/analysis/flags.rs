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

/// Long QTc: Fridericia above [`QTC_CRITICAL_MS`] is critical for a narrow QRS. Bazett, the
/// formula most devices print, overcorrects above 60 bpm (at 90 bpm a normal QT of 420 ms
/// becomes 514 ms), and a critical call from the formula alone is a false alarm; the
/// AHA/ACCF/HRS recommendations for the standardization of the ECG (Part IV, Rautaharju et
/// al., Circulation 2009;119:e241) advise against it for that reason. Bazett is still shown.
/// For a wide QRS the QRS-adjusted QTc decides, and the message says so; when only the
/// unadjusted QTc is long, a non-urgent note says the QT is lengthened by the wide QRS.
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
    match a.qtc_wide_qrs_ms {
        None if fridericia > QTC_CRITICAL_MS => f.push(flag(
            "QTC_PROLONGED",
            true,
            true,
            format!(
                "QTc (Fridericia) {fridericia:.0} ms (> {QTC_CRITICAL_MS:.0}; Bazett {bazett:.0} ms)"
            ),
            &leads,
        )),
        Some(adj) if adj > QTC_CRITICAL_MS => f.push(flag(
            "QTC_PROLONGED",
            true,
            true,
            format!(
                "QTc adjusted for QRS {qrs:.0} ms {adj:.0} ms (> {QTC_CRITICAL_MS:.0}; \
                 QT − 48.5 % QRS, Fridericia; unadjusted {fridericia:.0} ms{jt})"
            ),
            &leads,
        )),
        Some(adj) if fridericia > QTC_CRITICAL_MS || bazett > QTC_CRITICAL_MS => f.push(flag(
            "QTC_WIDE_QRS",
            false,
            false,
            format!(
                "QTc {fridericia:.0} ms (Fridericia; Bazett {bazett:.0}) is lengthened by the \
                 wide QRS ({qrs:.0} ms): adjusted QTc {adj:.0} ms (QT − 48.5 % QRS){jt}"
            ),
            &leads,
        )),
        _ => {}
    }
}

/// The leads of the median beats (all readable).
fn measured_leads(a: &Analysis) -> Vec<String> {
    a.measurements
        .as_ref()
        .map(|m| m.st_uv.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default()
}

fn st_flags(a: &Analysis, f: &mut Vec<Flag>) {
    let Some(m) = &a.measurements else { return };
    let elevated: Vec<(&str, &str, f32)> = m
        .st_uv
        .iter()
        .filter_map(|(n, v)| standard_name(n).map(|s| (n.as_str(), s, *v)))
        .filter(|(_, s, v)| *v >= st_threshold(s))
        .collect();
    let has = |n: &str| elevated.iter().any(|(_, s, _)| *s == n);
    let pairs: Vec<String> = CONTIGUOUS
        .iter()
        .filter(|(x, y)| has(x) && has(y))
        .map(|(x, y)| format!("{x}+{y}"))
        .collect();
    if pairs.is_empty() {
        return;
    }
    let list: Vec<String> = elevated
        .iter()
        .map(|(_, s, v)| format!("{s} {:.1} mm", v / 100.0))
        .collect();
    let leads: Vec<String> = elevated.iter().map(|(n, _, _)| n.to_string()).collect();
    f.push(flag(
        "ST_ELEVATION",
        true,
        true,
        format!(
            "ST elevation at J+60 ms in contiguous leads ({}): {}",
            pairs.join(", "),
            list.join(", ")
        ),
        &leads,
    ));
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
