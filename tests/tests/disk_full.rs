//! A hub whose disk is below its free-space floor refuses uploads with the reason, through the
//! real binary, while reading keeps answering.

use e2e::*;
use remotedx_proto::v1 as pb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_the_free_space_floor_uploads_are_refused_and_reading_goes_on() {
    // A floor no disk meets (8 EiB).
    let region = Region::start(&[
        ("REMOTEDX_HUB_INGEST__MIN_FREE_BYTES", "9223372036854775807"),
        ("REMOTEDX_HUB_JOBS__IN_PROCESS", "false"),
    ]);
    let channel = region.hub.channel().await;
    let ct = std::fs::read(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let mut upload = pb::upload_service_client::UploadServiceClient::new(channel.clone());
    let messages = tokio_stream::iter(file_messages("ct.dcm", &ct));
    let status = match upload
        .upload(authed(messages, region.token("clinic_a")))
        .await
    {
        Err(status) => status,
        Ok(response) => match response.into_inner().message().await {
            Err(status) => status,
            Ok(first) => panic!("an upload was taken on a full disk: {first:?}"),
        },
    };
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .starts_with("the hub's disk is nearly full: "),
        "{status:?}"
    );
    assert!(status.message().contains("needs 8.0 EiB"), "{status:?}");

    let specialist = region.token("specialist");
    let mut reading = pb::reading_service_client::ReadingServiceClient::new(channel.clone());
    reading
        .queue(authed(pb::QueueRequest::default(), specialist))
        .await
        .expect("the queue still answers");
    let mut cases = pb::case_service_client::CaseServiceClient::new(channel);
    cases
        .list_cases(authed(pb::ListCasesRequest::default(), specialist))
        .await
        .expect("case listings still answer");
}
