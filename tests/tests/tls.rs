//! TLS off loopback through the real binaries (issue 13, items 1 and 11): certificates made by
//! `hub cert`, gRPC over TLS to `viewer-cli` (a CA it does not trust is refused, by name), mTLS
//! for remote workers, no plaintext listener on a non-loopback address without the opt-in, no
//! token sent in clear to another machine, and DICOM TLS (PS3.15 B.1) with DCMTK's `echoscu` and
//! `storescu +tls`, plus the per-AE network allow-list.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use e2e::*;

/// The hub's AE title (the default).
const HUB_AE: &str = "REMOTEDX";

/// A county CA with the hub's, a worker's and a modality's certificates, made by `hub cert`.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn issue() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        hub_cert(&["init", "--dir", d, "--county", "Qingshan County"]);
        hub_cert(&[
            "server",
            "--dir",
            d,
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
        ]);
        hub_cert(&["worker", "--dir", d, "--name", "w1"]);
        hub_cert(&["modality", "--dir", d, "--name", "MODALITY_A"]);
        Certs { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// The hub's `[tls]` settings as environment variables.
    fn hub_env(&self, client_certs: &str) -> Vec<(String, String)> {
        vec![
            ("REMOTEDX_HUB_TLS__CERT".into(), self.arg("server.pem")),
            ("REMOTEDX_HUB_TLS__KEY".into(), self.arg("server.key")),
            ("REMOTEDX_HUB_TLS__CLIENT_CA".into(), self.arg("ca.pem")),
            ("REMOTEDX_HUB_TLS__CLIENT_CERTS".into(), client_certs.into()),
        ]
    }
}

