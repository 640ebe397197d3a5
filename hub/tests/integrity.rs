//! Tamper evidence and the hub's keys, through the domain on a real SQLite index: the chained
//! tables refuse changes, a change made behind the triggers' back is named and stops the hub, a
//! wrong or missing key stops it with a message saying what to do, the index is readable by its
//! owner only, rows from before the chains are linked once, and a pseudonym key rotation keeps
//! result recognition matching the same patient.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use hub::config::Config;
use hub::domain::integrity::{self, Break};
use hub::domain::pseudonym::IdType;
use hub::domain::recognition::{CheckPurpose, CheckRequest};
use hub::domain::reports::ReportText;
use hub::storage::chain::Chain;

const PATIENT: &str = "990321195803040170";

fn ct_head() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sample-data/files/baishui/zhang-san-ct-head/CT0001.dcm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A CT head of [`PATIENT`] uploaded by TS-A, reported and signed: audit rows, a report version
/// and a recognition entry.
async fn signed_case(t: &TestHub) -> i64 {
    let (out, cases) = upload(&t.hub, &t.clinic_a, &[("ct.dcm", ct_head())]).await;
    out[0].as_ref().unwrap();
    while let Some(job) = t.hub.lease_job(&t.worker, "test").await.unwrap() {
        t.hub
            .complete_job(&t.worker, job.job.id, Default::default())
            .await
            .unwrap();
    }
    let id = cases[0];
    t.hub.claim(&t.specialist, id, "").await.unwrap();
    let text = ReportText {
        findings: "No bleed.".into(),
        impression: "Normal CT head.".into(),
        critical: false,
    };
    t.hub
        .file_report(&t.specialist, id, &text, true)
        .await
        .unwrap();
    t.hub.deliver_events().await.unwrap();
    id
}

fn sqlite(config: &Config) -> rusqlite::Connection {
    rusqlite::Connection::open(config.sqlite_path()).unwrap()
}

