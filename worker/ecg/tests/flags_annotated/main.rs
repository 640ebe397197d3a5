//! Triage flags against what the reference annotations allow, on every development record of
//! `ecg-annotated/` (MIT-BIH Arrhythmia, LUDB, QT Database, Noise Stress Test) and the WFDB
//! records of `ecg/wfdb/`: a normal sinus window flagged critical, a rate flag the reference
//! beats do not bear out, or an AF-like flag without AF/AFL in the reference rhythm fails.
//! QT is compared with the cardiologists' (QT Database `.q1c`, LUDB) and must stay within the
//! bars below.
//!
//! Long records are analysed as [`WINDOW_S`]-second windows every [`STRIDE_S`] seconds (what
//! a 12-lead cart or a rhythm strip sends), LUDB records whole (10 s), `ecg/wfdb/` records
//! whole (what the hub analyses after an upload).

#[path = "../common/mod.rs"]
mod common;
mod reference;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use worker_ecg::wfdb::{read_annotations, read_wfdb};
use worker_ecg::{Analysis, analyse};

use reference::{Reference, ecg_of, from_atr, window};

/// Length of an analysed window, seconds.
const WINDOW_S: f64 = 10.0;
/// Start-to-start distance of the windows of a long record, seconds.
const STRIDE_S: f64 = 60.0;

fn annotated(db: &str) -> Vec<PathBuf> {
    let dir = common::corpus().join("ecg-annotated").join(db);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hea"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no record in {}", dir.display());
    v
}

/// One analysed window and its verdict.
struct Checked {
    name: String,
    analysis: Analysis,
    reference: Reference,
    violations: Vec<String>,
}

fn check(name: String, analysis: Analysis, reference: Reference) -> Checked {
    let violations = analysis
        .flags
        .iter()
        .filter_map(|f| {
            reference
                .disallows(f)
                .map(|why| format!("{name}: {} \"{}\": {why}", f.code, f.message))
        })
        .collect();
    Checked {
        name,
        analysis,
        reference,
        violations,
    }
}

/// The cardiologists' QTc (Fridericia) of a recording: from its own `.q1c` (QT Database) or
/// from the QT Database excerpt of the same MIT-BIH record (`sel<record>.q1c`).
fn recording_qtc(header: &Path) -> Option<f64> {
    let stem = header.file_stem()?.to_str()?;
    let own = header.with_extension("q1c");
    let excerpt = common::corpus().join(format!("ecg-annotated/qtdb/sel{stem}.q1c"));
    let q1c = [own, excerpt].into_iter().find(|p| p.is_file())?;
    let b = reference::qt_boundaries(&read_annotations(&q1c).unwrap());
    let fs = reference::header_fs(&q1c.with_extension("hea"));
    reference::reference_qt_rr(&b, fs).map(|(qt, rr)| qt / (rr / 1000.0).cbrt())
}

/// 10-s windows every minute of a record with an `.atr` reference.
fn windows_with_atr(header: &Path) -> Vec<Checked> {
    let rec = read_wfdb(header).unwrap();
    let ecg = ecg_of(&rec);
    let ann = read_annotations(&header.with_extension("atr")).unwrap();
    let qtc = recording_qtc(header);
    let (len, stride) = ((WINDOW_S * ecg.fs) as usize, (STRIDE_S * ecg.fs) as usize);
    let name = rec.header.record.clone();
    (0..ecg.len().saturating_sub(len))
        .step_by(stride)
        .map(|from| {
            let a = analyse(&window(&ecg, from, len)).unwrap();
            let mut r = from_atr(&ann, from, from + len, ecg.fs);
            r.qtc_ms = qtc;
            check(format!("{name}@{}s", from as f64 / ecg.fs), a, r)
        })
        .collect()
}

