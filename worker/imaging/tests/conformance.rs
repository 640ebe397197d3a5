//! Conformance of our decoders against reference decoders nobody here wrote (DCMTK, GDCM,
//! pydicom with the pylibjpeg plugins), over every file in `$REMOTEDX_CORPUS/dicom`.
//!
//! For each file, `tests/reference/ref_decode.py` decodes it with every reference that applies;
//! the first reference that succeeds is the one we are held to: lossless syntaxes must match it
//! bit for bit, lossy ones within ±1 per sample. A file a reference decodes and we do not is a
//! failure; files no reference decodes are listed as such; the deliberately broken files must
//! give our error. The table is printed (run with `--nocapture` to see it when it passes). Every
//! reference tool must decode some file and every transfer syntax must have its count of
//! compared files, so a missing tool fails the test instead of turning files into "no
//! reference decodes".
//!
//! Needs python3 with pydicom, numpy and the pylibjpeg plugins, DCMTK and GDCM
//! (`scripts/ci-deps/imaging.sh` installs them).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use worker_imaging::{DecodedFrame, Image, ImagingError};

#[derive(Debug, Deserialize)]
struct Entry {
    file: PathBuf,
    ts: String,
    results: Vec<RefResult>,
}

#[derive(Debug, Deserialize)]
struct RefResult {
    tool: String,
    ok: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    shape: Vec<usize>,
    #[serde(default)]
    photometric: String,
    #[serde(default)]
    data: PathBuf,
}

/// Files that are broken on purpose, with a word our error must contain.
const BROKEN: &[(&str, &str)] = &[
    ("MR_truncated.dcm", "8130 bytes"),
    ("JPEG2000-embedded-sequence-delimiter.dcm", "corrupt"),
    ("badVR.dcm", "Number of Frames"),
    ("rtplan_truncated.dcm", "past the end of the file"),
    ("no_meta.dcm", "past the end of the file"),
];

/// Transfer syntaxes whose codec is still being written (emptied as codecs land; every codec
/// has landed, so every syntax a reference decodes is held to it).
const PENDING: &[&str] = &[];

const LOSSY: &[&str] = &[
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.91",
];

struct Ours {
    shape: Vec<usize>,
    samples: Vec<i64>,
    photometric: String,
}

fn decode_ours(path: &Path) -> Result<Ours, ImagingError> {
    let img = Image::open(path)?;
    let n = img.attrs().frames;
    let frames: Vec<DecodedFrame> = (0..n)
        .map(|k| img.decode_frame(k))
        .collect::<Result<_, _>>()?;
    let (r, c, s) = frames[0].samples.dim();
    Ok(Ours {
        shape: vec![n as usize, r, c, s],
        samples: frames.iter().flat_map(|f| f.samples.to_i64_vec()).collect(),
        photometric: format!("{:?}", frames[0].photometric),
    })
}

fn read_reference(r: &RefResult) -> Vec<i64> {
    let bytes = std::fs::read(&r.data).expect("reference output");
    bytes
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Compares; returns None when equal within `tolerance`, else what differs.
fn compare(ours: &Ours, r: &RefResult, tolerance: i64) -> Option<String> {
    if ours.shape != r.shape {
        return Some(format!("shape {:?} vs {:?}", ours.shape, r.shape));
    }
    let theirs = read_reference(r);
    let (mut worst, mut count) = (0i64, 0usize);
    for (a, b) in ours.samples.iter().zip(&theirs) {
        let d = (a - b).abs();
        if d > tolerance {
            count += 1;
        }
        worst = worst.max(d);
    }
    (count > 0).then(|| {
        format!(
            "{count} samples differ, max |diff| {worst} (ours {}, theirs {})",
            ours.photometric, r.photometric
        )
    })
}

struct Row {
    file: String,
    ts: String,
    reference: String,
    result: String,
    failed: bool,
    /// Our decode was compared with a reference's, and matched.
    compared: bool,
}

/// Fewest files per transfer syntax that must be compared with a reference decoder: the
/// corpus's count of each today. A missing reference tool or a reference that stopped decoding
/// turns files into "no reference decodes"; the test must not pass quietly then.
const MIN_COMPARED: &[(&str, usize)] = &[
    ("1.2.840.10008.1.2", 4),
    ("1.2.840.10008.1.2.1", 37),
    ("1.2.840.10008.1.2.1.99", 1),
    ("1.2.840.10008.1.2.2", 17),
    ("1.2.840.10008.1.2.4.50", 15),
    ("1.2.840.10008.1.2.4.51", 2),
    ("1.2.840.10008.1.2.4.70", 4),
    ("1.2.840.10008.1.2.4.80", 2),
    ("1.2.840.10008.1.2.4.81", 4),
    ("1.2.840.10008.1.2.4.90", 8),
    ("1.2.840.10008.1.2.4.91", 4),
    ("1.2.840.10008.1.2.5", 12),
];

/// Every reference tool the script runs; each must decode at least one corpus file.
const TOOLS: &[&str] = &[
    "dcmtk:dcmdjpeg",
    "dcmtk:dcmdjpls",
    "dcmtk:dcmdrle",
    "dcmtk:dcmconv",
    "gdcmconv",
    "pydicom",
];

/// Fails naming each reference tool that decoded nothing and each transfer syntax with fewer
/// compared files than [`MIN_COMPARED`].
fn assert_references_ran(manifest: &[Entry], rows: &[Row]) {
    let silent: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|tool| {
            !manifest
                .iter()
                .flat_map(|e| &e.results)
                .any(|r| r.ok && r.tool == *tool)
        })
        .collect();
    assert!(
        silent.is_empty(),
        "reference tools that decoded no file (missing? install with scripts/ci-deps/imaging.sh): {silent:?}"
    );
    let short: Vec<String> = MIN_COMPARED
        .iter()
        .filter_map(|(ts, min)| {
            let n = rows.iter().filter(|r| r.compared && r.ts == *ts).count();
            (n < *min).then(|| format!("{ts}: {n} compared, at least {min} expected"))
        })
        .collect();
    assert!(
        short.is_empty(),
        "too few files compared with a reference: {short:?}"
    );
}

