//! Measurements and flags on synthetic 12-lead ECGs against their known truth.
//!
//! Tolerances (IEC 60601-2-25 style, as in tests/dicom.rs): PR ±10 ms, QRS ±10 ms, QT ±25 ms;
//! heart rate ±2 bpm; axis ±10°; ST ±50 µV. Beats: all found within 150 ms, none extra.

use worker_ecg::analysis::Analysis;
use worker_ecg::eval::compare;
use worker_ecg::synth::{Spec, Synthetic, generate};
use worker_ecg::{analyse, analyse_many};

fn run(spec: Spec) -> (Synthetic, Analysis) {
    let s = generate(&spec);
    let a = analyse(&s.ecg).unwrap();
    let m = a.measurements.as_ref();
    println!(
        "HR {:?} PR {:?} QRS {:?} QT {:?} axis {:?} flags {:?}",
        a.rhythm.as_ref().map(|r| r.hr_bpm),
        m.and_then(|m| m.pr_ms),
        m.map(|m| m.qrs_ms),
        m.and_then(|m| m.qt_ms),
        m.and_then(|m| m.axis_deg),
        a.flags.iter().map(|f| &f.code).collect::<Vec<_>>()
    );
    let sc = compare(&s.beats, &a.beats, 0, (0.15 * spec.fs) as usize);
    assert_eq!(
        (sc.fn_, sc.fp),
        (0, 0),
        "truth {:?} ours {:?}",
        s.beats,
        a.beats
    );
    (s, a)
}

fn codes(a: &Analysis) -> Vec<&str> {
    a.flags.iter().map(|f| f.code.as_str()).collect()
}

fn intervals_match(s: &Synthetic, a: &Analysis) {
    let m = a.measurements.as_ref().unwrap();
    let qrs = m.qrs_ms;
    assert!(
        (qrs - s.spec.qrs_ms).abs() <= 10.0,
        "QRS {qrs} vs {}",
        s.spec.qrs_ms
    );
    let qt = m.qt_ms.unwrap();
    assert!(
        (qt - s.spec.qt_ms).abs() <= 25.0,
        "QT {qt} vs {}",
        s.spec.qt_ms
    );
    if s.spec.p_waves {
        let pr = m.pr_ms.unwrap();
        assert!(
            (pr - s.spec.pr_ms).abs() <= 10.0,
            "PR {pr} vs {}",
            s.spec.pr_ms
        );
    }
    let hr = a.rhythm.as_ref().unwrap().hr_bpm;
    let truth = 60.0 * s.spec.fs * (s.beats.len() - 1) as f64
        / (s.beats.last().unwrap() - s.beats[0]) as f64;
    assert!((hr - truth).abs() <= 2.0, "HR {hr} vs {truth}");
}

#[test]
fn normal_sinus_rhythm_is_measured_and_not_flagged() {
    let (s, a) = run(Spec::normal());
    intervals_match(&s, &a);
    let axis = a.measurements.as_ref().unwrap().axis_deg.unwrap();
    assert!((axis - 60.0).abs() <= 10.0, "axis {axis}");
    assert_eq!(a.mains_hz, Some(50.0));
    assert!(a.flags.is_empty(), "{:?}", a.flags);
    let bazett = a.qtc_bazett_ms.unwrap();
    let rr = a.rhythm.as_ref().unwrap().rr_ms / 1000.0;
    let qt = a.measurements.as_ref().unwrap().qt_ms.unwrap();
    assert!((bazett - qt / rr.sqrt()).abs() < 1e-9);
    assert!((a.qtc_fridericia_ms.unwrap() - qt / rr.cbrt()).abs() < 1e-9);
}

#[test]
fn bradycardia_is_flagged_urgent() {
    let (s, a) = run(Spec::brady());
    intervals_match(&s, &a);
    assert_eq!(codes(&a), vec!["BRADYCARDIA"]);
    assert!(a.urgent() && !a.critical());
}

#[test]
fn tachycardia_is_flagged() {
    let (s, a) = run(Spec::tachy());
    intervals_match(&s, &a);
    assert_eq!(codes(&a), vec!["TACHYCARDIA"]);
}

#[test]
fn af_like_rhythm_is_irregular() {
    let (_, a) = run(Spec::af());
    assert!(codes(&a).contains(&"IRREGULAR_RHYTHM"), "{:?}", a.flags);
    assert!(
        a.measurements.as_ref().unwrap().pr_ms.is_none(),
        "no P waves in AF"
    );
}

#[test]
fn long_qt_is_critical() {
    let (s, a) = run(Spec::long_qt());
    intervals_match(&s, &a);
    assert_eq!(codes(&a), vec!["QTC_PROLONGED"]);
    assert!(a.critical());
}

