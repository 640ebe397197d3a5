//! Hostile clients (issue "Safe to deploy 2/2"): the attacks of that issue, replayed together
//! against one real hub while a clinic keeps asking `whoami`. The hub must refuse or absorb each
//! one, answer every `whoami` within [`WHOAMI_BOUND`], keep its peak RSS under [`RSS_BOUND_MIB`],
//! and still take a normal upload afterwards.
//!
//! Each attack is also tested on its own where its defence lives (worker-ecg's `wfdb_hostile`,
//! `dicom_scp`, `grpc_limits`, hub's `limits`); this test is about all of them at once, on the
//! real binary, which is how a hub meets them in the field.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dicom_ul::association::client::ClientAssociationOptions;
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu};
use e2e::*;
use remotedx_proto::v1 as pb;
use tokio::task::JoinHandle;

/// How long a clinic may wait for `whoami` while the hub is under attack.
const WHOAMI_BOUND: Duration = Duration::from_secs(1);
/// The hub's peak resident memory over the whole run. The RLE bomb's frame (2^28 one-byte
/// samples) is refused from its attributes by the per-frame decode budget (`imaging.max_frame_bytes`,
/// 128 MiB) and no longer decoded (it once took the peak to 564 MiB); everything else is bounded far
/// below. Measured 81 MiB.
const RSS_BOUND_MIB: u64 = 256;
/// The calling AE title mapped to TS-A.
const MODALITY: &str = "MODALITY_A";
const VERIFICATION: &str = "1.2.840.10008.1.1";

/// A valid ID card number (GB 11643 check digit computed, not typed).
fn patient_id() -> String {
    let first17 = "11010519800101123";
    let check = patient_id::check_char(first17).expect("17 digits");
    format!("{first17}{check}")
}

fn options(patient: &str) -> pb::UploadRequest {
    pb::UploadRequest {
        msg: Some(pb::upload_request::Msg::Options(pb::UploadOptions {
            patient_id: patient.into(),
            ..Default::default()
        })),
    }
}

/// Uploads `files` in one session; the rejection reasons and acceptances the hub answered, or
/// the status that ended the call.
async fn upload(
    hub: &HubProcess,
    token: &str,
    first: pb::UploadRequest,
    files: Vec<(&str, Vec<u8>)>,
) -> Result<(Vec<String>, usize), tonic::Status> {
    let mut messages = vec![first];
    for (name, bytes) in &files {
        messages.extend(file_messages(name, bytes));
    }
    let mut client = pb::upload_service_client::UploadServiceClient::new(hub.channel().await)
        .max_encoding_message_size(usize::MAX);
    let mut answers = client
        .upload(authed(tokio_stream::iter(messages), token))
        .await?
        .into_inner();
    let (mut rejected, mut accepted) = (Vec::new(), 0);
    while let Some(answer) = answers.message().await? {
        match answer.msg {
            Some(pb::upload_response::Msg::Rejected(r)) => rejected.push(r.message),
            Some(pb::upload_response::Msg::Accepted(_)) => accepted += 1,
            _ => {}
        }
    }
    Ok((rejected, accepted))
}

/// Issue 12, item 1: an 80-byte header whose sample count overflows.
fn wfdb_overflow() -> Vec<(&'static str, Vec<u8>)> {
    let header = "x 2 360 9223372036854775808\nx.dat 16\nx.dat 16\n";
    vec![("x.hea", header.into()), ("x.dat", vec![0; 64])]
}

/// Issue 12, item 3: a header naming 60,000 signal files (about 480 KB).
fn wfdb_many_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut header = String::from("many 60000 360 1000\n");
    for i in 0..60_000 {
        header.push_str(&format!("s{i}.dat 16\n"));
    }
    vec![("many.hea", header.into_bytes())]
}

/// Issue 12, item 2: a 4 MB RLE file claiming a 16384 x 16384 frame.
fn rle_bomb() -> Vec<u8> {
    e2e::dicom::rle_image(16384, "2.25.120120120120", &patient_id(), "RLE^BOMB").0
}