fn one_review(c: &mut Config) {
    c.reading.two_level_review = false;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_to_change_or_delete_chained_rows() {
    let t = test_hub(one_review).await;
    signed_case(&t).await;
    let db = sqlite(t.hub.config());
    for sql in [
        "UPDATE audit SET detail = 'nothing happened'",
        "DELETE FROM audit",
        "UPDATE reports SET impression = 'Haemorrhage.'",
        "DELETE FROM chain_links",
    ] {
        let err = db.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_behind_the_triggers_back_is_named_and_stops_the_hub() {
    let t = test_hub(one_review).await;
    let case_id = signed_case(&t).await;
    let config = t.hub.config().clone();
    let report = t.hub.verify_chains().await.unwrap();
    assert!(report.iter().all(|r| r.broken.is_none()), "{report:?}");
    assert!(
        report
            .iter()
            .all(|r| r.links > 0 || r.chain == Chain::Ledger)
    );

    let db = sqlite(&config);
    db.execute_batch(
        "DROP TRIGGER reports_append_only_update; DROP TRIGGER audit_append_only_delete;",
    )
    .unwrap();
    let report_id: i64 = db
        .query_row(
            "SELECT MAX(id) FROM reports WHERE case_id = ?1",
            [case_id],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        "UPDATE reports SET impression = 'Acute haemorrhage.' WHERE id = ?1",
        [report_id],
    )
    .unwrap();
    let audit_id: i64 = db
        .query_row("SELECT MIN(id) FROM audit", [], |r| r.get(0))
        .unwrap();
    db.execute("DELETE FROM audit WHERE id = ?1", [audit_id])
        .unwrap();

    let report = t.hub.verify_chains().await.unwrap();
    let broken = |chain| {
        report
            .iter()
            .find(|r| r.chain == chain)
            .and_then(|r| r.broken.clone())
    };
    assert!(
        matches!(broken(Chain::Reports), Some(Break::RowChanged { row_id, columns, .. })
            if row_id == report_id && columns == ["impression"]),
        "{report:?}"
    );
    assert!(
        matches!(broken(Chain::Audit), Some(Break::RowMissing { row_id, .. }) if row_id == audit_id),
        "{report:?}"
    );
    let err = format!("{:#}", hub::startup::open(config).await.err().unwrap());
    assert!(
        err.contains("refusing to start")
            && err.contains(&format!("row id {report_id}"))
            && err.contains("impression")
            && err.contains("hub verify"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_written_before_the_chains_are_linked_once_at_the_next_start() {
    let t = test_hub(one_review).await;
    signed_case(&t).await;
    let config = t.hub.config().clone();
    // Make the index look like one from before the chains: no links, heads at zero.
    let db = sqlite(&config);
    db.execute_batch(
        "DROP TRIGGER chain_links_append_only_delete; DROP TRIGGER chain_heads_forward_only;
         DELETE FROM chain_links;
         UPDATE chain_heads SET seq = 0, mac = '', backfilled = 0,
            backfill_to = CASE chain WHEN 'audit' THEN (SELECT MAX(id) FROM audit)
                                     WHEN 'reports' THEN (SELECT MAX(id) FROM reports)
                                     ELSE 0 END;",
    )
    .unwrap();
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    let reopened = hub::startup::open(config.clone()).await.unwrap();
    let report = reopened.verify_chains().await.unwrap();
    assert!(report.iter().all(|r| r.broken.is_none()), "{report:?}");
    let audit = report.iter().find(|r| r.chain == Chain::Audit).unwrap();
    assert!(audit.links >= rows, "{audit}");
    // Once linked, a row inserted behind the hub's back is not adopted at the next start.
    db.execute(
        "INSERT INTO audit (at_ms, user_id, actor, institution_code, action) VALUES (0, 0, 'x', 'TS-A', 'view')",
        [],
    )
    .unwrap();
    let err = format!("{:#}", hub::startup::open(config).await.err().unwrap());
    assert!(err.contains("inserted outside the hub"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_key_stops_the_hub_with_what_to_do() {
    let t = test_hub(|_| {}).await;
    let config = t.hub.config().clone();
    let (pseudonym, integrity_key) = (config.key_file(), config.integrity_key_file());
    let saved = std::fs::read(&pseudonym).unwrap();
    std::fs::write(&pseudonym, [5u8; 32]).unwrap();
    let err = format!(
        "{:#}",
        hub::startup::open(config.clone()).await.err().unwrap()
    );
    assert!(
        err.contains("pseudonym key version 1") && err.contains("backup"),
        "{err}"
    );
    std::fs::remove_file(&pseudonym).unwrap();
    let err = format!(
        "{:#}",
        hub::startup::open(config.clone()).await.err().unwrap()
    );
    assert!(err.contains("pseudonym key version 1"), "{err}");
    assert!(
        !pseudonym.exists(),
        "a missing key is never silently replaced"
    );
    std::fs::write(&pseudonym, &saved).unwrap();

    let saved = std::fs::read(&integrity_key).unwrap();
    std::fs::write(&integrity_key, [6u8; 32]).unwrap();
    let err = format!(
        "{:#}",
        hub::startup::open(config.clone()).await.err().unwrap()
    );
    assert!(
        err.contains("not the key this index was chained with"),
        "{err}"
    );
    std::fs::remove_file(&integrity_key).unwrap();
    let err = format!(
        "{:#}",
        hub::startup::open(config.clone()).await.err().unwrap()
    );
    assert!(
        err.contains("integrity key") && err.contains("missing"),
        "{err}"
    );
    std::fs::write(&integrity_key, &saved).unwrap();
    hub::startup::open(config).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_and_keys_are_readable_by_their_owner_only() {
    let t = test_hub(|_| {}).await;
    let config = t.hub.config();
    let sqlite = config.sqlite_path();
    let wal = sqlite.with_extension("sqlite3-wal");
    for path in [
        &sqlite,
        &wal,
        &config.key_file(),
        &config.integrity_key_file(),
    ] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_readable_by_others_is_narrowed_at_start() {
    let t = test_hub(|_| {}).await;
    let config = t.hub.config().clone();
    let sqlite = config.sqlite_path();
    std::fs::set_permissions(&sqlite, std::fs::Permissions::from_mode(0o644)).unwrap();
    hub::startup::open(config).await.unwrap();
    let mode = std::fs::metadata(&sqlite).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recognition_still_matches_a_patient_after_a_key_rotation() {
    let t = test_hub(one_review).await;
    signed_case(&t).await;
    let check = CheckRequest {
        id_type: IdType::IdCard,
        patient_id: PATIENT.into(),
        item: "CT-HEAD".into(),
        purpose: Some(CheckPurpose::BeforeExamining),
        note: String::new(),
    };
    let before = t.hub.check_recognition(&t.clinic_b, &check).await.unwrap();
    assert_eq!(before.entries.len(), 1, "the signed CT head is found");
    let config = t.hub.config().clone();

    let (store, pseudonyms) = hub::startup::open_store(&config).await.unwrap();
    let version = hub::keys::rotate(&store, &config, &pseudonyms)
        .await
        .unwrap();
    assert_eq!(version, 2);
    let retired = config.key_file().with_extension("key.v1");
    assert!(retired.is_file(), "the old key is kept beside the new one");
    let stored: Vec<(String, i64)> = {
        let db = sqlite(&config);
        let mut q = db
            .prepare("SELECT patient_key, patient_key_version FROM cases")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(stored.iter().all(|(_, v)| *v == 2), "{stored:?}");

    let rotated = hub::startup::open(config.clone()).await.unwrap();
    let after = rotated
        .check_recognition(&t.clinic_b, &check)
        .await
        .unwrap();
    assert_eq!(after.entries.len(), 1, "the same patient still matches");
    assert_eq!(after.entries[0].entry.id, before.entries[0].entry.id);
    // The old key alone no longer makes the stored pseudonyms.
    std::fs::remove_file(&retired).unwrap();
    let err = format!("{:#}", hub::startup::open(config).await.err().unwrap());
    assert!(err.contains("pseudonym key version 1"), "{err}");
}

/// What the chains cost: single-entry audit transactions (as the hub writes them), then the walk
/// that every start makes. `cargo test -p hub --test integrity -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn measure_appends_and_the_start_up_walk() {
    use hub::model::AuditEntry;
    use hub::storage::audit;
    let t = test_hub(|_| {}).await;
    let (store, _) = hub::startup::open_store(t.hub.config()).await.unwrap();
    let store = &store;
    let entry = AuditEntry {
        user_id: 1,
        actor: "dr li".into(),
        institution_code: "CTY".into(),
        action: "view".into(),
        case_id: 1,
        patient_key: "ab".repeat(32),
        detail: "measure".into(),
        ..AuditEntry::default()
    };
    const SINGLE: u32 = 2_000;
    let started = std::time::Instant::now();
    for n in 0..SINGLE {
        let mut tx = store.write().await.unwrap();
        audit::append(tx.as_mut(), &entry, i64::from(n))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let per_tx = started.elapsed() / SINGLE;
    const BULK: i64 = 100_000;
    for batch in 0..BULK / 1000 {
        let mut tx = store.write().await.unwrap();
        for n in 0..1000 {
            audit::append(tx.as_mut(), &entry, batch * 1000 + n)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let started = std::time::Instant::now();
    let report = integrity::verify(store).await.unwrap();
    let walk = started.elapsed();
    assert!(report.iter().all(|r| r.broken.is_none()));
    let links: i64 = report.iter().map(|r| r.links).sum();
    println!("one audit entry per transaction, chained: {per_tx:?} per commit");
    println!("start-up walk of {links} links: {walk:?}");
}
