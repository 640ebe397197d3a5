//! One recording, two patients, through the real binaries: the same WFDB record (MIT-BIH 100)
//! uploaded again under another patient's ID card number, and a CT image re-sent under another
//! Patient ID, are held out of the reading queue as possible patient mix-ups. The clinic sees why
//! in `cases`, an administrator sees both sides in `mixup list`, and either resolves it.

use std::path::Path;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use e2e::*;
use serde_json::Value;

const CLINIC_A: &str = "demo-clinic-a";
const CLINIC_B: &str = "demo-clinic-b";
const SPECIALIST: &str = "demo-specialist";
const ADMIN: &str = "demo-admin";

/// An 18-digit resident ID card number (GB 11643: ISO 7064 MOD 11-2 check character) in the
/// fictional region 990321, born on `birth` (YYYYMMDD), with sequence `seq`.
fn id_card(birth: &str, seq: u16) -> String {
    let first17 = format!("990321{birth}{seq:03}");
    let sum: u32 = first17
        .bytes()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * (0..17 - i).fold(1, |w, _| w * 2 % 11))
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// The case a clinic's `cases` lists under `id`.
fn listed(hub: &HubProcess, token: &str, id: i64) -> Value {
    let cases = ok(&cli(hub, token, &["cases"])).clone();
    cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("case {id} not in {cases}"))
}