/// A QT Database record's first 10-s window of cardiologist-annotated beats (from 1 s before
/// the first): the record, the window's ECG and start, and the annotated beats inside it.
type QtWindow = (
    worker_ecg::wfdb::Record,
    worker_ecg::Ecg,
    usize,
    Vec<(usize, usize, usize)>,
);

fn qtdb_window(header: &Path) -> QtWindow {
    let rec = read_wfdb(header).unwrap();
    let ecg = ecg_of(&rec);
    let q1c = read_annotations(&header.with_extension("q1c")).unwrap();
    let b = reference::qt_boundaries(&q1c);
    assert!(
        b.len() >= 2,
        "{}: too few annotated beats",
        header.display()
    );
    let len = (WINDOW_S * ecg.fs) as usize;
    let from = b[0].1.saturating_sub(ecg.fs as usize).min(ecg.len() - len);
    let inside: Vec<_> = b
        .into_iter()
        .filter(|x| x.1 >= from && x.2 < from + len)
        .collect();
    let w = window(&ecg, from, len);
    (rec, w, from, inside)
}

/// The annotated window of a QT Database record, with the cardiologists' QTc.
fn qtdb_annotated_window(header: &Path) -> Checked {
    let (rec, ecg, from, inside) = qtdb_window(header);
    let len = ecg.len();
    let atr = header.with_extension("atr");
    let mut r = if atr.is_file() {
        from_atr(&read_annotations(&atr).unwrap(), from, from + len, ecg.fs)
    } else {
        Reference {
            beats: inside.iter().map(|x| (x.0, "?")).collect(),
            fs: ecg.fs,
            ..Reference::default()
        }
    };
    r.qtc_ms =
        reference::reference_qt_rr(&inside, ecg.fs).map(|(qt, rr)| qt / (rr / 1000.0).cbrt());
    let a = analyse(&ecg).unwrap();
    check(format!("{}@q1c", rec.header.record), a, r)
}

fn ludb_record(header: &Path) -> Checked {
    let rec = read_wfdb(header).unwrap();
    let ecg = ecg_of(&rec);
    let (rhythms, diagnoses) = reference::ludb_comments(&rec);
    let b = reference::ludb_boundaries(header, ecg.fs);
    let r = Reference {
        beats: reference::ludb_beats(header),
        has_rhythm: !rhythms.is_empty(),
        rhythms,
        qtc_ms: reference::reference_qt_rr(&b, ecg.fs).map(|(qt, rr)| qt / (rr / 1000.0).cbrt()),
        diagnoses,
        fs: ecg.fs,
    };
    check(
        format!("ludb/{}", rec.header.record),
        analyse(&ecg).unwrap(),
        r,
    )
}

fn report(all: &[Checked]) -> Vec<String> {
    let mut flagged = 0;
    for c in all.iter().filter(|c| !c.analysis.flags.is_empty()) {
        flagged += 1;
        let codes: Vec<String> = c
            .analysis
            .flags
            .iter()
            .map(|f| format!("{}{}", f.code, if f.critical { "!" } else { "" }))
            .collect();
        println!(
            "{:<22} normal={:<5} refHR {:>5.0?} rhythms {:?}: {}",
            c.name,
            c.reference.normal(),
            c.reference.hr_bpm(),
            c.reference.rhythms,
            codes.join(" ")
        );
    }
    let violations: Vec<String> = all.iter().flat_map(|c| c.violations.clone()).collect();
    println!(
        "{} windows, {} flagged, {} not allowed by the reference",
        all.len(),
        flagged,
        violations.len()
    );
    violations
}

/// Flags the reference does not allow, by kind, at most (a ratchet: lower them as the
/// analysis improves, never raise them). On these 1261 windows the code before issue 19 item 3
/// had 294 (252 AF-like flags without AF, 31 critical flags on normal sinus windows, 10 rate
/// flags the reference beats do not bear out, 1 QTc against the cardiologists' QT). What is
/// left: AF-like flags on ectopy-heavy or mis-detected windows (208, 207, 223, paced
/// records) and rate flags after missed or extra QRS detections (101, 201, 207, 208).
/// Critical flags on normal sinus windows are not in the ratchet: there must be none (see
/// [`critical_on_normal`]).
const BARS: [(&str, usize); 5] = [
    ("AF-like", 13),
    ("rate", 2),
    ("QTc against the reference", 0),
    ("ST elevation without STEMI", 0),
    ("ST note", 0),
];

