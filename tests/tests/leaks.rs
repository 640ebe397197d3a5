//! What reaches a screen (issue 13, item 8), through the real binaries: text a clinic sent
//! (patient name, study description, note) is shown inert, never obeyed by the reader's
//! terminal; another institution's case answers as one that does not exist; `hub config` masks
//! the database password.

use std::path::Path;
use std::process::Command;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use e2e::*;

/// A clear-screen, a window-title write (OSC) and a right-to-left override.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}\u{202e}";

/// Runs `viewer-cli ARGS` for a person (no `--json`): (exit code, stdout, stderr).
fn human(hub: &HubProcess, token: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary("viewer-cli"))
        .args(args)
        .env("HUB_URL", &hub.url)
        .env("HUB_TOKEN", token)
        .env("NO_COLOR", "1")
        .output()
        .expect("run viewer-cli");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}' || c == '\u{9b}')
        .collect();
    assert!(bad.is_empty(), "{what} printed {bad:?} raw:\n{text}");
}

/// A sample CT slice whose patient name and study description carry [`HOSTILE`], written to `dir`.
fn crafted_ct(dir: &Path) -> std::path::PathBuf {
    let sample = sample_files().join("baishui/zhang-san-ct-head/CT0001.dcm");
    let mut obj = dicom_object::open_file(&sample).unwrap();
    let put = |obj: &mut dicom_object::DefaultDicomObject, tag, vr, value: String| {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    put(
        &mut obj,
        tags::PATIENT_NAME,
        VR::PN,
        format!("ZHANG^SAN{HOSTILE}"),
    );
    put(
        &mut obj,
        tags::STUDY_DESCRIPTION,
        VR::LO,
        format!("CT HEAD{HOSTILE}"),
    );
    let patient = obj
        .element(tags::PATIENT_ID)
        .unwrap()
        .to_str()
        .unwrap()
        .trim()
        .to_owned();
    let bytes = e2e::dicom::variant(&obj, "1.2.826.0.1.3680043.2.1125.77", 1, &patient);
    let path = dir.join("crafted.dcm");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn clinic_supplied_text_never_drives_the_readers_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-samples");
    std::fs::create_dir_all(&empty).unwrap();
    let demo = ["--demo", "--demo-data", empty.to_str().unwrap()];
    let hub = HubProcess::start_with(dir.path(), &[], &demo);
    let file = crafted_ct(dir.path());
    let note = format!("cough{HOSTILE}");
    let up = cli(
        &hub,
        "demo-clinic-a",
        &["upload", file.to_str().unwrap(), "--note", &note],
    );
    let case = ok(&up)["summary"]["cases"][0]["case_id"].as_i64().unwrap();
    let case = case.to_string();

    let (code, cases, _) = human(&hub, "demo-clinic-a", &["cases"]);
    assert_eq!(code, 0);
    assert_inert("cases", &cases);
    let (code, queue, _) = human(&hub, "demo-specialist", &["queue"]);
    assert_eq!(code, 0);
    assert_inert("queue", &queue);
    let (code, show, _) = human(&hub, "demo-specialist", &["show", &case]);
    assert_eq!(code, 0, "{show}");
    assert_inert("show", &show);
    // The text is there, its controls shown as what they are.
    for field in [
        "ZHANG^SAN\u{FFFD}[2J",
        "CT HEAD\u{FFFD}[2J",
        "cough\u{FFFD}[2J",
    ] {
        assert!(show.contains(field), "{field:?} missing from:\n{show}");
    }

    // JSON keeps every character, escaped: the same value, inert on a terminal.
    let json = cli(&hub, "demo-specialist", &["show", &case]);
    assert_inert("show --json", &json.stdout);
    assert!(
        ok(&json).to_string().contains("CT HEAD\\u001b[2J"),
        "{}",
        json.stdout
    );
}

#[test]
fn another_clinics_case_reads_as_no_case_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-samples");
    std::fs::create_dir_all(&empty).unwrap();
    let demo = ["--demo", "--demo-data", empty.to_str().unwrap()];
    let hub = HubProcess::start_with(dir.path(), &[], &demo);
    let ct = sample_files().join("baishui/zhang-san-ct-head/CT0001.dcm");
    let up = cli(&hub, "demo-clinic-a", &["upload", ct.to_str().unwrap()]);
    let case = ok(&up)["summary"]["cases"][0]["case_id"].as_i64().unwrap();

    let (foreign_code, _, foreign) = human(&hub, "demo-clinic-b", &["show", &case.to_string()]);
    let (missing_code, _, missing) = human(&hub, "demo-clinic-b", &["show", "424242"]);
    assert_eq!((foreign_code, missing_code), (4, 4), "{foreign}\n{missing}");
    assert_eq!(
        foreign.replace(&case.to_string(), "N"),
        missing.replace("424242", "N")
    );
    assert!(
        !foreign.contains("TS-A") && !foreign.contains("Baishui"),
        "{foreign}"
    );
}

#[test]
fn hub_config_masks_the_database_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(binary("hub"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("config")
        .env(
            "REMOTEDX_HUB_STORAGE__DATABASE",
            "postgres://hub:Pa55-w0rd@db.county/hub?sslmode=verify-full",
        )
        .output()
        .expect("run hub config");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Pa55-w0rd"), "{text}");
    assert!(
        text.contains("postgres://hub:***@db.county/hub?sslmode=verify-full"),
        "{text}"
    );
}
