//! Shared by the integration tests: where the corpus is.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `$REMOTEDX_CORPUS`, or `<workspace root>/../shared/corpus`. Panics with a clear message when
/// it is missing: these tests must not pass silently without their data.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("REMOTEDX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        dir.join("ecg").is_dir(),
        "test corpus not found at {} (set REMOTEDX_CORPUS to the directory holding ecg/)",
        dir.display()
    );
    dir
}

/// A corpus file by its path under `ecg/`.
pub fn ecg(rel: &str) -> PathBuf {
    corpus().join("ecg").join(rel)
}
