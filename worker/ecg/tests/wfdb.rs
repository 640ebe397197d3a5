//! WFDB reading on the real PhysioNet records of the corpus.

mod common;

use worker_ecg::wfdb::{mnemonic, read_annotations, read_wfdb};

#[test]
fn mitbih_100_signals() {
    let r = read_wfdb(&common::ecg("wfdb/mitdb/100.hea")).unwrap();
    assert_eq!(r.header.fs, 360.0);
    assert_eq!(r.header.signals.len(), 2);
    assert_eq!(r.digital[0].len(), 650000);
    assert_eq!(r.digital[1].len(), 650000);
    assert_eq!(r.header.signals[0].gain, 200.0);
    assert_eq!(r.header.signals[0].description, "MLII");
    // The reader checks the header's initial values and checksums; these are the values
    // SOURCES.md reports from an independent decoder.
    assert_eq!((r.digital[0][0], r.digital[1][0]), (995, 1011));
    let ecg = r.to_ecg();
    let names: Vec<_> = ecg.leads.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["MLII", "V5"]);
    // (995 - 1024) / 200 mV = -145 µV.
    assert!((ecg.leads[0].samples_uv[0] + 145.0).abs() < 1e-3);
}

#[test]
fn mitbih_100_annotations() {
    let a = read_annotations(&common::ecg("wfdb/mitdb/100.atr")).unwrap();
    let beats: Vec<_> = a.iter().filter(|a| a.is_beat()).collect();
    // Counts stated in the corpus SOURCES.md (numpy decoder): 2274 annotations, 2273 beats,
    // N 2239, A 33, V 1; first beats at 77, 370, 662.
    assert_eq!(a.len(), 2274);
    assert_eq!(beats.len(), 2273);
    let count = |m: &str| beats.iter().filter(|b| mnemonic(b.code) == m).count();
    assert_eq!((count("N"), count("A"), count("V")), (2239, 33, 1));
    let first: Vec<u64> = beats.iter().take(3).map(|b| b.sample).collect();
    assert_eq!(first, vec![77, 370, 662]);
    assert_eq!(a[0].aux.as_deref(), Some("(N"));
}

#[test]
fn ptb_format_16_fifteen_leads() {
    let r = read_wfdb(&common::ecg("wfdb/ptbdb/s0010_re.hea")).unwrap();
    assert_eq!(r.header.signals.len(), 15);
    assert!(r.digital.iter().all(|d| d.len() == 38400));
    assert_eq!(
        (r.digital[0][0], r.digital[1][0], r.digital[2][0]),
        (-489, -458, 31)
    );
    let names: Vec<String> = r.to_ecg().leads.into_iter().map(|l| l.name).collect();
    // One naming: the standard names for the twelve, the Frank leads as stated.
    let mut want: Vec<&str> = worker_ecg::leads::STANDARD.to_vec();
    want.extend(["vx", "vy", "vz"]);
    assert_eq!(names, want);
}

/// Issue 19 item 1: MIMIC 03700181 became one "RESP" lead (RESP states no unit, so WFDB's
/// default millivolt made it look like a lead; MCL1 at 4 samples per frame was dropped), and
/// the hub measured the respiration wave.
#[test]
fn mimic_ecg_is_mcl1_at_500_hz_and_resp_is_not_a_lead() {
    let r = read_wfdb(&common::ecg("wfdb/mimicdb/03700181.hea")).unwrap();
    assert_eq!(r.digital[0].len(), 75000 * 4);
    assert_eq!(r.digital[1].len(), 75000);
    assert_eq!(r.fs_of(0), 500.0);
    let rec = r.to_recording();
    let names: Vec<_> = rec.ecg.leads.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["MCL1"]);
    assert_eq!((rec.ecg.fs, rec.ecg.len()), (500.0, 300_000));
    let others: Vec<_> = rec
        .others
        .iter()
        .map(|c| (c.name.as_str(), c.unit.symbol(), c.fs, c.samples.len()))
        .collect();
    assert_eq!(
        others,
        [
            ("ABP", "mmHg".to_string(), 125.0, 75000),
            ("RESP", "mV".to_string(), 125.0, 75000)
        ]
    );
    // ABP: (-943 - -1605) / 12.84 mmHg.
    assert!((rec.others[0].samples[0] - 51.5576).abs() < 1e-3);
}

#[test]
fn challenge_2015_ecg_and_other_channels() {
    let r = read_wfdb(&common::ecg("wfdb/challenge2015/v102s.hea")).unwrap();
    let rec = r.to_recording();
    let names: Vec<_> = rec.ecg.leads.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, vec!["II", "V"]);
    assert_eq!(rec.ecg.len(), 75000);
    let others: Vec<_> = rec
        .others
        .iter()
        .map(|c| (c.name.as_str(), c.unit.symbol()))
        .collect();
    assert_eq!(
        others,
        [("PLETH", "NU".to_string()), ("RESP", "NU".to_string())]
    );
}

#[test]
fn missing_file_names_it() {
    let e = read_wfdb(&common::ecg("wfdb/mitdb/nope.hea")).unwrap_err();
    assert!(e.to_string().contains("nope.hea"), "{e}");
}

#[test]
fn mitbih_100_rhythm_from_the_whole_record() {
    let ecg = read_wfdb(&common::ecg("wfdb/mitdb/100.hea"))
        .unwrap()
        .to_ecg();
    let a = worker_ecg::analyse(&ecg).unwrap();
    let r = a.rhythm.unwrap();
    // 2273 reference beats in 650000 samples at 360 Hz (30:05.6): 75.5 beats per minute.
    let truth = 2273.0 / (650000.0 / 360.0 / 60.0);
    assert!((r.hr_bpm - truth).abs() < 1.0, "HR {} vs {truth}", r.hr_bpm);
    assert!(
        !r.irregular,
        "sinus rhythm (33 APCs) called irregular: {r:?}"
    );
    let found = a.beats.len() as f64;
    assert!((found - 2273.0).abs() <= 3.0, "{found} beats");
}

