//! The job executor over real corpus files.

use std::path::PathBuf;

use worker::jobs::{JobInput, JobKind, execute};

fn corpus(rel: &str) -> PathBuf {
    let dir = std::env::var_os("REMOTEDX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    assert!(
        dir.is_dir(),
        "test corpus not found at {} (set REMOTEDX_CORPUS)",
        dir.display()
    );
    dir.join(rel)
}

#[test]
fn a_series_job_makes_previews_thumbnails_and_a_strip_and_reports_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.dcm");
    std::fs::write(&junk, b"not a dicom file at all").unwrap();
    let inputs = vec![
        JobInput {
            name: "1.1".into(),
            path: corpus("dicom/pydicom-test-files/CT_small.dcm"),
        },
        JobInput {
            name: "1.2".into(),
            path: junk,
        },
        JobInput {
            name: "1.3".into(),
            path: corpus("dicom/pydicom-test-files/MR_small.dcm"),
        },
    ];
    let out = execute(JobKind::ImageSeries, "1.9", &inputs);
    let names: Vec<&str> = out.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "preview/1.1.png",
            "thumb/1.1.png",
            "preview/1.3.png",
            "thumb/1.3.png",
            "strip/1.9.png"
        ]
    );
    assert!(out.artifacts.iter().all(|a| a.data.starts_with(b"\x89PNG")));
    assert_eq!(
        (
            out.instances[0].rows,
            out.instances[0].columns,
            out.instances[0].frames
        ),
        (128, 128, 1)
    );
    assert!(
        out.instances[1].error.starts_with("SOP Instance 1.2:"),
        "{}",
        out.instances[1].error
    );
    assert!(out.instances[2].error.is_empty());
    assert_eq!(out.flags.len(), 1);
    assert_eq!(out.flags[0].code, "image_not_decoded");
    assert!(!out.flags[0].critical && !out.flags[0].urgent);
}

#[test]
fn an_ecg_job_measures_renders_and_keeps_the_device_values_beside_ours() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("ecg.dcm");
    std::fs::write(&junk, b"DICM but not really").unwrap();
    let inputs = vec![
        JobInput {
            name: "2.1".into(),
            path: corpus("ecg/dicom/mortara-eli250_pydicom/waveform_ecg.dcm"),
        },
        JobInput {
            name: "2.2".into(),
            path: junk.clone(),
        },
    ];
    let out = execute(JobKind::EcgAnalysis, "2.1", &inputs);
    assert_eq!(out.instances.len(), 2);
    assert_eq!(out.instances[0].error, "", "{:?}", out.instances[0]);
    let svg = out
        .artifacts
        .iter()
        .find(|a| a.name == "ecg/2.1.svg")
        .expect("the 12-lead layout");
    assert_eq!(svg.media_type, "image/svg+xml");
    assert!(svg.data.starts_with(b"<svg") || svg.data.starts_with(b"<?xml"));
    let value = |name: &str, source: &str| {
        out.measurements
            .iter()
            .find(|m| m.name == name && m.source == source && m.lead.is_empty())
            .map(|m| m.value)
    };
    // The device printed RR 982 ms; ours must agree within the ±10 ms the ECG crate documents.
    assert_eq!(value("rr", "device"), Some(982.0));
    let rr = value("rr", "hub").expect("our RR");
    assert!((rr - 982.0).abs() <= 10.0, "RR {rr}");
    assert!(value("qtc_bazett", "hub").is_some());
    assert!(value("qtc_fridericia", "hub").is_some());
    // JT beside QTc; the QRS-adjusted QTc only for a wide QRS.
    let (qt, qrs) = (value("qt", "hub").unwrap(), value("qrs", "hub").unwrap());
    let jt = value("jt", "hub").expect("JT");
    assert!(
        (jt - (qt - qrs)).abs() <= 0.2,
        "JT {jt}, QT {qt}, QRS {qrs}"
    );
    assert_eq!(value("qtc_wide_qrs", "hub").is_some(), qrs >= 120.0);
    // The unreadable one is reported, named without the server's path, and flagged.
    let bad = &out.instances[1];
    assert!(bad.error.starts_with("SOP Instance 2.2: "), "{}", bad.error);
    assert!(!bad.error.contains(&junk.display().to_string()));
    assert!(out.flags.iter().any(|f| f.code == "ecg_not_analysed"));
}

/// Issue 19: the MIMIC record's blood pressure and respiration are stored beside its ECG lead;
/// the job measures the lead alone and names the others, on the case and on the page.
#[test]
fn an_ecg_job_names_the_channels_that_are_not_leads_and_measures_only_the_lead() {
    let record = worker_ecg::read_wfdb(&corpus("ecg/wfdb/mimicdb/03700181.hea")).unwrap();
    let groups = worker_ecg::encode::from_wfdb(&record).unwrap();
    let who = worker_ecg::encode::Identity {
        patient_id: "990321195803040197".into(),
        patient_name: "Test^Patient".into(),
        study_uid: "2.25.1".into(),
        series_uid: "2.25.2".into(),
        sop_uid: "2.25.3".into(),
        date: "20261207".into(),
        time: "101500".into(),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mimic.dcm");
    std::fs::write(
        &path,
        worker_ecg::encode::part10_groups(&groups, &who).unwrap(),
    )
    .unwrap();
    let inputs = [JobInput {
        name: "2.25.3".into(),
        path,
    }];
    let out = execute(JobKind::EcgAnalysis, "2.25.3", &inputs);
    assert_eq!(out.instances[0].error, "", "{:?}", out.instances[0]);
    let note = out
        .flags
        .iter()
        .find(|f| f.code == "ecg_other_channels")
        .expect("a note naming the other channels");
    assert!(!note.critical && !note.urgent);
    assert!(
        note.message.contains("ABP") && note.message.contains("RESP"),
        "{}",
        note.message
    );
    assert!(!note.message.contains("MCL1"), "{}", note.message);
    let page = out
        .artifacts
        .iter()
        .find(|a| a.name == "ecg/2.25.3.svg")
        .expect("the 12-lead page");
    let svg = String::from_utf8_lossy(&page.data);
    assert!(
        svg.contains("Also recorded, not ECG") && svg.contains("ABP"),
        "the page does not name the other channels"
    );
    // Per-lead measurements are on the ECG lead only.
    assert!(
        out.measurements
            .iter()
            .all(|m| m.lead.is_empty() || m.lead == "MCL1"),
        "{:?}",
        out.measurements
    );
}
