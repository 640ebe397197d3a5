//! An ECG through the real binaries: a township clinic uploads a real device ECG (Mortara ELI 250,
//! DICOM 12-lead), the hub's worker measures it, and the specialist sees our measurements beside
//! the device's and writes the 12-lead page.

use std::path::{Path, PathBuf};

use e2e::*;
use serde_json::Value;

/// The 12-lead page with extension `ext` that `show --out out` wrote.
fn written_page(out: &Path, written: &[String], ext: &str) -> PathBuf {
    let page = written
        .iter()
        .find(|f| f.ends_with(&format!(".{ext}")))
        .unwrap_or_else(|| panic!("no 12-lead .{ext} page written: {written:?}"));
    if Path::new(page).is_absolute() {
        PathBuf::from(page)
    } else {
        out.join(page)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_ecg_arrives_measured_with_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let hub = demo_hub_without_samples(dir.path());
    let ecg = corpus().join("ecg/dicom/mortara-eli250_pydicom/waveform_ecg.dcm");
    let up = cli(&hub, "demo-clinic-a", &["upload", ecg.to_str().unwrap()]);
    let case = ok(&up)["summary"]["cases"][0]["case_id"].as_i64().unwrap();

    let detail = shown_when_ready(&hub, case);
    assert_eq!(detail["case"]["state"], "ready", "{detail}");
    assert_eq!(detail["case"]["kind"], "ecg", "{detail}");
    let value = |name: &str, source: &str| {
        detail["measurements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name && m["source"] == source && m["lead"] == "")
            .and_then(|m| m["value"].as_f64())
    };
    // The device printed RR 982, PR 161, QRS 75, QT 368 ms; ours sit beside them, within the
    // tolerances worker-ecg documents (±10 ms PR/QRS/RR, ±25 ms QT).
    for (name, device, tolerance) in [
        ("rr", 982.0, 10.0),
        ("pr", 161.0, 10.0),
        ("qrs", 75.0, 10.0),
        ("qt", 368.0, 25.0),
    ] {
        assert_eq!(value(name, "device"), Some(device), "{name}: {detail}");
        let ours = value(name, "hub").unwrap_or_else(|| panic!("no {name} of ours: {detail}"));
        assert!(
            (ours - device).abs() <= tolerance,
            "{name}: ours {ours}, device {device}"
        );
    }

    let out = dir.path().join("ecg-case");
    let shown = cli(
        &hub,
        "demo-specialist",
        &["show", &case.to_string(), "--out", out.to_str().unwrap()],
    );
    let written: Vec<String> = ok(&shown)["written"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str().map(str::to_owned))
        .collect();
    let path = written_page(&out, &written, "svg");
    let png = written_page(&out, &written, "png");
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "{}", png.display());
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(
        page.contains("<svg") && page.contains("V6"),
        "{}",
        &page[..200.min(page.len())]
    );
}

/// A WFDB record (PTB Diagnostic ECG s0010_re: 12 standard leads plus 3 Frank leads, 1000 Hz,
/// 38.4 s, its signals in two files) uploads as its files: the header brings its signal files,
/// the hub stores it as a DICOM ECG and measures it like any ECG. Without a patient the record
/// is refused by name; uploaded twice it is a duplicate; a header without its signals is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wfdb_record_uploads_as_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let hub = demo_hub_without_samples(dir.path());
    let header = corpus().join("ecg/wfdb/ptbdb/s0010_re.hea");
    let header = header.to_str().unwrap();
    let files = |json: &Value| -> Vec<Value> { json["files"].as_array().unwrap().clone() };

    let anonymous = cli(&hub, "demo-clinic-a", &["upload", header]);
    assert_ne!(anonymous.code, 0, "{}", anonymous.stdout);
    let refused = files(&anonymous.json);
    assert_eq!(refused.len(), 3, "header, .dat and .xyz: {refused:?}");
    for f in &refused {
        assert_eq!(f["status"], "rejected", "{f}");
        assert_eq!(f["reason"], "missing_attribute", "{f}");
        assert!(
            f["message"].as_str().unwrap().contains("--patient-id"),
            "{f}"
        );
    }

    let patient = ["--patient-id", "990321195803040197"];
    let up = cli(
        &hub,
        "demo-clinic-a",
        &[&["upload", header][..], &patient].concat(),
    );
    let stored = files(ok(&up));
    assert_eq!(stored.len(), 3, "{stored:?}");
    let sop = stored[0]["sop_instance_uid"].as_str().unwrap().to_owned();
    for f in &stored {
        assert_eq!(f["status"], "accepted", "{f}");
        assert_eq!(
            f["sop_instance_uid"],
            sop.as_str(),
            "one instance for the record: {f}"
        );
    }
    let case = up.json["summary"]["cases"][0]["case_id"].as_i64().unwrap();
    assert_eq!(up.json["summary"]["cases"][0]["modality"], "ECG");

    let again = cli(
        &hub,
        "demo-clinic-a",
        &[&["upload", header][..], &patient].concat(),
    );
    for f in files(ok(&again)) {
        assert_eq!(f["status"], "duplicate", "{f}");
        assert_eq!(f["case_id"], case, "{f}");
    }

    let lonely = dir.path().join("lonely");
    std::fs::create_dir_all(&lonely).unwrap();
    std::fs::copy(
        corpus().join("ecg/wfdb/ptbdb/s0010_re.hea"),
        lonely.join("s0010_re.hea"),
    )
    .unwrap();
    let alone = lonely.join("s0010_re.hea");
    let partial = cli(
        &hub,
        "demo-clinic-a",
        &[&["upload", alone.to_str().unwrap()][..], &patient].concat(),
    );
    let f = &files(&partial.json)[0];
    assert_eq!(
        (f["status"].as_str(), f["reason"].as_str()),
        (Some("rejected"), Some("malformed"))
    );
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("s0010_re.dat") && msg.contains("s0010_re.xyz"),
        "{msg}"
    );

    let signals_alone = corpus().join("ecg/wfdb/ptbdb/s0010_re.dat");
    let stray = cli(
        &hub,
        "demo-clinic-a",
        &[&["upload", signals_alone.to_str().unwrap()][..], &patient].concat(),
    );
    let f = &files(&stray.json)[0];
    assert_eq!(f["reason"], "not_dicom", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("WFDB header"),
        "{f}"
    );

    let detail = shown_when_ready(&hub, case);
    assert_eq!(detail["case"]["state"], "ready", "{detail}");
    assert_eq!(detail["case"]["kind"], "ecg", "{detail}");
    let hr = detail["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "heart_rate" && m["source"] == "hub")
        .and_then(|m| m["value"].as_f64())
        .unwrap_or_else(|| panic!("no heart rate: {detail}"));
    // PTB s0010_re is a sinus rhythm near 70 bpm (its header: myocardial infarction patient).
    assert!((50.0..=100.0).contains(&hr), "heart rate {hr}");
}