#[test]
fn ptb_twelve_lead_measurements_are_plausible() {
    let mut ecg = read_wfdb(&common::ecg("wfdb/ptbdb/s0010_re.hea"))
        .unwrap()
        .to_ecg();
    // The twelve standard leads (the Frank leads vx, vy, vz are left out).
    ecg.leads.truncate(12);
    let a = worker_ecg::analyse(&ecg).unwrap();
    let r = a.rhythm.as_ref().unwrap();
    let m = a.measurements.as_ref().unwrap();
    println!(
        "PTB s0010_re: HR {:.0} PR {:?} QRS {:.0} QT {:?} QTc {:?} axis {:?}",
        r.hr_bpm, m.pr_ms, m.qrs_ms, m.qt_ms, a.qtc_bazett_ms, m.axis_deg
    );
    // Measured here (2026-11-30): HR 82, PR 152, QRS 136, QT 436 ms. Plausible ranges for an
    // adult (this PTB patient has a wide QRS): HR 50–110, QRS 60–160, QT 300–480 ms.
    assert!((50.0..=110.0).contains(&r.hr_bpm));
    assert!((60.0..=160.0).contains(&m.qrs_ms));
    assert!((300.0..=480.0).contains(&m.qt_ms.unwrap()));
    assert!(!r.irregular);
}

/// A WFDB record written as a DICOM ECG object reads back as the same microvolts (the hub
/// stores uploaded WFDB records this way).
#[test]
fn wfdb_records_convert_to_dicom_without_loss() {
    use worker_ecg::encode::{Identity, from_wfdb, part10_groups, sop_class_of};
    let dir = std::env::temp_dir().join(format!("wfdb-dicom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for rec in ["wfdb/mitdb/100.hea", "wfdb/ptbdb/s0010_re.hea"] {
        let r = read_wfdb(&common::ecg(rec)).unwrap();
        let groups = from_wfdb(&r).unwrap();
        assert_eq!(groups.len(), 1, "{rec}: ECG leads only");
        let n = groups[0].len();
        let who = Identity {
            patient_id: "T1".into(),
            study_uid: "2.25.9".into(),
            series_uid: "2.25.9.1".into(),
            sop_uid: "2.25.9.1.1".into(),
            study_id: "T1".into(),
            date: "20261130".into(),
            time: "101500".into(),
            ..Identity::default()
        };
        let path = dir.join("out.dcm");
        std::fs::write(&path, part10_groups(&groups, &who).unwrap()).unwrap();
        // dicom3tools' validator (installed by scripts/ci-deps/cli.sh) checks the IOD.
        let out = std::process::Command::new("dciodvfy")
            .arg(&path)
            .output()
            .expect("dciodvfy runs (install with `bash scripts/ci-deps/cli.sh`)");
        let report = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        let problems: Vec<&str> = report
            .lines()
            .filter(|l| l.starts_with("Error") || l.starts_with("Warning"))
            .collect();
        assert!(problems.is_empty(), "dciodvfy on {rec}:\n{report}");
        let back = worker_ecg::read_dicom(&path).unwrap();
        let want = r.to_ecg();
        assert_eq!(back.fs, want.fs, "{rec}");
        assert_eq!(back.leads.len(), want.leads.len(), "{rec}");
        for (a, b) in back.leads.iter().zip(&want.leads) {
            // One naming on both ways: "MLII" stays "MLII", PTB's "avr" is "aVR" on both.
            assert_eq!(a.name, b.name, "{rec}");
            assert_eq!(a.samples_uv.len(), n, "{rec}");
            let worst = a
                .samples_uv
                .iter()
                .zip(&b.samples_uv)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-2, "{rec} lead {}: off by {worst} µV", a.name);
        }
        let class = sop_class_of(&groups).unwrap().1;
        println!(
            "{rec}: {} leads × {n} samples → {class}; dciodvfy: {}",
            groups[0].channels.len(),
            report.lines().next().unwrap_or_default()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 1: the hub measured MIMIC 03700181's respiration wave. Measured on MCL1,
/// the beats are the ones WFDB's gqrs detector finds in the record (its `.gqrsh`, at 500 Hz:
/// MCL1's rate): a respiration wave could not match them.
#[test]
fn mimic_beats_are_found_on_mcl1() {
    let r = read_wfdb(&common::ecg("wfdb/mimicdb/03700181.hea")).unwrap();
    let gqrs: Vec<usize> = read_annotations(&common::ecg("wfdb/mimicdb/03700181.gqrsh"))
        .unwrap()
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| a.sample as usize)
        .collect();
    let a = worker_ecg::analyse(&r.to_ecg()).unwrap();
    assert_eq!(a.fs, 500.0);
    // bxb's 150 ms window at 500 Hz.
    let s = worker_ecg::eval::compare(&gqrs, &a.beats, 0, 75);
    println!(
        "MIMIC 03700181 on MCL1: {} beats, HR {:.1}; gqrs {}: {s:?}",
        a.beats.len(),
        a.rhythm.as_ref().unwrap().hr_bpm,
        gqrs.len()
    );
    // Detectors disagree on this record (gqrs 1150, gqrsl 1117, sqrs 1195 beats in 10 min):
    // nearly all of gqrs's beats must be among ours.
    assert!(s.tp as f64 >= 0.97 * gqrs.len() as f64, "{s:?}");
}
