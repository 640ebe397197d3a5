//! Two hub replicas on one PostgreSQL index and one S3 bucket (issue "Safe to deploy 2/2"),
//! racing on the same cases: an upload of many studies breaks off (its cases stay receiving), then
//! a clinic sends the same files again through both replicas at once, and both sessions end
//! together, each queuing every case it touched: the two replicas finalize the same cases in
//! lockstep (as their sweepers do, through the same `finalize_case`, after the quiet period).
//! Each case must be queued exactly once, with one job for its series and one `received` audit
//! entry, counted in the shared index with SQL (before the guard, every case got two jobs: both
//! transactions read `receiving`). Then a report signed on one replica reaches the report
//! watchers (`reports --follow`) of both.

use e2e::servers::{Postgres, Seaweed};
use e2e::*;
use remotedx_proto::v1 as pb;

/// Studies raced on.
const STUDIES: u32 = 40;

/// Uploads `files` in one session through the replica behind `channel`; how many were new.
async fn upload(
    channel: tonic::transport::Channel,
    token: String,
    files: Vec<(String, Vec<u8>)>,
) -> u32 {
    let msgs: Vec<pb::UploadRequest> = files
        .iter()
        .flat_map(|(name, bytes)| file_messages(name, bytes))
        .collect();
    let mut up = pb::upload_service_client::UploadServiceClient::new(channel);
    let mut stream = up
        .upload(authed(tokio_stream::iter(msgs), &token))
        .await
        .expect("an upload session")
        .into_inner();
    while let Some(r) = stream.message().await.expect("the upload's answers") {
        if let Some(pb::upload_response::Msg::Summary(s)) = r.msg {
            assert_eq!(s.rejected, 0, "{s:?}");
            return s.accepted;
        }
    }
    panic!("the upload ended without a summary")
}

