//! DICOMweb end to end: a real client (the `dicomweb-client` Python package, installed by
//! scripts/ci-deps/dicomweb.sh) against `hub serve --demo`, and every route for every role.
//!
//! The peer stores corpus files with STOW-RS as the demo's township clinic (a 30-frame JPEG
//! ultrasound, a JPEG-LS MR, a 12-lead ECG), then searches, retrieves metadata, instances, frames
//! and bulk data as the county specialist, comparing them with the files byte for byte and with
//! pydicom's decoding pixel for pixel (tests/python/dicomweb_peer.py). Without the package the
//! test fails, naming the script that installs it.

use std::path::Path;
use std::process::Command;

use e2e::{HubProcess, authed, corpus, sample_files};
use remotedx_proto::v1 as pb;

fn python(script: &str, args: &[&str]) -> (bool, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(script);
    let out = Command::new("python3")
        .arg(path)
        .args(args)
        .output()
        .expect("python3 runs (scripts/ci-deps/dicomweb.sh installs what it needs)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn dicomweb_url(hub: &HubProcess) -> String {
    let addr = hub.http.expect("the hub reports its HTTP listener");
    format!("http://{addr}/dicomweb")
}

async fn audit(hub: &HubProcess, action: &str) -> Vec<pb::AuditEntry> {
    let mut admin = pb::admin_service_client::AdminServiceClient::new(hub.channel().await);
    let request = pb::ListAuditRequest {
        action: action.into(),
        limit: 5000,
        ..Default::default()
    };
    admin
        .list_audit(authed(request, "demo-admin"))
        .await
        .expect("the audit trail")
        .into_inner()
        .entries
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dicomweb_client_stores_searches_and_retrieves_under_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start_with(dir.path(), &[], &["--demo"]);
    let url = dicomweb_url(&hub);
    let corpus = corpus();
    let samples = sample_files();
    let (passed, log) = python(
        "dicomweb_peer.py",
        &[&url, corpus.to_str().unwrap(), samples.to_str().unwrap()],
    );
    assert!(passed, "dicomweb-client against the hub:\n{log}");

    // Every retrieve was a view in the audit trail, naming UIDs only; the administrator's attempt
    // was refused and recorded; searches were recorded as listings.
    let views = audit(&hub, "view").await;
    let dicomweb: Vec<&pb::AuditEntry> = views
        .iter()
        .filter(|e| e.detail.starts_with("DICOMweb"))
        .collect();
    assert!(
        dicomweb
            .iter()
            .any(|e| e.actor.contains("Li") && e.detail.contains("metadata of series")),
        "the specialist's metadata retrieves are views: {dicomweb:#?}"
    );
    assert!(
        dicomweb
            .iter()
            .any(|e| e.detail.contains("frames of instance")),
        "frame retrieves are views: {dicomweb:#?}"
    );
    let refused = audit(&hub, "view_refused").await;
    assert!(
        refused.iter().any(|e| e.detail.contains("DICOMweb")),
        "the administrator's attempt is recorded: {refused:#?}"
    );
    assert!(!audit(&hub, "dicomweb_search").await.is_empty());
}

#[test]
fn every_dicomweb_route_answers_every_role_as_its_row_says() {
    let dir = tempfile::tempdir().unwrap();
    let hub = e2e::demo_hub_without_samples(dir.path());
    let url = dicomweb_url(&hub);
    let corpus = corpus();
    // The study every route is asked about, stored by clinic A.
    let (stored, log) = python(
        "dicomweb_peer.py",
        &[&url, corpus.to_str().unwrap(), "--store-only"],
    );
    assert!(stored, "storing the study:\n{log}");
    let (passed, log) = python("dicomweb_matrix.py", &[&url, corpus.to_str().unwrap()]);
    assert!(passed, "{log}");
}

#[test]
fn a_request_without_a_token_is_refused_before_its_body_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let hub = e2e::demo_hub_without_samples(dir.path());
    let addr = hub.http.expect("HTTP listener");
    // Announces a 1 GiB upload and sends only the headers: the answer must come at once.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "POST /dicomweb/studies HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=b\r\nContent-Length: 1073741824\r\n\r\n"
    )
    .unwrap();
    let mut answer = [0u8; 64];
    let n = s.read(&mut answer).expect("an answer before the body");
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
}

