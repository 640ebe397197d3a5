//! `reports --follow` across hub shutdowns and restarts, through the real binaries: the hub ends
//! watchers' streams promptly on SIGTERM and says why; the watcher reconnects and shows what was
//! signed while it was away, exactly once.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use e2e::*;
use serde_json::Value;

/// A running `viewer-cli --json reports --follow`, its output lines as they come.
struct Follower {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Follower {
    fn start(hub: &HubProcess, token: &str) -> Follower {
        let mut child = Command::new(binary("viewer-cli"))
            .args(["--json", "reports", "--follow"])
            .env("HUB_URL", &hub.url)
            .env("HUB_TOKEN", token)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start viewer-cli");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        Follower {
            child,
            stdout,
            stderr,
        }
    }

    /// Report ids printed on stdout until nothing more comes for `quiet`.
    fn reports(&self, quiet: Duration) -> Vec<i64> {
        let mut ids = Vec::new();
        while let Ok(line) = self.stdout.recv_timeout(quiet) {
            let v: Value = serde_json::from_str(&line).expect("one JSON report per line");
            ids.push(v["report"]["report_id"].as_i64().expect("report_id"));
        }
        ids
    }

    /// Waits up to `limit` for a stderr line containing `text`; returns every line read.
    fn said(&self, text: &str, limit: Duration) -> Result<Vec<String>, Vec<String>> {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => {
                    seen.push(line);
                    return Ok(seen);
                }
                Ok(line) => seen.push(line),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    return Err(seen);
                }
            }
        }
    }

    /// Still running (it must not give up when the hub goes away).
    fn running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("wait for viewer-cli")
            .is_none()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn corpus_file(name: &str) -> PathBuf {
    corpus().join("dicom/pydicom-test-files").join(name)
}

/// Uploads `file` as clinic A, then the senior specialist claims it (once the hub has processed
/// it) and signs a report; returns the report id.
fn signed_report(hub: &HubProcess, region: &Region, file: &Path) -> i64 {
    let up = cli(
        hub,
        region.token("clinic_a"),
        &["upload", file.to_str().unwrap()],
    );
    let case = ok(&up)["summary"]["cases"][0]["case_id"]
        .as_i64()
        .expect("case id")
        .to_string();
    let senior = region.token("senior");
    let deadline = Instant::now() + Duration::from_secs(60);
    while cli(hub, senior, &["claim", &case]).code != 0 {
        assert!(Instant::now() < deadline, "case {case} never became ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    let args = [
        "report",
        &case,
        "--findings",
        "Unremarkable.",
        "--impression",
        "Normal.",
        "--sign",
    ];
    ok(&cli(hub, senior, &args))["report_id"]
        .as_i64()
        .expect("report id")
}

/// The region with its follower attached and caught up (it has printed nothing yet).
fn watched_region() -> (Region, Follower) {
    let region = Region::start(&[]);
    let follower = Follower::start(&region.hub, region.token("clinic_a"));
    // Wait for the watch to be open: a report signed now must reach it.
    let first = signed_report(&region.hub, &region, &corpus_file("CT_small.dcm"));
    assert_eq!(follower.reports(Duration::from_secs(5)), vec![first]);
    (region, follower)
}

#[test]
fn sigterm_ends_follow_streams_promptly_and_says_so() {
    let (mut region, mut follower) = watched_region();
    let started = Instant::now();
    let status = region.hub.terminate_within(Duration::from_secs(20));
    let took = started.elapsed();
    eprintln!("SIGTERM to exit with a follower attached: {took:?}");
    assert!(
        status.is_some_and(|s| s.success()),
        "the hub did not exit cleanly within 20 s of SIGTERM with a follower attached ({status:?})"
    );
    assert!(
        took < Duration::from_secs(10),
        "shutdown took {took:?} with a follower attached"
    );
    let said = follower.said("shutting down", Duration::from_secs(5));
    assert!(said.is_ok(), "the follower did not say so: {said:?}");
    assert!(follower.running(), "the follower keeps waiting for the hub");
}

#[test]
fn a_report_signed_while_the_follower_was_away_arrives_once() {
    // Signed before the follower starts: it is listed, and the stream brings nothing before the
    // hub goes away, so the follower resumes from the cursor the hub gave it when it started.
    let mut region = Region::start(&[]);
    let listed = signed_report(&region.hub, &region, &corpus_file("CT_small.dcm"));
    let mut follower = Follower::start(&region.hub, region.token("clinic_a"));
    // Listed after the watch was opened: once it is printed, the watch is open.
    assert_eq!(follower.reports(Duration::from_secs(5)), vec![listed]);
    region.hub.kill();
    // The same data served elsewhere: a report is signed there while the follower cannot reach it.
    let elsewhere = HubProcess::start(&region.hub.data_dir, &[]);
    let missed = signed_report(&elsewhere, &region, &corpus_file("MR_small.dcm"));
    drop(elsewhere);
    let lost = follower.said("lost the report stream", Duration::from_secs(10));
    assert!(
        lost.is_ok(),
        "the follower did not say it lost the hub: {lost:?}"
    );
    assert!(
        follower.running(),
        "the follower keeps trying: it must not exit"
    );

    region.hub.restart_same_address();
    let back = follower.said("reconnected", Duration::from_secs(45));
    assert!(back.is_ok(), "the follower did not reconnect: {back:?}");
    let dr = sample_files().join("baishui/zhang-san-dr-chest");
    let after = signed_report(&region.hub, &region, &dr);
    assert_eq!(
        follower.reports(Duration::from_secs(5)),
        vec![missed, after],
        "the missed report once, then the new one"
    );
}
