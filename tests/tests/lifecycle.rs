//! Starting and stopping: SIGTERM stops the hub cleanly (exit 0) and a restart serves the same data.

use e2e::*;
use remotedx_proto::v1 as pb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_and_restart_keeps_everything() {
    let mut region = Region::start(&[]);
    let bytes = std::fs::read(corpus().join("dicom/pydicom-test-files/MR_small.dcm")).unwrap();
    let mut up = pb::upload_service_client::UploadServiceClient::new(region.hub.channel().await);
    let msgs = file_messages("mr.dcm", &bytes);
    let mut stream = up
        .upload(authed(tokio_stream::iter(msgs), region.token("clinic_a")))
        .await
        .unwrap()
        .into_inner();
    let mut case_id = 0;
    while let Some(r) = stream.message().await.unwrap() {
        if let Some(pb::upload_response::Msg::Summary(s)) = r.msg {
            case_id = s.cases[0].case_id;
        }
    }
    let started = std::time::Instant::now();
    let status = region.hub.terminate();
    assert!(status.success(), "the hub exited with {status} on SIGTERM");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "shutdown took {:?}",
        started.elapsed()
    );

    region.hub.restart();
    let detail = pb::case_service_client::CaseServiceClient::new(region.hub.channel().await)
        .get_case(authed(
            pb::GetCaseRequest { case_id },
            region.token("clinic_a"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(detail.instances.len(), 1);
    assert_eq!(detail.instances[0].size, bytes.len() as u64);
}