/// Uploads `files` in one session through the replica behind `channel` and then breaks the
/// session off (as a clinic's link does), so that its cases stay receiving until a sweeper queues
/// them; the number accepted.
async fn upload_and_break_off(
    channel: tonic::transport::Channel,
    token: &str,
    files: &[(String, Vec<u8>)],
) -> usize {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut up = pb::upload_service_client::UploadServiceClient::new(channel);
    let mut stream = up
        .upload(authed(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            token,
        ))
        .await
        .expect("an upload session")
        .into_inner();
    let sender = async {
        for (name, bytes) in files {
            for msg in file_messages(name, bytes) {
                tx.send(msg).await.expect("the session is open");
            }
        }
    };
    let receiver = async {
        let mut accepted = 0;
        while accepted < files.len() {
            let answer = stream.message().await.expect("the upload's answers");
            match answer.and_then(|a| a.msg) {
                Some(pb::upload_response::Msg::Accepted(_)) => accepted += 1,
                other => panic!("unexpected answer {other:?}"),
            }
        }
        accepted
    };
    let ((), accepted) = tokio::join!(sender, receiver);
    // Dropping the call with the request stream still open resets it: the session never ends.
    drop(stream);
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_finalizing_the_same_cases_queue_each_once() {
    let pg = Postgres::start();
    let s3 = Seaweed::start("remotedx");
    let shared = tempfile::tempdir().unwrap();
    let key = shared.path().join("pseudonym.key");
    let integrity = shared.path().join("integrity.key");
    let env = [
        ("REMOTEDX_HUB_STORAGE__DATABASE", pg.url.as_str()),
        ("REMOTEDX_HUB_STORAGE__BLOBS", "s3://remotedx"),
        ("REMOTEDX_HUB_PRIVACY__KEY_FILE", key.to_str().unwrap()),
        (
            "REMOTEDX_HUB_INTEGRITY__KEY_FILE",
            integrity.to_str().unwrap(),
        ),
        ("REMOTEDX_HUB_INGEST__QUIET_PERIOD", "5s"),
        ("AWS_ENDPOINT_URL", s3.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let region = Region::start(&env);
    let replica_dir = tempfile::tempdir().unwrap();
    let replica = HubProcess::start(replica_dir.path(), &env);

    let template =
        dicom_object::open_file(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let files: Vec<(String, Vec<u8>)> = (0..STUDIES)
        .flat_map(|s| {
            let study = format!("1.2.826.0.1.3680043.10.12.{s}");
            let template = &template;
            (0..2).map(move |i| {
                let file = dicom::variant(template, &study, i, "11010519491231002X");
                (format!("{s}-{i}.dcm"), file)
            })
        })
        .collect();
    let accepted =
        upload_and_break_off(region.hub.channel().await, region.token("clinic_a"), &files).await;
    assert_eq!(accepted, files.len());
    // The same files again through both replicas at once: duplicates, but each session touched
    // every case and queues them all when it ends.
    let clinic = region.token("clinic_a").to_owned();
    let (a, b) = tokio::join!(
        upload(region.hub.channel().await, clinic.clone(), files.clone()),
        upload(replica.channel().await, clinic, files.clone()),
    );
    assert_eq!((a, b), (0, 0), "the second sessions added instances");

    // Wait until no case is receiving (the sweepers queue any left after the quiet period).
    let mut receiving = String::new();
    for _ in 0..100 {
        receiving = pg.query("SELECT count(*) FROM cases WHERE state = 'receiving'");
        if receiving == "0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(receiving, "0", "cases still receiving");
    let cases: u32 = pg.query("SELECT count(*) FROM cases").parse().unwrap();
    assert_eq!(cases, STUDIES);
    let duplicated = pg.query(
        "SELECT case_id || ' ' || kind || ' ' || subject || ' x' || count(*) FROM jobs \
         GROUP BY case_id, kind, subject HAVING count(*) > 1",
    );
    assert_eq!(
        duplicated, "",
        "jobs scheduled twice (case kind subject xN)"
    );
    let without_one_job = pg.query(
        "SELECT count(*) FROM cases c WHERE (SELECT count(*) FROM jobs j WHERE j.case_id = c.id) <> 1",
    );
    assert_eq!(without_one_job, "0", "cases without exactly one job");
    let received_twice = pg.query(
        "SELECT count(*) FROM (SELECT case_id FROM audit WHERE action = 'received' \
         GROUP BY case_id HAVING count(*) > 1) d",
    );
    assert_eq!(received_twice, "0", "cases queued twice in the audit trail");

    report_reaches_the_watchers_of_both_replicas(&region, &replica).await;
}

/// A clinic watches reports on both replicas; a senior signs one case's report on the first;
/// both watchers get it.
async fn report_reaches_the_watchers_of_both_replicas(region: &Region, replica: &HubProcess) {
    use std::time::Duration;
    let clinic = region.token("clinic_a");
    let mut watchers = Vec::new();
    for hub in [&region.hub, replica] {
        let mut reading =
            pb::reading_service_client::ReadingServiceClient::new(hub.channel().await);
        let stream = reading
            .watch_reports(authed(pb::WatchReportsRequest::default(), clinic))
            .await
            .expect("a report watch")
            .into_inner();
        watchers.push(stream);
    }
    let senior = region.token("senior");
    let mut a = pb::reading_service_client::ReadingServiceClient::new(region.hub.channel().await);
    let mut case_id = 0;
    for _ in 0..300 {
        let q = a
            .queue(authed(pb::QueueRequest::default(), senior))
            .await
            .expect("the queue")
            .into_inner();
        if let Some(first) = q.entries.first() {
            case_id = first.summary.as_ref().expect("a summary").case_id;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(case_id > 0, "no case reached the queue");
    a.claim(authed(
        pb::ClaimRequest {
            case_id,
            skip_reason: String::new(),
        },
        senior,
    ))
    .await
    .expect("the claim");
    a.file_report(authed(
        pb::FileReportRequest {
            case_id,
            findings: "No acute intracranial abnormality.".into(),
            impression: "Normal CT.".into(),
            critical: false,
            sign: true,
        },
        senior,
    ))
    .await
    .expect("the signed report");
    for (i, watcher) in watchers.iter_mut().enumerate() {
        let got = tokio::time::timeout(Duration::from_secs(10), watcher.message())
            .await
            .unwrap_or_else(|_| panic!("replica {i}'s watcher got no report within 10 s"))
            .expect("the watch stream")
            .expect("a report");
        assert_eq!(got.summary.expect("a summary").case_id, case_id);
    }
}
