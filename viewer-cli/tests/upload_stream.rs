//! The upload session against a tiny in-test UploadService: chunking, SHA-256, order, options,
//! the bearer token, a rejected file not stopping the rest, and sending before the hub answers.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use remotedx_proto::CHUNK_BYTES;
use remotedx_proto::v1 as pb;
use remotedx_proto::v1::upload_service_server::{UploadService, UploadServiceServer};
use remotedx_proto::v1::{upload_request, upload_response};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status, Streaming};
use viewer_cli::client::Hub;
use viewer_cli::upload::{self, Event};

const TOKEN: &str = "test-token";

/// What the fake hub saw of one file.
#[derive(Debug, Clone, Default)]
struct SeenFile {
    name: String,
    declared_size: u64,
    chunk_sizes: Vec<usize>,
    data: Vec<u8>,
    sent_sha: String,
}

#[derive(Debug, Default)]
struct Log {
    options: Option<pb::UploadOptions>,
    /// Message kinds in arrival order: "options", "start", "chunk", "end".
    kinds: Vec<&'static str>,
    files: Vec<SeenFile>,
}

/// Rejects files whose name contains `reject`; answers only after the whole upload arrived when
/// `answer_last` is set (a client that waits for the answer before sending would hang).
#[derive(Clone)]
struct FakeHub {
    log: Arc<Mutex<Log>>,
    reject: &'static str,
    answer_last: bool,
}

type Answers = Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::UploadResponse, Status>> + Send>>;

#[tonic::async_trait]
impl UploadService for FakeHub {
    type UploadStream = Answers;

    async fn upload(
        &self,
        req: Request<Streaming<pb::UploadRequest>>,
    ) -> Result<Response<Answers>, Status> {
        let auth = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {TOKEN}")) {
            return Err(Status::unauthenticated("token not recognised"));
        }
        let (tx, rx) = mpsc::channel(64);
        let receiving = tokio::spawn(receive(self.clone(), req.into_inner(), tx));
        if self.answer_last {
            receiving.await.expect("receiver task");
        }
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

async fn receive(
    hub: FakeHub,
    mut inbound: Streaming<pb::UploadRequest>,
    tx: mpsc::Sender<Result<pb::UploadResponse, Status>>,
) {
    let reply = |msg| pb::UploadResponse { msg: Some(msg) };
    let mut current: Option<SeenFile> = None;
    let (mut accepted, mut rejected) = (0, 0);
    while let Some(req) = inbound.message().await.expect("well-formed stream") {
        let msg = req.msg.expect("message set");
        let answer = {
            let mut log = hub.log.lock().unwrap();
            match msg {
                upload_request::Msg::Options(o) => {
                    log.kinds.push("options");
                    log.options = Some(o);
                    None
                }
                upload_request::Msg::Start(s) => {
                    log.kinds.push("start");
                    current = Some(SeenFile {
                        name: s.file_name,
                        declared_size: s.size,
                        ..Default::default()
                    });
                    None
                }
                upload_request::Msg::Chunk(data) => {
                    log.kinds.push("chunk");
                    let f = current.as_mut().expect("chunk inside a file");
                    f.chunk_sizes.push(data.len());
                    f.data.extend_from_slice(&data);
                    None
                }
                upload_request::Msg::End(end) => {
                    log.kinds.push("end");
                    let mut f = current.take().expect("end of a started file");
                    f.sent_sha = end.sha256;
                    let answer = if f.name.contains(hub.reject) {
                        rejected += 1;
                        upload_response::Msg::Rejected(pb::FileRejected {
                            file_name: f.name.clone(),
                            reason: pb::RejectReason::NotDicom as i32,
                            message: format!("{}: not a DICOM Part 10 file", f.name),
                        })
                    } else {
                        accepted += 1;
                        upload_response::Msg::Accepted(pb::FileAccepted {
                            file_name: f.name.clone(),
                            sop_instance_uid: format!("1.2.3.{}", log.files.len()),
                            case_id: 7,
                            duplicate: false,
                            size: f.data.len() as u64,
                        })
                    };
                    log.files.push(f);
                    Some(answer)
                }
            }
        };
        if let Some(answer) = answer {
            let _ = tx.send(Ok(reply(answer))).await;
        }
    }
    let summary = pb::UploadSummary {
        cases: vec![pb::UploadedCase {
            case_id: 7,
            modality: "CT".into(),
            instance_count: accepted,
            ..Default::default()
        }],
        accepted,
        duplicates: 0,
        rejected,
    };
    let _ = tx
        .send(Ok(reply(upload_response::Msg::Summary(summary))))
        .await;
}

async fn serve(hub: FakeHub) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service =
        UploadServiceServer::new(hub).max_decoding_message_size(remotedx_proto::MAX_MESSAGE_BYTES);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    url
}

/// Files of awkward sizes: empty, exactly one chunk, 2.5 chunks, a rejected one, a small one.
fn make_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let pattern = |n: usize, seed: u8| -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    };
    let files = [
        ("a-empty.dcm", Vec::new()),
        ("b-one-chunk.dcm", pattern(CHUNK_BYTES, 1)),
        ("c-two-and-a-half.dcm", pattern(CHUNK_BYTES * 5 / 2, 2)),
        ("d-reject-me.dcm", pattern(1000, 3)),
        ("e-small.dcm", pattern(7, 4)),
    ];
    files
        .into_iter()
        .map(|(name, data)| {
            let path = dir.join(name);
            std::fs::write(&path, &data).unwrap();
            (path, data)
        })
        .collect()
}

