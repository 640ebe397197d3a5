//! Blobs nothing points at are collected: a file refused after its blob was stored (another
//! institution's study) leaves a blob that the collector removes once it is older than the grace
//! period, while every blob an index row points at stays.

mod common;

use std::time::Duration;

use common::*;
use hub::domain::staging::RejectReason;
use hub::storage::blob::sha256_hex;

const STUDY: &str = "1.2.826.0.1.3680043.10.13.1";

fn instance(index: u32) -> Vec<u8> {
    let template =
        dicom_object::open_file(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    e2e::dicom::variant(&template, STUDY, index, "P-1")
}

/// Clinic A stores instance 1 of the study; clinic B's instance 2 of the same study is refused
/// (its blob already stored). Returns (kept key, refused key).
async fn refused_after_its_blob_was_stored(t: &TestHub) -> (String, String) {
    let (kept, refused) = (instance(1), instance(2));
    let (out, _) = upload(&t.hub, &t.clinic_a, &[("a.dcm", kept.clone())]).await;
    out[0].as_ref().unwrap();
    let (out, _) = upload(&t.hub, &t.clinic_b, &[("b.dcm", refused.clone())]).await;
    let err = out[0].as_ref().unwrap_err();
    assert_eq!(err.reason, RejectReason::ForeignStudy, "{}", err.message);
    (sha256_hex(&kept), sha256_hex(&refused))
}

/// The hub's blob store, opened beside it as an operator would (the domain keeps its own private).
async fn blob_store(t: &TestHub) -> std::sync::Arc<dyn hub::storage::blob::BlobStore> {
    let (store, _) = hub::startup::open_store(t.hub.config()).await.unwrap();
    store.blobs.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_uploads_blob_is_collected_and_a_referenced_one_never_is() {
    let t = test_hub(|c| c.ingest.orphan_grace = Duration::ZERO).await;
    let blobs = blob_store(&t).await;
    let (kept, refused) = refused_after_its_blob_was_stored(&t).await;
    assert!(
        blobs.exists(&refused).await.unwrap(),
        "the refused file's blob was stored first"
    );
    // A blob written by something that never got to its index row (an interrupted upload).
    let stray = blobs
        .put_bytes(b"an upload cut off before indexing".to_vec())
        .await
        .unwrap();

    let removed = t.hub.collect_orphan_blobs().await.unwrap();
    assert_eq!(removed, 2);
    assert!(!blobs.exists(&refused).await.unwrap());
    assert!(!blobs.exists(&stray).await.unwrap());
    assert!(
        blobs.exists(&kept).await.unwrap(),
        "a referenced blob was removed"
    );
    assert_eq!(t.hub.collect_orphan_blobs().await.unwrap(), 0);

    // The same bytes uploaded again by their own clinic are stored anew and kept.
    let (out, _) = upload(&t.hub, &t.clinic_a, &[("b.dcm", instance(2))]).await;
    out[0].as_ref().unwrap();
    assert_eq!(t.hub.collect_orphan_blobs().await.unwrap(), 0);
    assert!(blobs.exists(&refused).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_younger_than_the_grace_period_is_kept() {
    let t = test_hub(|c| c.ingest.orphan_grace = Duration::from_secs(3600)).await;
    let (_, refused) = refused_after_its_blob_was_stored(&t).await;
    assert_eq!(t.hub.collect_orphan_blobs().await.unwrap(), 0);
    assert!(blob_store(&t).await.exists(&refused).await.unwrap());
}
