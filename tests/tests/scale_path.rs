//! The scale path end to end: two hub replicas share one PostgreSQL index and one S3 bucket.
//! A study uploaded through one replica is read, claimed and downloaded through the other, and
//! specialists racing on both replicas still get exactly one claim.

use e2e::servers::{Postgres, Seaweed};
use e2e::*;
use remotedx_proto::v1 as pb;
use sha2::Digest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_postgres_and_s3() {
    let pg = Postgres::start();
    let s3 = Seaweed::start("remotedx");
    let shared = tempfile::tempdir().unwrap();
    let key = shared.path().join("pseudonym.key");
    let key = key.to_str().unwrap();
    // Replicas share the integrity key too: a replica with another would refuse to start.
    let integrity = shared.path().join("integrity.key");
    let integrity = integrity.to_str().unwrap();
    let env = [
        ("REMOTEDX_HUB_STORAGE__DATABASE", pg.url.as_str()),
        ("REMOTEDX_HUB_STORAGE__BLOBS", "s3://remotedx"),
        ("REMOTEDX_HUB_PRIVACY__KEY_FILE", key),
        ("REMOTEDX_HUB_INTEGRITY__KEY_FILE", integrity),
        ("AWS_ENDPOINT_URL", s3.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let region = Region::start(&env);
    let replica_dir = tempfile::tempdir().unwrap();
    let replica = HubProcess::start(replica_dir.path(), &env);

    // Upload through the first replica.
    let template =
        dicom_object::open_file(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let study = "1.2.826.0.1.3680043.10.2.1";
    let files: Vec<Vec<u8>> = (0..3)
        .map(|i| dicom::variant(&template, study, i, "11010519491231002X"))
        .collect();
    let msgs: Vec<pb::UploadRequest> = files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| file_messages(&format!("{i}.dcm"), f))
        .collect();
    let mut up = pb::upload_service_client::UploadServiceClient::new(region.hub.channel().await);
    let mut stream = up
        .upload(authed(tokio_stream::iter(msgs), region.token("clinic_a")))
        .await
        .unwrap()
        .into_inner();
    let mut case_id = 0;
    while let Some(r) = stream.message().await.unwrap() {
        if let Some(pb::upload_response::Msg::Summary(s)) = r.msg {
            assert_eq!(s.accepted, 3, "{s:?}");
            case_id = s.cases[0].case_id;
        }
    }

    // Read it through the second replica: same case, byte-identical instances.
    let ch = replica.channel().await;
    let spec = region.token("specialist");
    let detail = pb::case_service_client::CaseServiceClient::new(ch.clone())
        .get_case(authed(pb::GetCaseRequest { case_id }, spec))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(detail.instances.len(), 3);
    for (i, f) in files.iter().enumerate() {
        let got = get_instance(ch.clone(), spec, case_id, &format!("{study}.{i}"))
            .await
            .unwrap();
        assert_eq!(sha2::Sha256::digest(&got), sha2::Sha256::digest(f));
    }

    // Wait until the case is queued (the first replica's runner processes it), then race claims.
    let mut a = pb::reading_service_client::ReadingServiceClient::new(region.hub.channel().await);
    let mut b = pb::reading_service_client::ReadingServiceClient::new(ch);
    for _ in 0..100 {
        let q = a
            .queue(authed(pb::QueueRequest::default(), spec))
            .await
            .unwrap()
            .into_inner();
        if !q.entries.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let senior = region.token("senior").to_owned();
    let spec = spec.to_owned();
    let (ra, rb) = tokio::join!(
        a.claim(authed(
            pb::ClaimRequest {
                case_id,
                skip_reason: String::new()
            },
            &spec
        )),
        b.claim(authed(
            pb::ClaimRequest {
                case_id,
                skip_reason: String::new()
            },
            &senior
        )),
    );
    assert!(
        ra.is_ok() != rb.is_ok(),
        "exactly one replica's claim wins: {ra:?} / {rb:?}"
    );
    let loser = ra.err().or(rb.err()).unwrap();
    assert_eq!(loser.code(), tonic::Code::FailedPrecondition, "{loser:?}");
}