/// Issue 12, item 2: DIMSE command fragments that never end (900 MB of them once cost the hub
/// 1.2 GB). Sends `bytes` of fragments, then waits for the hub's answer: `Ok` when it aborted
/// or closed the association, `Err` when it was still waiting for more.
fn dimse_fragment_flood(addr: SocketAddr, bytes: usize) -> Result<(), String> {
    let mut association = ClientAssociationOptions::new()
        .calling_ae_title(MODALITY)
        .called_ae_title("REMOTEDX")
        .with_abstract_syntax(VERIFICATION)
        .read_timeout(Duration::from_secs(10))
        .establish(addr)
        .expect("association for the flood");
    let pc = association.presentation_contexts()[0].id;
    for _ in 0..bytes / FRAGMENT {
        let fragment = Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: pc,
                value_type: PDataValueType::Command,
                is_last: false,
                data: vec![0x20; FRAGMENT],
            }],
        };
        if association.send(&fragment).is_err() {
            return Ok(()); // already closed by the hub
        }
    }
    match association.receive() {
        Ok(Pdu::AbortRQ { .. }) => Ok(()),
        Ok(other) => Err(format!("the hub answered {other:?}")),
        Err(e) if timed_out(&e) => Err("the hub kept waiting for more fragments".into()),
        Err(_) => Ok(()), // closed or reset
    }
}

/// Fragment size of the flood.
const FRAGMENT: usize = 16 * 1024;

/// Whether `e` is a read that timed out (rather than a closed connection).
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            );
        }
        source = err.source();
    }
    false
}

/// A DICOM association from a known modality (what a real modality does first).
fn dicom_association_opens(addr: SocketAddr) -> Result<(), String> {
    let association = ClientAssociationOptions::new()
        .calling_ae_title(MODALITY)
        .called_ae_title("REMOTEDX")
        .with_abstract_syntax(VERIFICATION)
        .read_timeout(Duration::from_secs(5))
        .establish(addr)
        .map_err(|e| e.to_string())?;
    association.release().map_err(|e| e.to_string())
}

/// Issue 12, item 2: `n` sockets that never say a word, from another loopback address than the
/// clinic's (as an attacker elsewhere in the county network would be), so that the per-address
/// caps they run into are theirs.
async fn silent_sockets(addr: SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let from: SocketAddr = "127.0.0.2:0".parse().unwrap();
    let mut sockets = Vec::new();
    for _ in 0..n {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.bind(from).expect("127.0.0.2 is a loopback address");
        if let Ok(stream) = socket.connect(addr).await {
            sockets.push(stream);
        }
    }
    sockets
}

/// Issue 12, item 2: 40 MiB job results under a made-up token.
async fn unauthenticated_bodies(hub: &HubProcess, n: i64) -> Vec<tonic::Code> {
    let mut codes = Vec::new();
    for job_id in 0..n {
        let mut client = pb::worker_service_client::WorkerServiceClient::new(hub.channel().await)
            .max_encoding_message_size(64 << 20);
        let request = pb::CompleteJobRequest {
            job_id,
            artifacts: vec![pb::Artifact {
                name: "x".into(),
                media_type: "application/octet-stream".into(),
                data: vec![7; 40 << 20],
            }],
            ..Default::default()
        };
        let code = match client
            .complete_job(authed(request, "rdx_not-a-token"))
            .await
        {
            Ok(_) => tonic::Code::Ok,
            Err(status) => status.code(),
        };
        codes.push(code);
    }
    codes
}