/// Windows with atrial fibrillation or flutter in the reference that must get the AF-like
/// flag, at least (a ratchet, like [`BARS`]): 33 of the 59 (34 with the QRS detector before
/// its rework on the MIT-BIH development records, which also took the false AF-like flags from
/// 19 to 13 and the false rate flags from 8 to 2). The code before issue 19 item 3 flagged 54,
/// at the price of the 252 false ones above.
const AF_FOUND: usize = 33;

/// The violations that are a critical flag on a normal sinus window: sinus rhythm throughout
/// and at least 95 % normal beats in the reference ([`Reference::normal`]), and no long QT in
/// the cardiologists' own measurement. None is allowed: a normal record flagged critical puts
/// a healthy patient at the top of the queue. What the reference allows there: long QTc only
/// where the cardiologists' QTc of the recording is at least 470 ms; ST elevation only with a
/// STEMI diagnosis (a non-specific repolarisation abnormality allows the non-critical
/// `ST_ELEVATION_UNCONFIRMED` note, see [`Reference::st_change`]).
fn critical_on_normal(violations: &[String]) -> Vec<&String> {
    violations
        .iter()
        .filter(|v| v.contains("critical flag on a normal"))
        .collect()
}

fn kind(violation: &str) -> Option<&'static str> {
    BARS.iter().map(|b| b.0).find(|k| violation.contains(k))
}

/// Windows whose cardiologists' QTc is at least 500 ms and that get no QT flag at all, at most
/// (a ratchet, like [`BARS`]): our QT is shorter than theirs there (QT Database 223 and 104,
/// ten LUDB records). The T-end confidence rule only turns critical long-QT calls into
/// `QTC_UNCERTAIN` notes, so it cannot raise this count; a better T end can lower it.
const SILENT_LONG_QT: usize = 52;

/// Windows whose cardiologists' QTc is at least 500 ms and that get no QT flag at all (neither
/// the critical `QTC_PROLONGED` nor a `QTC_UNCERTAIN` or `QTC_WIDE_QRS` note).
fn silent_long_qt(all: &[Checked]) -> Vec<&str> {
    all.iter()
        .filter(|c| c.reference.qtc_ms.is_some_and(|q| q >= 500.0))
        .filter(|c| !c.analysis.flags.iter().any(|f| f.code.starts_with("QTC_")))
        .map(|c| c.name.as_str())
        .collect()
}

