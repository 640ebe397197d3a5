//! Through the real binary: a file refused after its blob was stored (another institution's
//! study) leaves no blob once the sweeper has run past the grace period, while the blob of an
//! accepted file stays.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use e2e::*;
use remotedx_proto::v1 as pb;
use sha2::Digest;

const STUDY: &str = "1.2.826.0.1.3680043.10.14.1";

/// Where the local blob store keeps `bytes`.
fn blob_path(region: &Region, bytes: &[u8]) -> PathBuf {
    let key = hex::encode(sha2::Sha256::digest(bytes));
    region
        .hub
        .data_dir
        .join("blobs")
        .join(&key[0..2])
        .join(&key[2..4])
        .join(&key)
}

/// Uploads one file as `user`; returns the hub's answer for it.
async fn upload(region: &Region, user: &str, bytes: &[u8]) -> pb::upload_response::Msg {
    let channel = region.hub.channel().await;
    let mut client = pb::upload_service_client::UploadServiceClient::new(channel);
    let messages = tokio_stream::iter(file_messages("ct.dcm", bytes));
    let mut answers = client
        .upload(authed(messages, region.token(user)))
        .await
        .expect("upload answered")
        .into_inner();
    answers
        .message()
        .await
        .expect("upload stream")
        .and_then(|m| m.msg)
        .expect("an answer for the file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_uploads_blob_is_gone_after_the_sweeper_runs() {
    let region = Region::start(&[
        ("REMOTEDX_HUB_INGEST__ORPHAN_GRACE", "1s"),
        ("REMOTEDX_HUB_JOBS__IN_PROCESS", "false"),
    ]);
    let template =
        dicom_object::open_file(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let kept = e2e::dicom::variant(&template, STUDY, 1, "P-1");
    let refused = e2e::dicom::variant(&template, STUDY, 2, "P-1");

    let answer = upload(&region, "clinic_a", &kept).await;
    assert!(
        matches!(answer, pb::upload_response::Msg::Accepted(_)),
        "{answer:?}"
    );
    match upload(&region, "clinic_b", &refused).await {
        pb::upload_response::Msg::Rejected(r) => {
            assert_eq!(r.reason(), pb::RejectReason::ForeignStudy, "{}", r.message);
        }
        other => panic!("clinic B added to clinic A's study: {other:?}"),
    }
    let orphan = blob_path(&region, &refused);
    assert!(orphan.is_file(), "the refused file's blob was stored first");

    let deadline = Instant::now() + Duration::from_secs(20);
    while orphan.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        !orphan.exists(),
        "the orphan blob is still there after 20 s"
    );
    assert!(
        blob_path(&region, &kept).is_file(),
        "the accepted file's blob was removed"
    );
}