/// Sends `request` as is and returns the response head (status line and headers).
fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = vec![0u8; 4096];
    let n = s.read(&mut answer).expect("an answer");
    String::from_utf8_lossy(&answer[..n]).to_lowercase()
}

#[test]
fn cors_answers_preflights_and_marks_errors_for_the_allowed_origin_only() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-samples");
    std::fs::create_dir_all(&empty).unwrap();
    let hub = HubProcess::start_with(
        dir.path(),
        &[(
            "REMOTEDX_HUB_HTTP__CORS_ALLOWED_ORIGINS",
            r#"["https://viewer.example"]"#,
        )],
        &["--demo", "--demo-data", empty.to_str().unwrap()],
    );
    let addr = hub.http.expect("HTTP listener");
    let preflight = raw_http(
        addr,
        "OPTIONS /dicomweb/studies HTTP/1.1\r\nHost: x\r\nOrigin: https://viewer.example\r\n\
         Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\r\n",
    );
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    assert!(
        preflight.contains("access-control-allow-origin: https://viewer.example"),
        "{preflight}"
    );
    assert!(preflight.contains("authorization"), "{preflight}");
    // A refusal still carries the header, so the viewer can read why.
    let refused = raw_http(
        addr,
        "GET /dicomweb/studies HTTP/1.1\r\nHost: x\r\nOrigin: https://viewer.example\r\n\r\n",
    );
    assert!(refused.starts_with("http/1.1 401"), "{refused}");
    assert!(
        refused.contains("access-control-allow-origin: https://viewer.example"),
        "{refused}"
    );
    let other = raw_http(
        addr,
        "GET /dicomweb/studies HTTP/1.1\r\nHost: x\r\nOrigin: https://elsewhere.example\r\n\r\n",
    );
    assert!(!other.contains("access-control-allow-origin"), "{other}");
}

/// A free TCP port on loopback (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Orthanc with its DICOMweb plugin (Debian `orthanc`, `orthanc-dicomweb`), configured with
/// the hub as DICOMweb server "hub", killed on drop.
struct Orthanc {
    child: std::process::Child,
    url: String,
}

impl Orthanc {
    fn start(dir: &Path, hub_dicomweb: &str) -> Orthanc {
        let (http, dicom) = (free_port(), free_port());
        let plugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";
        assert!(
            Path::new(plugin).is_file(),
            "{plugin} is missing: run scripts/ci-deps/dicomweb.sh (Debian orthanc, orthanc-dicomweb)"
        );
        let config = serde_json::json!({
            "Name": "remotedx-test",
            "StorageDirectory": dir.join("db"),
            "IndexDirectory": dir.join("db"),
            "HttpPort": http,
            "DicomPort": dicom,
            "RemoteAccessAllowed": false,
            "AuthenticationEnabled": false,
            "Plugins": [plugin],
            "DicomWeb": {
                "Enable": true,
                "Root": "/dicom-web/",
                "Servers": {"hub": {
                    "Url": format!("{hub_dicomweb}/"),
                    "HttpHeaders": {"Authorization": "Bearer demo-specialist"},
                }},
            },
        });
        let path = dir.join("orthanc.json");
        std::fs::write(&path, config.to_string()).unwrap();
        let child = Command::new("Orthanc")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Orthanc runs (scripts/ci-deps/dicomweb.sh installs it)");
        let orthanc = Orthanc {
            child,
            url: format!("http://127.0.0.1:{http}"),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", http)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "Orthanc did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        orthanc
    }
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn orthanc_pulls_a_whole_study_and_holds_the_hubs_very_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start_with(&dir.path().join("hub"), &[], &["--demo"]);
    let url = dicomweb_url(&hub);
    let orthanc = Orthanc::start(dir.path(), &url);
    let blobs = hub.data_dir.join("blobs");
    let (passed, log) = python(
        "orthanc_pull.py",
        &[&orthanc.url, &url, blobs.to_str().unwrap()],
    );
    assert!(passed, "{log}");
}