/// Every file under `dir` that parses as DICOM and carries SOP Instance UID `sop`.
fn stored_instance(dir: &Path, sop: &str) -> Option<dicom_object::DefaultDicomObject> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = stored_instance(&path, sop) {
                return Some(found);
            }
        } else if let Ok(obj) = dicom_object::open_file(&path) {
            let uid = obj
                .element(dicom_dictionary_std::tags::SOP_INSTANCE_UID)
                .ok()
                .and_then(|e| e.to_str().ok().map(|s| s.trim_end_matches('\0').to_owned()));
            if uid.as_deref() == Some(sop) {
                return Some(obj);
            }
        }
    }
    None
}

/// Issue 19 item 1: MIMIC 03700181 (MCL1 at 500 Hz, ABP in mmHg and RESP at 125 Hz) was stored
/// as one channel, "RESP" in µV, and measured as if it were an ECG lead. Stored now with every
/// channel in its own unit; measured on MCL1 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mimic_record_keeps_its_channels_and_is_measured_on_its_ecg_lead() {
    use dicom_dictionary_std::tags;
    let dir = tempfile::tempdir().unwrap();
    let hub = demo_hub_without_samples(dir.path());
    let header = corpus().join("ecg/wfdb/mimicdb/03700181.hea");
    let up = cli(
        &hub,
        "demo-clinic-a",
        &[
            "upload",
            header.to_str().unwrap(),
            "--patient-id",
            "990321195803040197",
        ],
    );
    let stored = ok(&up)["files"].as_array().unwrap().clone();
    assert_eq!(stored.len(), 2, "header and .dat: {stored:?}");
    let sop = stored[0]["sop_instance_uid"].as_str().unwrap().to_owned();
    let case = up.json["summary"]["cases"][0]["case_id"].as_i64().unwrap();

    let obj = stored_instance(dir.path(), &sop).expect("the stored object in the blob store");
    let groups = obj
        .element(tags::WAVEFORM_SEQUENCE)
        .unwrap()
        .items()
        .unwrap();
    let text = |o: &dicom_object::InMemDicomObject, t| {
        o.element(t)
            .map(|e| e.to_str().unwrap().trim_end_matches(['\0', ' ']).to_owned())
            .unwrap_or_default()
    };
    let channels: Vec<(String, String, String)> = groups
        .iter()
        .flat_map(|g| {
            let fs = text(g, tags::SAMPLING_FREQUENCY);
            let defs = g.element(tags::CHANNEL_DEFINITION_SEQUENCE).unwrap();
            defs.items()
                .unwrap()
                .iter()
                .map(|d| {
                    let units = d.element(tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE).unwrap();
                    let unit = text(&units.items().unwrap()[0], tags::CODE_VALUE);
                    (text(d, tags::CHANNEL_LABEL), unit, fs.clone())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let want = [
        ("MCL1", "mV", "500"),
        ("ABP", "mm[Hg]", "125"),
        ("RESP", "mV", "125"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
        .collect();
    assert_eq!(channels, want);

    let detail = shown_when_ready(&hub, case);
    assert_eq!(detail["case"]["state"], "ready", "{detail}");
    let leads: Vec<&str> = detail["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["lead"].as_str())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        leads.iter().all(|l| *l == "MCL1"),
        "measured on {leads:?}: {detail}"
    );
}
