//! The ingest path with real DICOM files: acceptance, idempotency, refusals, privacy.

mod common;

use common::*;
use hub::domain::staging::RejectReason;
use hub::model::CaseState;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(corpus_file(rel)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_study_is_stored_once_and_queued_when_the_session_ends() {
    let t = test_hub(|_| {}).await;
    let ct = read("dicom/pydicom-test-files/CT_small.dcm");
    let (out, cases) = upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct.clone())]).await;
    let accepted = out[0].as_ref().unwrap();
    assert!(!accepted.duplicate);
    assert_eq!(cases, vec![accepted.case_id]);

    let detail = t
        .hub
        .case_detail(&t.specialist, accepted.case_id)
        .await
        .unwrap();
    assert_eq!(detail.case.state(), CaseState::Received);
    assert_eq!(detail.case.modality, "CT");
    assert_eq!(
        (detail.case.instance_count, detail.case.total_bytes),
        (1, ct.len() as i64)
    );
    assert!(detail.case.deadline_at_ms > detail.case.received_at_ms);
    assert_eq!(detail.instances[0].rows, 128);

    // The same file again: a duplicate of the same case, nothing added.
    let (out, _) = upload(&t.hub, &t.clinic_a, &[("again.dcm", ct)]).await;
    let again = out[0].as_ref().unwrap();
    assert!(again.duplicate);
    assert_eq!(again.case_id, accepted.case_id);
    let detail = t
        .hub
        .case_detail(&t.specialist, accepted.case_id)
        .await
        .unwrap();
    assert_eq!(detail.case.instance_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_with_their_name_and_reason_and_the_rest_goes_on() {
    let t = test_hub(|_| {}).await;
    let ct = read("dicom/pydicom-test-files/CT_small.dcm");
    let mut tampered = ct.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xFF;
    let files = [
        ("notes.txt", b"this is not an image".to_vec()),
        (
            "MR_truncated.dcm",
            read("dicom/pydicom-test-files/MR_truncated.dcm"),
        ),
        ("cut.dcm", ct[..ct.len() / 2].to_vec()),
        ("ct.dcm", ct),
        ("tampered.dcm", tampered),
    ];
    let (out, cases) = upload(&t.hub, &t.clinic_a, &files).await;
    let reason = |i: usize| out[i].as_ref().unwrap_err().reason;
    let message = |i: usize| out[i].as_ref().unwrap_err().message.clone();
    assert_eq!(reason(0), RejectReason::NotDicom);
    assert!(message(0).starts_with("notes.txt:"), "{}", message(0));
    assert_eq!(reason(1), RejectReason::Malformed, "{}", message(1));
    assert!(message(1).starts_with("MR_truncated.dcm:"));
    assert_eq!(reason(2), RejectReason::Malformed, "{}", message(2));
    assert!(out[3].is_ok());
    assert_eq!(reason(4), RejectReason::Conflict);
    assert!(message(4).contains("different content"), "{}", message(4));
    assert_eq!(cases.len(), 1, "only the good file made a case");
    let listed = t
        .hub
        .list_cases(&t.admin, Default::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "refused files leave no trace in the index");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_study_of_one_clinic_cannot_be_added_to_by_another() {
    let t = test_hub(|_| {}).await;
    let ct = read("dicom/pydicom-test-files/CT_small.dcm");
    upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct)]).await;
    // Another instance of the same study, from clinic B.
    let other = read("dicom/pydicom-test-files/CT_small.dcm");
    let (out, _) = upload(&t.hub, &t.clinic_b, &[("b.dcm", other)]).await;
    let r = out[0].as_ref();
    // Same SOP Instance UID and bytes: clinic B gets a duplicate answer only if it were its study;
    // here the study belongs to TS-A, which the duplicate check must not leak past.
    match r {
        Ok(a) => panic!("clinic B was given clinic A's case {}", a.case_id),
        Err(e) => assert_eq!(e.reason, RejectReason::ForeignStudy, "{}", e.message),
    }
    // Clinic A's case reads to clinic B exactly as a case that does not exist.
    let foreign = t.hub.case_detail(&t.clinic_b, 1).await.unwrap_err();
    let missing = t.hub.case_detail(&t.clinic_b, 999).await.unwrap_err();
    assert!(
        matches!(foreign, hub::domain::Error::NotFound(_)),
        "{foreign}"
    );
    assert_eq!(
        foreign.to_string().replace(" 1", " N"),
        missing.to_string().replace(" 999", " N")
    );
    assert!(!foreign.to_string().contains("TS-A"), "{foreign}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_never_holds_the_raw_patient_identifier_or_name() {
    let t = test_hub(|_| {}).await;
    let ct = read("dicom/pydicom-test-files/CT_small.dcm");
    let obj = dicom_object::from_reader(&ct[128..]).unwrap();
    let id = obj
        .element(dicom_dictionary_std::tags::PATIENT_ID)
        .unwrap()
        .to_str()
        .unwrap()
        .trim()
        .to_owned();
    let name = obj
        .element(dicom_dictionary_std::tags::PATIENT_NAME)
        .unwrap()
        .to_str()
        .unwrap()
        .trim()
        .to_owned();
    upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct)]).await;
    let detail = t.hub.case_detail(&t.specialist, 1).await.unwrap();
    assert_eq!(detail.case.patient_key.len(), 64);
    assert_ne!(detail.case.patient_display, name);
    // Nothing in the database files spells the raw values.
    for entry in std::fs::read_dir(t.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("index.sqlite3")
        {
            let bytes = std::fs::read(&path).unwrap();
            let hay = String::from_utf8_lossy(&bytes);
            assert!(
                !hay.contains(&id),
                "{} holds the raw patient ID {id}",
                path.display()
            );
            assert!(
                !hay.contains(&name),
                "{} holds the raw patient name {name}",
                path.display()
            );
        }
    }
    // Authorised viewers still see the name, read from the stored instance.
    assert_eq!(t.hub.patient_name(&detail).await, name);
}