#[test]
fn inferior_st_elevation_is_critical() {
    let (s, a) = run(Spec::st_elevation());
    assert_eq!(codes(&a), vec!["ST_ELEVATION"]);
    assert!(a.critical());
    let st = &a.measurements.as_ref().unwrap().st_uv;
    for (lead, truth) in &s.spec.st_uv {
        let v = st.iter().find(|(n, _)| n == lead).unwrap().1;
        assert!((v - truth).abs() <= 50.0, "{lead}: ST {v} vs {truth}");
    }
}

#[test]
fn bad_signal_says_so() {
    let mut s = generate(&Spec::normal());
    s.ecg.leads[7].samples_uv.iter_mut().for_each(|v| *v = 0.0);
    for v in s.ecg.leads[3].samples_uv.iter_mut() {
        *v = v.clamp(-200.0, 200.0);
    }
    let a = analyse(&s.ecg).unwrap();
    assert_eq!(codes(&a), vec!["LEAD_OFF", "SATURATION"], "{:?}", a.flags);
    assert!(a.flags[0].message.contains("V2"));
    let noisy = generate(&Spec {
        noise_uv: 300.0,
        ..Spec::normal()
    });
    let a = analyse(&noisy.ecg).unwrap();
    assert!(codes(&a).contains(&"NOISE"), "{:?}", a.flags);
}

#[test]
fn parallel_batch_equals_sequential() {
    let ecgs: Vec<_> = [Spec::normal(), Spec::af(), Spec::tachy()]
        .into_iter()
        .map(|s| generate(&s).ecg)
        .collect();
    let par: Vec<_> = analyse_many(&ecgs)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let seq: Vec<_> = ecgs.iter().map(|e| analyse(e).unwrap()).collect();
    assert_eq!(par, seq);
}

#[test]
fn unusable_ecg_is_an_error_not_a_panic() {
    let mut e = generate(&Spec::normal()).ecg;
    e.fs = 0.0;
    assert!(
        analyse(&e)
            .unwrap_err()
            .to_string()
            .contains("sampling rate")
    );
    e.fs = 500.0;
    e.leads[2].samples_uv.pop();
    assert!(analyse(&e).unwrap_err().to_string().contains("III"));
    e.leads.clear();
    assert!(analyse(&e).is_err());
}

#[test]
fn hostile_samples_do_not_panic() {
    let base = generate(&Spec::normal()).ecg;
    type Mutation = Box<dyn Fn(&mut Vec<f32>)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "all zero",
            Box::new(|v: &mut Vec<f32>| v.iter_mut().for_each(|x| *x = 0.0)),
        ),
        ("NaN", Box::new(|v: &mut Vec<f32>| v[100] = f32::NAN)),
        (
            "infinite",
            Box::new(|v: &mut Vec<f32>| v[2000] = f32::INFINITY),
        ),
        (
            "huge",
            Box::new(|v: &mut Vec<f32>| v.iter_mut().for_each(|x| *x *= 1e6)),
        ),
        ("one sample", Box::new(|v: &mut Vec<f32>| v.truncate(1))),
        (
            "half a second",
            Box::new(|v: &mut Vec<f32>| v.truncate(250)),
        ),
    ];
    for (what, f) in cases {
        let mut e = base.clone();
        e.leads.iter_mut().for_each(|l| f(&mut l.samples_uv));
        let a = analyse(&e).unwrap();
        let _ = worker_ecg::render_svg(&e, &a);
        println!("{what}: {} beats, flags {:?}", a.beats.len(), codes(&a));
        if what == "NaN" || what == "infinite" {
            assert_eq!(a.beats.len(), 12, "{what}");
            assert_eq!(codes(&a), vec!["INVALID_SAMPLES"]);
        }
    }
}

#[test]
fn every_flag_names_the_leads_it_comes_from() {
    for spec in [
        Spec::tachy(),
        Spec::long_qt(),
        Spec::st_elevation(),
        Spec::af(),
    ] {
        let (_, a) = run(spec);
        for f in &a.flags {
            assert!(!f.leads.is_empty(), "{f:?}");
            assert!(
                f.leads
                    .iter()
                    .all(|l| a.quality.iter().any(|q| &q.lead == l && q.usable()))
            );
        }
    }
    let (_, a) = run(Spec::tachy());
    assert!(a.flags[0].message.contains("leads I, II"), "{:?}", a.flags);
}

