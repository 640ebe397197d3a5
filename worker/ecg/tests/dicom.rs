//! DICOM waveform ECGs of the corpus: parsing, scaling, device measurements, and our
//! measurements against the device's.
//!
//! Tolerances (IEC 60601-2-25:2011, 201.12.4.4.102, global intervals on biological ECGs):
//! PR ±10 ms, QRS ±10 ms, QT ±25 ms. Every device beat must be matched by one of ours within
//! the 150 ms bxb window, and we must find no extra beat.

mod common;

use worker_ecg::eval::compare;
use worker_ecg::leads::standard_name;
use worker_ecg::{analyse, read_dicom};

const PR_TOL: f64 = 10.0;
const QRS_TOL: f64 = 10.0;
const QT_TOL: f64 = 25.0;

fn close(what: &str, ours: Option<f64>, device: Option<f64>, tol: f64) {
    let (o, d) = (ours.unwrap_or(f64::NAN), device.unwrap());
    assert!(
        (o - d).abs() <= tol,
        "{what}: ours {o:.1} ms, device {d} ms, tolerance ±{tol}"
    );
}

#[test]
fn mortara_eli250_parses_and_scales() {
    let ecg = read_dicom(&common::ecg(
        "dicom/mortara-eli250_pydicom/waveform_ecg.dcm",
    ))
    .unwrap();
    assert_eq!(ecg.fs, 1000.0);
    assert_eq!(ecg.leads.len(), 12);
    assert!(ecg.leads.iter().all(|l| l.samples_uv.len() == 10000));
    let names: Vec<_> = ecg
        .leads
        .iter()
        .filter_map(|l| standard_name(&l.name))
        .collect();
    assert_eq!(names, worker_ecg::leads::STANDARD);
    // pydicom's waveform_array (1.25 µV/LSB applied): row 0 = 100, 112.5, 12.5; row 5000 =
    // 53.75, 68.75, 15.
    let v = |l: usize, s: usize| ecg.leads[l].samples_uv[s];
    assert_eq!((v(0, 0), v(1, 0), v(2, 0)), (100.0, 112.5, 12.5));
    assert_eq!((v(0, 5000), v(1, 5000), v(2, 5000)), (53.75, 68.75, 15.0));
    let d = ecg.device.as_ref().unwrap();
    assert_eq!(
        (d.rr_ms, d.pr_ms, d.qrs_ms, d.qt_ms, d.qtc_ms),
        (
            Some(982.0),
            Some(161.0),
            Some(75.0),
            Some(368.0),
            Some(370.0)
        )
    );
    assert_eq!(d.statements, vec!["RITMO SINUSALE", "ECG NORMALE"]);
    assert_eq!(d.qrs_samples.len(), 10);
    // SOURCES.md: per-beat QRS fiducials at 527 … 9370 (1-based), median-beat QRS onset 460.
    assert_eq!((d.qrs_samples[0], d.qrs_samples[9]), (526, 9369));
    let median_qrs_on = d
        .fiducials
        .iter()
        .find(|f| f.name == "QRS Onset" && f.group == 2);
    assert_eq!(median_qrs_on.map(|f| f.sample), Some(459));
    assert_eq!(d.fiducials.len(), 66);
}

#[test]
fn mortara_eli250_measurements_agree_with_the_device() {
    let ecg = read_dicom(&common::ecg(
        "dicom/mortara-eli250_pydicom/waveform_ecg.dcm",
    ))
    .unwrap();
    let a = analyse(&ecg).unwrap();
    let d = ecg.device.as_ref().unwrap();
    let m = a.measurements.as_ref().unwrap();
    println!(
        "ours: RR {:.0} PR {:?} QRS {:.0} QT {:?} QTc {:?}; device: {d:?}",
        a.rhythm.as_ref().unwrap().rr_ms,
        m.pr_ms,
        m.qrs_ms,
        m.qt_ms,
        a.qtc_bazett_ms
    );
    close("RR", a.rhythm.as_ref().map(|r| r.rr_ms), d.rr_ms, 10.0);
    close("PR", m.pr_ms, d.pr_ms, PR_TOL);
    close("QRS", Some(m.qrs_ms), d.qrs_ms, QRS_TOL);
    close("QT", m.qt_ms, d.qt_ms, QT_TOL);
    close("QTc", a.qtc_bazett_ms, d.qtc_ms, QT_TOL);
    // Device QRS axis 52°.
    let axis = m.axis_deg.unwrap();
    assert!((axis - 52.0).abs() <= 15.0, "axis {axis}");
    let s = compare(&d.qrs_samples, &a.beats, 0, 150);
    assert_eq!(
        (s.fn_, s.fp),
        (0, 0),
        "device beats {:?}, ours {:?}",
        d.qrs_samples,
        a.beats
    );
    assert!(a.flags.is_empty(), "normal ECG flagged: {:?}", a.flags);
}

