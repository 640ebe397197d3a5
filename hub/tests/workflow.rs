//! The reading workflow through the domain: queue order, claims, reports, review, amendments,
//! events, jobs, and who may do what.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use hub::domain::reports::ReportText;
use hub::domain::{Error, Extension};
use hub::model::{CaseState, Principal, Role};
use hub::storage::SqlTx;
use hub::storage::audit::AuditFilter;
use hub::storage::events::StoredEvent;

fn ct() -> Vec<u8> {
    std::fs::read(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap()
}

fn mr() -> Vec<u8> {
    std::fs::read(corpus_file("dicom/pydicom-test-files/MR_small.dcm")).unwrap()
}

fn text(impression: &str) -> ReportText {
    ReportText {
        findings: "No acute findings.".into(),
        impression: impression.into(),
        critical: false,
    }
}

/// Uploads one file as `who` and returns its case id, made ready (no worker in these tests).
async fn ready_case(t: &TestHub, who: &Principal, bytes: Vec<u8>) -> i64 {
    let (out, cases) = upload(&t.hub, who, &[("f.dcm", bytes)]).await;
    out[0].as_ref().unwrap();
    // Finish its jobs as a worker would, with nothing to add.
    while let Some(job) = t.hub.lease_job(&t.worker, "test").await.unwrap() {
        t.hub
            .complete_job(&t.worker, job.job.id, Default::default())
            .await
            .unwrap();
    }
    cases[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_have_exactly_one_winner() {
    let t = test_hub(|_| {}).await;
    let id = ready_case(&t, &t.clinic_a, ct()).await;
    let (a, b) = tokio::join!(
        t.hub.claim(&t.specialist, id, ""),
        t.hub.claim(&t.senior, id, "")
    );
    assert!(
        a.is_ok() != b.is_ok(),
        "exactly one claim wins: {a:?} / {b:?}"
    );
    let loser = match (a, b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        (a, b) => panic!("exactly one claim must win: {a:?} / {b:?}"),
    };
    assert!(
        matches!(&loser, Error::FailedPrecondition(m) if m.contains("already claimed by")),
        "{loser}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_level_review_then_amendment_keeps_the_history() {
    let t = test_hub(|_| {}).await;
    let id = ready_case(&t, &t.clinic_a, ct()).await;

    // Only the claimer reports; a junior cannot sign.
    let err = t
        .hub
        .file_report(&t.specialist, id, &text("normal"), false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");
    t.hub.claim(&t.specialist, id, "").await.unwrap();
    let err = t
        .hub
        .file_report(&t.specialist, id, &text("normal"), true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
    let prelim = t
        .hub
        .file_report(&t.specialist, id, &text("normal CT"), false)
        .await
        .unwrap();
    assert_eq!((prelim.status.as_str(), prelim.version), ("preliminary", 1));

    // It waits in the review queue; the author cannot sign it; a senior can, editing it.
    let review = t.hub.queue(&t.senior, "", false, true, 0).await.unwrap();
    assert_eq!(
        review.iter().map(|e| e.case.id).collect::<Vec<_>>(),
        vec![id]
    );
    let err = t
        .hub
        .sign_report(&t.specialist, id, &ReportText::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
    let edit = ReportText {
        impression: "Normal CT of the head.".into(),
        ..ReportText::default()
    };
    let signed = t.hub.sign_report(&t.senior, id, &edit).await.unwrap();
    assert_eq!((signed.status.as_str(), signed.version), ("final", 2));
    assert_eq!(
        signed.findings, "No acute findings.",
        "unedited fields carry over"
    );
    assert_eq!(signed.author_name, "dr li");
    assert_eq!(signed.signer_name, "dr chen");
    assert_eq!(
        signed.editor_name, "dr chen",
        "the senior changed the impression: the version names them as its editor"
    );

    // An amendment needs a reason, keeps both earlier versions, and can set the critical flag.
    let mut fix = text("Small subdural haematoma missed on first read.");
    fix.critical = true;
    assert!(
        t.hub
            .amend_report(&t.senior, id, &fix, Some(true), " ")
            .await
            .is_err()
    );
    let amended = t
        .hub
        .amend_report(&t.senior, id, &fix, Some(true), "second look")
        .await
        .unwrap();
    assert_eq!((amended.status.as_str(), amended.version), ("amended", 3));
    let detail = t.hub.case_detail(&t.specialist, id).await.unwrap();
    let statuses: Vec<&str> = detail.reports.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["preliminary", "final", "amended"]);
    // The clinic reads only signed versions (a non-critical preliminary is internal).
    let detail = t.hub.case_detail(&t.clinic_a, id).await.unwrap();
    let statuses: Vec<&str> = detail.reports.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["final", "amended"]);
    // A further amendment that says nothing about the flag keeps it.
    let typo = t
        .hub
        .amend_report(
            &t.senior,
            id,
            &text("Small subdural haematoma."),
            None,
            "typo",
        )
        .await
        .unwrap();
    assert!(
        typo.critical,
        "an amendment without a flag keeps the critical finding"
    );
    assert!(detail.case.critical);
    assert_eq!(detail.case.state(), CaseState::Signed);

    // The clinic sees the newest version among its reports, marked critical.
    let reports = t.hub.list_reports(&t.clinic_a, 0, true, 0).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].1.version, 4);
    assert!(
        t.hub
            .list_reports(&t.clinic_b, 0, false, 0)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_over_an_overdue_stat_case_is_recorded() {
    let t = test_hub(|c| c.deadlines.stat = Duration::from_millis(1)).await;
    let mut session = t
        .hub
        .ingest_session(
            t.clinic_a.clone(),
            hub::domain::ingest::IngestOptions {
                priority: Some(hub::model::Priority::Stat),
                ..Default::default()
            },
        )
        .unwrap();
    session
        .ingest(stage(&t.hub, "stat.dcm", &ct()).await)
        .await
        .unwrap();
    let stat_case = session.finish().await.unwrap()[0].case.id;
    let routine = ready_case(&t, &t.clinic_b, mr()).await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let queue = t
        .hub
        .queue(&t.specialist, "", false, false, 0)
        .await
        .unwrap();
    assert_eq!(queue[0].case.id, stat_case, "STAT first");
    assert!(queue[0].time_left_ms < 0, "and overdue");

    let claimed = t
        .hub
        .claim(&t.specialist, routine, "patient waiting in the ward")
        .await
        .unwrap();
    assert_eq!(claimed.passed_over, vec![stat_case]);
    let skips = t
        .hub
        .audit_trail(
            &t.admin,
            &AuditFilter {
                action: "queue_skip".into(),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(skips.len(), 1);
    assert!(
        skips[0].detail.contains("patient waiting in the ward"),
        "{}",
        skips[0].detail
    );
    assert_eq!(skips[0].user_id, t.specialist.user_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_claim_returns_to_the_queue() {
    let t = test_hub(|c| c.reading.claim_lease = Duration::from_millis(50)).await;
    let id = ready_case(&t, &t.clinic_a, ct()).await;
    t.hub.claim(&t.specialist, id, "").await.unwrap();
    assert!(
        t.hub
            .queue(&t.senior, "", false, false, 0)
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
    // Visible again at once; the sweeper then records the expiry.
    assert_eq!(
        t.hub
            .queue(&t.senior, "", false, false, 0)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(t.hub.sweep().await.unwrap().expired_claims, 1);
    let err = t
        .hub
        .file_report(&t.specialist, id, &text("late"), false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");
    t.hub.claim(&t.senior, id, "").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_is_queued_after_the_quiet_period() {
    let t = test_hub(|c| c.ingest.quiet_period = Duration::from_millis(30)).await;
    let mut session = t
        .hub
        .ingest_session(t.clinic_a.clone(), Default::default())
        .unwrap();
    let id = session
        .ingest(stage(&t.hub, "ct.dcm", &ct()).await)
        .await
        .unwrap()
        .case_id;
    drop(session); // the client vanished without closing
    assert!(
        t.hub
            .queue(&t.specialist, "", false, false, 0)
            .await
            .unwrap()
            .is_empty(),
        "still receiving"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(t.hub.sweep().await.unwrap().queued_studies, 1);
    let queue = t
        .hub
        .queue(&t.specialist, "", false, false, 0)
        .await
        .unwrap();
    assert_eq!(
        queue.iter().map(|e| e.case.id).collect::<Vec<_>>(),
        vec![id]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_flags_raise_priority_and_a_lapsed_lease_cannot_complete() {
    let t = test_hub(|c| c.jobs.lease = Duration::from_millis(30)).await;
    upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct())]).await;
    upload(&t.hub, &t.clinic_b, &[("mr.dcm", mr())]).await;
    let (w1, w2) = (
        &t.worker,
        &add_user(&t.hub, "w2", Role::Worker, "CTY").await.0,
    );
    let first = t.hub.lease_job(w1, "w1").await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let retried = t.hub.lease_job(w2, "w2").await.unwrap().unwrap();
    assert_eq!(
        retried.job.id, first.job.id,
        "a lapsed lease goes to the next worker"
    );
    let err = t
        .hub
        .complete_job(w1, first.job.id, Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");

    let output = worker::jobs::JobOutput {
        flags: vec![worker::jobs::FlagOut {
            code: "test_critical".into(),
            critical: true,
            urgent: true,
            message: "found something".into(),
        }],
        ..Default::default()
    };
    t.hub
        .complete_job(w2, retried.job.id, output)
        .await
        .unwrap();
    let other = t.hub.lease_job(w2, "w2").await.unwrap().unwrap();
    t.hub
        .complete_job(w2, other.job.id, Default::default())
        .await
        .unwrap();
    let queue = t
        .hub
        .queue(&t.specialist, "", false, false, 0)
        .await
        .unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(
        queue[0].case.id, first.job.case_id,
        "the critical case comes first"
    );
    assert!(queue[0].case.critical);
    assert_eq!(queue[0].flags[0].code, "test_critical");
    assert!(queue.iter().all(|e| e.case.state() == CaseState::Ready));
}

/// An extension that counts signed reports.
struct Counter(Arc<std::sync::Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl Extension for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    async fn handle_event(
        &self,
        _tx: &mut dyn SqlTx,
        event: &StoredEvent,
    ) -> hub::domain::Result<()> {
        self.0.lock().unwrap().push(event.kind.clone());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_emits_one_event_per_extension() {
    let t = test_hub(|c| c.reading.two_level_review = false).await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let hub = t.hub.with_extensions(
        hub::domain::pseudonym::Pseudonymizer::new(vec![1; 32], 1).unwrap(),
        vec![Arc::new(Counter(seen.clone()))],
    );
    let id = ready_case(&t, &t.clinic_a, ct()).await;
    hub.claim(&t.specialist, id, "").await.unwrap();
    hub.file_report(&t.specialist, id, &text("normal"), true)
        .await
        .unwrap();
    assert_eq!(hub.deliver_events().await.unwrap(), 1);
    assert_eq!(hub.deliver_events().await.unwrap(), 0, "delivered once");
    assert_eq!(*seen.lock().unwrap(), vec!["report_signed".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_institutions_are_enforced() {
    let t = test_hub(|_| {}).await;
    let id = ready_case(&t, &t.clinic_a, ct()).await;
    let denied = |r: Result<(), Error>| matches!(r, Err(Error::PermissionDenied(_)));
    assert!(denied(
        t.hub
            .queue(&t.clinic_a, "", false, false, 0)
            .await
            .map(drop)
    ));
    assert!(denied(t.hub.claim(&t.clinic_a, id, "").await.map(drop)));
    assert!(denied(t.hub.claim(&t.admin, id, "").await.map(drop)));
    let foreign = t.hub.case_detail(&t.clinic_b, id).await.map(drop);
    assert!(matches!(foreign, Err(Error::NotFound(_))), "{foreign:?}");
    assert!(denied(
        t.hub
            .ingest_session(t.specialist.clone(), Default::default())
            .map(drop)
    ));
    assert!(denied(
        t.hub
            .audit_trail(&t.specialist, &AuditFilter::default())
            .await
            .map(drop)
    ));
    assert!(t.hub.case_detail(&t.clinic_a, id).await.is_ok());
    let listed = t
        .hub
        .list_cases(&t.clinic_b, Default::default())
        .await
        .unwrap();
    assert!(listed.is_empty(), "clinic B sees none of clinic A's cases");
    let err = t.hub.authenticate("rdx_wrong").await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
}