#[test]
fn flags_on_annotated_development_records_are_allowed_by_the_reference() {
    let mut long: Vec<PathBuf> = annotated("mitdb");
    long.extend(annotated("nstdb"));
    long.extend(
        annotated("qtdb")
            .into_iter()
            .filter(|h| h.with_extension("atr").is_file()),
    );
    let mut all: Vec<Checked> = long.par_iter().flat_map(|h| windows_with_atr(h)).collect();
    let qtdb = annotated("qtdb");
    all.extend(
        qtdb.par_iter()
            .map(|h| qtdb_annotated_window(h))
            .collect::<Vec<_>>(),
    );
    all.extend(
        annotated("ludb")
            .par_iter()
            .map(|h| ludb_record(h))
            .collect::<Vec<_>>(),
    );
    assert!(all.len() > 1000, "only {} windows analysed", all.len());
    let violations = report(&all);
    for v in &violations {
        println!("NOT ALLOWED {v}");
    }
    let af: Vec<&Checked> = all
        .iter()
        .filter(|c| c.reference.atrial_fibrillation())
        .collect();
    let found = af
        .iter()
        .filter(|c| {
            c.analysis
                .flags
                .iter()
                .any(|f| f.code == "IRREGULAR_RHYTHM")
        })
        .count();
    println!("AF/AFL windows flagged AF-like: {found} of {}", af.len());
    assert!(
        found >= AF_FOUND,
        "only {found} of {} AF windows flagged",
        af.len()
    );
    let silent = silent_long_qt(&all);
    println!("windows with the cardiologists' QTc >= 500 ms and no QT flag: {silent:?}");
    assert!(
        silent.len() <= SILENT_LONG_QT,
        "{} long-QT windows without a QT flag (bar {SILENT_LONG_QT})",
        silent.len()
    );
    let critical = critical_on_normal(&violations);
    assert!(
        critical.is_empty(),
        "{} critical flags on normal sinus windows: {critical:#?}",
        critical.len()
    );
    let unknown: Vec<&String> = violations
        .iter()
        .filter(|v| !v.contains("critical flag on a normal") && kind(v).is_none())
        .collect();
    assert!(unknown.is_empty(), "violations of no kind: {unknown:#?}");
    for (k, bar) in BARS {
        let n = violations.iter().filter(|v| kind(v) == Some(k)).count();
        println!("{k}: {n} (bar {bar})");
        assert!(
            n <= bar,
            "{n} flags of kind {k:?} not allowed by the reference (bar {bar})"
        );
    }
}

/// MIT-BIH 100 (normal sinus) as the hub analyses an upload, whole: no critical flag, and its
/// QT within 40 ms of the cardiologists' on the same recording (QT Database sel100).
#[test]
fn mitbih_100_is_not_flagged_and_its_qt_matches_the_cardiologists() {
    let rec = read_wfdb(&common::ecg("wfdb/mitdb/100.hea")).unwrap();
    let a = analyse(&ecg_of(&rec)).unwrap();
    assert!(!a.critical() && !a.urgent(), "{:?}", a.flags);
    let qt = a.measurements.unwrap().qt_ms.unwrap();
    let q1c = common::corpus().join("ecg-annotated/qtdb/sel100.q1c");
    let b = reference::qt_boundaries(&read_annotations(&q1c).unwrap());
    let fs = reference::header_fs(&q1c.with_extension("hea"));
    let (qt_ref, _) = reference::reference_qt_rr(&b, fs).unwrap();
    println!("MIT-BIH 100: QT {qt:.0} ms, cardiologists {qt_ref:.0} ms");
    assert!((qt - qt_ref).abs() <= 40.0, "QT {qt:.0} vs {qt_ref:.0} ms");
}