async fn run_session(answer_last: bool) {
    let log = Arc::new(Mutex::new(Log::default()));
    let url = serve(FakeHub {
        log: log.clone(),
        reject: "reject-me",
        answer_last,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let files = make_files(dir.path());
    let walk = upload::walk(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(walk.files.len(), files.len());
    let hub = Hub::connect(&url, Some(TOKEN)).await.unwrap();
    let options = pb::UploadOptions {
        priority: pb::Priority::Stat as i32,
        critical: true,
        critical_reason: "suspected stroke".into(),
        ..Default::default()
    };
    let mut seen_events = Vec::new();
    let session = upload::upload(
        &hub,
        walk.files.clone(),
        options,
        indicatif::ProgressBar::hidden(),
        |e| {
            seen_events.push(e.clone());
        },
    );
    let outcome = tokio::time::timeout(Duration::from_secs(30), session)
        .await
        .expect("the client sends without waiting for the hub's answer")
        .unwrap();

    let log = log.lock().unwrap();
    // Options first, then start, chunks, end for each file, in walk order.
    assert_eq!(log.kinds[0], "options");
    let opts = log.options.as_ref().unwrap();
    assert_eq!(
        (opts.priority, opts.critical, opts.critical_reason.as_str()),
        (pb::Priority::Stat as i32, true, "suspected stroke")
    );
    let mut expected_kinds = vec!["options"];
    for (_, data) in &files {
        expected_kinds.push("start");
        expected_kinds.extend(std::iter::repeat_n(
            "chunk",
            data.len().div_ceil(CHUNK_BYTES),
        ));
        expected_kinds.push("end");
    }
    assert_eq!(log.kinds, expected_kinds);
    assert_eq!(
        log.files.len(),
        files.len(),
        "a rejected file does not stop the rest"
    );
    for (seen, (path, data)) in log.files.iter().zip(&files) {
        assert_eq!(seen.name, path.display().to_string());
        assert_eq!(seen.declared_size, data.len() as u64);
        assert_eq!(&seen.data, data, "{} arrives whole and in order", seen.name);
        assert_eq!(
            seen.sent_sha,
            hex::encode(Sha256::digest(data)),
            "SHA-256 of {}",
            seen.name
        );
        let (last, full) = seen
            .chunk_sizes
            .split_last()
            .map_or((None, &[][..]), |(l, f)| (Some(*l), f));
        assert!(
            full.iter().all(|&n| n == CHUNK_BYTES),
            "{}: {:?}",
            seen.name,
            seen.chunk_sizes
        );
        assert!(last.is_none_or(|n| n > 0 && n <= CHUNK_BYTES));
    }
    assert_eq!(
        log.files[2].chunk_sizes,
        [CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES / 2]
    );
    assert_eq!(log.files[1].chunk_sizes, [CHUNK_BYTES]);
    assert!(log.files[0].chunk_sizes.is_empty());

    // The events came through the callback as they arrived, the rejection among them.
    assert_eq!(seen_events, outcome.events);
    assert_eq!(outcome.failures(), 1);
    let rejected: Vec<&str> = outcome
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Rejected(r) => Some(r.file_name.as_str()),
            Event::Accepted(_) => None,
        })
        .collect();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].ends_with("d-reject-me.dcm"));
    let summary = outcome.summary.unwrap();
    assert_eq!((summary.accepted, summary.rejected), (4, 1));
}

#[tokio::test]
async fn files_stream_in_order_in_whole_chunks_with_their_sha256() {
    run_session(false).await;
}

#[tokio::test]
async fn sending_never_waits_for_the_hubs_answer() {
    run_session(true).await;
}

#[tokio::test]
async fn a_wrong_token_is_unauthenticated() {
    let url = serve(FakeHub {
        log: Arc::default(),
        reject: "x",
        answer_last: false,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    make_files(dir.path());
    let walk = upload::walk(&[dir.path().to_path_buf()]).unwrap();
    let hub = Hub::connect(&url, Some("wrong")).await.unwrap();
    let err = upload::upload(
        &hub,
        walk.files,
        pb::UploadOptions::default(),
        indicatif::ProgressBar::hidden(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(err.to_string(), "token not recognised");
}

#[tokio::test]
async fn the_binary_reports_partial_failure_as_json_with_exit_code_1() {
    let url = serve(FakeHub {
        log: Arc::default(),
        reject: "reject-me",
        answer_last: false,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    make_files(dir.path());
    std::fs::write(dir.path().join("manifest.json"), "{}").unwrap();
    let path = dir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_viewer-cli"))
            .args(["upload", "--json", "--hub", &url, "--token", TOKEN])
            .arg(&path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document on stdout");
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    let statuses: Vec<&str> = files
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["accepted", "accepted", "accepted", "rejected", "accepted"]
    );
    assert_eq!(files[3]["reason"], "not_dicom");
    assert!(
        files[3]["message"]
            .as_str()
            .unwrap()
            .contains("d-reject-me.dcm")
    );
    assert_eq!(files[0]["case_id"], 7);
    assert_eq!(json["skipped"][0]["why"], "not a record (.json)");
    assert_eq!(json["summary"]["accepted"], 4);
    assert_eq!(json["summary"]["rejected"], 1);
    assert_eq!(json["summary"]["cases"][0]["case_id"], 7);
}
