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
