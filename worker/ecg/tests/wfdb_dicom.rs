//! Every corpus WFDB record (and a selection of the annotated databases' records) written as
//! the DICOM ECG object the hub stores, then read back twice — by worker-ecg's reader and,
//! independently, by pydicom — and compared channel by channel with the source: same channel
//! count, names, units and rates, and every sample the same ADC value after scaling.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use worker_ecg::dicom::read_waveforms;
use worker_ecg::encode::{Identity, from_wfdb, part10_groups, sop_class_of};
use worker_ecg::leads::display_name;
use worker_ecg::units::Unit;
use worker_ecg::wfdb::{Record, read_wfdb};

/// A channel as a reader gave it back.
struct Back {
    name: String,
    /// UCUM code value of the Channel Sensitivity Units.
    ucum: String,
    fs: f64,
    /// Values in `per_unit` units of the source's unit (µV for worker-ecg's voltages).
    values: Vec<f64>,
}

fn identity() -> Identity {
    Identity {
        patient_id: "T1".into(),
        study_uid: "2.25.9".into(),
        series_uid: "2.25.9.1".into(),
        sop_uid: "2.25.9.1.1".into(),
        study_id: "T1".into(),
        date: "20261130".into(),
        time: "101500".into(),
        ..Identity::default()
    }
}

/// Encodes the record at `rel` (under the corpus) into `dir/out.dcm`.
fn encode(rel: &str, dir: &Path) -> (Record, PathBuf) {
    let r = read_wfdb(&common::corpus().join(rel)).unwrap();
    let path = encode_record(rel, &r, dir);
    (r, path)
}

/// Encodes `r` into `dir/out.dcm`.
fn encode_record(rel: &str, r: &Record, dir: &Path) -> PathBuf {
    let groups = from_wfdb(r).unwrap();
    let class = sop_class_of(&groups).unwrap().1;
    let shape: Vec<String> = groups
        .iter()
        .map(|g| format!("{} ch × {} @ {} Hz", g.channels.len(), g.len(), g.fs))
        .collect();
    println!("{rel}: {} → {class}", shape.join(" + "));
    let path = dir.join("out.dcm");
    std::fs::write(&path, part10_groups(&groups, &identity()).unwrap()).unwrap();
    path
}

/// worker-ecg's reading of every channel of every group, voltages in µV.
fn ours(path: &Path) -> Vec<Back> {
    let (groups, _) = read_waveforms(path).unwrap();
    groups
        .into_iter()
        .flat_map(|g| {
            g.channels.into_iter().map(move |c| Back {
                name: c.name,
                ucum: c.units,
                fs: g.fs,
                values: c.samples.iter().map(|&v| f64::from(v)).collect(),
            })
        })
        .collect()
}

/// pydicom's reading: label (the derivation description where it holds the whole name),
/// units code, rate, and `waveform_array` (sensitivity, correction and baseline applied), the
/// values through a file of little-endian f64.
const PYDICOM: &str = r#"
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
out, raw = [], open(sys.argv[2], "wb")
for g, item in enumerate(ds.WaveformSequence):
    arr = ds.waveform_array(g)
    for c, d in enumerate(item.ChannelDefinitionSequence):
        name = str(d.get("ChannelDerivationDescription", "") or d.ChannelLabel)
        unit = d.ChannelSensitivityUnitsSequence[0].CodeValue
        out.append([name, unit, float(item.SamplingFrequency), int(arr.shape[0])])
        raw.write(arr[:, c].astype("<f8").tobytes())
print(json.dumps(out))
"#;

fn pydicom(path: &Path, dir: &Path) -> Vec<Back> {
    let raw = dir.join("values.f64");
    let out = Command::new("python3")
        .args(["-c", PYDICOM])
        .arg(path)
        .arg(&raw)
        .output()
        .expect("python3 runs (pydicom is installed by scripts/ci-deps)");
    assert!(
        out.status.success(),
        "pydicom: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    let bytes = std::fs::read(&raw).unwrap();
    let mut values = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()));
    parse_listing(&listing)
        .into_iter()
        .map(|(name, ucum, fs, n)| Back {
            name,
            ucum,
            fs,
            values: values.by_ref().take(n).collect(),
        })
        .collect()
}

/// `[["MLII", "mV", 360.0, 650000], …]`, the JSON the script prints (no JSON crate here).
fn parse_listing(s: &str) -> Vec<(String, String, f64, usize)> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    s.split("], [")
        .map(|row| {
            let row = row.trim_matches(['[', ']']);
            let (name, rest) = row[1..].split_once("\", \"").unwrap();
            let (ucum, rest) = rest.split_once("\", ").unwrap();
            let (fs, n) = rest.split_once(", ").unwrap();
            let name = name.replace("\\\"", "\"");
            (name, ucum.into(), fs.parse().unwrap(), n.parse().unwrap())
        })
        .collect()
}

/// Checks every source signal against the one channel of `back` with its name: unit, rate,
/// and each sample. `per_unit` is how many of the reader's units one source unit is (1000
/// for worker-ecg's µV from mV, 1 for pydicom, which keeps the stored unit).
fn compare(rel: &str, reader: &str, r: &Record, back: &[Back], voltage_in_uv: bool) {
    let signals = &r.header.signals;
    assert_eq!(back.len(), signals.len(), "{rel} ({reader}): channel count");
    for (i, s) in signals.iter().enumerate() {
        let want_name = if s.is_ecg() && reader == "worker-ecg" {
            display_name(&s.description)
        } else {
            s.description.trim().to_owned()
        };
        let mut same = back.iter().filter(|b| b.name == want_name);
        let b = same.next().unwrap_or_else(|| {
            let names: Vec<&str> = back.iter().map(|b| b.name.as_str()).collect();
            panic!("{rel} ({reader}): no channel {want_name:?} among {names:?}")
        });
        assert!(same.next().is_none(), "{rel} ({reader}): two {want_name}");
        let unit = s.unit();
        assert_eq!(b.ucum, unit.ucum(), "{rel} ({reader}) {want_name}: unit");
        assert_eq!(b.fs, r.fs_of(i), "{rel} ({reader}) {want_name}: rate");
        let per_unit = match unit.microvolts() {
            Some(uv) if voltage_in_uv => uv,
            _ => 1.0,
        };
        check_samples(rel, reader, &want_name, r, i, &b.values, per_unit);
    }
}

