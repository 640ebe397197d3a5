//! The hub as a DICOM storage SCP, against real peers: DCMTK (`echoscu`, `storescu`, and
//! `storescp` as the reference receiver) and pynetdicom. scripts/ci-deps/dimse.sh installs them.
//!
//! Every stored instance is fetched back through the hub's gRPC download and compared byte for
//! byte with what the peer sent: for pynetdicom (which sends the file's own data set bytes) that is
//! the file's data set; for `storescu` (which re-encodes what it reads) it is what DCMTK's
//! `storescp +B` received from the very same `storescu` command.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use e2e::{Region, cli, corpus, get_instance};
use remotedx_proto::v1 as pb;

/// The calling AE title mapped to TS-A in these tests.
const MODALITY: &str = "MODALITY_A";
/// The hub's AE title (the default).
const HUB_AE: &str = "REMOTEDX";

fn region(extra: &[(&str, &str)]) -> Region {
    let mut env = vec![
        ("REMOTEDX_HUB_DICOM__CALLING_AE__MODALITY_A", "TS-A"),
        // Round trips only: no image processing competing for the two cores.
        ("REMOTEDX_HUB_JOBS__IN_PROCESS", "false"),
    ];
    env.extend_from_slice(extra);
    Region::start(&env)
}

fn dicom_addr(region: &Region) -> SocketAddr {
    region
        .hub
        .dicom
        .expect("the hub printed no `dicom listening on` line")
}

/// A DCMTK tool: Debian's, not the same-named pynetdicom scripts pip may put first on PATH.
fn dcmtk(tool: &str) -> PathBuf {
    let debian = Path::new("/usr/bin").join(tool);
    if debian.is_file() {
        debian
    } else {
        PathBuf::from(tool)
    }
}

/// A corpus file the hub should store.
#[derive(Debug, Clone)]
struct Instance {
    path: PathBuf,
    sop_instance_uid: String,
    transfer_syntax: String,
    /// The bytes after the file meta group.
    data_set: Vec<u8>,
}

/// The data set of a Part 10 file: the bytes after its meta group (whose length is its first
/// element, (0002,0000)).
fn data_set_of(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < 144 || &bytes[128..132] != b"DICM" || bytes[132..136] != [2, 0, 0, 0] {
        return None;
    }
    let len = u32::from_le_bytes(bytes[140..144].try_into().ok()?) as usize;
    bytes.get(144 + len..)
}

const STORAGE_SYNTAXES: [&str; 13] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5",
];

/// Every corpus DICOM file that is a complete, valid instance with the attributes the hub indexes
/// (the deliberately broken ones fail to parse here and are left out), sorted by path.
fn valid_corpus() -> Vec<Instance> {
    let mut paths = Vec::new();
    let mut dirs = vec![corpus().join("dicom"), corpus().join("ecg").join("dicom")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "dcm") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let Ok(obj) = OpenFileOptions::new().open_file(&path) else {
            continue;
        };
        let text = |tag| {
            obj.element_opt(tag)
                .ok()
                .flatten()
                .and_then(|e| e.to_str().ok())
                .map(|s| s.trim_matches(['\0', ' ']).to_owned())
                .unwrap_or_default()
        };
        let ts = obj
            .meta()
            .transfer_syntax()
            .trim_end_matches('\0')
            .to_owned();
        let sop_class = text(tags::SOP_CLASS_UID);
        let complete = [
            tags::SOP_INSTANCE_UID,
            tags::STUDY_INSTANCE_UID,
            tags::SERIES_INSTANCE_UID,
            tags::PATIENT_ID,
        ]
        .into_iter()
        .all(|t| !text(t).is_empty());
        if !complete
            || !STORAGE_SYNTAXES.contains(&ts.as_str())
            || !sop_class.starts_with("1.2.840.10008.5.1.4.1.1.")
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let Some(data_set) = data_set_of(&bytes) else {
            continue;
        };
        out.push(Instance {
            // What the hub indexes: the data set's own UID (some files' meta headers disagree).
            sop_instance_uid: text(tags::SOP_INSTANCE_UID),
            transfer_syntax: ts,
            data_set: data_set.to_vec(),
            path,
        });
    }
    assert!(out.len() >= 40, "only {} valid corpus files", out.len());
    out
}

