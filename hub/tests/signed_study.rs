//! Instances that arrive for a study whose case was signed final never join it silently: they open
//! a new case of the same study that follows the signed one (read like any other), both cases
//! record it, and the signed case keeps exactly what its signer saw.

mod common;

use common::*;
use hub::domain::reports::ReportText;
use hub::model::{CaseState, Principal};
use hub::storage::audit::AuditFilter;

const STUDY: &str = "1.2.826.0.1.3680043.10.12.1";

/// Instance `index` of the test study for `patient` (CT_small's pixels, new UIDs).
fn instance(index: u32, patient: &str) -> Vec<u8> {
    let template =
        dicom_object::open_file(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    e2e::dicom::variant(&template, STUDY, index, patient)
}

/// Uploads one file as `who` in a session of its own; returns its case id.
async fn upload_one(t: &TestHub, who: &Principal, bytes: Vec<u8>) -> i64 {
    let (out, _) = upload(&t.hub, who, &[("late.dcm", bytes)]).await;
    out[0].as_ref().expect("accepted").case_id
}

/// Finishes the queued jobs as a worker would, with nothing to add.
async fn finish_jobs(t: &TestHub) {
    while let Some(job) = t.hub.lease_job(&t.worker, "test").await.unwrap() {
        t.hub
            .complete_job(&t.worker, job.job.id, Default::default())
            .await
            .unwrap();
    }
}

/// A case of the test study read and signed final by the senior specialist.
async fn signed_case(t: &TestHub) -> i64 {
    let id = upload_one(t, &t.clinic_a, instance(1, "P-1")).await;
    finish_jobs(t).await;
    t.hub.claim(&t.senior, id, "").await.unwrap();
    let text = ReportText {
        findings: "No acute findings.".into(),
        impression: "Normal CT.".into(),
        critical: false,
    };
    t.hub.file_report(&t.senior, id, &text, true).await.unwrap();
    id
}

async fn audit(t: &TestHub, case_id: i64, action: &str) -> Vec<String> {
    let filter = AuditFilter {
        case_id,
        action: action.into(),
        limit: 100,
        ..AuditFilter::default()
    };
    let trail = t.hub.audit_trail(&t.admin, &filter).await.unwrap();
    trail.into_iter().map(|e| e.detail).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_after_signing_open_a_case_that_follows_the_signed_one() {
    let t = test_hub(|_| {}).await;
    let signed = signed_case(&t).await;
    let before = t.hub.case_detail(&t.specialist, signed).await.unwrap();
    assert_eq!(before.case.state(), CaseState::Signed);

    let late = upload_one(&t, &t.clinic_a, instance(2, "P-1")).await;
    assert_ne!(late, signed, "a late instance joined the signed case");
    let follower = t.hub.case_detail(&t.specialist, late).await.unwrap();
    assert_eq!(follower.case.follows_case_id, signed);
    assert_eq!(follower.case.study_instance_uid, STUDY);
    assert!(
        CaseState::QUEUED.contains(&follower.case.state()),
        "the follower waits to be read: {}",
        follower.case.state
    );
    assert_eq!(follower.instances.len(), 1);

    // The signed case holds what its signer saw, and says what happened.
    let after = t.hub.case_detail(&t.specialist, signed).await.unwrap();
    assert_eq!(after.case.state(), CaseState::Signed);
    assert_eq!(after.case.instance_count, 1);
    assert_eq!(after.instances, before.instances);
    let noted = audit(&t, signed, "instances_after_signing").await;
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert!(
        noted[0].contains(&format!("case {late} opened")),
        "{noted:?}"
    );
    let created = audit(&t, late, "case_created").await;
    assert!(
        created[0].contains(&format!("follows signed case {signed}")),
        "{created:?}"
    );

    // More of the study, in another session, joins the follower while it is not signed.
    let more = upload_one(&t, &t.clinic_a, instance(3, "P-1")).await;
    assert_eq!(more, late);
    let follower = t.hub.case_detail(&t.specialist, late).await.unwrap();
    assert_eq!(follower.case.instance_count, 2);
    assert_eq!(
        t.hub
            .case_detail(&t.specialist, signed)
            .await
            .unwrap()
            .case
            .instance_count,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_of_another_patient_never_joins_a_signed_case() {
    let t = test_hub(|_| {}).await;
    let signed = signed_case(&t).await;
    let signed_patient = t
        .hub
        .case_detail(&t.specialist, signed)
        .await
        .unwrap()
        .case
        .patient_key;

    let late = upload_one(&t, &t.clinic_a, instance(2, "P-2")).await;
    assert_ne!(late, signed);
    let follower = t.hub.case_detail(&t.specialist, late).await.unwrap().case;
    assert_eq!(follower.follows_case_id, signed);
    assert_ne!(
        follower.patient_key, signed_patient,
        "the follower is filed under the patient its instance names"
    );
    assert_eq!(
        t.hub
            .case_detail(&t.specialist, signed)
            .await
            .unwrap()
            .case
            .instance_count,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_follower_is_followed_in_turn() {
    let t = test_hub(|_| {}).await;
    let first = signed_case(&t).await;
    let second = upload_one(&t, &t.clinic_a, instance(2, "P-1")).await;
    finish_jobs(&t).await;
    t.hub.claim(&t.senior, second, "").await.unwrap();
    let text = ReportText {
        findings: "Additional series reviewed.".into(),
        impression: "Normal CT.".into(),
        critical: false,
    };
    t.hub
        .file_report(&t.senior, second, &text, true)
        .await
        .unwrap();

    let third = upload_one(&t, &t.clinic_a, instance(3, "P-1")).await;
    assert!(third != first && third != second);
    let case = t.hub.case_detail(&t.specialist, third).await.unwrap().case;
    assert_eq!(case.follows_case_id, second);
}
