//! An ECG through the real binaries: a township clinic uploads a real device ECG (Mortara ELI 250,
//! DICOM 12-lead), the hub's worker measures it, and the specialist sees our measurements beside
//! the device's and writes the 12-lead page.

use e2e::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_ecg_arrives_measured_with_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let hub = HubProcess::start_with(
        dir.path(),
        &[],
        &["--demo", "--demo-data", empty.path().to_str().unwrap()],
    );
    let ecg = corpus().join("ecg/dicom/mortara-eli250_pydicom/waveform_ecg.dcm");
    let up = cli(&hub, "demo-clinic-a", &["upload", ecg.to_str().unwrap()]);
    let case = ok(&up)["summary"]["cases"][0]["case_id"].as_i64().unwrap();

    let mut detail = Value::Null;
    for _ in 0..150 {
        detail = ok(&cli(&hub, "demo-specialist", &["show", &case.to_string()])).clone();
        if detail["case"]["state"] == "ready" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
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
    let svg = written
        .iter()
        .find(|f| f.ends_with(".svg"))
        .unwrap_or_else(|| panic!("no 12-lead page written: {written:?}"));
    let path = if std::path::Path::new(svg).is_absolute() {
        std::path::PathBuf::from(svg)
    } else {
        out.join(svg)
    };
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(
        page.contains("<svg") && page.contains("V6"),
        "{}",
        &page[..200.min(page.len())]
    );
}
