//! The generated set read back with dicom-object: tags, pixel values, UIDs, the manifest and
//! determinism.

use std::collections::HashSet;

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use sample_data::phantom::{chest, head};
use sample_data::plan::{PATIENTS, STUDIES};
use sample_data::{DEFAULT_SEED, SampleSet, encode, id_card, render, uid};

fn set() -> SampleSet {
    render(DEFAULT_SEED).expect("render the default set")
}

fn parse(bytes: &[u8]) -> DefaultDicomObject {
    assert_eq!(&bytes[128..132], b"DICM", "Part 10 preamble and marker");
    dicom_object::from_reader(&bytes[128..]).expect("parses with dicom-object")
}

fn text(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> String {
    let s = obj
        .element(tag)
        .unwrap_or_else(|_| panic!("{tag} present"))
        .to_str()
        .unwrap();
    s.trim_end_matches(['\0', ' ']).to_owned()
}

fn float(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> f64 {
    text(obj, tag).parse().unwrap()
}

fn pixels_i16(obj: &DefaultDicomObject) -> Vec<i16> {
    let bytes = obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap();
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn every_file_parses_with_the_tags_of_its_study() {
    let set = set();
    assert_eq!(set.files.len(), 28, "24 CT slices, 2 radiographs, 2 ECGs");
    for study in &set.manifest.studies {
        let patient = set
            .manifest
            .patients
            .iter()
            .find(|p| p.key == study.patient)
            .unwrap();
        for f in study.series.iter().flat_map(|s| &s.files) {
            let bytes = &set.files.iter().find(|g| g.path == f.path).unwrap().bytes;
            let obj = parse(bytes);
            assert_eq!(
                obj.meta().transfer_syntax().trim_end_matches('\0'),
                "1.2.840.10008.1.2.1"
            );
            assert_eq!(text(&obj, tags::SPECIFIC_CHARACTER_SET), "ISO_IR 192");
            assert_eq!(text(&obj, tags::SOP_INSTANCE_UID), f.sop_instance_uid);
            assert_eq!(
                text(&obj, tags::STUDY_INSTANCE_UID),
                study.study_instance_uid
            );
            assert_eq!(text(&obj, tags::PATIENT_NAME), patient.name);
            assert_eq!(text(&obj, tags::PATIENT_ID), patient.patient_id);
            assert_eq!(text(&obj, tags::PATIENT_SEX), patient.sex);
            assert_eq!(text(&obj, tags::INSTITUTION_NAME), study.institution);
            assert_eq!(text(&obj, tags::MODALITY), study.modality);
            if study.modality != "ECG" {
                assert_eq!(text(&obj, tags::BODY_PART_EXAMINED), study.body_part);
            }
            assert_eq!(text(&obj, tags::ACCESSION_NUMBER), study.accession_number);
            assert_eq!(text(&obj, tags::STUDY_DESCRIPTION), study.description);
            assert_eq!(text(&obj, tags::MANUFACTURER), "remotedx-synthetic");
            assert_eq!(
                text(&obj, tags::INSTANCE_NUMBER),
                f.instance_number.to_string()
            );
            assert!(!text(&obj, tags::REFERRING_PHYSICIAN_NAME).is_empty());
        }
    }
}

#[test]
fn patients_have_valid_id_cards_and_two_name_groups() {
    let set = set();
    assert_eq!(set.manifest.patients.len(), 2);
    for p in &set.manifest.patients {
        assert_eq!(p.patient_id.len(), 18);
        assert!(id_card::is_valid(&p.patient_id), "{}", p.patient_id);
        assert!(p.patient_id.starts_with(id_card::FICTIONAL_REGION));
        assert_eq!(&p.patient_id[6..14], p.birth_date, "birth date is embedded");
        let (latin, ideographic) = p.name.split_once('=').unwrap();
        assert!(latin.is_ascii() && latin.contains('^'));
        assert!(!ideographic.is_ascii() && ideographic.contains('^'));
        // Sequence digit parity follows sex: odd for men.
        let odd = (p.patient_id.as_bytes()[16] - b'0') % 2 == 1;
        assert_eq!(odd, p.sex == "M");
    }
}

#[test]
fn two_clinics_each_with_studies_of_every_modality() {
    let set = set();
    let clinics: HashSet<&str> = set
        .manifest
        .studies
        .iter()
        .map(|s| s.institution.as_str())
        .collect();
    assert_eq!(clinics.len(), 2);
    let modalities: HashSet<&str> = set
        .manifest
        .studies
        .iter()
        .map(|s| s.modality.as_str())
        .collect();
    assert_eq!(modalities, HashSet::from(["CT", "DX", "ECG"]));
    let items: Vec<&str> = set
        .manifest
        .studies
        .iter()
        .map(|s| s.exam_item.as_str())
        .collect();
    assert_eq!(
        items,
        ["CT-HEAD", "DR-CHEST", "DR-CHEST", "ECG-12", "ECG-12"]
    );
}

#[test]
fn uids_are_valid_unique_and_under_the_root() {
    let set = set();
    let root = &set.manifest.uid_root;
    let mut seen = HashSet::new();
    for s in &set.manifest.studies {
        let mut uids = vec![s.study_instance_uid.clone()];
        for se in &s.series {
            uids.push(se.series_instance_uid.clone());
            uids.extend(se.files.iter().map(|f| f.sop_instance_uid.clone()));
        }
        for u in uids {
            assert!(uid::is_valid(&u), "{u}");
            assert!(u.starts_with(&format!("{root}.")), "{u} under {root}");
            assert!(seen.insert(u.clone()), "{u} twice");
        }
    }
    for f in &set.files {
        let obj = parse(&f.bytes);
        let series = text(&obj, tags::SERIES_INSTANCE_UID);
        assert!(series.starts_with(&text(&obj, tags::STUDY_INSTANCE_UID)));
        assert_eq!(
            obj.meta()
                .media_storage_sop_instance_uid()
                .trim_end_matches('\0'),
            f.sop_instance_uid
        );
    }
}

#[test]
fn ct_slices_are_geometrically_consistent() {
    let set = set();
    let ct: Vec<DefaultDicomObject> = set
        .files
        .iter()
        .filter(|f| f.path.contains("ct-head"))
        .map(|f| parse(&f.bytes))
        .collect();
    assert_eq!(ct.len() as u32, encode::ct::SLICES);
    let for_uid = text(&ct[0], tags::FRAME_OF_REFERENCE_UID);
    for (i, obj) in ct.iter().enumerate() {
        assert_eq!(text(obj, tags::FRAME_OF_REFERENCE_UID), for_uid);
        assert_eq!(
            text(obj, tags::IMAGE_ORIENTATION_PATIENT),
            "1\\0\\0\\0\\1\\0"
        );
        assert_eq!(text(obj, tags::PIXEL_SPACING), "0.9\\0.9");
        assert_eq!(float(obj, tags::SLICE_THICKNESS), 5.0);
        let position: Vec<f64> = text(obj, tags::IMAGE_POSITION_PATIENT)
            .split('\\')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(position, vec![-114.75, -114.75, 2.5 + 5.0 * i as f64]);
        assert_eq!(float(obj, tags::SLICE_LOCATION), position[2]);
        assert_eq!(
            obj.element(tags::ROWS).unwrap().to_int::<u16>().unwrap(),
            256
        );
        assert_eq!(
            obj.element(tags::PIXEL_REPRESENTATION)
                .unwrap()
                .to_int::<u16>()
                .unwrap(),
            1
        );
        assert_eq!(float(obj, tags::RESCALE_INTERCEPT), -1024.0);
        assert_eq!(float(obj, tags::RESCALE_SLOPE), 1.0);
        assert_eq!(float(obj, tags::WINDOW_CENTER), 40.0);
        assert_eq!(float(obj, tags::WINDOW_WIDTH), 80.0);
    }
}

/// HU of the pixel nearest a patient position in a CT slice.
fn hu_near(obj: &DefaultDicomObject, x: f64, y: f64) -> f64 {
    let px = pixels_i16(obj);
    let col = ((x + 114.75) / 0.9).round() as usize;
    let row = ((y + 114.75) / 0.9).round() as usize;
    f64::from(px[row * 256 + col]) * float(obj, tags::RESCALE_SLOPE)
        + float(obj, tags::RESCALE_INTERCEPT)
}

#[test]
fn ct_pixels_show_the_phantom_in_hounsfield_units() {
    let set = set();
    // Slice 11 (z = 52.5) passes through the haemorrhage's centre (z = 52).
    let slice = set
        .files
        .iter()
        .find(|f| f.path.ends_with("ct-head/CT0011.dcm"))
        .unwrap();
    let obj = parse(&slice.bytes);
    let tolerance = 2.0 * 3f64.sqrt() * encode::ct::NOISE_HU + 0.5;
    let c = head::HAEMORRHAGE.centre;
    let checks = [
        ((c[0], c[1]), head::hu::BLOOD),
        ((-c[0], c[1]), head::hu::WHITE),
        ((90.0, 0.0), head::hu::AIR),
        ((0.0, -0.93 * 94.0 * 0.98), head::hu::BONE),
        ((-9.0, 2.0), head::hu::CSF),
    ];
    for ((x, y), expected) in checks {
        let hu = hu_near(&obj, x, y);
        assert!(
            (hu - expected).abs() <= tolerance,
            "HU at ({x}, {y}) is {hu}, expected {expected}"
        );
    }
    let px = pixels_i16(&obj);
    assert_eq!(
        px[0],
        encode::ct::PADDING,
        "outside the reconstruction circle"
    );
    assert!(px.iter().any(|&p| p < 0), "signed values are really used");
}

#[test]
fn dx_pixels_show_the_phantom() {
    let set = set();
    for (path, consolidation) in [
        ("lianhua/wang-fang-dr-chest/DX0001.dcm", true),
        ("baishui/zhang-san-dr-chest/DX0001.dcm", false),
    ] {
        let f = set.files.iter().find(|f| f.path == path).unwrap();
        let obj = parse(&f.bytes);
        assert_eq!(text(&obj, tags::PHOTOMETRIC_INTERPRETATION), "MONOCHROME2");
        assert_eq!(
            obj.element(tags::BITS_STORED)
                .unwrap()
                .to_int::<u16>()
                .unwrap(),
            12
        );
        assert_eq!(text(&obj, tags::VIEW_POSITION), "PA");
        let bytes = obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap();
        let px: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(px.len(), 512 * 512);
        assert!(px.iter().all(|&p| p < 4096));
        let at = |u: f64, v: f64| {
            let col = ((u + 1.0) / 2.0 * 512.0 - 0.5).round() as usize;
            let row = ((v + 1.0) / 2.0 * 512.0 - 0.5).round() as usize;
            f64::from(px[row * 512 + col])
        };
        let c = chest::CONSOLIDATION.centre;
        let expected = chest::value_at(c[0], c[1], consolidation);
        assert!((at(c[0], c[1]) - expected).abs() < 100.0, "{path}");
        assert!(
            at(-0.98, -0.98) < 400.0,
            "background is dark in MONOCHROME2"
        );
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_uids() {
    let a = set();
    let b = set();
    assert_eq!(a.files, b.files);
    assert_eq!(a.manifest_json(), b.manifest_json());
    let other = render(7).unwrap();
    assert_ne!(other.manifest.uid_root, a.manifest.uid_root);
    assert_ne!(other.files[0].bytes, a.files[0].bytes);
    // Patients stay the same across seeds, so results can be recognised across generated sets.
    assert_eq!(other.manifest.patients, a.manifest.patients);
}

#[test]
fn manifest_matches_the_files_and_round_trips() {
    let set = set();
    let json = set.manifest_json();
    let back: sample_data::manifest::Manifest = serde_json::from_str(&json).unwrap();
    assert_eq!(back, set.manifest);
    let listed: Vec<&str> = set.manifest.files().map(|f| f.path.as_str()).collect();
    let made: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(listed, made);
    for (entry, file) in set.manifest.files().zip(&set.files) {
        assert_eq!(entry.size, file.bytes.len() as u64);
        use sha2::Digest;
        assert_eq!(entry.sha256, hex::encode(sha2::Sha256::digest(&file.bytes)));
    }
    let ecg_studies = set
        .manifest
        .studies
        .iter()
        .filter(|s| s.modality == "ECG")
        .count();
    assert_eq!(set.manifest.ecgs.len(), ecg_studies);
    assert!(ecg_studies >= 2);
    assert_eq!(set.manifest.studies.len(), STUDIES.len());
    assert_eq!(set.manifest.patients.len(), PATIENTS.len());
    assert!(set.manifest.studies[0].critical_finding);
}

/// The sample ECGs read back (through worker-ecg's DICOM reader) as their truth: every beat is
/// found, the intervals are within the tolerances worker-ecg documents (PR/QRS ±10 ms, QT ±25 ms),
/// and the finding raises its flag (ST elevation is critical; AF-like is irregular).
#[test]
fn sample_ecgs_measure_as_their_truth() {
    let set = set();
    let dir = tempfile::tempdir().unwrap();
    for truth in &set.manifest.ecgs {
        let file = set.files.iter().find(|f| f.path == truth.path).unwrap();
        let path = dir.path().join("ecg.dcm");
        std::fs::write(&path, &file.bytes).unwrap();
        let ecg = worker_ecg::read_dicom(&path).unwrap();
        assert_eq!(
            (ecg.leads.len(), ecg.fs, ecg.len()),
            (12, 500.0, 5000),
            "{}",
            truth.path
        );
        let a = worker_ecg::analyse(&ecg).unwrap();
        let window = 75; // 150 ms at 500 Hz, as bxb matches beats
        for &b in &truth.beats {
            assert!(
                a.beats
                    .iter()
                    .any(|&d| (d as i64 - b as i64).abs() <= window),
                "{}: beat at sample {b} not found in {:?}",
                truth.path,
                a.beats
            );
        }
        assert_eq!(a.beats.len(), truth.beats.len(), "{}", truth.path);
        let m = a.measurements.as_ref().expect("measurements");
        assert!(
            (m.qrs_ms - f64::from(truth.qrs_ms)).abs() <= 10.0,
            "{}: QRS {}",
            truth.path,
            m.qrs_ms
        );
        let qt = m.qt_ms.expect("QT");
        assert!(
            (qt - f64::from(truth.qt_ms)).abs() <= 25.0,
            "{}: QT {qt}",
            truth.path
        );
        if let Some(pr) = truth.pr_ms {
            let ours = m.pr_ms.expect("PR");
            assert!(
                (ours - f64::from(pr)).abs() <= 10.0,
                "{}: PR {ours}",
                truth.path
            );
        }
        let codes: Vec<&str> = a.flags.iter().map(|f| f.code.as_str()).collect();
        if truth.critical_finding {
            assert!(
                codes.contains(&"ST_ELEVATION") && a.critical(),
                "{}: {codes:?}",
                truth.path
            );
        }
        if truth.rhythm == "af-like" {
            assert!(
                codes.contains(&"IRREGULAR_RHYTHM"),
                "{}: {codes:?}",
                truth.path
            );
            assert!(!a.critical(), "{}: {codes:?}", truth.path);
        }
    }
}