/// Splits instances into rounds in which every SOP Instance UID occurs once (the corpus holds the
/// same instance in several transfer syntaxes; a second one on the same hub is a conflict).
fn rounds(instances: &[Instance]) -> Vec<Vec<Instance>> {
    let mut rounds: Vec<Vec<Instance>> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for i in instances {
        let round = seen.entry(&i.sop_instance_uid).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(i.clone());
        *round += 1;
    }
    rounds
}

/// Every stored instance of the region's hub: SOP Instance UID → (case id, stored transfer syntax).
async fn stored_instances(region: &Region) -> BTreeMap<String, (i64, String)> {
    // Opening cases is a clinical role's act; administrators are refused.
    let token = region.token("specialist");
    let mut client = pb::case_service_client::CaseServiceClient::new(region.hub.channel().await);
    let list = client
        .list_cases(e2e::authed(
            pb::ListCasesRequest {
                limit: 1000,
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut out = BTreeMap::new();
    for case in list.cases {
        let detail = client
            .get_case(e2e::authed(
                pb::GetCaseRequest {
                    case_id: case.case_id,
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner();
        for i in detail.instances {
            out.insert(i.sop_instance_uid, (case.case_id, i.transfer_syntax_uid));
        }
    }
    out
}

/// The data set the hub returns for an instance.
async fn fetched_data_set(region: &Region, case_id: i64, sop: &str) -> Vec<u8> {
    let bytes = get_instance(
        region.hub.channel().await,
        region.token("specialist"),
        case_id,
        sop,
    )
    .await
    .unwrap_or_else(|e| panic!("download of {sop} failed: {e}"));
    data_set_of(&bytes)
        .unwrap_or_else(|| panic!("the hub's copy of {sop} is not a Part 10 file"))
        .to_vec()
}

/// The `storescu` option that proposes `ts` first, so that DCMTK sends the file unconverted.
fn storescu_option(ts: &str) -> Option<&'static str> {
    Some(match ts {
        "1.2.840.10008.1.2" => "-xi",
        "1.2.840.10008.1.2.1" => "-xe",
        "1.2.840.10008.1.2.2" => "-xb",
        "1.2.840.10008.1.2.1.99" => "-xd",
        "1.2.840.10008.1.2.4.50" => "-xy",
        "1.2.840.10008.1.2.4.51" => "-xx",
        "1.2.840.10008.1.2.4.70" => "-xs",
        "1.2.840.10008.1.2.4.80" => "-xt",
        "1.2.840.10008.1.2.4.81" => "-xu",
        "1.2.840.10008.1.2.4.90" => "-xv",
        "1.2.840.10008.1.2.4.91" => "-xw",
        "1.2.840.10008.1.2.5" => "-xr",
        _ => return None,
    })
}

/// What `storescu -v` said about each file: its response status text ("Success", ...) and any
/// transfer syntax conversion DCMTK made ("A -> B").
#[derive(Debug, Default, Clone)]
struct Sent {
    response: String,
    conversion: String,
}

fn storescu(
    addr: SocketAddr,
    called: &str,
    option: &str,
    files: &[PathBuf],
) -> HashMap<PathBuf, Sent> {
    let out = Command::new(dcmtk("storescu"))
        .args(["-v", "-R", "-aet", MODALITY, "-aec", called, option])
        .args(["-to", "30", "-ta", "30", "-td", "60"])
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .args(files)
        .output()
        .expect("run storescu (scripts/ci-deps/dimse.sh installs DCMTK)");
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut sent: HashMap<PathBuf, Sent> = HashMap::new();
    let mut current: Option<PathBuf> = None;
    for line in log.lines() {
        if let Some(file) = line.strip_prefix("I: Sending file: ") {
            current = Some(PathBuf::from(file.trim()));
            sent.insert(PathBuf::from(file.trim()), Sent::default());
        } else if let Some(conv) = line.strip_prefix("I: Converting transfer syntax: ")
            && let Some(s) = current.as_ref().and_then(|c| sent.get_mut(c))
        {
            s.conversion = conv.trim().to_owned();
        } else if let Some(resp) = line.strip_prefix("I: Received Store Response (")
            && let Some(s) = current.as_ref().and_then(|c| sent.get_mut(c))
        {
            s.response = resp.trim_end_matches(')').to_owned();
        }
    }
    assert!(
        !sent.is_empty() || files.is_empty(),
        "storescu sent nothing:\n{log}"
    );
    sent
}

/// DCMTK's `storescp`, writing exactly what it receives (`+B`), accepting every syntax it knows.
struct Storescp {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Storescp {
    fn start() -> Storescp {
        let dir = tempfile::tempdir().unwrap();
        let port = e2e::servers::free_port();
        let child = Command::new(dcmtk("storescp"))
            .args(["+B", "+xa", "-od"])
            .arg(dir.path())
            .args(["-aet", HUB_AE])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run storescp (scripts/ci-deps/dimse.sh installs DCMTK)");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "storescp did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Storescp { child, addr, dir }
    }

    /// SOP Instance UID → the data set it received, and whether that parses as a whole (files
    /// are named `XX.<SOP Instance UID>`).
    fn received(&self) -> HashMap<String, (Vec<u8>, bool)> {
        let mut out = HashMap::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((_, uid)) = name.split_once('.') else {
                continue;
            };
            let bytes = std::fs::read(entry.path()).unwrap();
            if let Some(ds) = data_set_of(&bytes) {
                let parses = OpenFileOptions::new().open_file(entry.path()).is_ok();
                out.insert(uid.to_owned(), (ds.to_vec(), parses));
            }
        }
        out
    }
}

impl Drop for Storescp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn echo_succeeds_and_unknown_peers_are_rejected() {
    let region = region(&[]);
    let addr = dicom_addr(&region);
    let echo = |calling: &str, called: &str| {
        Command::new(dcmtk("echoscu"))
            .args(["-v", "-aet", calling, "-aec", called])
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .output()
            .expect("run echoscu (scripts/ci-deps/dimse.sh installs DCMTK)")
    };
    let ok = echo(MODALITY, HUB_AE);
    let log =
        String::from_utf8_lossy(&ok.stderr).into_owned() + &String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{log}");
    assert!(log.contains("Received Echo Response (Success)"), "{log}");

    // AE titles are matched without regard to case (environment variables arrive lower-cased).
    let lower = echo("modality_a", HUB_AE);
    assert!(
        lower.status.success(),
        "{}",
        String::from_utf8_lossy(&lower.stderr)
    );

    let stranger = echo("STRANGER", HUB_AE);
    let log = String::from_utf8_lossy(&stranger.stderr).into_owned()
        + &String::from_utf8_lossy(&stranger.stdout);
    assert!(!stranger.status.success(), "{log}");
    assert!(log.contains("Rejected Permanent"), "{log}");
    assert!(log.contains("Calling AE Title Not Recognized"), "{log}");

    let misdialled = echo(MODALITY, "SOME_PACS");
    let log = String::from_utf8_lossy(&misdialled.stderr).into_owned()
        + &String::from_utf8_lossy(&misdialled.stdout);
    assert!(!misdialled.status.success(), "{log}");
    assert!(log.contains("Called AE Title Not Recognized"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storescu_stores_every_valid_corpus_file_as_sent() {
    let instances = valid_corpus();
    let mut checked = 0;
    let mut refused = 0;
    let mut unreferenced = 0;
    let mut syntaxes = std::collections::BTreeSet::new();
    for round in rounds(&instances) {
        let region = region(&[]);
        let hub_addr = dicom_addr(&region);
        let reference = Storescp::start();
        let mut by_option: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
        for i in &round {
            if let Some(option) = storescu_option(&i.transfer_syntax) {
                by_option.entry(option).or_default().push(i.path.clone());
            }
        }
        let mut to_hub = HashMap::new();
        for (option, files) in &by_option {
            to_hub.extend(storescu(hub_addr, HUB_AE, option, files));
            storescu(reference.addr, HUB_AE, option, files);
        }
        let received = reference.received();
        let stored = stored_instances(&region).await;
        for i in &round {
            let Some(sent) = to_hub.get(&i.path) else {
                continue; // a syntax storescu cannot send unconverted (pynetdicom covers it)
            };
            let name = i.path.display();
            let (from, to) = sent.conversion.split_once(" -> ").unwrap_or(("", ""));
            assert_eq!(
                from, to,
                "{name}: DCMTK converted it, so the hub did not accept its own syntax: {sent:?}"
            );
            let Some((expected, parses)) = received.get(&i.sop_instance_uid) else {
                // storescp 3.6.7 does not know every storage class (e.g. Segmentation): no
                // reference bytes, but the hub must still have stored it in its own syntax.
                assert_eq!(sent.response, "Success", "{name}: {sent:?}");
                let (_, ts) = stored
                    .get(&i.sop_instance_uid)
                    .unwrap_or_else(|| panic!("{name}: acknowledged but not in any case"));
                assert_eq!(ts, &i.transfer_syntax, "{name}: stored in another syntax");
                unreferenced += 1;
                continue;
            };
            if !parses {
                // DCMTK re-encodes what it reads; from a deliberately broken file that can be a
                // data set nobody can parse, which the hub must refuse and not store.
                assert_eq!(sent.response, "Error: CannotUnderstand", "{name}: {sent:?}");
                assert!(
                    !stored.contains_key(&i.sop_instance_uid),
                    "{name} was stored"
                );
                refused += 1;
                continue;
            }
            assert_eq!(sent.response, "Success", "{name}: {sent:?}");
            let (case_id, ts) = stored
                .get(&i.sop_instance_uid)
                .unwrap_or_else(|| panic!("{name}: acknowledged but not in any case"));
            assert_eq!(ts, &i.transfer_syntax, "{name}: stored in another syntax");
            let got = fetched_data_set(&region, *case_id, &i.sop_instance_uid).await;
            assert!(
                got == *expected,
                "{name}: the hub's data set ({} bytes) differs from what storescu sent ({} bytes)",
                got.len(),
                expected.len()
            );
            checked += 1;
            syntaxes.insert(i.transfer_syntax.clone());
        }
    }
    assert!(checked >= 40, "only {checked} files went through storescu");
    eprintln!(
        "storescu: {checked} instances stored as sent, {unreferenced} stored (no reference), {refused} refused as unparsable, syntaxes {syntaxes:?}"
    );
    assert!(syntaxes.len() >= 10, "only syntaxes {syntaxes:?}");
}

/// Runs tests/python/push.py; returns its JSON.
fn pynetdicom_push(
    addr: SocketAddr,
    calling: &str,
    associations: usize,
    files: &[PathBuf],
) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/push.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .args([calling, HUB_AE, &associations.to_string()])
        .args(files)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "push.py failed (scripts/ci-deps/dimse.sh installs pynetdicom): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("push.py prints JSON")
}

fn statuses(pushed: &serde_json::Value) -> HashMap<PathBuf, (i64, String)> {
    pushed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                PathBuf::from(r["file"].as_str().unwrap()),
                (
                    r["status"].as_i64().unwrap(),
                    r["comment"].as_str().unwrap_or("").to_owned(),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pynetdicom_concurrent_associations_store_the_files_own_bytes() {
    let instances = valid_corpus();
    let all_rounds = rounds(&instances);
    let first = &all_rounds[0];
    let region = region(&[]);
    let addr = dicom_addr(&region);
    let files: Vec<PathBuf> = first.iter().map(|i| i.path.clone()).collect();
    let pushed = pynetdicom_push(addr, MODALITY, 4, &files);
    let assocs = pushed["associations"].as_array().unwrap();
    assert_eq!(assocs.len(), 4, "{pushed}");
    assert!(assocs.iter().all(|a| a["accepted"] == true), "{pushed}");
    let status = statuses(&pushed);
    for i in first {
        assert_eq!(
            status[&i.path].0,
            0,
            "{}: {:?}",
            i.path.display(),
            status[&i.path]
        );
    }
    let stored = stored_instances(&region).await;
    for i in first {
        let (case_id, ts) = &stored[&i.sop_instance_uid];
        assert_eq!(ts, &i.transfer_syntax, "{}", i.path.display());
        let got = fetched_data_set(&region, *case_id, &i.sop_instance_uid).await;
        assert!(
            got == i.data_set,
            "{}: the hub's data set differs from the file's ({} vs {} bytes)",
            i.path.display(),
            got.len(),
            i.data_set.len()
        );
    }

    // The same instances again: duplicates, acknowledged as success, nothing added.
    let again: Vec<PathBuf> = files.iter().take(5).cloned().collect();
    let pushed = pynetdicom_push(addr, MODALITY, 1, &again);
    for (file, (code, comment)) in statuses(&pushed) {
        assert_eq!(code, 0, "{}: {comment}", file.display());
    }
    assert_eq!(stored_instances(&region).await.len(), stored.len());

    // The same SOP Instance UID with other bytes is refused, and the stored one stays.
    let conflicting: Vec<&Instance> = all_rounds
        .get(1)
        .map(|r| r.iter().take(3).collect())
        .unwrap_or_default();
    assert!(
        !conflicting.is_empty(),
        "the corpus has no instance in two syntaxes"
    );
    let paths: Vec<PathBuf> = conflicting.iter().map(|i| i.path.clone()).collect();
    let pushed = pynetdicom_push(addr, MODALITY, 1, &paths);
    let status = statuses(&pushed);
    for i in &conflicting {
        let (code, comment) = &status[&i.path];
        assert_eq!(*code, 0xC001, "{}: {comment}", i.path.display());
        assert!(comment.starts_with("SOP Instance UID"), "{comment}");
        let (case_id, _) = &stored[&i.sop_instance_uid];
        let original = first
            .iter()
            .find(|f| f.sop_instance_uid == i.sop_instance_uid)
            .unwrap();
        assert!(
            fetched_data_set(&region, *case_id, &i.sop_instance_uid).await == original.data_set
        );
    }

    // A deflated data set is accepted as is; this one lacks Patient ID and Study Instance UID,
    // which the hub needs, so it is "cannot understand" (not "no presentation context").
    let incomplete = corpus().join("dicom/pydicom-test-files/image_dfl.dcm");
    let pushed = pynetdicom_push(addr, MODALITY, 1, std::slice::from_ref(&incomplete));
    let (code, comment) = &statuses(&pushed)[&incomplete];
    assert_eq!(*code, 0xC000, "{comment}");
    assert!(comment.contains("ID"), "{comment}");

    // A data set that does not parse: "cannot understand", and nothing is stored.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("garbage.dcm");
    let mut bytes = std::fs::read(&first[0].path).unwrap();
    let header = bytes.len() - first[0].data_set.len();
    bytes.truncate(header);
    bytes.extend_from_slice(&[0xFF; 37]);
    std::fs::write(&bad, &bytes).unwrap();
    let before = stored_instances(&region).await.len();
    let pushed = pynetdicom_push(addr, MODALITY, 1, std::slice::from_ref(&bad));
    let (code, comment) = &statuses(&pushed)[&bad];
    assert_eq!(*code, 0xC000, "{comment}");
    assert_eq!(stored_instances(&region).await.len(), before);
    let staging = region.hub.data_dir.join("staging");
    let leftovers = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "staging files left in {}", staging.display());
}

#[test]
fn a_study_pushed_over_dicom_is_queued_for_reading() {
    let region = region(&[("REMOTEDX_HUB_JOBS__IN_PROCESS", "true")]);
    let addr = dicom_addr(&region);
    let study: Vec<PathBuf> = {
        let dir = e2e::sample_files().join("baishui/zhang-san-ct-head");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files
    };
    let sent = storescu(addr, HUB_AE, "-xe", &study);
    assert_eq!(sent.len(), study.len());
    assert!(sent.values().all(|s| s.response == "Success"), "{sent:?}");

    // Released: the case is queued at once, like the end of an upload.
    let mut entries = Vec::new();
    for _ in 0..150 {
        let queue = cli(&region.hub, region.token("specialist"), &["queue"]);
        assert_eq!(queue.code, 0, "{}", queue.stderr);
        entries = queue.json["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !entries.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(entries.len(), 1, "{entries:?}");
    let case = &entries[0]["case"];
    assert_eq!(case["institution_code"], "TS-A", "{case}");
    assert_eq!(case["modality"], "CT", "{case}");

    // The clinic sees it as its own, and the audit trail names the peer.
    let audit = cli(&region.hub, region.token("admin"), &["audit"]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert!(
        audit.stdout.contains("dicom:MODALITY_A"),
        "{}",
        audit.stdout
    );
}

/// Holds one verification association open for a few seconds (pynetdicom).
const HOLD_ASSOCIATION: &str = r#"
import sys, time
from pynetdicom import AE
ae = AE(ae_title=sys.argv[3])
ae.add_requested_context("1.2.840.10008.1.1")
assoc = ae.associate(sys.argv[1], int(sys.argv[2]), ae_title=sys.argv[4])
print("held" if assoc.is_established else "failed", flush=True)
time.sleep(3)
if assoc.is_established:
    assoc.release()
"#;

#[test]
fn associations_beyond_the_limit_are_rejected_for_now() {
    use std::io::BufRead;
    let region = region(&[("REMOTEDX_HUB_DICOM__MAX_ASSOCIATIONS", "1")]);
    let addr = dicom_addr(&region);
    let mut holder = Command::new("python3")
        .args(["-c", HOLD_ASSOCIATION])
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .args([MODALITY, HUB_AE])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "held");
    let echo = || {
        Command::new(dcmtk("echoscu"))
            .args(["-v", "-aet", MODALITY, "-aec", HUB_AE])
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .output()
            .unwrap()
    };
    let second = echo();
    let log = String::from_utf8_lossy(&second.stderr).into_owned()
        + &String::from_utf8_lossy(&second.stdout);
    assert!(!second.status.success(), "{log}");
    assert!(log.contains("Rejected Transient"), "{log}");
    assert!(holder.wait().unwrap().success());
    // The slot is free again once the first association is released.
    let mut freed = false;
    for _ in 0..50 {
        if echo().status.success() {
            freed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(freed, "the association slot was not given back");
}

/// Regression (issue "Safe to deploy 2/2"): silent TCP connections took every association slot
/// before any AE check, locking real modalities out.
#[test]
fn silent_connections_take_no_association_slot_and_one_address_has_a_cap() {
    use std::io::Read;
    let region = region(&[
        ("REMOTEDX_HUB_DICOM__MAX_ASSOCIATIONS", "2"),
        ("REMOTEDX_HUB_DICOM__MAX_CONNECTIONS_PER_IP", "6"),
    ]);
    let addr = dicom_addr(&region);
    // Four silent connections: more than the two association slots, within the address's cap.
    let silent: Vec<_> = (0..4)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let echo = Command::new(dcmtk("echoscu"))
        .args(["-aet", MODALITY, "-aec", HUB_AE])
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .output()
        .unwrap();
    assert!(
        echo.status.success(),
        "a modality was locked out by silent connections: {}",
        String::from_utf8_lossy(&echo.stderr)
    );
    // Two more fill the address's cap; the next is closed at once, without an association.
    let _more: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut over = std::net::TcpStream::connect(addr).unwrap();
    over.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut byte = [0u8; 1];
    let read = over.read(&mut byte);
    assert!(
        matches!(read, Ok(0))
            || read.is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock
                && e.kind() != std::io::ErrorKind::TimedOut),
        "a connection over the per-address cap was kept open"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_store_in_flight_and_keeps_every_acknowledged_one() {
    let mut region = region(&[]);
    let addr = dicom_addr(&region);
    // 12 large instances (7.2 MB each), so that the shutdown lands in the middle of the push.
    let template = OpenFileOptions::new()
        .open_file(corpus().join("dicom/pydicom-data/RG1_UNCR.dcm"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = (1..=12)
        .map(|i| {
            let path = dir.path().join(format!("rg{i:02}.dcm"));
            std::fs::write(
                &path,
                e2e::dicom::variant(&template, "1.2.826.0.1.3680043.9.7777.1", i, "P-SHUT"),
            )
            .unwrap();
            path
        })
        .collect();
    let push = Command::new(dcmtk("storescu"))
        .args(["-v", "-R", "-xe", "-aet", MODALITY, "-aec", HUB_AE])
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let staging = region.hub.data_dir.join("staging");
    let blobs = region.hub.data_dir.join("blobs");
    let count = |d: &Path| -> usize {
        let mut n = 0;
        let mut dirs = vec![d.to_owned()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    dirs.push(e.path());
                } else {
                    n += 1;
                }
            }
        }
        n
    };
    // Wait until the first instances are in, then stop the hub gracefully.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&blobs) < 2 {
        assert!(Instant::now() < deadline, "nothing was stored");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        region.hub.terminate().success(),
        "the hub did not exit cleanly"
    );
    let out = push.wait_with_output().unwrap();
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let acknowledged = log.matches("Received Store Response (Success)").count();
    assert!(
        acknowledged >= 2 && acknowledged < files.len(),
        "{acknowledged} acknowledged:\n{log}"
    );
    assert_eq!(count(&staging), 0, "staging files left behind");

    // Every acknowledged instance is there after a restart, and nothing else; the study was
    // queued when the hub shut down (not left receiving).
    region.hub.restart();
    let stored = stored_instances(&region).await;
    assert_eq!(stored.len(), acknowledged, "{log}");
    let queue = cli(&region.hub, region.token("specialist"), &["queue"]);
    assert_eq!(queue.code, 0, "{}", queue.stderr);
    assert_eq!(
        queue.json["entries"].as_array().map(Vec::len),
        Some(1),
        "{}",
        queue.stdout
    );
}
