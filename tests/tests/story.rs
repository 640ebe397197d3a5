//! The whole user story through the real `hub` (with its demo region) and `viewer-cli` binaries:
//! a township doctor uploads, specialists read from the queue, race for a claim, report, review and
//! amend; the clinic is told; the administrator audits.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use e2e::*;
use serde_json::Value;

const CLINIC_A: &str = "demo-clinic-a";
const CLINIC_B: &str = "demo-clinic-b";
const SPECIALIST: &str = "demo-specialist";
const SENIOR: &str = "demo-senior";
const ADMIN: &str = "demo-admin";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn township_upload_to_signed_report() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    // The demo region without its samples: the clinic uploads them itself below.
    let hub = HubProcess::start_with(
        dir.path(),
        &[],
        &["--demo", "--demo-data", empty.path().to_str().unwrap()],
    );
    let who = ok(&cli(&hub, CLINIC_A, &["whoami"])).clone();
    assert_eq!(
        (who["role"].as_str(), who["institution_code"].as_str()),
        (Some("clinic"), Some("TS-A"))
    );

    // 1. The township doctor uploads a CT head marked STAT and critical, and a routine DR chest.
    let samples = sample_files().join("baishui");
    let ct = samples.join("zhang-san-ct-head");
    let up = cli(
        &hub,
        CLINIC_A,
        &[
            "upload",
            ct.to_str().unwrap(),
            "--priority",
            "stat",
            "--critical",
            "--reason",
            "suspected stroke",
        ],
    );
    let up = ok(&up);
    assert_eq!(up["summary"]["accepted"], 24);
    let ct_case = up["summary"]["cases"][0]["case_id"].as_i64().unwrap();
    let dr = samples.join("zhang-san-dr-chest");
    let dr_case = ok(&cli(&hub, CLINIC_A, &["upload", dr.to_str().unwrap()]))["summary"]["cases"]
        [0]["case_id"]
        .as_i64()
        .unwrap();

    // Re-uploading is idempotent; a bad file is refused by name while the rest goes on.
    let again = cli(
        &hub,
        CLINIC_A,
        &["upload", ct.join("CT0001.dcm").to_str().unwrap()],
    );
    let again = ok(&again);
    assert_eq!(
        (
            again["summary"]["duplicates"].as_u64(),
            again["files"][0]["case_id"].as_i64()
        ),
        (Some(1), Some(ct_case))
    );
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "not an image").unwrap();
    let mixed = cli(
        &hub,
        CLINIC_A,
        &[
            "upload",
            junk.to_str().unwrap(),
            dr.join("DX0001.dcm").to_str().unwrap(),
        ],
    );
    assert_eq!(mixed.code, 1, "a partial failure exits 1: {}", mixed.stderr);
    let files = mixed.json["files"].as_array().unwrap();
    assert_eq!(files[0]["status"], "rejected");
    assert!(
        files[0]["message"].as_str().unwrap().contains("notes.txt"),
        "{:?}",
        files[0]
    );
    assert_eq!(files[1]["status"], "duplicate");

    // Clinic B cannot see clinic A's case: to clinic B it does not exist.
    let denied = cli(&hub, CLINIC_B, &["show", &ct_case.to_string()]);
    assert_eq!(denied.code, 4, "{}", denied.stderr);
    assert!(!denied.stderr.contains("TS-A"), "{}", denied.stderr);

    // 2. The specialist's queue: the critical STAT case first, once the worker has processed it.
    let mut queue = Value::Null;
    for _ in 0..100 {
        queue = ok(&cli(&hub, SPECIALIST, &["queue"])).clone();
        let ready = queue["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["case"]["state"] == "ready");
        if ready && queue["entries"].as_array().unwrap().len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let entries = queue["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{queue}");
    assert_eq!(entries[0]["case"]["case_id"].as_i64(), Some(ct_case));
    assert_eq!(entries[0]["case"]["critical"], true);
    assert_eq!(entries[0]["case"]["exam_item_code"], "CT-HEAD");
    assert_eq!(entries[1]["case"]["case_id"].as_i64(), Some(dr_case));

    // 3. Two specialists claim at once: exactly one wins, the other is told who holds it.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| cli(&hub, SPECIALIST, &["claim", &ct_case.to_string()]));
        let b = s.spawn(|| cli(&hub, SENIOR, &["claim", &ct_case.to_string()]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(
        (a.code == 0) != (b.code == 0),
        "exactly one claim wins: {a:?} / {b:?}"
    );
    let (winner, loser) = if a.code == 0 {
        (SPECIALIST, b)
    } else {
        (SENIOR, a)
    };
    assert_eq!(loser.code, 4);
    assert!(loser.stderr.contains("already claimed"), "{}", loser.stderr);

    // The claimer opens the case and writes its previews and full-resolution renders.
    let out = dir.path().join("case");
    let shown = cli(
        &hub,
        winner,
        &[
            "show",
            &ct_case.to_string(),
            "--out",
            out.to_str().unwrap(),
            "--full",
            "--window",
            "brain",
        ],
    );
    let shown = ok(&shown);
    assert_eq!(shown["instances"].as_array().unwrap().len(), 24);
    assert_eq!(
        shown["patient_name"].as_str().map(|n| n.contains("Zhang")),
        Some(true)
    );
    let written: Vec<&str> = shown["written"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(written.iter().any(|f| f.contains("strip/")), "{written:?}");
    assert_eq!(
        written.iter().filter(|f| f.contains("render/")).count(),
        24,
        "{written:?}"
    );
    for f in &written {
        let path = if std::path::Path::new(f).is_absolute() {
            std::path::PathBuf::from(f)
        } else {
            out.join(f)
        };
        if f.ends_with(".png") {
            assert!(
                std::fs::read(&path).unwrap().starts_with(b"\x89PNG"),
                "{}",
                path.display()
            );
        }
    }

    // 4. A junior's report waits for a senior; the critical finding reaches the clinic at once.
    let mut watch = Command::new(binary("viewer-cli"))
        .args(["--json", "reports", "--follow", "--critical"])
        .env("HUB_URL", &hub.url)
        .env("HUB_TOKEN", CLINIC_A)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut watched = BufReader::new(watch.stdout.take().unwrap()).lines();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let junior = SPECIALIST;
    if winner != junior {
        ok(&cli(&hub, winner, &["release", &ct_case.to_string()]));
        ok(&cli(&hub, junior, &["claim", &ct_case.to_string()]));
    }
    let signed_too_early = cli(
        &hub,
        junior,
        &[
            "report",
            &ct_case.to_string(),
            "--findings",
            "x",
            "--impression",
            "y",
            "--sign",
        ],
    );
    assert_eq!(
        signed_too_early.code, 3,
        "a junior cannot sign: {}",
        signed_too_early.stderr
    );
    let prelim = ok(&cli(
        &hub,
        junior,
        &[
            "report",
            &ct_case.to_string(),
            "--findings",
            "Hyperdense focus in the right basal ganglia.",
            "--impression",
            "Acute haemorrhage.",
            "--critical",
        ],
    ))
    .clone();
    assert_eq!(prelim["status"], "preliminary");
    let told: Value = serde_json::from_str(&watched.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (
            told["case"]["case_id"].as_i64(),
            told["report"]["status"].as_str()
        ),
        (Some(ct_case), Some("preliminary"))
    );
    assert_eq!(told["report"]["critical"], true);

    let review = ok(&cli(&hub, SENIOR, &["queue", "--review"])).clone();
    assert_eq!(
        review["entries"][0]["case"]["case_id"].as_i64(),
        Some(ct_case)
    );
    let signed = ok(&cli(&hub, SENIOR, &["sign", &ct_case.to_string()])).clone();
    assert_eq!(
        (signed["status"].as_str(), signed["version"].as_u64()),
        (Some("final"), Some(2))
    );
    let told: Value = serde_json::from_str(&watched.next().unwrap().unwrap()).unwrap();
    assert_eq!(told["report"]["status"], "final");
    let _ = watch.kill();
    let _ = watch.wait();

    // 5. A correction is an amendment that keeps the history.
    let amended = ok(&cli(
        &hub,
        SENIOR,
        &[
            "amend",
            &ct_case.to_string(),
            "--findings",
            "Hyperdense focus, 12 mm.",
            "--impression",
            "Acute haemorrhage, right basal ganglia.",
            "--reason",
            "size added",
        ],
    ))
    .clone();
    assert_eq!(
        (amended["status"].as_str(), amended["critical"].as_bool()),
        (Some("amended"), Some(true))
    );
    let seen = ok(&cli(&hub, CLINIC_A, &["show", &ct_case.to_string()])).clone();
    let statuses: Vec<&str> = seen["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["preliminary", "final", "amended"],
        "the critical preliminary is visible to the clinic"
    );
    let reports = ok(&cli(&hub, CLINIC_A, &["reports"])).clone();
    assert_eq!(reports["reports"][0]["report"]["status"], "amended");

    // 6. The administrator's audit trail has who did what.
    let audit = ok(&cli(
        &hub,
        ADMIN,
        &["audit", "--case", &ct_case.to_string(), "--limit", "500"],
    ))
    .clone();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for needed in [
        "case_created",
        "upload",
        "received",
        "claim",
        "view",
        "report",
        "sign",
        "amend",
    ] {
        assert!(
            actions.contains(&needed),
            "audit lacks {needed}: {actions:?}"
        );
    }
    let forbidden = cli(&hub, SPECIALIST, &["audit"]);
    assert_eq!(forbidden.code, 3);
}
