//! The generated files read by the reference tools.
//!
//! dcmdump (DCMTK), dciodvfy (dicom3tools) and pydicom are installed by `scripts/ci-deps/cli.sh`; a missing tool fails the test with that hint.

use std::path::Path;
use std::process::Command;

use sample_data::{DEFAULT_SEED, SampleSet, generate};

fn generated() -> (tempfile::TempDir, SampleSet) {
    let dir = tempfile::tempdir().unwrap();
    let set = generate(dir.path(), DEFAULT_SEED).expect("generate into a temporary folder");
    (dir, set)
}

fn run(program: &str, args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(program).args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("cannot run {program} ({e}); install the test tools with `bash scripts/ci-deps/cli.sh`")
    })
}

/// What pydicom reports for each file, one JSON object per line.
const PYDICOM_SCRIPT: &str = r#"
import json, sys
import pydicom
for path in sys.argv[1:]:
    ds = pydicom.dcmread(path)
    seen = {
        "path": path,
        "name": str(ds.PatientName),
        "ideographic": ds.PatientName.ideographic,
        "institution": ds.InstitutionName,
        "modality": ds.Modality,
        "patient_id": ds.PatientID,
    }
    if "WaveformSequence" in ds:
        w = ds.waveform_array(0)
        group = ds.WaveformSequence[0]
        seen.update({
            "shape": list(w.shape),
            "sum_uv": float(w.sum()),
            "leads": [c.ChannelSourceSequence[0].CodeMeaning for c in group.ChannelDefinitionSequence],
            "fs": float(group.SamplingFrequency),
        })
    else:
        px = ds.pixel_array
        hu = pydicom.pixels.apply_modality_lut(px, ds)
        seen.update({
            "shape": list(px.shape),
            "dtype": str(px.dtype),
            "sum": int(px.astype("int64").sum()),
            "min": int(px.min()),
            "max": int(px.max()),
            "first_rescaled": float(hu.flat[0]),
        })
    print(json.dumps(seen, ensure_ascii=False))
"#;

#[test]
fn pydicom_reads_names_tags_and_pixels_as_we_wrote_them() {
    let (dir, set) = generated();
    let mut args = vec!["-c", PYDICOM_SCRIPT];
    let paths: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
    args.extend(&paths);
    let out = run("python3", &args, dir.path());
    assert!(
        out.status.success(),
        "pydicom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), set.files.len());
    for (seen, file) in lines.iter().zip(&set.files) {
        let study = set
            .manifest
            .studies
            .iter()
            .find(|s| {
                s.series
                    .iter()
                    .any(|se| se.files.iter().any(|e| e.path == file.path))
            })
            .unwrap();
        let patient = set
            .manifest
            .patients
            .iter()
            .find(|p| p.key == study.patient)
            .unwrap();
        assert_eq!(seen["name"], patient.name.as_str(), "{}", file.path);
        assert_eq!(seen["ideographic"], patient.name.split_once('=').unwrap().1);
        assert_eq!(seen["institution"], study.institution.as_str());
        assert_eq!(seen["patient_id"], patient.patient_id.as_str());
        assert_eq!(seen["modality"], study.modality.as_str());
        if study.modality == "ECG" {
            // pydicom scales the waveform itself (sensitivity, units, baseline): the same
            // microvolts as our reader.
            let path = dir.path().join(&file.path);
            let ours = worker_ecg::read_dicom(&path).unwrap();
            assert_eq!(seen["shape"], serde_json::json!([ours.len(), 12]));
            assert_eq!(seen["fs"], 500.0);
            let sum: f64 = ours
                .leads
                .iter()
                .flat_map(|l| &l.samples_uv)
                .map(|&v| f64::from(v))
                .sum();
            let theirs = seen["sum_uv"].as_f64().unwrap();
            assert!(
                (theirs - sum).abs() < 1.0,
                "{}: pydicom {theirs} µV, ours {sum}",
                file.path
            );
            let leads: Vec<&str> = seen["leads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            assert_eq!(
                leads[..3],
                ["Lead I", "Lead II", "Lead III"],
                "{}",
                file.path
            );
            continue;
        }
        let (expected_sum, min, max, dtype) = pixel_stats(&file.bytes, study.modality == "CT");
        assert_eq!(seen["sum"], expected_sum, "{}", file.path);
        assert_eq!(seen["min"], min);
        assert_eq!(seen["max"], max);
        assert_eq!(seen["dtype"], dtype);
        if study.modality == "CT" {
            assert_eq!(seen["shape"], serde_json::json!([256, 256]));
            // Padding -2000 rescaled by the intercept -1024.
            assert_eq!(seen["first_rescaled"], -3024.0);
        } else {
            assert_eq!(seen["shape"], serde_json::json!([512, 512]));
        }
    }
}

/// Sum, min, max and numpy dtype of the pixel data: the last 2 * rows * columns bytes.
fn pixel_stats(bytes: &[u8], signed: bool) -> (i64, i64, i64, &'static str) {
    let n = if signed { 256 * 256 } else { 512 * 512 };
    let data = &bytes[bytes.len() - 2 * n..];
    let values: Vec<i64> = data
        .chunks_exact(2)
        .map(|b| {
            if signed {
                i64::from(i16::from_le_bytes([b[0], b[1]]))
            } else {
                i64::from(u16::from_le_bytes([b[0], b[1]]))
            }
        })
        .collect();
    let dtype = if signed { "int16" } else { "uint16" };
    (
        values.iter().sum(),
        *values.iter().min().unwrap(),
        *values.iter().max().unwrap(),
        dtype,
    )
}

#[test]
fn dcmdump_parses_every_file_without_a_warning() {
    let (dir, set) = generated();
    for f in &set.files {
        let out = run("dcmdump", &["+U8", &f.path], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "dcmdump failed on {}: {stderr}",
            f.path
        );
        assert!(
            stderr.trim().is_empty(),
            "dcmdump complained about {}: {stderr}",
            f.path
        );
        let stdout = String::from_utf8(out.stdout).expect("UTF-8 dump");
        assert!(stdout.contains("(0008,0005) CS [ISO_IR 192]"), "{}", f.path);
        assert!(
            stdout.contains("(0008,0070) LO [remotedx-synthetic]"),
            "{}",
            f.path
        );
        assert!(
            stdout.contains(&format!("(0008,0018) UI [{}]", f.sop_instance_uid)),
            "{}",
            f.path
        );
        assert!(
            stdout.contains("=张^三]") || stdout.contains("=王^芳]"),
            "ideographic name in {}",
            f.path
        );
    }
}

#[test]
fn dciodvfy_finds_every_file_conformant_to_its_iod() {
    // dicom3tools' validator checks every module the CT Image, DX Image and 12-Lead ECG IODs
    // require.
    let (dir, set) = generated();
    for f in &set.files {
        let out = run("dciodvfy", &[&f.path], dir.path());
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let iod = report.lines().next().unwrap_or_default();
        assert!(
            iod == "CTImage" || iod == "DXImageForPresentation" || iod == "TwelveLeadECG",
            "{}: recognised as {iod:?}",
            f.path
        );
        let problems: Vec<&str> = report
            .lines()
            .filter(|l| l.starts_with("Error") || l.starts_with("Warning"))
            .collect();
        assert!(
            problems.is_empty(),
            "dciodvfy on {}:\n{}",
            f.path,
            problems.join("\n")
        );
    }
}
