//! Identifiers people type are checked by the domain, so every transport (gRPC from any client,
//! not only viewer-cli) refuses a mistyped ID card number instead of answering "no result" or
//! filing a record under a patient who does not exist.

mod common;

use common::*;
use hub::domain::Error;
use hub::domain::ingest::IngestOptions;
use hub::domain::pseudonym::IdType;
use hub::domain::recognition::{CheckPurpose, CheckRequest};

const PATIENT: &str = "990321195803040170";

fn check(id_type: IdType, patient_id: &str) -> CheckRequest {
    CheckRequest {
        id_type,
        patient_id: patient_id.into(),
        item: "CT-HEAD".into(),
        purpose: Some(CheckPurpose::BeforeExamining),
        note: String::new(),
    }
}

fn invalid(err: Error, says: &str) {
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains(says) && !m.contains(&PATIENT[..17])),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_refuses_a_mistyped_id_card_number_and_says_what_is_wrong() {
    let t = test_hub(|_| {}).await;
    let who = &t.clinic_b;
    for (typed, says) in [
        (&PATIENT[..17], "has 17"),
        ("990321195803040171", "check digit"),
        ("990321195802300170", "not a calendar date"),
        ("", "no id-card number"),
    ] {
        let err = t
            .hub
            .check_recognition(who, &check(IdType::IdCard, typed))
            .await
            .unwrap_err();
        invalid(err, says);
    }
    // The same number typed with spaces and full-width digits is the same patient.
    let plain = t
        .hub
        .check_recognition(who, &check(IdType::IdCard, PATIENT))
        .await
        .unwrap();
    let typed = t
        .hub
        .check_recognition(who, &check(IdType::IdCard, "９９０３２１ 19580304 0170"))
        .await
        .unwrap();
    assert_eq!(plain.patient_key, typed.patient_key);
    // Other identifier types keep their own rules.
    t.hub
        .check_recognition(who, &check(IdType::Insurance, "12345"))
        .await
        .unwrap();
    let err = t
        .hub
        .check_recognition(who, &check(IdType::Insurance, "12*45"))
        .await
        .unwrap_err();
    invalid(err, "letters and digits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_refuses_a_patient_id_that_is_not_an_id_card_unless_told_its_type() {
    let t = test_hub(|_| {}).await;
    let options = |id: &str, id_type: Option<IdType>| IngestOptions {
        patient_id: id.into(),
        patient_id_type: id_type,
        ..IngestOptions::default()
    };
    let err = t
        .hub
        .ingest_session(t.clinic_a.clone(), options("12345", None))
        .err()
        .unwrap();
    invalid(err, "has 5");
    let err = t
        .hub
        .ingest_session(t.clinic_a.clone(), options("990321195803040171", None))
        .err()
        .unwrap();
    invalid(err, "check digit");
    for (id, id_type) in [
        ("12345", Some(IdType::Mrn)),
        (PATIENT, None),
        (PATIENT, Some(IdType::IdCard)),
    ] {
        assert!(
            t.hub
                .ingest_session(t.clinic_a.clone(), options(id, id_type))
                .is_ok(),
            "{id} as {id_type:?}"
        );
    }
}
