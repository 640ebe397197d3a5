//! What error messages may say (issue 13, item 8): another institution's case or study answers as
//! one that does not exist, without its owner; storage failures reach the sender as a reference
//! to the hub's log, never as SQL or paths.

mod common;

use common::*;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use hub::domain::Error;
use hub::domain::staging::RejectReason;
use hub::model::MixupState;

fn ct() -> Vec<u8> {
    std::fs::read(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap()
}

/// `bytes` with a new SOP Instance UID, same study.
fn another_instance_of(bytes: &[u8], sop: &str) -> Vec<u8> {
    let mut obj = dicom_object::from_reader(&bytes[128..]).unwrap();
    obj.put(DataElement::new(
        tags::SOP_INSTANCE_UID,
        VR::UI,
        PrimitiveValue::from(sop),
    ));
    obj.meta_mut().media_storage_sop_instance_uid = sop.into();
    obj.meta_mut().update_information_group_length();
    let mut out = Vec::new();
    obj.write_all(&mut out).unwrap();
    out
}

/// The message with the case id replaced, so answers about two ids can be compared.
fn shape(e: &Error, id: i64) -> (std::mem::Discriminant<Error>, String) {
    let m = e.to_string().replace(&id.to_string(), "N");
    (std::mem::discriminant(e), m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_institutions_case_answers_as_a_case_that_does_not_exist() {
    let t = test_hub(|_| {}).await;
    let (_, cases) = upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct())]).await;
    let (ours, none) = (cases[0], 4242);
    let b = &t.clinic_b;
    let pairs = [
        (
            t.hub.case_detail(b, ours).await.map(drop).unwrap_err(),
            t.hub.case_detail(b, none).await.map(drop).unwrap_err(),
        ),
        (
            t.hub
                .artifact_for(b, ours, "x")
                .await
                .map(drop)
                .unwrap_err(),
            t.hub
                .artifact_for(b, none, "x")
                .await
                .map(drop)
                .unwrap_err(),
        ),
        (
            t.hub
                .instance_for(b, ours, "1.2")
                .await
                .map(drop)
                .unwrap_err(),
            t.hub
                .instance_for(b, none, "1.2")
                .await
                .map(drop)
                .unwrap_err(),
        ),
        (
            t.hub
                .resolve_mixup(b, ours, MixupState::Withdrawn, "checked")
                .await
                .map(drop)
                .unwrap_err(),
            t.hub
                .resolve_mixup(b, none, MixupState::Withdrawn, "checked")
                .await
                .map(drop)
                .unwrap_err(),
        ),
    ];
    for (foreign, missing) in pairs {
        assert!(matches!(foreign, Error::NotFound(_)), "{foreign}");
        assert_eq!(shape(&foreign, ours), shape(&missing, none));
        let m = foreign.to_string();
        assert!(!m.contains("TS-A") && !m.contains("clinic a"), "{m}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_study_does_not_name_the_institution_that_holds_it() {
    let t = test_hub(|_| {}).await;
    let ct = ct();
    upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct.clone())]).await;
    let other = another_instance_of(&ct, "1.2.826.0.1.3680043.2.1125.99.1");
    let (out, _) = upload(&t.hub, &t.clinic_b, &[("b.dcm", other), ("c.dcm", ct)]).await;
    for r in out {
        let e = r.expect_err("clinic B cannot add to clinic A's study");
        assert_eq!(e.reason, RejectReason::ForeignStudy, "{}", e.message);
        assert!(
            !e.message.contains("TS-A") && !e.message.contains("TS-A hospital"),
            "{}",
            e.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_reaches_the_sender_as_a_reference_without_paths() {
    let t = test_hub(|_| {}).await;
    let staging = t.hub.config().staging_dir();
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::write(&staging, b"a file where the staging directory should be").unwrap();
    let staged = async {
        let mut f = t.hub.begin_staging("scan.dcm").await?;
        f.write(&ct()).await?;
        f.finish(None, None).await
    }
    .await;
    let e = staged.expect_err("the staging directory is unusable");
    assert_eq!(e.reason, RejectReason::Storage);
    assert!(
        e.message.starts_with("scan.dcm: storage error (ref "),
        "{}",
        e.message
    );
    let dir = t.dir.path().display().to_string();
    assert!(
        !e.message.contains(&dir) && !e.message.contains("staging"),
        "{}",
        e.message
    );
}
