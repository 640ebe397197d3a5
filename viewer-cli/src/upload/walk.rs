//! Which files an upload sends.
//!
//! Files named on the command line are always sent (the hub says if one is not DICOM). Inside
//! folders, walked recursively in name order, hidden entries, DICOMDIR indexes and files that are
//! plainly not records (manifests, notes, pictures, archives) are skipped and listed, so that
//! uploading a CD's folder or `sample-data/files` does not fail on its `manifest.json`. A WFDB ECG
//! header brings the signal files it names; the record's annotation files stay behind.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::CliError;

/// Extensions of files inside folders that are never medical records.
pub const NOT_RECORDS: [&str; 16] = [
    "json", "txt", "md", "csv", "html", "htm", "pdf", "png", "jpg", "jpeg", "gif", "svg", "zip",
    "gz", "exe", "ini",
];

/// A file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileToSend {
    /// Where it is.
    pub path: PathBuf,
    /// Its name in the upload and in messages: the path as the user gave it (argument plus the
    /// path inside the folder).
    pub name: String,
    /// Its size in bytes when it was found.
    pub size: u64,
}

/// A file left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The path.
    pub path: String,
    /// Why: "hidden", "DICOMDIR index", "not a record (.json)", "link to a folder", "unreadable: ...".
    pub why: String,
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Files to send, in the order given and then by name within folders.
    pub files: Vec<FileToSend>,
    /// Files left out.
    pub skipped: Vec<Skipped>,
}

impl Walk {
    /// Total bytes to send.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Walks the command-line paths. A path that does not exist is a usage error (nothing is sent).
pub fn walk(paths: &[PathBuf]) -> Result<Walk, CliError> {
    let mut walk = Walk::default();
    let mut seen = HashSet::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            walk_dir(path, &mut walk, &mut seen);
        } else {
            add(&mut walk, &mut seen, path, meta.len());
        }
    }
    wfdb_records(&mut walk, &mut seen);
    Ok(walk)
}

/// Completes WFDB records: each `.hea` header brings the signal files it names (from its own
/// folder), sent right after it, and the record's other files found in folders (annotations such
/// as `.atr`, `.qrs`) are skipped, since the hub stores the signals only.
fn wfdb_records(walk: &mut Walk, seen: &mut HashSet<PathBuf>) {
    let headers: Vec<PathBuf> = walk
        .files
        .iter()
        .map(|f| f.path.clone())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("hea")))
        .collect();
    for hea in headers {
        let Some(header) = std::fs::read_to_string(&hea)
            .ok()
            .and_then(|text| worker_ecg::wfdb::parse_header(&text, &hea).ok())
        else {
            // The hub says what is wrong with it (a signal file outside the header's folder
            // among others: such a header brings no file along).
            continue;
        };
        let dir = hea.parent().unwrap_or(Path::new("")).to_owned();
        let signals: Vec<PathBuf> = worker_ecg::wfdb::signal_files(&header)
            .iter()
            .map(|f| dir.join(f))
            .collect();
        for path in &signals {
            if let Ok(m) = std::fs::metadata(path) {
                add(walk, seen, path, m.len());
            }
        }
        // The hub takes the header first, then its signal files.
        let (parts, rest): (Vec<FileToSend>, Vec<FileToSend>) = std::mem::take(&mut walk.files)
            .into_iter()
            .partition(|f| signals.contains(&f.path));
        walk.files = rest;
        let at = walk
            .files
            .iter()
            .position(|f| f.path == hea)
            .map_or(0, |i| i + 1);
        walk.files.splice(at..at, parts);
        let stem = hea.file_stem().map(|s| s.to_os_string());
        let (kept, other): (Vec<FileToSend>, Vec<FileToSend>) =
            std::mem::take(&mut walk.files).into_iter().partition(|f| {
                f.path == hea
                    || signals.contains(&f.path)
                    || f.path.parent() != Some(dir.as_path())
                    || f.path.file_stem().map(|s| s.to_os_string()) != stem
            });
        walk.files = kept;
        for f in other {
            skip(
                walk,
                &f.path,
                format!(
                    "file of WFDB record {} that is not a signal file (annotations are not uploaded)",
                    header.record
                ),
            );
        }
    }
}

fn add(walk: &mut Walk, seen: &mut HashSet<PathBuf>, path: &Path, size: u64) {
    // The same file reached twice (named and inside a named folder) is sent once.
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    if seen.insert(key) {
        walk.files.push(FileToSend {
            path: path.to_owned(),
            name: path.display().to_string(),
            size,
        });
    }
}

fn walk_dir(dir: &Path, walk: &mut Walk, seen: &mut HashSet<PathBuf>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => return skip(walk, dir, format!("unreadable: {e}")),
    };
    entries.sort();
    for path in entries {
        if let Some(why) = skip_reason(&path) {
            skip(walk, &path, why);
            continue;
        }
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() && is_link => skip(walk, &path, "link to a folder".into()),
            Ok(m) if m.is_dir() => walk_dir(&path, walk, seen),
            Ok(m) if m.is_file() => add(walk, seen, &path, m.len()),
            Ok(_) => skip(walk, &path, "not a regular file".into()),
            Err(e) => skip(walk, &path, format!("unreadable: {e}")),
        }
    }
}

