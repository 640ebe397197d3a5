//! README.md's walk-through, as a newcomer runs it: `hub serve --demo` seeded with the sample
//! studies, the specialist reads and the senior signs the emergency CT head, and a doctor at the
//! other township finds that result and accepts it instead of repeating the scan.
//!
//! The hub runs with its clock a year ahead (libfaketime, `scripts/ci-deps/cli.sh` installs it):
//! the samples were generated with fixed dates, and the walk-through must work whenever it is
//! run, not only in the month they were made.

use std::path::Path;

use e2e::*;

/// The patient of the demo CT head (README.md, "Result mutual recognition").
const PATIENT: &str = "990321195803040170";
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The clock a year ahead for the hub process alone; monotonic time (timers) stays real.
fn a_year_ahead() -> Vec<(&'static str, &'static str)> {
    assert!(
        Path::new(LIBFAKETIME).is_file(),
        "{LIBFAKETIME} is missing: install Debian's faketime (scripts/ci-deps/cli.sh does)"
    );
    vec![
        ("LD_PRELOAD", LIBFAKETIME),
        ("FAKETIME", "+365d"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ("FAKETIME_NO_CACHE", "1"),
    ]
}

/// The queued case of exam item `item`.
fn case_of_item(queue: &serde_json::Value, item: &str) -> i64 {
    queue["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["case"])
        .find(|c| c["exam_item_code"] == item)
        .unwrap_or_else(|| panic!("no {item} case in the queue: {queue}"))["case_id"]
        .as_i64()
        .unwrap()
}

#[test]
fn the_readme_recognition_walkthrough_works_a_year_after_the_samples_were_made() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start_with(dir.path(), &a_year_ahead(), &["--demo"]);

    let queue = ok(&cli(&hub, "demo-specialist", &["queue"])).clone();
    let ct = case_of_item(&queue, "CT-HEAD").to_string();
    ok(&cli(&hub, "demo-specialist", &["claim", &ct]));
    ok(&cli(
        &hub,
        "demo-specialist",
        &[
            "report",
            &ct,
            "--findings",
            "Hyperdense focus, right basal ganglia.",
            "--impression",
            "Acute haemorrhage.",
            "--critical",
        ],
    ));
    ok(&cli(&hub, "demo-senior", &["sign", &ct]));

    let check = ok(&cli(
        &hub,
        "demo-clinic-b",
        &[
            "recognition",
            "check",
            "--patient-id",
            PATIENT,
            "--item",
            "CT-HEAD",
            "--purpose",
            "before-examining",
        ],
    ))
    .clone();
    let entry = check["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["case_id"].as_i64().map(|c| c.to_string()) == Some(ct.clone()))
        .unwrap_or_else(|| panic!("the signed CT head is not offered for recognition: {check}"))
        .clone();
    let accepted = ok(&cli(
        &hub,
        "demo-clinic-b",
        &[
            "recognition",
            "accept",
            &entry["entry_id"].as_i64().unwrap().to_string(),
        ],
    ))
    .clone();
    assert!(
        accepted.to_string().contains("CT-HEAD"),
        "accepting the entry booked nothing: {accepted}"
    );
}
