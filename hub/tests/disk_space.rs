//! Below the free-space floor uploads are refused with the reason, and reading keeps working.

mod common;

use common::*;
use hub::domain::Error;
use hub::domain::ingest::IngestOptions;
use hub::domain::staging::RejectReason;
use hub::storage::cases::CaseFilter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_below_its_free_space_floor_refuses_uploads_and_still_reads() {
    // A study stored while there was room.
    let roomy = test_hub(|_| {}).await;
    let ct = std::fs::read(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let (out, cases) = upload(&roomy.hub, &roomy.clinic_a, &[("ct.dcm", ct)]).await;
    out[0].as_ref().unwrap();
    let (clinic, specialist) = (roomy.clinic_a.clone(), roomy.specialist.clone());

    // The same data directory, reopened with a floor no disk can meet.
    let mut config = roomy.hub.config().clone();
    drop(roomy.hub);
    config.ingest.min_free_bytes = u64::MAX;
    let full = hub::startup::open(config).await.unwrap();

    match full.ingest_session(clinic.clone(), IngestOptions::default()) {
        Err(Error::ResourceExhausted(msg)) => {
            assert!(msg.starts_with("the hub's disk is nearly full: "), "{msg}");
            assert!(msg.contains(" free, needs "), "{msg}");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("an upload was accepted on a full disk"),
    }
    let staged = full.begin_staging("more.dcm").await;
    let rejection = staged.err().expect("a file was staged on a full disk");
    assert_eq!(rejection.reason, RejectReason::Storage);
    assert!(
        rejection
            .message
            .starts_with("more.dcm: the hub's disk is nearly full")
    );

    // Reading (and the audit row each view writes) goes on.
    let queue = full.queue(&specialist, "", false, false, 0).await.unwrap();
    assert_eq!(queue.len(), 1);
    let listed = full
        .list_cases(&clinic, CaseFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let detail = full.case_detail(&specialist, cases[0]).await.unwrap();
    assert_eq!(detail.case.instance_count, 1);
}