/// The structure check reads headers only, so it must still find a file cut anywhere: inside an
/// encapsulated fragment, between fragments, inside native pixel data, or with a trailing element
/// cut; and it must accept every whole file, encapsulated or not, deflated included.
#[test]
fn a_file_cut_anywhere_is_malformed_and_a_whole_one_is_read() {
    use hub::domain::dicom_meta::{self, MetaError};
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        dicom_meta::read(&path, name)
    };
    for rel in [
        "dicom/pydicom-test-files/JPEG2000.dcm",
        "dicom/pydicom-test-files/MR_small_RLE.dcm",
        "dicom/pydicom-test-files/CT_small.dcm",
        "dicom/pydicom-test-files/image_dfl.dcm",
    ] {
        let whole = read(rel);
        let name = rel.rsplit('/').next().unwrap();
        match check(name, &whole) {
            Ok(meta) => assert!(meta.rows > 0, "{rel}"),
            // The deflated sample has no Patient ID: its data set was inflated, walked and read
            // as far as the attributes, which is what this test is after.
            Err(MetaError::MissingAttribute { attribute, .. }) if name == "image_dfl.dcm" => {
                assert!(attribute.starts_with("PatientID"), "{attribute}")
            }
            Err(e) => panic!("{rel}: {e}"),
        }
        // Cut inside Pixel Data (a cut between top-level elements before it would leave a
        // shorter, well-formed data set): a third and two thirds in, in the last item or
        // fragment, in the last header. Deflated: anywhere in the compressed stream.
        let pixel_tag = whole
            .windows(4)
            .rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00])
            .unwrap_or(whole.len() / 2);
        let rest = whole.len() - pixel_tag;
        let mut cuts = vec![
            pixel_tag + rest / 3,
            pixel_tag + rest * 2 / 3,
            whole.len() - 9,
        ];
        // The deflated sample's stream is followed by 8 bytes that are not part of it (cutting
        // them leaves the data set whole); cutting 9 cuts the stream.
        if name != "image_dfl.dcm" {
            cuts.push(whole.len() - 1);
        }
        for cut in cuts {
            match check(name, &whole[..cut]) {
                Err(MetaError::Malformed { file, reason }) => {
                    assert_eq!(file, name);
                    assert!(!reason.is_empty());
                }
                other => panic!("{rel} cut at {cut} of {}: {other:?}", whole.len()),
            }
        }
    }
}

