//! End-to-end test support: start the real `hub` binary on an ephemeral port with a temporary data
//! directory, talk to it over gRPC or through the real `viewer-cli`, kill it, restart it.
//!
//! The binaries come from the workspace's target directory (`cargo build --workspace --bins`,
//! which `scripts/test.sh` runs first).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use remotedx_proto::v1 as pb;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

pub mod dicom;
pub mod servers;

/// The test corpus: $REMOTEDX_CORPUS, else ../shared/corpus beside the workspace.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("REMOTEDX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    assert!(
        dir.is_dir(),
        "test corpus not found at {} (set REMOTEDX_CORPUS)",
        dir.display()
    );
    dir
}

/// A workspace binary, built by `cargo build --workspace --bins`.
pub fn binary(name: &str) -> PathBuf {
    // The test executable is target/<profile>/deps/<test>-<hash>.
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// A running hub process.
pub struct HubProcess {
    child: Child,
    /// Its data directory (kept across restarts).
    pub data_dir: PathBuf,
    /// Its gRPC URL.
    pub url: String,
    /// Its DICOM listener's address, if enabled.
    pub dicom: Option<std::net::SocketAddr>,
    /// Its HTTP (DICOMweb) listener's address, if enabled.
    pub http: Option<std::net::SocketAddr>,
    /// Extra environment it was started with.
    env: Vec<(String, String)>,
    /// Extra `serve` arguments it was started with.
    args: Vec<String>,
}

impl HubProcess {
    /// Starts `hub serve` on 127.0.0.1:0 over `data_dir`, with `env` (e.g. REMOTEDX_HUB_* settings).
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> HubProcess {
        HubProcess::start_with(data_dir, env, &[])
    }

    /// Like [`HubProcess::start`], with extra `serve` arguments (e.g. `--demo`), repeated on restart.
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> HubProcess {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let (child, url, dicom, http) = spawn(data_dir, &env, &args, "127.0.0.1:0");
        HubProcess {
            child,
            data_dir: data_dir.to_owned(),
            url,
            dicom,
            http,
            env,
            args,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no chance to clean up).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it with SIGTERM and waits for a graceful exit; returns its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // std has no SIGTERM; the kill(1) command sends it without unsafe code.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        self.child.wait().expect("wait for hub")
    }

    /// Sends SIGTERM and waits at most `limit` for the hub to exit: its exit status, or None (and
    /// the hub killed) if it was still running.
    pub fn terminate_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait for hub") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        None
    }

    /// Kills it and starts it again on the same data directory and the same gRPC address (clients
    /// reconnect to the URL they know).
    pub fn restart_same_address(&mut self) {
        self.kill();
        let listen = self.url.trim_start_matches("http://").to_owned();
        let (child, url, dicom, http) = spawn(&self.data_dir, &self.env, &self.args, &listen);
        self.child = child;
        self.url = url;
        self.dicom = dicom;
        self.http = http;
    }

    /// Starts it again on the same data directory (a new port).
    pub fn restart(&mut self) {
        self.kill();
        let (child, url, dicom, http) = spawn(&self.data_dir, &self.env, &self.args, "127.0.0.1:0");
        self.child = child;
        self.url = url;
        self.dicom = dicom;
        self.http = http;
    }

    /// Runs a `hub` admin subcommand on this hub's data directory; returns stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        hub_command(&self.data_dir, &self.env, args)
    }

    /// A gRPC channel to it.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect to hub")
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn hub_command(data_dir: &Path, env: &[(String, String)], args: &[&str]) -> String {
    let out = Command::new(binary("hub"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .expect("run hub");
    assert!(
        out.status.success(),
        "hub {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn spawn(
    data_dir: &Path,
    env: &[(String, String)],
    args: &[String],
    listen: &str,
) -> (
    Child,
    String,
    Option<std::net::SocketAddr>,
    Option<std::net::SocketAddr>,
) {
    let mut child = Command::new(binary("hub"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--listen", listen])
        .args(["--dicom-listen", "127.0.0.1:0"])
        .args(["--http-listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().cloned())
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start hub");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut dicom = None;
    let mut http = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.strip_prefix("dicom listening on ") {
            dicom = rest.split_whitespace().next().and_then(|a| a.parse().ok());
        }
        if let Some(rest) = line.strip_prefix("http listening on ") {
            http = rest.split_whitespace().next().and_then(|a| a.parse().ok());
        }
        if let Some(rest) = line.strip_prefix("hub listening on ") {
            let addr = rest.split_whitespace().next().expect("address");
            // Keep draining stdout so the hub never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (child, format!("http://{addr}"), dicom, http);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the hub did not report its address");
}

/// A hub with institutions TS-A, TS-B, CTY and one user per role; returns it and the tokens.
pub struct Region {
    /// The hub.
    pub hub: HubProcess,
    /// Its data directory's owner.
    pub _dir: tempfile::TempDir,
    /// Tokens by user: clinic_a, clinic_b, specialist, senior, admin, worker, auditor_a.
    pub tokens: std::collections::HashMap<&'static str, String>,
}

impl Region {
    /// Sets up the region and starts the hub with `env`.
    pub fn start(env: &[(&str, &str)]) -> Region {
        let dir = tempfile::tempdir().expect("tempdir");
        let env_owned: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for (code, level) in [
            ("TS-A", "township"),
            ("TS-B", "township"),
            ("CTY", "county"),
        ] {
            let name = format!("{code} hospital");
            hub_command(
                dir.path(),
                &env_owned,
                &[
                    "institution",
                    "add",
                    "--code",
                    code,
                    "--name",
                    &name,
                    "--level",
                    level,
                ],
            );
        }
        let mut tokens = std::collections::HashMap::new();
        for (key, role, inst, senior) in [
            ("clinic_a", "clinic", "TS-A", false),
            ("clinic_b", "clinic", "TS-B", false),
            ("specialist", "specialist", "CTY", false),
            ("senior", "specialist", "CTY", true),
            ("admin", "admin", "CTY", false),
            ("worker", "worker", "CTY", false),
            ("auditor_a", "auditor", "TS-A", false),
        ] {
            let mut args = vec![
                "user",
                "add",
                "--name",
                key,
                "--role",
                role,
                "--institution",
                inst,
            ];
            if senior {
                args.push("--senior");
            }
            let out = hub_command(dir.path(), &env_owned, &args);
            let token = out
                .lines()
                .find_map(|l| l.strip_prefix("token: "))
                .expect("token line")
                .to_owned();
            tokens.insert(key, token);
        }
        let hub = HubProcess::start(dir.path(), env);
        Region {
            hub,
            _dir: dir,
            tokens,
        }
    }

    /// A token.
    pub fn token(&self, user: &str) -> &str {
        &self.tokens[user]
    }
}

/// Adds `authorization: Bearer <token>` to a request.
pub fn authed<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    let value = MetadataValue::try_from(format!("Bearer {token}")).expect("ascii token");
    req.metadata_mut()
        .insert(remotedx_proto::AUTHORIZATION, value);
    req
}

/// The upload request messages for one file.
pub fn file_messages(name: &str, bytes: &[u8]) -> Vec<pb::UploadRequest> {
    use pb::upload_request::Msg;
    use sha2::Digest;
    let mut msgs = vec![pb::UploadRequest {
        msg: Some(Msg::Start(pb::FileStart {
            file_name: name.into(),
            size: bytes.len() as u64,
        })),
    }];
    for chunk in bytes.chunks(64 * 1024) {
        msgs.push(pb::UploadRequest {
            msg: Some(Msg::Chunk(chunk.to_vec())),
        });
    }
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    msgs.push(pb::UploadRequest {
        msg: Some(Msg::End(pb::FileEnd { sha256: sha })),
    });
    msgs
}

/// Downloads a stored instance.
pub async fn get_instance(
    channel: Channel,
    token: &str,
    case_id: i64,
    sop: &str,
) -> Result<Vec<u8>, tonic::Status> {
    let mut client = pb::case_service_client::CaseServiceClient::new(channel);
    let req = pb::GetInstanceRequest {
        case_id,
        sop_instance_uid: sop.into(),
    };
    let mut stream = client.get_instance(authed(req, token)).await?.into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = stream.message().await? {
        out.extend_from_slice(&chunk.data);
    }
    Ok(out)
}

/// What a `viewer-cli` run produced.
#[derive(Debug)]
pub struct CliRun {
    /// Exit code.
    pub code: i32,
    /// Standard output parsed as JSON (Null if it is not JSON).
    pub json: serde_json::Value,
    /// Standard output as text.
    pub stdout: String,
    /// Standard error as text.
    pub stderr: String,
}

/// The JSON of a run that must have succeeded (exit 0); fails the test with its output otherwise.
pub fn ok(run: &CliRun) -> &serde_json::Value {
    assert_eq!(
        run.code, 0,
        "viewer-cli failed: {}\n{}",
        run.stderr, run.stdout
    );
    &run.json
}

/// Runs `viewer-cli --json ARGS` against `hub` as the user with `token`.
pub fn cli(hub: &HubProcess, token: &str, args: &[&str]) -> CliRun {
    let out = Command::new(binary("viewer-cli"))
        .arg("--json")
        .args(args)
        .env("HUB_URL", &hub.url)
        .env("HUB_TOKEN", token)
        .env("NO_COLOR", "1")
        .output()
        .expect("run viewer-cli");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    CliRun {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A hub with the demo region (users, institutions) but none of its sample studies, in `dir`.
pub fn demo_hub_without_samples(dir: &Path) -> HubProcess {
    let empty = dir.join("no-samples");
    std::fs::create_dir_all(&empty).expect("an empty samples folder");
    HubProcess::start_with(
        dir,
        &[],
        &["--demo", "--demo-data", empty.to_str().expect("UTF-8 path")],
    )
}

/// The demo specialist's `show --json` of `case` once the worker has made it ready (up to two
/// minutes); the last view otherwise, for the caller's assertion to print.
pub fn shown_when_ready(hub: &HubProcess, case: i64) -> serde_json::Value {
    let mut detail = serde_json::Value::Null;
    for _ in 0..600 {
        detail = ok(&cli(hub, "demo-specialist", &["show", &case.to_string()])).clone();
        if detail["case"]["state"] == "ready" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    detail
}

/// The workspace's committed sample studies.
pub fn sample_files() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-data/files")
}

/// The peak resident memory (VmHWM) of process `pid` so far, in MiB (Linux).
pub fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("hub's status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kib / 1024
}