#[test]
fn ge_maclab_hemodynamic_object_carries_ecg_leads() {
    let ecg = read_dicom(&common::ecg("dicom/ge-maclab_dcm-waveform/test_ecg.dcm")).unwrap();
    assert_eq!((ecg.fs, ecg.leads.len(), ecg.len()), (240.0, 12, 2400));
    // Sensitivity 0.00122 mV: pydicom gives 0.22692 mV for lead I, sample 0.
    assert!((ecg.leads[0].samples_uv[0] - 226.92).abs() < 0.01);
    let a = analyse(&ecg).unwrap();
    // The device annotates a heart rate of 69 /min.
    let hr = a.rhythm.as_ref().unwrap().hr_bpm;
    assert!((hr - 69.0).abs() <= 3.0, "heart rate {hr}");
    let m = a.measurements.as_ref().unwrap();
    println!(
        "GE: PR {:?} QRS {:.0} QT {:?} axis {:?}",
        m.pr_ms, m.qrs_ms, m.qt_ms, m.axis_deg
    );
    // Plausible adult values: PR 100–220, QRS 60–120, QT 300–460 ms.
    assert!((100.0..=220.0).contains(&m.pr_ms.unwrap()));
    assert!((60.0..=120.0).contains(&m.qrs_ms));
    assert!((300.0..=460.0).contains(&m.qt_ms.unwrap()));
}

#[test]
fn ecgtoolkit_conversion_is_robust_and_close_to_its_measurements() {
    // Implicit VR, invalid UIDs, a -32768 sentinel in the median beat, empty annotations.
    let ecg = read_dicom(&common::ecg("dicom/ecgtoolkit-converted/Example.dcm")).unwrap();
    assert_eq!((ecg.fs, ecg.leads.len(), ecg.len()), (500.0, 12, 5000));
    let d = ecg.device.clone().unwrap();
    assert_eq!(
        (d.pr_ms, d.qrs_ms, d.qt_ms),
        (Some(148.0), Some(120.0), Some(420.0))
    );
    let a = analyse(&ecg).unwrap();
    let m = a.measurements.as_ref().unwrap();
    println!(
        "Example: PR {:?} QRS {:.0} QT {:?}",
        m.pr_ms, m.qrs_ms, m.qt_ms
    );
    close("PR", m.pr_ms, d.pr_ms, PR_TOL);
    close("QRS", Some(m.qrs_ms), d.qrs_ms, QRS_TOL);
    close("QT", m.qt_ms, d.qt_ms, QT_TOL);
}

#[test]
fn non_waveform_dicom_is_a_clear_error() {
    let ct = common::corpus().join("dicom/pydicom-test-files/CT_small.dcm");
    let e = read_dicom(&ct).unwrap_err().to_string();
    assert!(
        e.contains("CT_small.dcm") && e.contains("Waveform Sequence"),
        "{e}"
    );
}

/// Issue 19 item 1: objects the hub stored before channels were told apart hold MIMIC's
/// respiration as one "RESP" channel in µV under the SCP-ECG code "Unspecified lead". Read
/// again, it is no ECG lead: there is nothing to measure, and the error says why.
#[test]
fn resp_stored_as_an_unspecified_lead_is_not_measured() {
    use worker_ecg::encode::{Identity, OutChannel, part10};
    let resp = OutChannel {
        label: "RESP".into(),
        samples: [0, 10, 20, 10, 0, -10, -20, -10].repeat(500),
        sensitivity: 0.5,
        baseline: 0.0,
        unit: worker_ecg::Unit::Microvolt,
        ecg: true, // as written then: coded 5.6.3-9-0, "Unspecified lead"
    };
    let who = Identity {
        patient_id: "T1".into(),
        study_uid: "2.25.7".into(),
        series_uid: "2.25.7.1".into(),
        sop_uid: "2.25.7.1.1".into(),
        date: "20261130".into(),
        time: "101500".into(),
        ..Identity::default()
    };
    let dir = tempfile_dir("resp-unspecified");
    let path = dir.join("old.dcm");
    std::fs::write(&path, part10(500.0, &[resp], &who).unwrap()).unwrap();
    let e = read_dicom(&path).unwrap_err().to_string();
    assert!(
        e.contains("old.dcm") && e.contains("no multiplex group has an ECG lead"),
        "{e}"
    );
    let rec = worker_ecg::dicom::read_waveforms(&path).unwrap().0;
    assert_eq!(rec[0].channels[0].name, "RESP");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempfile_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ecg-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
