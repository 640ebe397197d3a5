//! The ECG pages through the real binaries: a 30-minute WFDB record (MIT-BIH 100) uploaded for a
//! patient comes back from `show --out` as the 12-lead page, which names the patient by the
//! masked ID the index shows, and rhythm pages that hold the whole recording.

use std::path::Path;

use e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_record_comes_back_as_identified_pages_of_the_whole_recording() {
    let dir = tempfile::tempdir().unwrap();
    let hub = demo_hub_without_samples(dir.path());
    let header = corpus().join("ecg/wfdb/mitdb/100.hea");
    let patient = ["--patient-id", "990321195803040197"];
    let up = cli(
        &hub,
        "demo-clinic-a",
        &[&["upload", header.to_str().unwrap()][..], &patient].concat(),
    );
    let case = ok(&up)["summary"]["cases"][0]["case_id"].as_i64().unwrap();
    let detail = shown_when_ready(&hub, case);
    assert_eq!(detail["case"]["state"], "ready", "{detail}");

    let out = dir.path().join("case");
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
    let path = |f: &String| {
        if Path::new(f).is_absolute() {
            Path::new(f).to_path_buf()
        } else {
            out.join(f)
        }
    };
    let svgs: Vec<&String> = written.iter().filter(|f| f.ends_with(".svg")).collect();
    let pngs = written.iter().filter(|f| f.ends_with(".png")).count();
    // 30:06 of signal: the 12-lead page and 8 rhythm pages of 4 minutes, each as SVG and PNG.
    assert_eq!((svgs.len(), pngs), (9, 9), "{written:?}");
    let rhythm = svgs.iter().filter(|f| f.contains("/rhythm-")).count();
    assert_eq!(rhythm, 8, "{written:?}");
    for f in &svgs {
        let page = std::fs::read_to_string(path(f)).unwrap();
        assert!(page.contains("ID 9903**********0197"), "{f}: no masked ID");
        assert!(!page.contains("990321195803040197"), "{f}: the full ID");
    }
    let last = svgs.iter().find(|f| f.ends_with("rhythm-08.svg")).unwrap();
    let page = std::fs::read_to_string(path(last)).unwrap();
    assert!(page.contains("28:00–30:06 of 30:06"), "{last}");
}
