//! The audit trail exported to a real syslog server (issue 13): rsyslog with its GnuTLS stream
//! driver (imtcp, RFC 5425 octet counting over TLS, client certificates required) receives one
//! RFC 5424 message per audit entry, each a DICOM audit message (PS3.15 A.5.1) that names the
//! patient by pseudonym only. rsyslog is stopped while users go on working, then started again:
//! nothing is lost and nothing is sent twice.

mod recognition_region;
mod syslog_peer;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::*;
use recognition_region::{GENEROUS_CHECK_LIMITS, PATIENT, study, upload};
use syslog_peer::{Rsyslog, parse_record};

/// The patient's name and birth date as the template study carries them.
const PATIENT_TEXTS: [&str; 4] = ["Zhang", "张", "19580304", PATIENT];

#[test]
fn every_audit_entry_reaches_rsyslog_once_as_a_dicom_audit_message() {
    let certs = syslog_peer::Certs::issue();
    let mut rsyslog = Rsyslog::start(&certs);
    let env = certs.hub_env(&rsyslog.server());
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(GENEROUS_CHECK_LIMITS.iter().copied())
        .collect();
    let r = Region::start(&env);
    let files = tempfile::tempdir().unwrap();

    // A clinic uploads, a specialist opens the case, another clinic checks the patient for
    // recognition, an administrator tries to open the case and is refused.
    let case = user_actions(&r, files.path(), 1);
    let acted = Instant::now();
    let first = wait_for_every_entry(&r, &rsyslog);
    eprintln!(
        "{} entries at rsyslog {:?} after the last action",
        first.len(),
        acted.elapsed()
    );
    let kinds: Vec<&str> = first.values().map(|m| m.event_id.as_str()).collect();
    for (code, what) in [
        ("110104", "the upload"),
        ("110103", "the case opened"),
        ("110112", "the recognition check"),
    ] {
        assert!(
            kinds.contains(&code),
            "no {code} event for {what}: {kinds:?}"
        );
    }
    assert!(
        first
            .values()
            .any(|m| m.event_id == "110103" && m.outcome == "4" && m.case_id == Some(case)),
        "the administrator's refused view is not exported as a failed access"
    );

    // The log server goes away; people go on working; it comes back.
    rsyslog.stop();
    user_actions(&r, files.path(), 2);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = r.hub.admin(&["audit-export", "status"]);
        if status.contains("last error") && !status.contains(", 0 waiting") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no error shown while rsyslog is down: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    rsyslog.restart();
    let restarted = Instant::now();
    let all = wait_for_every_entry(&r, &rsyslog);
    eprintln!(
        "{} entries at rsyslog {:?} after it restarted",
        all.len(),
        restarted.elapsed()
    );
    assert!(
        all.len() > first.len() + 3,
        "{} then {}",
        first.len(),
        all.len()
    );
    let status = r.hub.admin(&["audit-export", "status"]);
    assert!(status.contains(", 0 waiting"), "{status}");
}

/// Upload (clinic A), open (specialist), check (clinic B), refused open (administrator);
/// returns the case.
fn user_actions(r: &Region, dir: &std::path::Path, n: u32) -> i64 {
    let file = study(dir, "zhang-san-ct-head/CT0001.dcm", n, PATIENT, 3);
    let case = upload(r, r.token("clinic_a"), &file, None)["case_id"]
        .as_i64()
        .expect("case id");
    let id = case.to_string();
    ok(&cli(&r.hub, r.token("specialist"), &["show", &id]));
    let check = [
        "recognition",
        "check",
        "--patient-id",
        PATIENT,
        "--item",
        "CT-HEAD",
        "--purpose",
        "before-examining",
    ];
    ok(&cli(&r.hub, r.token("clinic_b"), &check));
    let refused = cli(&r.hub, r.token("admin"), &["show", &id]);
    assert_ne!(refused.code, 0, "an administrator opened a case");
    case
}

/// Waits until rsyslog's file holds one message per audit entry (each link of the audit chain
/// exactly once, none missing); checks every one; returns them by link number.
fn wait_for_every_entry(r: &Region, rsyslog: &Rsyslog) -> BTreeMap<i64, syslog_peer::Record> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let entries = audit_entries(r);
        let lines = rsyslog.lines();
        let mut by_seq = BTreeMap::new();
        for line in &lines {
            let record = parse_record(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            for text in PATIENT_TEXTS {
                assert!(!line.contains(text), "the log server got {text:?}: {line}");
            }
            let seq = record.seq;
            if let Some(old) = by_seq.insert(seq, record) {
                panic!("entry {seq} was sent twice: {old:?}");
            }
        }
        let want: Vec<i64> = (1..=entries).collect();
        if by_seq.keys().copied().collect::<Vec<_>>() == want {
            return by_seq;
        }
        assert!(
            Instant::now() < deadline,
            "rsyslog has entries {:?} of 1..={entries}; hub says: {}",
            by_seq.keys().collect::<Vec<_>>(),
            r.hub.admin(&["audit-export", "status"])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// How many entries the audit trail holds (as the administrator lists them).
fn audit_entries(r: &Region) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut admin = remotedx_proto::v1::admin_service_client::AdminServiceClient::new(
            r.hub.channel().await,
        );
        let req = remotedx_proto::v1::ListAuditRequest {
            limit: 5000,
            ..Default::default()
        };
        let list = admin
            .list_audit(authed(req, r.token("admin")))
            .await
            .unwrap();
        i64::try_from(list.into_inner().entries.len()).unwrap()
    })
}
