//! The order and sizes of an upload's messages through the real hub (issue "Safe to deploy 2/2"):
//! a file that sends more than its `FileStart` announced is refused at the first byte too many,
//! naming the file, and the next file of the same upload is still taken. The rules themselves are
//! `upload-framing`'s (unit tests and the `upload_stream` fuzz target).

use e2e::*;
use pb::upload_request::Msg;
use remotedx_proto::v1 as pb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sending_more_than_it_announced_is_refused_and_the_next_one_is_taken() {
    let region = Region::start(&[]);
    let hub = &region.hub;
    let ct = std::fs::read(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    // "small.dcm" says 4 bytes, then sends a whole CT's worth in one chunk and never ends.
    let mut messages = vec![
        pb::UploadRequest {
            msg: Some(Msg::Start(pb::FileStart {
                file_name: "small.dcm".into(),
                size: 4,
            })),
        },
        pb::UploadRequest {
            msg: Some(Msg::Chunk(ct.clone())),
        },
    ];
    messages.extend(file_messages("ct/CT_small.dcm", &ct));
    let mut client = pb::upload_service_client::UploadServiceClient::new(hub.channel().await);
    let mut answers = client
        .upload(authed(
            tokio_stream::iter(messages),
            region.token("clinic_a"),
        ))
        .await
        .expect("the upload session")
        .into_inner();
    let (mut rejected, mut accepted) = (Vec::new(), Vec::new());
    while let Some(answer) = answers.message().await.expect("the hub's answers") {
        match answer.msg {
            Some(pb::upload_response::Msg::Rejected(r)) => rejected.push(r),
            Some(pb::upload_response::Msg::Accepted(a)) => accepted.push(a.file_name),
            _ => {}
        }
    }
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].file_name, "small.dcm");
    assert_eq!(
        rejected[0].reason,
        pb::RejectReason::ChecksumMismatch as i32,
        "{rejected:?}"
    );
    assert_eq!(
        rejected[0].message,
        "small.dcm: more than the 4 bytes it announced arrived"
    );
    assert_eq!(accepted, ["ct/CT_small.dcm"]);
}
