//! Report followers (what `reports --follow` streams): replay from a cursor, exactly once, what
//! each watcher may see, reports signed on another replica, and shutdown.

mod common;

use std::time::Duration;

use common::*;
use hub::domain::follow::{FollowEvent, POLL, ReportFollower};
use hub::domain::reports::ReportText;
use hub::model::{Principal, Report};

fn ct() -> Vec<u8> {
    std::fs::read(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap()
}

fn mr() -> Vec<u8> {
    std::fs::read(corpus_file("dicom/pydicom-test-files/MR_small.dcm")).unwrap()
}

/// Uploads one file as `who` and returns its case id, made ready (no worker in these tests).
async fn ready_case(t: &TestHub, who: &Principal, bytes: Vec<u8>) -> i64 {
    let (out, cases) = upload(&t.hub, who, &[("f.dcm", bytes)]).await;
    out[0].as_ref().unwrap();
    while let Some(job) = t.hub.lease_job(&t.worker, "test").await.unwrap() {
        t.hub
            .complete_job(&t.worker, job.job.id, Default::default())
            .await
            .unwrap();
    }
    cases[0]
}

/// Claims and reports case `id` as the senior specialist; `sign` makes it final.
async fn report(t: &TestHub, id: i64, sign: bool) -> Report {
    t.hub.claim(&t.senior, id, "").await.unwrap();
    let text = ReportText {
        findings: "No acute findings.".into(),
        impression: format!("report of case {id}"),
        critical: false,
    };
    t.hub.file_report(&t.senior, id, &text, sign).await.unwrap()
}

/// The report ids a follower yields within `wait` (it stops at the first quiet `wait`).
async fn drain(follower: &mut ReportFollower, wait: Duration) -> Vec<i64> {
    let mut ids = Vec::new();
    while let Ok(next) = tokio::time::timeout(wait, follower.next()).await {
        match next.unwrap() {
            FollowEvent::Report(n) => ids.push(n.report.id),
            FollowEvent::ShuttingDown => panic!("not shutting down"),
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_replays_from_its_cursor_exactly_once() {
    let t = test_hub(|_| {}).await;
    let (a1, a2) = (
        ready_case(&t, &t.clinic_a, ct()).await,
        ready_case(&t, &t.clinic_a, mr()).await,
    );
    let first = report(&t, a1, true).await;

    // A new watcher starts after the newest report; one resuming from 0 gets the history.
    let mut live = t
        .hub
        .follow_reports(&t.clinic_a, None, false)
        .await
        .unwrap();
    assert_eq!(live.start(), first.id);
    let mut replay = t
        .hub
        .follow_reports(&t.clinic_a, Some(0), false)
        .await
        .unwrap();
    assert_eq!(replay.start(), 0);

    // Signed while a watcher was away: the one resuming from its cursor gets it, once.
    let second = report(&t, a2, true).await;
    let quiet = Duration::from_millis(300);
    assert_eq!(drain(&mut live, quiet).await, vec![second.id]);
    assert_eq!(drain(&mut replay, quiet).await, vec![first.id, second.id]);
    let mut resumed = t
        .hub
        .follow_reports(&t.clinic_a, Some(first.id), false)
        .await
        .unwrap();
    assert_eq!(drain(&mut resumed, quiet).await, vec![second.id]);
    let mut caught_up = t
        .hub
        .follow_reports(&t.clinic_a, Some(second.id), false)
        .await
        .unwrap();
    assert_eq!(drain(&mut caught_up, quiet).await, Vec::<i64>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_sees_only_what_its_watcher_may() {
    let t = test_hub(|_| {}).await;
    let a = ready_case(&t, &t.clinic_a, ct()).await;
    let b = ready_case(&t, &t.clinic_b, mr()).await;
    let prelim = report(&t, a, false).await;
    let other = report(&t, b, true).await;
    let quiet = Duration::from_millis(300);

    let mut clinic_a = t
        .hub
        .follow_reports(&t.clinic_a, Some(0), false)
        .await
        .unwrap();
    assert_eq!(
        drain(&mut clinic_a, quiet).await,
        Vec::<i64>::new(),
        "neither a non-critical preliminary report nor another clinic's"
    );
    let mut specialist = t
        .hub
        .follow_reports(&t.specialist, Some(0), false)
        .await
        .unwrap();
    assert_eq!(
        drain(&mut specialist, quiet).await,
        vec![prelim.id, other.id]
    );
    let mut critical = t
        .hub
        .follow_reports(&t.specialist, Some(0), true)
        .await
        .unwrap();
    assert_eq!(drain(&mut critical, quiet).await, Vec::<i64>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_sees_reports_signed_on_another_replica() {
    let t = test_hub(|_| {}).await;
    let a = ready_case(&t, &t.clinic_a, ct()).await;
    // A second hub over the same index: it never hears this one's in-process broadcast.
    let replica = hub::startup::open(t.hub.config().clone()).await.unwrap();
    let mut follower = replica
        .follow_reports(&t.clinic_a, None, false)
        .await
        .unwrap();
    let signed = report(&t, a, true).await;
    let wait = POLL + Duration::from_secs(2);
    assert_eq!(drain(&mut follower, wait).await, vec![signed.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_ends_promptly_when_the_hub_shuts_down() {
    let t = test_hub(|_| {}).await;
    let mut follower = t
        .hub
        .follow_reports(&t.clinic_a, None, false)
        .await
        .unwrap();
    let hub = t.hub.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        hub.begin_shutdown();
    });
    let next = tokio::time::timeout(Duration::from_secs(1), follower.next())
        .await
        .expect("a follower waiting for reports ends at shutdown, not at its next poll")
        .unwrap();
    assert!(matches!(next, FollowEvent::ShuttingDown), "{next:?}");
}
