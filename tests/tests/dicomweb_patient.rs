//! DICOMweb searches by Patient ID go through the index's pseudonyms: an exact Patient ID finds
//! every study of that patient however many studies the hub holds, while a name or a wildcard
//! ID reads only the newest `[dicomweb] scan_cap` studies and says so in a `Warning` header.
//!
//! The demo's studies are more than a scan cap of 1: the oldest is beyond the cap, so only the
//! pseudonym can find it.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use e2e::HubProcess;
use serde_json::Value;

/// An answer: status, lower-cased head, body.
struct Answer {
    status: u16,
    head: String,
    body: Value,
}

/// `GET /dicomweb{path}` as `token`, taking DICOM JSON.
fn get(addr: SocketAddr, path: &str, token: &str) -> Answer {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /dicomweb{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Accept: application/dicom+json\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    Answer {
        status: head[9..12].parse().unwrap(),
        head: head.to_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// A record's first value of `tag` as text (a person name's alphabetic group).
fn text(record: &Value, tag: &str) -> String {
    let v = &record[tag]["Value"][0];
    v["Alphabetic"]
        .as_str()
        .or(v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The study UIDs of a search's records.
fn studies(a: &Answer) -> BTreeSet<String> {
    let records = a.body.as_array().expect("a list of records");
    records.iter().map(|r| text(r, "0020000D")).collect()
}

/// The studies of `all` (an unfiltered search) whose Patient ID is `id`.
fn of_patient(all: &Answer, id: &str) -> BTreeSet<String> {
    let records = all.body.as_array().expect("a list of records");
    records
        .iter()
        .filter(|r| text(r, "00100020") == id)
        .map(|r| text(r, "0020000D"))
        .collect()
}

/// The ID as a clinic might type it: lower case, in groups with spaces (URL-encoded).
fn typed(id: &str) -> String {
    let lower = id.to_lowercase();
    let (a, rest) = lower.split_at(6);
    let (b, c) = rest.split_at(8);
    format!("%20{a}%20{b}%20{c}")
}

#[test]
fn an_exact_patient_id_finds_every_study_of_the_patient_beyond_the_scan_cap() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start_with(
        dir.path(),
        &[("REMOTEDX_HUB_DICOMWEB__SCAN_CAP", "1")],
        &["--demo"],
    );
    let addr = hub.http.expect("HTTP listener");
    // An unfiltered search is not capped: every study, newest first.
    let all = get(addr, "/studies", "demo-specialist");
    assert_eq!(all.status, 200);
    assert!(!all.head.contains("warning:"), "{}", all.head);
    let records = all.body.as_array().unwrap();
    assert!(records.len() > 2, "the demo holds several studies");
    let oldest = records.last().unwrap();
    let (oldest_uid, id) = (text(oldest, "0020000D"), text(oldest, "00100020"));
    let family = text(oldest, "00100010")
        .split('^')
        .next()
        .unwrap()
        .to_owned();
    assert!(!id.is_empty() && !family.is_empty(), "{oldest}");
    let expected = of_patient(&all, &id);
    assert!(
        expected.contains(&oldest_uid) && expected.len() < records.len(),
        "{expected:?}"
    );

    for asked in [id.clone(), typed(&id)] {
        let found = get(
            addr,
            &format!("/studies?PatientID={asked}"),
            "demo-specialist",
        );
        assert_eq!(found.status, 200, "{asked}");
        assert!(!found.head.contains("warning:"), "{asked}: {}", found.head);
        assert_eq!(studies(&found), expected, "PatientID={asked}");
    }
    let series = get(addr, &format!("/series?PatientID={id}"), "demo-specialist");
    let series_studies = studies(&series);
    assert_eq!(series_studies, expected, "series of the patient's studies");

    // A name or a wildcard ID reads only the newest study: the oldest is not found, and the
    // answer says the search was cut short.
    for scan in [
        format!("PatientName={family}*"),
        format!("PatientID={}*", &id[..6]),
    ] {
        let found = get(addr, &format!("/studies?{scan}"), "demo-specialist");
        assert_eq!(found.status, 200, "{scan}");
        assert!(
            found.head.contains("warning: 299") && found.head.contains("newest 1 studies"),
            "{scan}: {}",
            found.head
        );
        assert!(!studies(&found).contains(&oldest_uid), "{scan}");
    }

    // A clinic's search by ID stays within what the clinic sees.
    let own = get(addr, "/studies", "demo-clinic-a");
    let found = get(addr, &format!("/studies?PatientID={id}"), "demo-clinic-a");
    assert_eq!(studies(&found), of_patient(&own, &id), "clinic A");
    let none = get(addr, "/studies?PatientID=NOBODY-0001", "demo-specialist");
    assert_eq!(none.status, 200);
    assert!(studies(&none).is_empty());
}