fn hub_cert(args: &[&str]) -> String {
    let out = Command::new(binary("hub"))
        .arg("cert")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "hub cert {args:?}: {}", text(&out));
    text(&out)
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A region whose hub serves TLS (its URL turned to https://), with `extra` settings.
fn tls_region(certs: &Certs, client_certs: &str, extra: &[(&str, &str)]) -> Region {
    let mut env = certs.hub_env(client_certs);
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut region = Region::start(&env);
    region.hub.url = region.hub.url.replacen("http://", "https://", 1);
    region
}

/// What a `viewer-cli` run did.
struct Run {
    code: Option<i32>,
    /// Its JSON output.
    json: serde_json::Value,
    /// Standard output and error, for messages.
    text: String,
    took: Duration,
}

/// `viewer-cli --json ARGS` against `url` with `token`, trusting `ca` (HUB_CA_FILE) if given.
fn vc(url: &str, ca: Option<&Path>, token: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(binary("viewer-cli"));
    cmd.arg("--json")
        .args(args)
        .env("HUB_URL", url)
        .env("HUB_TOKEN", token);
    cmd.env_remove("HUB_CA_FILE");
    if let Some(ca) = ca {
        cmd.env("HUB_CA_FILE", ca);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        json: serde_json::from_slice(&out.stdout).unwrap_or_default(),
        text: text(&out),
        took: started.elapsed(),
    }
}

#[test]
fn hub_cert_material_serves_grpc_over_tls_and_an_unknown_ca_is_refused() {
    let certs = Certs::issue();
    #[cfg(unix)]
    for key in [
        "ca.key",
        "server.key",
        "worker-w1.key",
        "modality-MODALITY_A.key",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(certs.path(key))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    let region = tls_region(&certs, "none", &[]);
    let url = &region.hub.url;
    let run = vc(
        url,
        Some(&certs.path("ca.pem")),
        region.token("clinic_a"),
        &["whoami"],
    );
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(run.text.contains("TS-A"), "{}", run.text);

    // Another county's CA (or the system's roots) does not vouch for this hub.
    let stranger = Certs::issue();
    for ca in [Some(stranger.path("ca.pem")), None] {
        let run = vc(url, ca.as_deref(), region.token("clinic_a"), &["whoami"]);
        assert_eq!(run.code, Some(5), "{}", run.text);
        assert!(run.text.contains("--ca-file"), "{}", run.text);
    }
    // Plaintext HTTP/2 to the TLS port gets nowhere.
    let plain = url.replacen("https://", "http://", 1);
    let run = vc(&plain, None, region.token("clinic_a"), &["whoami"]);
    assert_ne!(run.code, Some(0), "{}", run.text);
}

#[test]
fn a_worker_needs_its_client_certificate_when_the_hub_requires_one() {
    let certs = Certs::issue();
    let region = tls_region(
        &certs,
        "workers",
        &[("REMOTEDX_HUB_JOBS__IN_PROCESS", "false")],
    );
    let url = region.hub.url.clone();
    let ca = certs.path("ca.pem");
    let ecg = sample_files().join("baishui/zhang-san-ecg");
    let up = vc(
        &url,
        Some(&ca),
        region.token("clinic_a"),
        &["upload", ecg.to_str().unwrap()],
    );
    assert_eq!(up.code, Some(0), "{}", up.text);
    let case = up.json["summary"]["cases"][0]["case_id"]
        .as_i64()
        .unwrap()
        .to_string();

    // Without a client certificate: its calls are refused, the job waits.
    let mut bare = worker(&url, &ca, region.token("worker"), None);
    std::thread::sleep(Duration::from_secs(4));
    let log = stop(&mut bare);
    assert!(log.contains("client certificate"), "{log}");
    assert_ne!(state(&url, &ca, &region, &case), "ready");

    // With the one `hub cert worker` issued: the job is done.
    let mut with_cert = worker(&url, &ca, region.token("worker"), Some(&certs));
    let deadline = Instant::now() + Duration::from_secs(60);
    while state(&url, &ca, &region, &case) != "ready" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
    }
    let log = stop(&mut with_cert);
    assert_eq!(state(&url, &ca, &region, &case), "ready", "{log}");
}

fn worker(url: &str, ca: &Path, token: &str, certs: Option<&Certs>) -> Child {
    let mut cmd = Command::new(binary("worker"));
    cmd.args(["--hub", url, "--threads", "1", "--ca-file"])
        .arg(ca)
        .env("HUB_TOKEN", token);
    if let Some(certs) = certs {
        cmd.arg("--cert").arg(certs.path("worker-w1.pem"));
        cmd.arg("--key").arg(certs.path("worker-w1.key"));
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Kills a process and returns what it wrote to stderr.
fn stop(child: &mut Child) -> String {
    let _ = child.kill();
    let mut log = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut log);
    }
    let _ = child.wait();
    log
}

fn state(url: &str, ca: &Path, region: &Region, case: &str) -> String {
    let run = vc(url, Some(ca), region.token("specialist"), &["show", case]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    run.json["case"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn plaintext_on_a_non_loopback_address_needs_the_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |extra: &[&str]| {
        Command::new(binary("hub"))
            .arg("--data-dir")
            .arg(dir.path())
            .args([
                "serve",
                "--listen",
                "0.0.0.0:0",
                "--dicom-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let refused = serve(&[]).wait_with_output().unwrap();
    assert!(!refused.status.success());
    let log = text(&refused);
    assert!(
        log.contains("not a loopback address") && log.contains("--insecure-plaintext"),
        "{log}"
    );

    let mut opted_in = serve(&["--insecure-plaintext"]);
    let mut stdout = std::io::BufReader::new(opted_in.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let log = stop(&mut opted_in);
    assert!(
        line.starts_with("dicom listening on") || line.starts_with("hub listening on 0.0.0.0"),
        "{line}{log}"
    );
    assert!(log.contains("WITHOUT TLS"), "{log}");

    // Plain DICOM off loopback too.
    let dicom = Command::new(binary("hub"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--dicom-listen",
            "0.0.0.0:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!dicom.status.success());
    assert!(
        text(&dicom).contains("dicom.allow_plaintext"),
        "{}",
        text(&dicom)
    );
}

#[test]
fn no_token_goes_in_clear_to_another_machine() {
    // 192.0.2.1 (TEST-NET-1) never answers: a refusal within a second came before connecting.
    let run = vc("http://192.0.2.1:50051", None, "some-token", &["whoami"]);
    assert_eq!(run.code, Some(2), "{}", run.text);
    assert!(
        run.text.contains("https://") && run.took < Duration::from_secs(5),
        "{} ({:?})",
        run.text,
        run.took
    );

    let mut worker = Command::new(binary("worker"))
        .args(["--hub", "http://192.0.2.1:50051", "--token", "some-token"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while worker.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let exited = worker.try_wait().unwrap();
    let log = stop(&mut worker);
    assert!(
        exited.is_some_and(|s| !s.success()),
        "the worker kept running: {log}"
    );
    assert!(log.contains("in clear"), "{log}");
}

/// Debian's DCMTK (built with OpenSSL), not the same-named pynetdicom scripts.
fn dcmtk(tool: &str) -> PathBuf {
    let debian = Path::new("/usr/bin").join(tool);
    if debian.is_file() {
        debian
    } else {
        PathBuf::from(tool)
    }
}

fn dcmtk_run(
    tool: &str,
    tls: &[String],
    calling: &str,
    port: u16,
    files: &[PathBuf],
) -> (bool, String) {
    let out = Command::new(dcmtk(tool))
        .args(["-v", "-aet", calling, "-aec", HUB_AE])
        .args(tls)
        .args(["-to", "20", "-ta", "20", "-td", "30"])
        .args(["127.0.0.1", &port.to_string()])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("run {tool} (scripts/ci-deps/dimse.sh installs DCMTK): {e}"));
    (out.status.success(), text(&out))
}

#[test]
fn dcmtk_echoes_and_stores_over_dicom_tls_and_networks_are_checked() {
    let certs = Certs::issue();
    let port = e2e::servers::free_port();
    let listen = format!("127.0.0.1:{port}");
    let region = tls_region(
        &certs,
        "none",
        &[
            ("REMOTEDX_HUB_DICOM__TLS_LISTEN", &listen),
            ("REMOTEDX_HUB_DICOM__TLS_REQUIRE_CLIENT_CERT", "true"),
            ("REMOTEDX_HUB_DICOM__CALLING_AE__MODALITY_A", "TS-A"),
            ("REMOTEDX_HUB_DICOM__CALLING_AE__MODALITY_B", "TS-B"),
            (
                "REMOTEDX_HUB_DICOM__CALLING_AE_NETWORKS__MODALITY_A",
                "[\"127.0.0.0/8\"]",
            ),
            (
                "REMOTEDX_HUB_DICOM__CALLING_AE_NETWORKS__MODALITY_B",
                "[\"10.9.0.0/16\"]",
            ),
            ("REMOTEDX_HUB_JOBS__IN_PROCESS", "false"),
        ],
    );
    let tls = vec![
        "+tls".to_owned(),
        certs.arg("modality-MODALITY_A.key"),
        certs.arg("modality-MODALITY_A.pem"),
        "+cf".to_owned(),
        certs.arg("ca.pem"),
    ];
    let (ok, log) = dcmtk_run("echoscu", &tls, "MODALITY_A", port, &[]);
    assert!(
        ok && log.contains("Received Echo Response (Success)"),
        "{log}"
    );

    let study: Vec<PathBuf> = ["CT0001.dcm", "CT0002.dcm"]
        .iter()
        .map(|f| sample_files().join("baishui/zhang-san-ct-head").join(f))
        .collect();
    let (ok, log) = dcmtk_run("storescu", &tls, "MODALITY_A", port, &study);
    assert!(ok, "{log}");
    assert_eq!(
        log.matches("Received Store Response (Success)").count(),
        2,
        "{log}"
    );
    let run = vc(
        &region.hub.url,
        Some(&certs.path("ca.pem")),
        region.token("clinic_a"),
        &["cases"],
    );
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(run.text.contains("CT"), "{}", run.text);

    // Without a client certificate (the port requires one), and in plaintext: no association.
    let anonymous = vec!["+tla".to_owned(), "+cf".to_owned(), certs.arg("ca.pem")];
    let (ok, log) = dcmtk_run("echoscu", &anonymous, "MODALITY_A", port, &[]);
    assert!(!ok, "{log}");
    let (ok, log) = dcmtk_run("echoscu", &[], "MODALITY_A", port, &[]);
    assert!(!ok, "{log}");

    // A calling AE title from outside its clinic's network is rejected.
    let (ok, log) = dcmtk_run("echoscu", &tls, "MODALITY_B", port, &[]);
    assert!(
        !ok && log.contains("Calling AE Title Not Recognized"),
        "{log}"
    );
}

/// Copies `from` into the database server's directory as `name`, owned by the server's user
/// (PostgreSQL refuses a key others can read or it does not own).
fn place_for_postgres(dir: &Path, from: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Ok(out) = Command::new("id").args(["-u", "postgres"]).output()
            && out.status.success()
        {
            let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            std::os::unix::fs::chown(&to, Some(uid), None).unwrap();
        }
    }
    to
}

#[test]
fn postgres_verify_full_checks_the_database_servers_certificate() {
    let certs = Certs::issue();
    let pg = e2e::servers::Postgres::start_with(|dir| {
        let cert = place_for_postgres(dir, &certs.path("server.pem"), "server.pem");
        let key = place_for_postgres(dir, &certs.path("server.key"), "server.key");
        format!(
            "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            cert.display(),
            key.display()
        )
    });
    let data = tempfile::tempdir().unwrap();
    let list = |ca: &Path| {
        let url = format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            pg.url,
            ca.display()
        );
        Command::new(binary("hub"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["institution", "list"])
            .env("REMOTEDX_HUB_STORAGE__DATABASE", url)
            .output()
            .unwrap()
    };
    let ok = list(&certs.path("ca.pem"));
    assert!(ok.status.success(), "{}", text(&ok));
    // A server whose certificate the configured CA did not issue is not the database.
    let stranger = Certs::issue();
    let refused = list(&stranger.path("ca.pem"));
    assert!(!refused.status.success());
    assert!(
        text(&refused).to_lowercase().contains("certificate"),
        "{}",
        text(&refused)
    );
}