/// Every sample back to the source's ADC value, and within 1 % of a step of its value.
fn check_samples(
    rel: &str,
    reader: &str,
    name: &str,
    r: &Record,
    i: usize,
    back: &[f64],
    per_unit: f64,
) {
    let s = &r.header.signals[i];
    let want = r.physical(i);
    assert_eq!(back.len(), want.len(), "{rel} ({reader}) {name}: samples");
    let step = per_unit / s.gain;
    for (k, (&b, &w)) in back.iter().zip(&want).enumerate() {
        let digital = (b / step).round() as i64 + i64::from(s.baseline);
        assert!(
            digital == i64::from(r.digital[i][k]) && (b - w * per_unit).abs() <= 0.01 * step,
            "{rel} ({reader}) {name}, sample {k}: read back {b}, source {} (ADC {})",
            w * per_unit,
            r.digital[i][k]
        );
    }
}

fn round_trip(rel: &str) {
    let dir = scratch(rel);
    let (r, path) = encode(rel, &dir);
    compare(rel, "worker-ecg", &r, &ours(&path), true);
    compare(rel, "pydicom", &r, &pydicom(&path, &dir), false);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn scratch(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wfdb-dicom-{}-{}",
        std::process::id(),
        what.replace('/', "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The formats no corpus record uses — 61 (big-endian 16 bit), 80 (offset 8 bit) and 160
/// (offset 16 bit) — with a baseline, a byte offset and units other than mV, round-trip too.
#[test]
fn formats_61_80_160_round_trip() {
    let header = "f 3 250 4\n\
                  f.61 61 100(-3)/mV 16 0 -3 32758 0 II\n\
                  f.80 80+2 2.5(10)/mmHg 8 0 10 9 0 ABP\n\
                  f.160 160 40/NU 16 0 0 39 0 PLETH\n";
    let file = |name: &str| -> Vec<u8> {
        match name {
            "f.61" => [-3i16, 97, -103, 32767]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
            "f.80" => vec![0xAA, 0xBB, 138, 0, 255, 128],
            _ => [32768u16, 0, 65535, 32808]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        }
    };
    let r =
        worker_ecg::wfdb::record_from_parts(header, Path::new("f.hea"), |n| Ok(file(n))).unwrap();
    assert_eq!(r.digital[0], [-3, 97, -103, 32767]);
    assert_eq!(r.digital[1], [10, -128, 127, 0]);
    assert_eq!(r.digital[2], [0, -32768, 32767, 40]);
    let dir = scratch("formats");
    let path = encode_record("formats", &r, &dir);
    compare("formats", "worker-ecg", &r, &ours(&path), true);
    compare("formats", "pydicom", &r, &pydicom(&path, &dir), false);
    std::fs::remove_dir_all(&dir).unwrap();
}

macro_rules! records {
    ($($name:ident: $rel:literal,)*) => {$(
        #[test]
        fn $name() {
            round_trip($rel);
        }
    )*};
}

records! {
    mimic_03700181_mcl1_abp_resp: "ecg/wfdb/mimicdb/03700181.hea",
    challenge2015_v102s_ecg_pleth_resp: "ecg/wfdb/challenge2015/v102s.hea",
    ptb_s0010_re_fifteen_leads: "ecg/wfdb/ptbdb/s0010_re.hea",
    mitdb_100: "ecg/wfdb/mitdb/100.hea",
    annotated_mitdb_102_paced: "ecg-annotated/mitdb/102.hea",
    annotated_mitdb_203: "ecg-annotated/mitdb/203.hea",
    annotated_ludb_1: "ecg-annotated/ludb/1.hea",
    annotated_ludb_100: "ecg-annotated/ludb/100.hea",
    annotated_qtdb_sel100: "ecg-annotated/qtdb/sel100.hea",
    annotated_qtdb_sel16265_unnamed_signals: "ecg-annotated/qtdb/sel16265.hea",
    annotated_nstdb_118e12: "ecg-annotated/nstdb/118e12.hea",
}

/// The stored object of a record with no ECG lead would be a recording the hub cannot read:
/// it is refused, and the error names the channels.
#[test]
fn a_record_without_ecg_leads_is_refused_naming_its_channels() {
    let text =
        "bp 2 125 4\nbp.dat 16 12.84(-1605)/mmHg 12 0 0 0 0 ABP\nbp.dat 16 2000 12 0 0 0 0 RESP\n";
    let r = worker_ecg::wfdb::record_from_parts(text, Path::new("up/bp.hea"), |_| Ok(vec![0; 16]))
        .unwrap();
    let e = from_wfdb(&r).unwrap_err().to_string();
    assert!(
        e.contains("bp.hea") && e.contains("ABP [mmHg]") && e.contains("RESP [mV]"),
        "{e}"
    );
    assert!(r.to_ecg().leads.is_empty());
    assert_eq!(r.to_recording().others.len(), 2);
    assert_eq!(r.to_recording().others[0].unit, Unit::MillimetreMercury);
}
