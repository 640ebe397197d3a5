//! The OHIF viewer the hub serves, in real headless Chromium: a county specialist signs in at
//! /login with their token, opens the demo CT head at /viewer?StudyInstanceUIDs=… and a corpus
//! multi-frame ultrasound, sees each image (checked from screenshots of the viewport: not blank,
//! no error) and scrolls to another slice or frame (OHIF's slice indicator and the pixels change).
//!
//! The demo's 12-lead ECG opens in OHIF's ECG viewport, and its DICOMweb `rendered` output is the
//! hub's own 12-lead page, byte for byte the one `viewer-cli show --out` saves.
//!
//! Chromium, chromedriver, Selenium and Pillow come from scripts/ci-deps/browser.sh, OHIF itself
//! from scripts/fetch-ohif.sh (which browser.sh runs); without any of them this test fails, it
//! never skips. The driver is tests/py/ohif_viewer.py.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use dicom_dictionary_std::tags;
use e2e::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A multi-frame ultrasound (30 frames, JPEG baseline, YBR_FULL_422) of the shared corpus.
const ULTRASOUND: &str = "dicom/pydicom-test-files/examples_ybr_color.dcm";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The installed viewer; fails, naming the command that installs it, when it is missing.
fn ohif_dist() -> PathBuf {
    let dist = repo().join("web/ohif/dist");
    assert!(
        dist.join("index.html").is_file(),
        "the OHIF viewer is not installed in {}: run `bash scripts/fetch-ohif.sh` (scripts/ci-deps/browser.sh does)",
        dist.display()
    );
    dist
}

fn require_browser() {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).is_file(),
            "{tool} is missing: install Chromium and its driver with scripts/ci-deps/browser.sh"
        );
    }
}

fn uid(file: &Path, tag: dicom_core::Tag) -> String {
    let obj = dicom_object::open_file(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    obj.element(tag)
        .expect("the UID")
        .to_str()
        .expect("text")
        .trim_end_matches('\0')
        .trim()
        .to_owned()
}

fn study_uid(file: &Path) -> String {
    uid(file, tags::STUDY_INSTANCE_UID)
}

/// `GET path` on the hub's HTTP listener as the user with `token`: status and body.
fn http_get(addr: std::net::SocketAddr, path: &str, token: &str, accept: &str) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the hub's HTTP listener");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status");
    (status, raw[end + 4..].to_vec())
}

/// The case of study `study` in the specialist's queue.
fn case_of_study(hub: &HubProcess, study: &str) -> i64 {
    let queue = ok(&cli(hub, "demo-specialist", &["queue"])).clone();
    queue["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["case"])
        .find(|c| c["study_instance_uid"] == study)
        .unwrap_or_else(|| panic!("no case of study {study} in the queue: {queue}"))["case_id"]
        .as_i64()
        .unwrap()
}

/// Runs the Selenium driver against `base` for `studies`; its JSON lines, one per study.
fn drive(base: &str, token: &str, studies: &[&str], ecgs: &[&str]) -> Vec<serde_json::Value> {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new("python3")
        .arg(repo().join("tests/py/ohif_viewer.py"))
        .args(["--base", base, "--token", token])
        .arg("--out")
        .arg(out.path())
        .args(["--chromium", CHROMIUM, "--driver", CHROMEDRIVER])
        .args(studies)
        .args(ecgs.iter().flat_map(|e| ["--ecg", e]))
        .output()
        .expect("run python3 tests/py/ohif_viewer.py");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the OHIF check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn a_specialist_reads_the_demo_ct_a_multi_frame_ultrasound_and_an_ecg_in_ohif() {
    require_browser();
    let dist = ohif_dist();
    let dir = tempfile::tempdir().unwrap();
    let dist = dist.to_str().expect("UTF-8 path");
    let hub = HubProcess::start_with(
        dir.path(),
        &[("REMOTEDX_HUB_VIEWER__DIST_DIR", dist)],
        &["--demo"],
    );
    let ultrasound = corpus().join(ULTRASOUND);
    let us = ultrasound.to_str().expect("UTF-8 path");
    ok(&cli(&hub, "demo-clinic-a", &["upload", us]));

    let ct_uid = study_uid(&sample_files().join("baishui/zhang-san-ct-head/CT0001.dcm"));
    let us_uid = study_uid(&ultrasound);
    let ecg_uid = study_uid(&sample_files().join("baishui/zhang-san-ecg/ECG0001.dcm"));
    let base = format!("http://{}", hub.http.expect("the hub's HTTP address"));
    let seen = drive(&base, "demo-specialist", &[&ct_uid, &us_uid], &[&ecg_uid]);

    assert_eq!(seen.len(), 3, "{seen:?}");
    let ecg = seen
        .iter()
        .find(|s| s["study"] == *ecg_uid)
        .expect("the ECG checked");
    assert_eq!(ecg["ecg"], true, "{ecg}");
    for (study, frames) in [(&ct_uid, 24), (&us_uid, 30)] {
        let s = seen
            .iter()
            .find(|s| s["study"] == **study)
            .expect("each study checked");
        assert_eq!(
            s["slice"][1], frames,
            "{study}: OHIF counts every slice or frame: {s}"
        );
        assert_ne!(s["scrolled_slice"][0], s["slice"][0], "{study}: {s}");
        assert!(
            s["scroll_pixel_diff"].as_f64().unwrap() > 0.0,
            "{study}: {s}"
        );
    }
}

#[test]
fn an_ecgs_rendered_output_is_the_hubs_12_lead_page() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start_with(dir.path(), &[], &["--demo"]);
    let file = sample_files().join("baishui/zhang-san-ecg/ECG0001.dcm");
    let (study, series, sop) = (
        study_uid(&file),
        uid(&file, tags::SERIES_INSTANCE_UID),
        uid(&file, tags::SOP_INSTANCE_UID),
    );
    let case = case_of_study(&hub, &study);
    let shown = shown_when_ready(&hub, case);
    assert_eq!(shown["case"]["state"], "ready", "{shown}");
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().expect("UTF-8 path");
    ok(&cli(
        &hub,
        "demo-specialist",
        &["show", &case.to_string(), "--out", out_dir],
    ));
    let page =
        std::fs::read(out.path().join(format!("ecg/{sop}.png"))).expect("show saved the page");

    let path = format!("/dicomweb/studies/{study}/series/{series}/instances/{sop}/rendered");
    let addr = hub.http.expect("the hub's HTTP address");
    let (status, body) = http_get(addr, &path, "demo-specialist", "image/png");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        body == page,
        "the rendered ECG is not the hub's 12-lead page ({} bytes against {})",
        body.len(),
        page.len()
    );
}

#[test]
fn the_viewer_is_only_for_signed_in_browsers_and_a_wrong_token_is_refused() {
    require_browser();
    let dist = ohif_dist();
    let dir = tempfile::tempdir().unwrap();
    let dist = dist.to_str().expect("UTF-8 path");
    let hub = HubProcess::start_with(
        dir.path(),
        &[("REMOTEDX_HUB_VIEWER__DIST_DIR", dist)],
        &["--demo"],
    );
    let base = format!("http://{}", hub.http.expect("the hub's HTTP address"));
    let out = tempfile::tempdir().unwrap();
    let run = Command::new("python3")
        .arg(repo().join("tests/py/ohif_viewer.py"))
        .args(["--base", &base, "--token", "rdx_not-a-token"])
        .arg("--out")
        .arg(out.path())
        .arg("2.25.1")
        .output()
        .expect("run python3 tests/py/ohif_viewer.py");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not leave /login") && stderr.contains("not recognised"),
        "{stderr}"
    );
}
