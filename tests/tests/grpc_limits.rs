//! The gRPC listener against clients that hold sockets without speaking: connections over the
//! per-address cap are closed at once, silent ones after the idle timeout, and a live follower
//! (which answers the hub's HTTP/2 pings) is kept. Regression for "800 idle TCP connections
//! stay open; no connection cap, handshake or idle timeout" (issue "Safe to deploy 2/2").

use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::*;

/// Whether the hub closed `socket` (end of file or reset) within `within`; what it sends before
/// (its HTTP/2 settings) is read and dropped.
fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 1024];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
    false
}

#[test]
fn silent_sockets_are_capped_and_closed_while_live_clients_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start_with(
        dir.path(),
        &[
            ("REMOTEDX_HUB_GRPC__MAX_CONNECTIONS_PER_IP", "6"),
            ("REMOTEDX_HUB_GRPC__IDLE_TIMEOUT", "3s"),
            ("REMOTEDX_HUB_JOBS__IN_PROCESS", "false"),
        ],
        &[
            "--demo",
            "--demo-data",
            dir.path().join("none").to_str().unwrap(),
        ],
    );
    let addr = hub.url.trim_start_matches("http://").to_owned();

    // A follower stays connected (and answers pings) for longer than the idle timeout.
    let mut follower = Command::new(binary("viewer-cli"))
        .args(["reports", "--follow"])
        .env("HUB_URL", &hub.url)
        .env("HUB_TOKEN", "demo-clinic-a")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));

    // Five silent sockets fill the address's cap of six with the follower's; the next is closed.
    let mut silent: Vec<_> = (0..5).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut over = TcpStream::connect(&addr).unwrap();
    assert!(
        closed_within(&mut over, Duration::from_secs(2)),
        "a connection over the per-address cap was kept open"
    );

    // The silent ones are closed after the idle timeout; the follower is still there.
    let start = Instant::now();
    for s in &mut silent {
        assert!(
            closed_within(s, Duration::from_secs(10)),
            "a silent connection was kept open past the idle timeout"
        );
    }
    assert!(start.elapsed() < Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        follower.try_wait().unwrap().is_none(),
        "a live follower was disconnected as idle"
    );
    let who = cli(&hub, "demo-clinic-a", &["whoami"]);
    assert_eq!(who.code, 0, "{}", who.stderr);
    let _ = follower.kill();
    let _ = follower.wait();
}

/// The hub's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// Regression: "gRPC decodes 64 MiB messages before checking the token". Eight callers with a
/// made-up token each send a 40 MiB job result; the hub must refuse them from the headers,
/// without taking the bodies into memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_requests_with_a_bad_token_are_refused_before_their_body_is_read() {
    use remotedx_proto::v1 as pb;
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(dir.path(), &[("REMOTEDX_HUB_JOBS__IN_PROCESS", "false")]);
    let channel = hub.channel().await;
    let before = peak_rss_kib(hub.pid());
    let mut calls = Vec::new();
    for i in 0..8 {
        let mut client = pb::worker_service_client::WorkerServiceClient::new(channel.clone())
            .max_encoding_message_size(64 << 20);
        calls.push(tokio::spawn(async move {
            let request = pb::CompleteJobRequest {
                job_id: i,
                artifacts: vec![pb::Artifact {
                    name: "x".into(),
                    media_type: "application/octet-stream".into(),
                    data: vec![7u8; 40 << 20],
                }],
                ..Default::default()
            };
            client
                .complete_job(authed(request, "not-a-token"))
                .await
                .unwrap_err()
                .code()
        }));
    }
    for call in calls {
        assert_eq!(call.await.unwrap(), tonic::Code::Unauthenticated);
    }
    let grown_mib = (peak_rss_kib(hub.pid()) - before) / 1024;
    assert!(
        grown_mib < 64,
        "the hub's peak memory grew by {grown_mib} MiB for 320 MiB of unauthenticated requests"
    );
}