/// The WFDB records of `ecg/wfdb/` whole: no flag from a lead the quality check rejects
/// (v102s, an ICU false VT alarm with both ECG leads too noisy, says so and calls no rhythm),
/// and the wide-QRS PTB record s0010_re gets no critical long-QT call from the unadjusted QTc.
#[test]
fn wfdb_records_flag_nothing_from_rejected_leads() {
    for rel in [
        "wfdb/mitdb/100.hea",
        "wfdb/ptbdb/s0010_re.hea",
        "wfdb/challenge2015/v102s.hea",
        "wfdb/mimicdb/03700181.hea",
    ] {
        let rec = read_wfdb(&common::ecg(rel)).unwrap();
        let a = analyse(&ecg_of(&rec)).unwrap();
        println!(
            "{rel}: {:?}",
            a.flags.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        let rejected: Vec<&str> = a
            .quality
            .iter()
            .filter(|q| !q.usable())
            .map(|q| q.lead.as_str())
            .collect();
        for f in a
            .flags
            .iter()
            .filter(|f| !["NOISE", "LEAD_OFF", "SATURATION"].contains(&f.code.as_str()))
        {
            assert!(!f.leads.is_empty(), "{rel}: {f:?} names no lead");
            let bad: Vec<&String> = f
                .leads
                .iter()
                .filter(|l| rejected.contains(&l.as_str()))
                .collect();
            assert!(
                bad.is_empty(),
                "{rel}: {} from rejected leads {bad:?}",
                f.code
            );
        }
        if rel.contains("v102s") {
            assert!(a.rhythm.is_none(), "{rel}: a rhythm from unreadable leads");
            assert!(
                a.flags.iter().all(|f| f.code == "NOISE"),
                "{rel}: {:?}",
                a.flags
            );
        }
        if rel.contains("s0010_re") {
            let m = a.measurements.as_ref().unwrap();
            assert!(m.qrs_ms >= 120.0 && a.qtc_wide_qrs_ms.is_some() && a.jt_ms.is_some());
            assert!(!a.critical(), "{rel}: {:?}", a.flags);
            let note = a.flags.iter().find(|f| f.code == "QTC_WIDE_QRS");
            assert!(
                note.is_some_and(|f| f.message.contains("wide QRS")),
                "{:?}",
                a.flags
            );
        }
    }
}

/// Our QT against the cardiologists' on one window: (record, ours, reference), ms.
fn qt_pair(
    name: String,
    ecg: &worker_ecg::Ecg,
    b: &[(usize, usize, usize)],
) -> Option<(String, f64, f64)> {
    let (qt_ref, _) = reference::reference_qt_rr(b, ecg.fs)?;
    let ours = analyse(ecg).ok()?.measurements?.qt_ms?;
    Some((name, ours, qt_ref))
}

fn qtdb_qt(header: &Path) -> Option<(String, f64, f64)> {
    let (rec, ecg, _, inside) = qtdb_window(header);
    qt_pair(format!("qtdb/{}", rec.header.record), &ecg, &inside)
}

fn ludb_qt(header: &Path) -> Option<(String, f64, f64)> {
    let rec = read_wfdb(header).unwrap();
    let ecg = ecg_of(&rec);
    let b = reference::ludb_boundaries(header, ecg.fs);
    qt_pair(format!("ludb/{}", rec.header.record), &ecg, &b)
}

/// (mean error, mean absolute error, share within 40 ms) of (ours, reference) pairs, ms and %.
fn qt_stats(pairs: &[(String, f64, f64)]) -> (f64, f64, f64) {
    let n = pairs.len().max(1) as f64;
    let me = pairs.iter().map(|p| p.1 - p.2).sum::<f64>() / n;
    let mae = pairs.iter().map(|p| (p.1 - p.2).abs()).sum::<f64>() / n;
    let within = pairs.iter().filter(|p| (p.1 - p.2).abs() <= 40.0).count() as f64 * 100.0 / n;
    (me, mae, within)
}

#[test]
fn qt_agrees_with_the_cardiologists_annotations() {
    // Bars: the measured values with a few ms to spare. Before the area method (tangent to
    // the PR level): QT Database MAE 45 ms, 76 % within 40 ms; LUDB MAE 44 ms, 65 %.
    for (db, f, max_mae, min_within) in [
        ("qtdb", qtdb_qt as fn(&Path) -> _, 20.0, 80.0),
        ("ludb", ludb_qt, 33.0, 75.0),
    ] {
        let pairs: Vec<_> = annotated(db).par_iter().filter_map(|h| f(h)).collect();
        for p in &pairs {
            println!("{:<14} ours {:>4.0} reference {:>4.0} ms", p.0, p.1, p.2);
        }
        let (me, mae, within) = qt_stats(&pairs);
        println!(
            "{db}: {} records, mean error {me:+.0} ms, MAE {mae:.0} ms, {within:.0} % within 40 ms",
            pairs.len()
        );
        assert!(
            pairs.len() >= 20,
            "{db}: only {} records measured",
            pairs.len()
        );
        assert!(
            mae <= max_mae && within >= min_within,
            "{db}: MAE {mae:.0} ms, {within:.0} % within 40 ms"
        );
    }
}