/// Issue 19: v102s said "too noisy to measure: lead II, V" and "possible atrial
/// fibrillation" at once. A rhythm read from leads judged unreadable is not called.
#[test]
fn regression_no_rhythm_call_from_leads_too_noisy_to_measure() {
    let s = generate(&Spec {
        noise_uv: 300.0,
        ..Spec::af()
    });
    let a = analyse(&s.ecg).unwrap();
    assert!(a.quality.iter().all(|q| q.noisy), "{:?}", a.quality);
    assert!(a.rhythm.is_none() && a.measurements.is_none());
    assert_eq!(codes(&a), vec!["NOISE"], "{:?}", a.flags);
    assert!(a.flags[0].message.contains("no readable lead"));
}

#[test]
fn isolated_premature_beats_are_not_irregularly_irregular() {
    use worker_ecg::analysis::irregularly_irregular;
    // Sinus at 800 ms with two premature beats and their compensatory pauses.
    let mut rr = vec![
        800.0, 810.0, 560.0, 1040.0, 800.0, 790.0, 805.0, 570.0, 1030.0, 800.0,
    ];
    rr.extend([795.0, 800.0]);
    assert!(!irregularly_irregular(&rr, &vec![false; rr.len() + 1]));
    // AF-like: no underlying regular interval.
    let af = [
        620.0, 910.0, 700.0, 1050.0, 560.0, 840.0, 990.0, 650.0, 760.0, 1100.0, 600.0,
    ];
    assert!(irregularly_irregular(&af, &[false; 12]));
    // The same with every other beat unlike the median beat: nothing left to call AF on.
    let odd: Vec<bool> = (0..12).map(|i| i % 2 == 1).collect();
    assert!(!irregularly_irregular(&af, &odd));
}

/// Issue 19: PTB s0010_re was flagged critical for QTc 509 ms with a 136 ms QRS. A QT
/// lengthened by a wide QRS is judged on the QRS-adjusted QTc, and the note says so.
#[test]
fn regression_wide_qrs_long_qt_is_judged_on_the_adjusted_qtc() {
    let (_, a) = run(Spec {
        qrs_ms: 140.0,
        qt_ms: 520.0,
        ..Spec::normal()
    });
    let m = a.measurements.as_ref().unwrap();
    assert!(m.qrs_ms >= 120.0, "QRS {}", m.qrs_ms);
    let (qt, rr) = (m.qt_ms.unwrap(), a.rhythm.as_ref().unwrap().rr_ms / 1000.0);
    let adjusted = a.qtc_wide_qrs_ms.unwrap();
    assert!((adjusted - (qt - 0.485 * m.qrs_ms) / rr.cbrt()).abs() < 1e-9);
    assert!((a.jt_ms.unwrap() - (qt - m.qrs_ms)).abs() < 1e-9);
    assert!(!a.critical(), "{:?}", a.flags);
    assert_eq!(codes(&a), vec!["QTC_WIDE_QRS"]);
    assert!(a.flags[0].message.contains("wide QRS"));
}

/// The long-QT ECG cut to two leads (II and V5, as an ambulatory recorder gives): the long
/// QTc is still reported, as a non-critical `QTC_UNCERTAIN` note that says why, because two
/// leads cannot confirm the T end (MIT-BIH 100, 112, 122 and 205 were flagged critical from
/// such a T end).
#[test]
fn regression_two_lead_long_qt_is_an_uncertain_note_not_critical() {
    let mut s = generate(&Spec::long_qt());
    s.ecg.leads.retain(|l| l.name == "II" || l.name == "V5");
    let a = analyse(&s.ecg).unwrap();
    assert_eq!(codes(&a), vec!["QTC_UNCERTAIN"], "{:?}", a.flags);
    assert!(!a.critical() && !a.urgent());
    let f = &a.flags[0];
    assert!(f.message.contains("12-lead"), "{}", f.message);
    assert!(a.qtc_fridericia_ms.unwrap() > 500.0);
}

/// Borderline inferior ST elevation (1.2 mm in II, III, aVF) with no reciprocal depression in
/// I or aVL, as in a non-specific repolarisation change (LUDB 97): an urgent note, not a
/// critical STEMI call; the same elevation with reciprocal depression stays critical.
#[test]
fn regression_borderline_st_elevation_needs_reciprocal_depression() {
    let borderline = Spec {
        st_uv: vec![("II", 120.0), ("III", 120.0), ("aVF", 120.0)],
        ..Spec::normal()
    };
    let (_, a) = run(borderline.clone());
    assert_eq!(codes(&a), vec!["ST_ELEVATION_UNCONFIRMED"], "{:?}", a.flags);
    assert!(!a.critical() && a.urgent());
    let reciprocal = Spec {
        st_uv: [borderline.st_uv, vec![("aVL", -100.0), ("I", -60.0)]].concat(),
        ..Spec::normal()
    };
    let (_, a) = run(reciprocal);
    assert_eq!(codes(&a), vec!["ST_ELEVATION"], "{:?}", a.flags);
    assert!(a.critical());
}
