//! Every text field a client sends has a length limit, checked before anything is stored.

mod common;

use common::*;
use hub::domain::Error;
use hub::domain::ingest::IngestOptions;
use hub::domain::pseudonym::IdType;
use hub::domain::recognition::{CheckPurpose, CheckRequest};
use hub::domain::reports::ReportText;
use hub::domain::staging::RejectReason;
use hub::model::Institution;

const FIVE_MIB: usize = 5 << 20;

fn refused(result: Result<impl std::fmt::Debug, Error>, field: &str) {
    match result {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains(field), "{msg:?} should name {field:?}");
            assert!(msg.contains("limited to"), "{msg:?} should state the limit");
        }
        other => panic!("expected {field} to be refused as an invalid argument, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_mib_critical_reason_is_refused_and_the_queue_still_lists() {
    let t = test_hub(|_| {}).await;
    let options = IngestOptions {
        critical: true,
        critical_reason: "x".repeat(FIVE_MIB),
        ..IngestOptions::default()
    };
    refused(
        t.hub
            .ingest_session(t.clinic_a.clone(), options)
            .map(|_| ()),
        "the critical reason",
    );

    // A reason at the limit is taken, and the case it marks lists in the queue.
    let options = IngestOptions {
        critical: true,
        critical_reason: "急".repeat(500),
        ..IngestOptions::default()
    };
    let mut session = t.hub.ingest_session(t.clinic_a.clone(), options).unwrap();
    let ct = std::fs::read(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    session
        .ingest(stage(&t.hub, "ct.dcm", &ct).await)
        .await
        .unwrap();
    session.finish().await.unwrap();
    let queue = t
        .hub
        .queue(&t.specialist, "", false, false, 0)
        .await
        .unwrap();
    assert_eq!(queue.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_file_name_is_refused_without_being_echoed() {
    let t = test_hub(|_| {}).await;
    let rejection = t
        .hub
        .begin_staging(&"a".repeat(FIVE_MIB))
        .await
        .err()
        .expect("a 5 MiB file name was staged");
    assert_eq!(rejection.reason, RejectReason::Protocol);
    assert!(
        rejection
            .message
            .starts_with("a file name is limited to 255 characters")
    );
    assert!(rejection.message.len() < 200, "{}", rejection.message);
    assert!(t.hub.begin_staging("ct.dcm").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_upload_option_is_bounded() {
    let t = test_hub(|_| {}).await;
    let long = "1".repeat(65);
    for (field, options) in [
        (
            "the exam item code",
            IngestOptions {
                exam_item_code: long.clone(),
                ..IngestOptions::default()
            },
        ),
        (
            "the patient ID",
            IngestOptions {
                patient_id: long.clone(),
                ..IngestOptions::default()
            },
        ),
        (
            "the clinical note",
            IngestOptions {
                clinical_note: "n".repeat(501),
                ..IngestOptions::default()
            },
        ),
    ] {
        refused(
            t.hub
                .ingest_session(t.clinic_a.clone(), options)
                .map(|_| ()),
            field,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_notes_and_names_are_bounded() {
    let t = test_hub(|_| {}).await;
    let text = ReportText {
        findings: "f".repeat(20_001),
        impression: "ok".into(),
        critical: false,
    };
    refused(
        t.hub.file_report(&t.specialist, 1, &text, false).await,
        "the findings",
    );
    let edits = ReportText {
        impression: "i".repeat(5_001),
        ..ReportText::default()
    };
    refused(
        t.hub.sign_report(&t.senior, 1, &edits).await,
        "the impression",
    );
    let text = ReportText {
        impression: "ok".into(),
        ..ReportText::default()
    };
    refused(
        t.hub
            .amend_report(&t.senior, 1, &text, None, &"r".repeat(FIVE_MIB))
            .await,
        "the amendment reason",
    );
    refused(
        t.hub
            .resolve_mixup(
                &t.admin,
                1,
                hub::model::MixupState::Withdrawn,
                &"n".repeat(501),
            )
            .await,
        "the resolution note",
    );
    let check = CheckRequest {
        id_type: IdType::IdCard,
        patient_id: "110101199003074513".into(),
        item: "CT-HEAD".into(),
        purpose: Some(CheckPurpose::Other),
        note: "p".repeat(FIVE_MIB),
    };
    refused(
        t.hub.check_recognition(&t.clinic_a, &check).await,
        "the purpose",
    );
    let inst = Institution {
        code: "TS-C".into(),
        name: "h".repeat(201),
        level: "township".into(),
    };
    refused(
        t.hub.upsert_institution(&inst).await,
        "an institution's name",
    );
}