/// `whoami` every 200 ms until `stop`; the slowest answer, and every failure.
fn watch_whoami(
    hub_channel: tonic::transport::Channel,
    token: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<(Duration, Vec<String>)> {
    tokio::spawn(async move {
        let mut client = pb::account_service_client::AccountServiceClient::new(hub_channel);
        let (mut slowest, mut failures) = (Duration::ZERO, Vec::new());
        while !*stop.borrow() {
            let start = Instant::now();
            let call = client.who_am_i(authed(pb::WhoAmIRequest {}, &token));
            match tokio::time::timeout(Duration::from_secs(30), call).await {
                Ok(Ok(_)) => slowest = slowest.max(start.elapsed()),
                Ok(Err(status)) => failures.push(format!("{status:?}")),
                Err(_) => failures.push("no answer within 30 s".into()),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        (slowest, failures)
    })
}

/// Waits (up to two minutes) until none of the clinic's cases is still arriving or waiting for
/// the worker, so that the jobs the attacks caused (the RLE frame's decode and render) have run;
/// how many cases the clinic has then.
async fn settled(hub: &HubProcess, token: &str) -> usize {
    use pb::CaseState::{Processing, Received, Receiving};
    let mut cases = pb::case_service_client::CaseServiceClient::new(hub.channel().await);
    for _ in 0..600 {
        let all = cases
            .list_cases(authed(pb::ListCasesRequest::default(), token))
            .await
            .expect("the clinic's cases")
            .into_inner()
            .cases;
        let busy = [Receiving, Received, Processing].map(|s| s as i32);
        if !all.iter().any(|c| busy.contains(&c.state)) {
            return all.len();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the clinic's cases were still being processed after two minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_attack_at_once_leaves_the_hub_answering_within_bounds() {
    let region = Region::start(&[("REMOTEDX_HUB_DICOM__CALLING_AE__MODALITY_A", "TS-A")]);
    let hub = &region.hub;
    let dicom = hub
        .dicom
        .expect("the hub printed no `dicom listening on` line");
    let grpc: SocketAddr = hub
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("the hub's gRPC address");
    let clinic = region.token("clinic_a").to_owned();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watcher = watch_whoami(hub.channel().await, clinic.clone(), stop_rx);
    let started = Instant::now();

    // Sockets first: they must not lock anyone out of what follows.
    let idle_grpc = tokio::spawn(silent_sockets(grpc, 800));
    let idle_dicom = tokio::spawn(silent_sockets(dicom, 32));
    let flood = tokio::task::spawn_blocking(move || dimse_fragment_flood(dicom, 2 << 20));
    let id = patient_id();
    let (overflow, many, bomb, big_reason, bodies) = tokio::join!(
        upload(hub, &clinic, options(&id), wfdb_overflow()),
        upload(hub, &clinic, options(&id), wfdb_many_files()),
        upload(hub, &clinic, options(&id), vec![("rle.dcm", rle_bomb())]),
        upload(
            hub,
            &clinic,
            pb::UploadRequest {
                msg: Some(pb::upload_request::Msg::Options(pb::UploadOptions {
                    patient_id: id.clone(),
                    critical: true,
                    critical_reason: "!".repeat(5 << 20),
                    ..Default::default()
                })),
            },
            vec![("x.hea", b"x 1 360 10\nx.dat 16\n".to_vec())],
        ),
        unauthenticated_bodies(hub, 4),
    );
    let idle_grpc = idle_grpc.await.unwrap();
    let idle_dicom = idle_dicom.await.unwrap();
    let flood = flood.await.unwrap();

    // Each attack was refused or absorbed, with a reason where a person should see one.
    let (rejected, accepted) = overflow.expect("the overflow upload's session");
    assert_eq!(accepted, 0, "{rejected:?}");
    assert!(rejected.iter().any(|r| r.contains("x.dat")), "{rejected:?}");
    let (rejected, accepted) = many.expect("the many-files upload's session");
    assert_eq!(accepted, 0, "{rejected:?}");
    assert!(
        !rejected.is_empty(),
        "a 60,000-signal header was not refused"
    );
    let bomb = bomb.expect("the RLE upload's session");
    assert_eq!(
        bomb.0.len() + bomb.1,
        1,
        "the RLE file got no answer: {bomb:?}"
    );
    let status = big_reason.expect_err("a 5 MiB critical reason was taken");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        bodies.iter().all(|c| *c == tonic::Code::Unauthenticated),
        "{bodies:?}"
    );
    flood.expect("2 MiB of one command's fragments");
    assert!(!idle_grpc.is_empty() && !idle_dicom.is_empty());

    // With the silent sockets still open, a modality and a clinic still get in.
    tokio::task::spawn_blocking(move || dicom_association_opens(dicom))
        .await
        .unwrap()
        .expect("a modality was locked out");
    // The ECG job of a normal record, after everything above, is taken and queued.
    let record = corpus().join("ecg/wfdb/mitdb/100.hea");
    let normal: Vec<(&str, Vec<u8>)> = vec![
        (
            "100.hea",
            std::fs::read(&record).expect("MIT-BIH 100 in the corpus"),
        ),
        (
            "100.dat",
            std::fs::read(record.with_extension("dat")).expect("100.dat"),
        ),
    ];
    let (rejected, accepted) = upload(hub, &clinic, options(&id), normal)
        .await
        .expect("a normal upload after the attacks");
    assert!(
        rejected.is_empty() && accepted > 0,
        "{accepted} accepted, refused: {rejected:?}"
    );
    drop((idle_grpc, idle_dicom));
    // The RLE frame and the ECG were processed (or refused by the worker) within the bounds too.
    assert_eq!(
        settled(hub, &clinic).await,
        2,
        "the RLE image's and the ECG's cases"
    );

    stop_tx.send(true).unwrap();
    let (slowest, failures) = watcher.await.unwrap();
    let peak = peak_rss_mib(hub.pid());
    eprintln!(
        "attacks over {:.1} s; slowest whoami {} ms; peak RSS {peak} MiB",
        started.elapsed().as_secs_f64(),
        slowest.as_millis()
    );
    assert!(failures.is_empty(), "whoami failed: {failures:?}");
    assert!(slowest <= WHOAMI_BOUND, "whoami took {slowest:?}");
    assert!(peak <= RSS_BOUND_MIB, "peak RSS {peak} MiB");
    let _ = std::io::stderr().flush();
}