fn judge(e: &Entry) -> Row {
    let name = e.file.file_name().unwrap().to_string_lossy().to_string();
    let ours = decode_ours(&e.file);
    let primary = e.results.iter().find(|r| r.ok);
    let broken = BROKEN.iter().find(|(f, _)| *f == name);
    let tolerance = if LOSSY.contains(&e.ts.as_str()) { 1 } else { 0 };
    let mut row = Row {
        file: name,
        ts: e.ts.clone(),
        reference: "-".into(),
        result: String::new(),
        failed: false,
        compared: false,
    };
    if let Some(p) = primary {
        row.reference = p.tool.clone();
    }
    match (&ours, primary, broken) {
        (Err(err), _, Some((_, word))) => {
            let msg = err.to_string();
            row.failed = !msg.contains(word);
            row.result = format!("broken on purpose; our error: {msg}");
        }
        (Ok(_), _, Some(_)) => {
            row.failed = true;
            row.result = "broken on purpose, but we decoded it".into();
        }
        (Ok(o), Some(p), None) => match compare(o, p, tolerance) {
            None => {
                row.compared = true;
                let others = secondary(o, e, p, tolerance);
                row.result = format!(
                    "{} (others: {others})",
                    if tolerance == 0 {
                        "bit-exact"
                    } else {
                        "within ±1"
                    }
                );
            }
            Some(diff) => {
                row.failed = true;
                row.result = format!("MISMATCH: {diff}");
            }
        },
        (Err(err), Some(_), None) if PENDING.contains(&e.ts.as_str()) => {
            row.result = format!("pending (codec not built yet): {err}");
        }
        (Err(err), Some(_), None) => {
            row.failed = true;
            row.result = format!("FAILED where the reference decodes: {err}");
        }
        (Ok(_), None, None) => row.result = "we decode; no reference does".into(),
        (Err(err), None, None) => {
            let why = e
                .results
                .first()
                .map_or("not tried".into(), |r| r.message.clone());
            row.result = format!("no reference decodes ({why}); ours: {err}");
        }
    }
    row
}

/// How the other references compare (information only).
fn secondary(o: &Ours, e: &Entry, primary: &RefResult, tolerance: i64) -> String {
    let parts: Vec<String> = e
        .results
        .iter()
        .filter(|r| !std::ptr::eq(*r, primary))
        .map(
            |r| match (r.ok, r.ok.then(|| compare(o, r, tolerance)).flatten()) {
                (false, _) => format!("{} fails", r.tool),
                (true, None) => format!("{} agrees", r.tool),
                (true, Some(d)) => format!("{} differs: {d}", r.tool),
            },
        )
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join("; ")
    }
}

#[test]
fn every_corpus_file_matches_a_reference_decoder() {
    let dir = common::corpus().join("dicom");
    let (files, skipped) = common::dicom_files(&dir);
    let out = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/ref_decode.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(out.path())
        .args(&files)
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "the reference decoders did not run ({status:?}); install them with scripts/ci-deps/imaging.sh"
    );
    let manifest: Vec<Entry> =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.len(), files.len());
    let rows: Vec<Row> = manifest.iter().map(judge).collect();
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    println!(
        "\n{:<46} {:<24} {:<16} result",
        "file", "transfer syntax", "reference"
    );
    for r in &rows {
        println!(
            "{:<46} {:<24} {:<16} {}",
            r.file, r.ts, r.reference, r.result
        );
        *tally
            .entry(if r.failed { "failed" } else { "passed" })
            .or_default() += 1;
    }
    for s in &skipped {
        println!(
            "{:<46} {:<24} {:<16} skipped: not a DICOM file",
            s, "-", "-"
        );
    }
    println!(
        "conformance: {tally:?}, {} non-DICOM files skipped",
        skipped.len()
    );
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.failed)
        .map(|r| r.file.as_str())
        .collect();
    assert!(failed.is_empty(), "conformance failures: {failed:?}");
    assert_references_ran(&manifest, &rows);
}
