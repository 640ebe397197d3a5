//! Authorisation in the domain: workers write only about their own job's inputs, disabling a user
//! ends their access and streams at once, administrators never open a patient's case, auditors
//! read only their institution's trail, and listings of clinical text are audited.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hub::domain::Error;
use hub::domain::follow::FollowEvent;
use hub::domain::reports::ReportText;
use hub::model::{AuditEntry, Role};
use hub::storage::audit::AuditFilter;
use worker::jobs::{ArtifactOut, InstanceOutcome, JobOutput};

fn ct() -> Vec<u8> {
    std::fs::read(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap()
}

fn mr() -> Vec<u8> {
    std::fs::read(corpus_file("dicom/pydicom-test-files/MR_small.dcm")).unwrap()
}

async fn trail(t: &TestHub, action: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        action: action.into(),
        limit: 1000,
        ..AuditFilter::default()
    };
    t.hub.audit_trail(&t.admin, &filter).await.unwrap()
}

async fn ready(t: &TestHub) {
    while let Some(job) = t.hub.lease_job(&t.worker, "test").await.unwrap() {
        t.hub
            .complete_job(&t.worker, job.job.id, JobOutput::default())
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_cannot_write_results_about_another_jobs_inputs() {
    let t = test_hub(|_| {}).await;
    upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct())]).await;
    upload(&t.hub, &t.clinic_b, &[("mr.dcm", mr())]).await;
    let mine = t.hub.lease_job(&t.worker, "w").await.unwrap().unwrap();
    let other = t.hub.lease_job(&t.worker, "w").await.unwrap().unwrap();
    let foreign = other.inputs[0].name.clone();

    let about_foreign = JobOutput {
        instances: vec![InstanceOutcome {
            sop_instance_uid: foreign.clone(),
            error: "overwritten".into(),
            ..InstanceOutcome::default()
        }],
        ..JobOutput::default()
    };
    let err = t
        .hub
        .complete_job(&t.worker, mine.job.id, about_foreign)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::PermissionDenied(m) if m.contains(&foreign)),
        "{err}"
    );
    let foreign_file = JobOutput {
        artifacts: vec![ArtifactOut {
            name: format!("preview/{foreign}.png"),
            media_type: "image/png".into(),
            data: vec![1, 2, 3],
        }],
        ..JobOutput::default()
    };
    let err = t
        .hub
        .complete_job(&t.worker, mine.job.id, foreign_file)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
    assert_eq!(
        trail(&t, "job_refused").await.len(),
        2,
        "each refusal audited"
    );

    // Nothing was applied: the job is still leased, and its own results go through.
    let own = JobOutput {
        instances: vec![InstanceOutcome {
            sop_instance_uid: mine.inputs[0].name.clone(),
            rows: 1,
            columns: 1,
            frames: 1,
            error: String::new(),
        }],
        ..JobOutput::default()
    };
    t.hub
        .complete_job(&t.worker, mine.job.id, own)
        .await
        .unwrap();

    // Another worker user cannot complete (or fetch) this worker's job.
    let (stranger, _) = add_user(&t.hub, "w2", Role::Worker, "CTY").await;
    let err = t
        .hub
        .complete_job(&stranger, other.job.id, JobOutput::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");
    assert!(t.hub.job_input(&stranger, other.job.id, 0).await.is_err());
    // And no other role works on jobs at all.
    let err = t.hub.lease_job(&t.admin, "x").await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_ends_their_stream_and_token_at_once() {
    let t = test_hub(|_| {}).await;
    let (clinic, token) = add_user(&t.hub, "dr qian", Role::Clinic, "TS-A").await;
    let mut follower = t.hub.follow_reports(&clinic, None, false).await.unwrap();
    let waiting = tokio::spawn(async move { follower.next().await });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    t.hub.disable_user(&t.admin, clinic.user_id).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(1), waiting)
        .await
        .expect("the stream ends within a second")
        .unwrap();
    assert!(
        matches!(&ended, Err(Error::Unauthenticated(m)) if m.contains("revoked")),
        "{ended:?}"
    );
    let err = t.hub.authenticate(&token).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
    let audited = trail(&t, "user_disable").await;
    assert_eq!(audited.len(), 1);
    assert!(audited[0].detail.contains(&clinic.user_id.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_disabled_by_another_process_loses_access_within_a_second() {
    let t = test_hub(|_| {}).await;
    let (clinic, token) = add_user(&t.hub, "dr sun", Role::Clinic, "TS-A").await;
    // Another process over the same index: its own token cache and revocations.
    let elsewhere = t.hub.with_extensions(
        hub::domain::pseudonym::Pseudonymizer::new(vec![2; 32], 1).unwrap(),
        Vec::new(),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = t.hub.clone();
    tokio::spawn(async move {
        watcher
            .watch_revocations(async {
                let _ = stop_rx.await;
            })
            .await
    });
    t.hub.authenticate(&token).await.unwrap(); // cached here
    let mut follower = t.hub.follow_reports(&clinic, None, false).await.unwrap();
    let waiting = tokio::spawn(async move { follower.next().await });
    tokio::time::sleep(Duration::from_millis(400)).await;

    elsewhere
        .disable_user(&t.admin, clinic.user_id)
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(1), waiting)
        .await
        .expect("the stream ends within a second")
        .unwrap();
    assert!(matches!(ended, Err(Error::Unauthenticated(_))), "{ended:?}");
    let err = t.hub.authenticate(&token).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    let _ = stop_tx.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_never_opens_a_patients_case() {
    let t = test_hub(|_| {}).await;
    let (_, cases) = upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct())]).await;
    ready(&t).await;
    let id = cases[0];
    let err = t.hub.case_detail(&t.admin, id).await.unwrap_err();
    assert!(
        matches!(&err, Error::PermissionDenied(m) if m.contains("needs")),
        "{err}"
    );
    let uid = t
        .hub
        .case_detail(&t.specialist, id)
        .await
        .unwrap()
        .instances[0]
        .sop_instance_uid
        .clone();
    assert!(t.hub.instance_file(&t.admin, id, &uid).await.is_err());
    let refused = trail(&t, "view_refused").await;
    assert_eq!(refused.len(), 2, "each refusal audited: {refused:?}");
    assert!(
        refused
            .iter()
            .all(|e| e.case_id == id && e.user_id == t.admin.user_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_reads_only_their_institutions_trail() {
    let t = test_hub(|_| {}).await;
    let (_, a) = upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct())]).await;
    let (_, b) = upload(&t.hub, &t.clinic_b, &[("mr.dcm", mr())]).await;
    ready(&t).await;
    t.hub.case_detail(&t.specialist, a[0]).await.unwrap();
    t.hub.case_detail(&t.specialist, b[0]).await.unwrap();
    let (auditor, _) = add_user(&t.hub, "auditor a", Role::Auditor, "TS-A").await;

    let filter = AuditFilter {
        limit: 1000,
        ..AuditFilter::default()
    };
    let seen = t.hub.audit_trail(&auditor, &filter).await.unwrap();
    assert!(seen.iter().any(|e| e.case_id == a[0] && e.action == "view"));
    assert!(
        seen.iter()
            .all(|e| e.institution_code == "TS-A" || e.case_id == a[0]),
        "only TS-A's entries: {seen:?}"
    );
    let everything = t.hub.audit_trail(&t.admin, &filter).await.unwrap();
    assert!(everything.iter().any(|e| e.case_id == b[0]));
    // An auditor reads the trail and nothing else.
    let denied = |r: Result<(), Error>| matches!(r, Err(Error::PermissionDenied(_)));
    assert!(denied(t.hub.case_detail(&auditor, a[0]).await.map(drop)));
    assert!(denied(
        t.hub
            .list_cases(&auditor, Default::default())
            .await
            .map(drop)
    ));
    assert!(denied(
        t.hub.list_reports(&auditor, 0, false, 0).await.map(drop)
    ));
    assert!(denied(
        t.hub.audit_trail(&t.clinic_a, &filter).await.map(drop)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listing_of_clinical_text_is_audited_once_per_call() {
    let t = test_hub(|c| c.reading.two_level_review = false).await;
    let (_, a) = upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct())]).await;
    ready(&t).await;
    t.hub
        .queue(&t.specialist, "", false, false, 0)
        .await
        .unwrap();
    t.hub.claim(&t.specialist, a[0], "").await.unwrap();
    let text = ReportText {
        findings: "No acute findings.".into(),
        impression: "normal".into(),
        critical: false,
    };
    t.hub
        .file_report(&t.specialist, a[0], &text, true)
        .await
        .unwrap();
    t.hub.list_reports(&t.clinic_a, 0, false, 0).await.unwrap();
    t.hub
        .list_cases(&t.clinic_a, Default::default())
        .await
        .unwrap();
    let mut follower = t
        .hub
        .follow_reports(&t.clinic_a, Some(0), false)
        .await
        .unwrap();
    let next = follower.next().await.unwrap();
    assert!(matches!(next, FollowEvent::Report(_)));

    for action in [
        "queue_read",
        "reports_read",
        "cases_read",
        "report_delivered",
    ] {
        let rows = trail(&t, action).await;
        assert_eq!(rows.len(), 1, "{action}: {rows:?}");
        let names_case = rows[0].case_id == a[0] || rows[0].detail.contains(&format!("[{}]", a[0]));
        assert!(names_case, "{action} names case {}: {rows:?}", a[0]);
    }
}
