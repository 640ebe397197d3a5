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
