//! The committed files under sample-data/files are exactly what the generator makes now.
//!
//! If this fails after a deliberate change to the generator, regenerate them with
//! `cargo run -p sample-data -- generate --out sample-data/files` and commit the result.

use std::collections::BTreeSet;
use std::path::Path;

use sample_data::{DEFAULT_SEED, MANIFEST, committed_dir, render};

const HINT: &str = "regenerate with `cargo run -p sample-data -- generate --out sample-data/files`";

fn files_under(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel);
        }
    }
}

#[test]
fn committed_files_never_drift_from_the_generator() {
    let dir = committed_dir();
    assert!(dir.is_dir(), "{} is missing; {HINT}", dir.display());
    let set = render(DEFAULT_SEED).unwrap();
    let mut expected: BTreeSet<String> = set.files.iter().map(|f| f.path.clone()).collect();
    expected.insert(MANIFEST.to_owned());
    let mut present = BTreeSet::new();
    files_under(&dir, &dir, &mut present);
    assert_eq!(present, expected, "the committed file list differs; {HINT}");
    for f in &set.files {
        let on_disk = std::fs::read(dir.join(&f.path)).unwrap();
        assert!(
            on_disk == f.bytes,
            "{} differs from the generator's output; {HINT}",
            f.path
        );
    }
    let manifest = std::fs::read_to_string(dir.join(MANIFEST)).unwrap();
    assert_eq!(manifest, set.manifest_json(), "{MANIFEST} differs; {HINT}");
}

#[test]
fn committed_set_stays_small() {
    let set = render(DEFAULT_SEED).unwrap();
    let bytes: usize = set.files.iter().map(|f| f.bytes.len()).sum();
    assert!(
        bytes < 5 * 1024 * 1024,
        "{bytes} bytes is more than the few MB the repository should hold"
    );
}
