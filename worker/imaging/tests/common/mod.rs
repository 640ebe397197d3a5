//! Shared by the integration tests: where the corpus is, and which of its files are DICOM.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `$REMOTEDX_CORPUS`, or `<workspace root>/../shared/corpus`. Panics with a clear message when
/// it is missing: these tests must not pass silently without their data.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("REMOTEDX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        dir.join("dicom").is_dir(),
        "test corpus not found at {} (set REMOTEDX_CORPUS to the directory holding dicom/)",
        dir.display()
    );
    dir
}

/// A corpus file by its path under `dicom/`.
pub fn dicom(rel: &str) -> PathBuf {
    corpus().join("dicom").join(rel)
}

/// Every file under `dir`, split into DICOM candidates and obvious non-DICOM files (by extension).
pub fn dicom_files(dir: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let mut all = Vec::new();
    walk(dir, &mut all);
    all.sort();
    let not_dicom = ["txt", "json", "icc", "dump", "gz"];
    let (skip, files): (Vec<_>, Vec<_>) = all.into_iter().partition(|p| {
        p.extension()
            .is_some_and(|e| not_dicom.contains(&e.to_string_lossy().as_ref()))
    });
    (
        files,
        skip.iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect(),
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir)
        .expect("readable corpus directory")
        .flatten()
    {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)
        } else {
            out.push(p)
        }
    }
}