fn skip(walk: &mut Walk, path: &Path, why: String) {
    walk.skipped.push(Skipped {
        path: path.display().to_string(),
        why,
    });
}

/// Why a folder entry is left out by its name alone, if it is.
fn skip_reason(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    if name.starts_with('.') {
        return Some("hidden".into());
    }
    if name.eq_ignore_ascii_case("DICOMDIR") {
        return Some("DICOMDIR index".into());
    }
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    NOT_RECORDS
        .contains(&ext.as_str())
        .then(|| format!("not a record (.{ext})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, bytes: usize) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![0u8; bytes]).unwrap();
    }

    #[test]
    fn folders_are_walked_in_name_order_and_junk_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("b/2.dcm"), 20);
        touch(&d.join("b/1.dcm"), 10);
        touch(&d.join("a/IM0001"), 5);
        touch(&d.join("manifest.json"), 3);
        touch(&d.join(".DS_Store"), 3);
        touch(&d.join("DICOMDIR"), 3);
        touch(&d.join(".hidden/x.dcm"), 3);
        let w = walk(&[d.to_path_buf()]).unwrap();
        let names: Vec<PathBuf> = w
            .files
            .iter()
            .map(|f| f.path.strip_prefix(d).unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("a/IM0001"),
                "b/1.dcm".into(),
                "b/2.dcm".into()
            ]
        );
        assert_eq!(w.total_bytes(), 35);
        let mut why: Vec<&str> = w.skipped.iter().map(|s| s.why.as_str()).collect();
        why.sort_unstable();
        assert_eq!(
            why,
            ["DICOMDIR index", "hidden", "hidden", "not a record (.json)"]
        );
        assert_eq!(w.files[0].name, d.join("a/IM0001").display().to_string());
    }

    #[test]
    fn wfdb_headers_bring_their_signal_files_and_leave_annotations() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("100.hea"),
            "100 2 360 10\n100.dat 212 200 11 1024 0 0 0 MLII\n100.dat 212 200 11 1024 0 0 0 V5\n",
        )
        .unwrap();
        touch(&d.join("100.dat"), 30);
        touch(&d.join("100.atr"), 4);
        touch(&d.join("101.dat"), 4);
        let alone = walk(&[d.join("100.hea")]).unwrap();
        let names: Vec<&Path> = alone.files.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(names, [d.join("100.hea"), d.join("100.dat")]);
        assert_eq!(alone.files[1].name, d.join("100.dat").display().to_string());
        let folder = walk(&[d.to_path_buf()]).unwrap();
        let names: Vec<&Path> = folder.files.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(
            names,
            [d.join("100.hea"), d.join("100.dat"), d.join("101.dat")]
        );
        assert_eq!(folder.skipped.len(), 1);
        assert!(folder.skipped[0].path.ends_with("100.atr"));
        assert!(
            folder.skipped[0].why.contains("WFDB record 100"),
            "{:?}",
            folder.skipped
        );
    }

    /// Issue 13 item 9: a header naming `../secret.dat` or `/etc/passwd` brought those files
    /// along. The header goes alone (the hub refuses it, naming the line).
    #[test]
    fn wfdb_signal_files_outside_the_header_folder_are_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("secret.dat"), 8);
        touch(&d.join("rec/x.dat"), 8);
        for named in [
            "../secret.dat",
            d.join("secret.dat").to_str().unwrap(),
            "/etc/passwd",
        ] {
            std::fs::write(
                d.join("rec/x.hea"),
                format!("x 2 360 2\nx.dat 16 200 12 0 0 0 0 II\n{named} 16 200 12 0 0 0 0 V\n"),
            )
            .unwrap();
            let w = walk(&[d.join("rec/x.hea")]).unwrap();
            let names: Vec<&Path> = w.files.iter().map(|f| f.path.as_path()).collect();
            assert_eq!(names, [d.join("rec/x.hea")], "{named}");
        }
    }

    #[test]
    fn named_files_are_always_sent_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let note = dir.path().join("notes.txt");
        touch(&note, 4);
        let w = walk(&[note.clone(), note.clone(), dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            w.files.len(),
            1,
            "named explicitly, so sent even though it is .txt; once"
        );
        assert_eq!(w.files[0].size, 4);
    }

    #[test]
    fn a_missing_path_is_a_usage_error() {
        let err = walk(&[PathBuf::from("/no/such/path.dcm")]).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
        assert!(err.to_string().contains("/no/such/path.dcm"));
    }

    #[cfg(unix)]
    #[test]
    fn links_to_folders_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("real/x.dcm"), 1);
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("loop")).unwrap();
        let w = walk(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(w.files.len(), 1);
        assert_eq!(w.skipped[0].why, "link to a folder");
    }
}
