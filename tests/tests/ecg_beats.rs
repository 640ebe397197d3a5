//! Ectopic beats through the real binaries: a township clinic uploads a 30-minute Holter-style
//! record with ventricular bigeminy (MIT-BIH 119, WFDB), the hub's worker classifies its beats,
//! and the county specialist sees the PVC (室性早搏) and PAC (房性早搏) counts.

use std::path::Path;
use std::process::Command;

use e2e::*;

/// Ventricular ectopic beats (`V`, `E`: WFDB codes 5 and 10) in an MIT annotation file: 16-bit
/// words of a 6-bit code and a 10-bit interval; codes 59–63 are pseudo-codes (SKIP carries a
/// 32-bit interval in the next two words, AUX a byte count and its bytes).
fn ventricular_beats(atr: &Path) -> usize {
    let b = std::fs::read(atr).unwrap_or_else(|e| panic!("{}: {e}", atr.display()));
    let words: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let (mut i, mut n) = (0, 0);
    while i < words.len() && words[i] != 0 {
        let (code, len) = (words[i] >> 10, usize::from(words[i] & 0x3ff));
        i += match code {
            59 => 3,
            63 => 1 + len.div_ceil(2),
            _ => 1,
        };
        n += usize::from(code == 5 || code == 10);
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holter_record_with_bigeminy_reports_its_pvcs() {
    let dir = tempfile::tempdir().unwrap();
    let hub = demo_hub_without_samples(dir.path());
    let header = corpus().join("ecg-annotated/mitdb/119.hea");
    assert!(header.is_file(), "{} is missing", header.display());
    let reference = ventricular_beats(&header.with_extension("atr"));
    let patient = ["--patient-id", "990321195803040197"];
    let up = cli(
        &hub,
        "demo-clinic-a",
        &[&["upload", header.to_str().unwrap()][..], &patient].concat(),
    );
    let case = ok(&up)["summary"]["cases"][0]["case_id"].as_i64().unwrap();

    let detail = shown_when_ready(&hub, case);
    assert_eq!(detail["case"]["state"], "ready", "{detail}");
    let value = |name: &str| {
        detail["measurements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name && m["source"] == "hub")
            .and_then(|m| m["value"].as_f64())
            .unwrap_or_else(|| panic!("no {name}: {detail}"))
    };
    // Within 10 % of the cardiologists' count over the whole record.
    let pvc = value("pvc_count");
    let want = reference as f64;
    assert!(
        (pvc - want).abs() <= 0.1 * want,
        "{pvc} PVCs counted, {reference} marked"
    );
    assert!(value("pac_count") >= 0.0);

    // The specialist's screen names them as Chinese reports do.
    let human = Command::new(binary("viewer-cli"))
        .args(["show", &case.to_string()])
        .env("HUB_URL", &hub.url)
        .env("HUB_TOKEN", "demo-specialist")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("pvc_count 室性早搏"), "{text}");
    assert!(text.contains("pac_count 房性早搏"), "{text}");
}
