//! Nothing acknowledged is lost: SIGKILL the hub in the middle of uploads, restart it, and every
//! acknowledged instance is there, complete, with nothing half-visible, and the queue intact.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::*;
use remotedx_proto::v1 as pb;
use sha2::Digest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_uploads_loses_nothing_acknowledged() {
    let mut region = Region::start(&[
        ("REMOTEDX_HUB_INGEST__QUIET_PERIOD", "1s"),
        ("REMOTEDX_HUB_JOBS__IN_PROCESS", "false"),
    ]);
    let template =
        dicom_object::open_file(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let token = region.token("clinic_a").to_owned();

    // A first study, completely uploaded and queued before the crash.
    let queued: Vec<pb::UploadRequest> = (0..3)
        .flat_map(|i| file_messages_of(&template, "1.2.826.0.1.3680043.10.1.1", i))
        .collect();
    let first = upload_all(&region.hub, &token, queued).await;
    assert_eq!(first.acked.len(), 3);

    // A second, large upload, killed part-way through.
    let study = "1.2.826.0.1.3680043.10.1.2";
    let files: Vec<Vec<u8>> = (0..60)
        .map(|i| dicom::variant(&template, study, i, "11010519491231002X"))
        .collect();
    let expected: std::collections::HashMap<String, String> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("{study}.{i}"), hex::encode(sha2::Sha256::digest(f))))
        .collect();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let mut client =
        pb::upload_service_client::UploadServiceClient::new(region.hub.channel().await);
    let mut responses = client
        .upload(authed(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let sender = tokio::spawn(async move {
        for (i, f) in files.iter().enumerate() {
            for m in file_messages(&format!("f{i}.dcm"), f) {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
        }
        // Never closes cleanly: the hub dies first.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let mut acked = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while let Ok(Ok(Some(r))) = tokio::time::timeout_at(deadline, responses.message()).await {
        match r.msg {
            Some(pb::upload_response::Msg::Accepted(a)) => {
                acked.insert(a.sop_instance_uid);
                if acked.len() == 20 {
                    region.hub.kill();
                    break;
                }
            }
            Some(pb::upload_response::Msg::Rejected(r)) => panic!("rejected: {}", r.message),
            _ => {}
        }
    }
    sender.abort();
    assert_eq!(
        acked.len(),
        20,
        "the hub acknowledged 20 files before it was killed"
    );

    region.hub.restart();
    let channel = region.hub.channel().await;
    let specialist = region.token("specialist").to_owned();
    let mut cases = pb::case_service_client::CaseServiceClient::new(channel.clone());
    let list = cases
        .list_cases(authed(pb::ListCasesRequest::default(), &specialist))
        .await
        .unwrap()
        .into_inner()
        .cases;
    let crashed = list
        .iter()
        .find(|c| c.study_instance_uid == study)
        .expect("the interrupted study is a case");
    let detail = cases
        .get_case(authed(
            pb::GetCaseRequest {
                case_id: crashed.case_id,
            },
            &specialist,
        ))
        .await
        .unwrap()
        .into_inner();
    let stored: BTreeSet<String> = detail
        .instances
        .iter()
        .map(|i| i.sop_instance_uid.clone())
        .collect();
    assert!(
        acked.is_subset(&stored),
        "acknowledged but missing: {:?}",
        acked.difference(&stored).collect::<Vec<_>>()
    );
    assert_eq!(
        stored.len() as u32,
        detail.summary.as_ref().unwrap().instance_count,
        "counters match the rows"
    );

    // Every visible instance is whole: its bytes are exactly what was sent.
    for i in &detail.instances {
        let bytes = get_instance(
            channel.clone(),
            &specialist,
            crashed.case_id,
            &i.sop_instance_uid,
        )
        .await
        .unwrap();
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            expected[&i.sop_instance_uid],
            "{} is damaged",
            i.sop_instance_uid
        );
    }

    // The queue: the first study is still there; the interrupted one joins after the quiet period.
    let mut reading = pb::reading_service_client::ReadingServiceClient::new(channel.clone());
    let mut in_queue = BTreeSet::new();
    for _ in 0..50 {
        let q = reading
            .queue(authed(pb::QueueRequest::default(), &specialist))
            .await
            .unwrap()
            .into_inner();
        in_queue = q
            .entries
            .iter()
            .map(|e| e.summary.as_ref().unwrap().study_instance_uid.clone())
            .collect();
        if in_queue.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        in_queue,
        BTreeSet::from(["1.2.826.0.1.3680043.10.1.1".to_owned(), study.to_owned()])
    );
}

/// The upload messages for instance `index` of `study`.
fn file_messages_of(
    template: &dicom_object::DefaultDicomObject,
    study: &str,
    index: u32,
) -> Vec<pb::UploadRequest> {
    let bytes = dicom::variant(template, study, index, "11010519491231002X");
    file_messages(&format!("{index}.dcm"), &bytes)
}

struct Uploaded {
    acked: Vec<String>,
}

async fn upload_all(hub: &HubProcess, token: &str, msgs: Vec<pb::UploadRequest>) -> Uploaded {
    let mut client = pb::upload_service_client::UploadServiceClient::new(hub.channel().await);
    let mut stream = client
        .upload(authed(tokio_stream::iter(msgs), token))
        .await
        .unwrap()
        .into_inner();
    let mut acked = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        match r.msg {
            Some(pb::upload_response::Msg::Accepted(a)) => acked.push(a.sop_instance_uid),
            Some(pb::upload_response::Msg::Rejected(r)) => panic!("rejected: {}", r.message),
            _ => {}
        }
    }
    Uploaded { acked }
}