/// Case ids in the specialist's queue.
fn queued(hub: &HubProcess) -> Vec<i64> {
    let queue = ok(&cli(hub, SPECIALIST, &["queue"])).clone();
    queue["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["case"]["case_id"].as_i64())
        .collect()
}

/// Audit actions recorded on `case`.
fn audited(hub: &HubProcess, case: i64) -> Vec<String> {
    let audit = ok(&cli(hub, ADMIN, &["audit", "--case", &case.to_string()])).clone();
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

/// Uploads `file` as `token` with extra arguments; returns the session's first case.
fn upload(hub: &HubProcess, token: &str, file: &Path, extra: &[&str]) -> Value {
    let args = [&["upload", file.to_str().unwrap()][..], extra].concat();
    ok(&cli(hub, token, &args))["summary"]["cases"][0].clone()
}

#[test]
fn a_wfdb_record_uploaded_under_a_second_patient_is_held_until_resolved() {
    assert_eq!(
        id_card("19580304", 17),
        "990321195803040170",
        "check character"
    );
    let dir = tempfile::tempdir().unwrap();
    let hub = demo_hub_without_samples(dir.path());
    let record = corpus().join("ecg/wfdb/mitdb/100.hea");
    let (p1, p2) = (id_card("19560101", 11), id_card("19710505", 22));

    let first = upload(&hub, CLINIC_A, &record, &["--patient-id", &p1]);
    let first_id = first["case_id"].as_i64().unwrap();
    assert_ne!(first["state"], "mixup_hold", "{first}");
    let second = upload(&hub, CLINIC_A, &record, &["--patient-id", &p2]);
    let second_id = second["case_id"].as_i64().unwrap();
    assert_ne!(
        first_id, second_id,
        "another patient's record is another case"
    );
    assert_eq!(second["state"], "mixup_hold", "{second}");

    // The clinic sees it held and why; the specialist cannot read it.
    let held = listed(&hub, CLINIC_A, second_id);
    assert_eq!(held["state"], "mixup_hold", "{held}");
    let reason = held["hold_reason"].as_str().unwrap();
    assert!(
        reason.contains("ECG's signal is already on file under a different patient"),
        "{reason}"
    );
    assert_eq!(listed(&hub, CLINIC_A, first_id)["hold_reason"], "");
    assert!(!queued(&hub).contains(&second_id));
    let claim = cli(&hub, SPECIALIST, &["claim", &second_id.to_string()]);
    assert_eq!(claim.code, 4, "{}", claim.stderr);

    // The administrator sees both sides, by pseudonym and masked identity; the other clinic none.
    let list = ok(&cli(&hub, ADMIN, &["mixup", "list"])).clone();
    let m = &list["mixups"][0];
    assert_eq!(
        (
            m["held"]["case_id"].as_i64(),
            m["earlier"]["case_id"].as_i64()
        ),
        (Some(second_id), Some(first_id)),
        "{list}"
    );
    let keys = [&m["held"]["patient_key"], &m["earlier"]["patient_key"]];
    assert!(
        keys.iter().all(|k| k.as_str().unwrap().len() == 64) && keys[0] != keys[1],
        "{m}"
    );
    for side in ["held", "earlier"] {
        let masked = m[side]["patient_id_masked"].as_str().unwrap();
        assert!(!masked.is_empty() && masked != p1 && masked != p2, "{m}");
    }
    let theirs = ok(&cli(&hub, CLINIC_B, &["mixup", "list"])).clone();
    assert_eq!(theirs["mixups"].as_array().unwrap().len(), 0, "{theirs}");
    assert!(audited(&hub, first_id).contains(&"mixup_suspected".to_owned()));

    // The clinic checked: two patients after all. The case joins the queue.
    let resolve = [
        "mixup",
        "resolve",
        &second_id.to_string(),
        "--different-patient",
        "--note",
        "recorded twice on purpose: teaching copy, checked with Dr Wang",
    ];
    let resolved = ok(&cli(&hub, CLINIC_A, &resolve)).clone();
    assert_ne!(resolved["state"], "mixup_hold", "{resolved}");
    let mut in_queue = false;
    for _ in 0..150 {
        in_queue = queued(&hub).contains(&second_id);
        if in_queue {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(in_queue, "case {second_id} joins the queue once resolved");
    let actions = audited(&hub, second_id);
    for needed in ["mixup_suspected", "mixup_resolved"] {
        assert!(actions.iter().any(|a| a == needed), "{needed}: {actions:?}");
    }
    let again = cli(&hub, CLINIC_A, &resolve);
    assert_eq!(again.code, 4, "nothing left to resolve: {}", again.stderr);
}

/// CT_small with another Patient ID; with new UIDs (`study`) or with its own.
fn ct_for(patient: &str, study: Option<&str>) -> Vec<u8> {
    let mut obj =
        dicom_object::open_file(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    if let Some(study) = study {
        return dicom::variant(&obj, study, 1, patient);
    }
    obj.put(DataElement::new(
        tags::PATIENT_ID,
        VR::LO,
        PrimitiveValue::from(patient),
    ));
    let mut out = Vec::new();
    obj.write_all(&mut out).unwrap();
    out
}

#[test]
fn a_ct_image_resent_under_another_patient_is_held_and_can_be_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let hub = demo_hub_without_samples(dir.path());
    let file = |name: &str, bytes: Vec<u8>| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let original = corpus().join("dicom/pydicom-test-files/CT_small.dcm");
    let first = upload(&hub, CLINIC_A, &original, &[])["case_id"]
        .as_i64()
        .unwrap();

    // Re-sent as it was but for its Patient ID: the same SOP Instance UID with other bytes is
    // refused outright, as before.
    let same_uids = file("same-uids.dcm", ct_for("OTHER-PATIENT", None));
    let refused = cli(&hub, CLINIC_A, &["upload", same_uids.to_str().unwrap()]);
    assert_eq!(
        refused.json["files"][0]["reason"], "conflict",
        "{}",
        refused.stdout
    );

    // Re-exported as a new study of another patient (new UIDs, same pixels): held.
    let copy = file("copy.dcm", ct_for("OTHER-PATIENT", Some("2.25.990071")));
    let held = upload(&hub, CLINIC_A, &copy, &[]);
    let held_id = held["case_id"].as_i64().unwrap();
    assert_ne!(held_id, first);
    assert_eq!(held["state"], "mixup_hold", "{held}");
    let reason = listed(&hub, CLINIC_A, held_id)["hold_reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("image content is already on file under a different patient"),
        "{reason}"
    );

    // The administrator withdraws the copy: it is never read, and says why.
    let note = "wrong patient picked at the console; the original is case 1";
    let withdraw = [
        "mixup",
        "resolve",
        &held_id.to_string(),
        "--withdraw",
        "--note",
        note,
    ];
    assert_eq!(ok(&cli(&hub, ADMIN, &withdraw))["state"], "withdrawn");
    let gone = listed(&hub, CLINIC_A, held_id);
    assert_eq!(gone["state"], "withdrawn", "{gone}");
    assert!(
        gone["hold_reason"].as_str().unwrap().contains(note),
        "{gone}"
    );
    assert!(!queued(&hub).contains(&held_id));
    let all = ok(&cli(&hub, CLINIC_A, &["mixup", "list", "--all"])).clone();
    assert_eq!(all["mixups"][0]["state"], "withdrawn", "{all}");
    assert_eq!(all["mixups"][0]["resolution_note"], note, "{all}");
}