/// The index fields come from a header walk that hands dicom-object only the attributes the index
/// reads. For every corpus file that the structure check and a full parse of the header both
/// accept, they must equal what the full parse says, read the same way.
#[test]
fn index_fields_equal_a_full_header_parse_for_every_corpus_file() {
    use dicom_dictionary_std::tags;
    use dicom_meta::{int, text};
    use dicom_object::OpenFileOptions;
    use hub::domain::dicom_meta;

    let mut files = vec![corpus().join("dicom")];
    let (mut compared, mut mismatches) = (0, Vec::new());
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if !dicom_meta::looks_like_dicom(&path) || worker_imaging::check_structure(&path).is_err() {
            continue;
        }
        let Ok(full) = OpenFileOptions::new()
            .read_until(tags::PIXEL_DATA)
            .open_file(&path)
        else {
            continue;
        };
        let name = path.display().to_string();
        let uids = [
            (tags::SOP_INSTANCE_UID, "SOPInstanceUID"),
            (tags::SOP_CLASS_UID, "SOPClassUID"),
            (tags::STUDY_INSTANCE_UID, "StudyInstanceUID"),
            (tags::SERIES_INSTANCE_UID, "SeriesInstanceUID"),
        ];
        let ours = match dicom_meta::read(&path, &name) {
            Ok(meta) => meta,
            // Refused for a missing attribute: the full parse must lack it too.
            Err(dicom_meta::MetaError::MissingAttribute { attribute, .. }) => {
                let present = uids
                    .iter()
                    .chain(&[(tags::PATIENT_ID, "PatientID")])
                    .any(|(tag, kw)| attribute.starts_with(kw) && !text(&full, *tag).is_empty());
                if present {
                    mismatches.push(format!(
                        "{name}: {attribute} missing here, present in full parse"
                    ));
                }
                compared += 1;
                continue;
            }
            Err(e) => {
                mismatches.push(format!("{name}: refused ({e}), full parse accepts"));
                continue;
            }
        };
        let expected = [
            (
                "SOPInstanceUID",
                text(&full, tags::SOP_INSTANCE_UID),
                ours.sop_instance_uid.clone(),
            ),
            (
                "StudyInstanceUID",
                text(&full, tags::STUDY_INSTANCE_UID),
                ours.study_instance_uid.clone(),
            ),
            (
                "SeriesInstanceUID",
                text(&full, tags::SERIES_INSTANCE_UID),
                ours.series_instance_uid.clone(),
            ),
            (
                "PatientID",
                text(&full, tags::PATIENT_ID),
                ours.patient_id.clone(),
            ),
            (
                "PatientName",
                text(&full, tags::PATIENT_NAME),
                ours.patient_name.clone(),
            ),
            (
                "PatientBirthDate",
                text(&full, tags::PATIENT_BIRTH_DATE),
                ours.patient_birth_date.clone(),
            ),
            (
                "StudyDate",
                text(&full, tags::STUDY_DATE),
                ours.study_date.clone(),
            ),
            (
                "Modality",
                text(&full, tags::MODALITY).to_ascii_uppercase(),
                ours.modality.clone(),
            ),
            (
                "Rows",
                int(&full, tags::ROWS).to_string(),
                ours.rows.to_string(),
            ),
            (
                "Columns",
                int(&full, tags::COLUMNS).to_string(),
                ours.columns.to_string(),
            ),
            (
                "InstanceNumber",
                int(&full, tags::INSTANCE_NUMBER).to_string(),
                ours.instance_number.to_string(),
            ),
            (
                "TransferSyntaxUID",
                full.meta()
                    .transfer_syntax()
                    .trim_end_matches(['\0', ' '])
                    .to_owned(),
                ours.transfer_syntax_uid.clone(),
            ),
        ];
        for (what, theirs, mine) in expected {
            // SOP Instance UID falls back to the meta group's when the data set lacks it.
            if what == "SOPInstanceUID" && theirs.is_empty() {
                continue;
            }
            if theirs != mine {
                mismatches.push(format!("{name}: {what} {mine:?}, full parse {theirs:?}"));
            }
        }
        compared += 1;
    }
    assert!(compared >= 50, "only {compared} corpus files compared");
    assert!(
        mismatches.is_empty(),
        "{} of {compared}:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// A UID written with VR UN (by a converter that did not know the attribute) is read as the text
/// it is, not as a list of byte values.
#[test]
fn attributes_sent_as_un_are_read_as_their_text() {
    let path = corpus_file("dicom/pydicom-data/explicit_VR-UN.dcm");
    let meta = hub::domain::dicom_meta::read(&path, "explicit_VR-UN.dcm").unwrap();
    assert!(
        meta.sop_instance_uid.starts_with("1.2.826.0.1.3680043."),
        "{}",
        meta.sop_instance_uid
    );
}

/// The file meta group must declare a transfer syntax and its UIDs must be UIDs, as dicom-object
/// required when it parsed the whole header; the data set's UIDs are taken as they are (an
/// anonymiser wrote a hash into this one's SOP Instance UID).
#[test]
fn the_file_meta_group_needs_a_transfer_syntax_and_real_uids() {
    use hub::domain::dicom_meta;
    let hashed = corpus_file("dicom/pydicom-data/bad_sequence.dcm");
    let meta = dicom_meta::read(&hashed, "hashed.dcm").unwrap();
    assert!(
        meta.sop_instance_uid.starts_with("dccc95990"),
        "{}",
        meta.sop_instance_uid
    );

    let mut bytes = read("dicom/pydicom-test-files/CT_small.dcm");
    // (0002,0003) UI: the Media Storage SOP Instance UID's first character becomes a letter.
    let at = bytes
        .windows(6)
        .position(|w| w == [0x02, 0x00, 0x03, 0x00, b'U', b'I'])
        .expect("CT_small has a Media Storage SOP Instance UID")
        + 8;
    bytes[at] = b'x';
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.dcm");
    std::fs::write(&path, &bytes).unwrap();
    let err = dicom_meta::read(&path, "letter.dcm").unwrap_err();
    assert!(
        err.to_string().starts_with(
            "letter.dcm: cannot be parsed as DICOM (MediaStorageSOPInstanceUID (0002,0003) \"x"
        ),
        "{err}"
    );

    // Without a Transfer Syntax UID, a Part 10 file is refused (the walk alone would guess it).
    let mut bytes = read("dicom/pydicom-test-files/CT_small.dcm");
    let at = bytes
        .windows(6)
        .position(|w| w == [0x02, 0x00, 0x10, 0x00, b'U', b'I'])
        .expect("CT_small declares its transfer syntax");
    let len = usize::from(u16::from_le_bytes([bytes[at + 6], bytes[at + 7]]));
    bytes.drain(at..at + 8 + len);
    let path = dir.path().join("no-syntax.dcm");
    std::fs::write(&path, &bytes).unwrap();
    let err = dicom_meta::read(&path, "no-syntax.dcm").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no-syntax.dcm: cannot be parsed as DICOM (the file meta group has no TransferSyntaxUID (0002,0010))"
    );
}
