//! The storage conformance suite: what every index backend and blob store must do, checked the
//! same way for each (SQLite and the local directory in unit tests; PostgreSQL and S3 in the
//! integration tests that start them). A backend that passes can replace another without the
//! domain noticing.

mod dicomweb;
mod recognition_access;
mod sessions;

use std::sync::Arc;

use super::blob::{BlobStore, sha256_hex};
use super::{SqlTx, Store, cases, events, instances, jobs, mixups, recognition, reports, users};
use crate::model::{
    Case, Instance, Institution, JobKind, LedgerRow, Mixup, MixupState, RecognitionDecision,
    RecognitionDecline, RecognitionEntry, Report,
};

fn case(study: &str, priority: i64, critical: bool) -> Case {
    Case {
        institution_code: "TS-A".into(),
        study_instance_uid: study.into(),
        kind: "imaging".into(),
        modality: "CT".into(),
        exam_item_code: "CT-HEAD".into(),
        priority,
        critical,
        patient_key: "k".into(),
        patient_key_version: 1,
        patient_id_masked: "1234**5678".into(),
        patient_display: "Z.***".into(),
        created_at_ms: 1_000,
        ..Case::default()
    }
}

async fn seed(store: &Store) -> Vec<i64> {
    let mut tx = store.write().await.unwrap();
    users::upsert_institution(
        tx.as_mut(),
        &Institution {
            code: "TS-A".into(),
            name: "A".into(),
            level: "township".into(),
        },
        1,
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..8 {
        let hash = format!("token-hash-{i}");
        let user = users::NewUser {
            name: "u",
            role: "specialist",
            institution_code: "TS-A",
            senior: false,
            token_hash: &hash,
        };
        ids.push(users::insert_user(tx.as_mut(), &user, 1).await.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

/// Runs every check against a fresh, empty `store`.
pub async fn check(store: Store) {
    let users = seed(&store).await;
    index_round_trip(&store).await;
    rollback_leaves_nothing(&store).await;
    queue_order_and_exclusive_claims(&store, &users).await;
    jobs_are_leased_once(&store).await;
    events_are_delivered_once(&store).await;
    recognition_entries_and_ledger(&store, users[0]).await;
    reports_after_a_cursor(&store, users[0]).await;
    one_decision_per_entry_and_institution(&store).await;
    recognition_access::check(&store, users[0]).await;
    content_identity_and_mixups(&store, users[0]).await;
    super::chain_conformance::check(&store).await;
    blobs(store.blobs.clone()).await;
    followers_of_a_signed_case(&store).await;
    blob_references(&store).await;
    dicomweb::check(&store).await;
    sessions::check(&store, users[7]).await;
    blob_collection(store.blobs.clone()).await;
}

async fn index_round_trip(store: &Store) {
    let mut tx = store.write().await.unwrap();
    let id = cases::insert(tx.as_mut(), &case("1.2.3", 1, false))
        .await
        .unwrap()
        .unwrap();
    let inst = Instance {
        sop_instance_uid: "1.2.3.1".into(),
        case_id: id,
        series_instance_uid: "1.2.3.9".into(),
        sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
        transfer_syntax_uid: "1.2.840.10008.1.2.1".into(),
        modality: "CT".into(),
        blob_key: "ab".repeat(32),
        size: 10,
        source: "upload:u".into(),
        ..Instance::default()
    };
    assert!(instances::insert(tx.as_mut(), &inst).await.unwrap());
    assert!(
        !instances::insert(tx.as_mut(), &inst).await.unwrap(),
        "a second insert of one SOP Instance UID is a no-op"
    );
    cases::add_instance(tx.as_mut(), id, 10, 5).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let got = cases::by_study(tx.as_mut(), "1.2.3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            got.id,
            got.instance_count,
            got.total_bytes,
            got.state.as_str()
        ),
        (id, 1, 10, "receiving")
    );
    assert_eq!(got.institution_name, "A");
    assert_eq!(
        instances::of_case(tx.as_mut(), id).await.unwrap(),
        vec![inst]
    );
}

async fn rollback_leaves_nothing(store: &Store) {
    let mut tx = store.write().await.unwrap();
    cases::insert(tx.as_mut(), &case("9.9.9", 1, false))
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    let mut tx = store.read().await.unwrap();
    assert!(
        cases::by_study(tx.as_mut(), "9.9.9")
            .await
            .unwrap()
            .is_none(),
        "an uncommitted case must not be visible"
    );
    let mut tx = store.write().await.unwrap();
    let dup = cases::insert(tx.as_mut(), &case("1.2.3", 1, false))
        .await
        .unwrap();
    assert_eq!(dup, None, "a second case for one study is not created");
    let user = users::NewUser {
        name: "x",
        role: "clinic",
        institution_code: "TS-A",
        senior: false,
        token_hash: "token-hash-0",
    };
    let clash = users::insert_user(tx.as_mut(), &user, 1).await;
    assert!(
        matches!(clash, Err(super::StorageError::Constraint { .. })),
        "a duplicate token hash is a constraint error: {clash:?}"
    );
}

async fn queue_order_and_exclusive_claims(store: &Store, users: &[i64]) {
    let mut ids = Vec::new();
    for (study, priority, critical, received) in [
        ("q.1", 1, false, 100),
        ("q.2", 3, false, 300),
        ("q.3", 1, true, 400),
        ("q.4", 1, false, 50),
    ] {
        let mut tx = store.write().await.unwrap();
        let id = cases::insert(tx.as_mut(), &case(study, priority, critical))
            .await
            .unwrap()
            .unwrap();
        assert!(
            cases::mark_received(tx.as_mut(), id, received, received + 1000, 0)
                .await
                .unwrap()
        );
        cases::add_pending_jobs(tx.as_mut(), id, 0, received)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ids.push(id);
    }
    let mut tx = store.read().await.unwrap();
    let order: Vec<i64> = cases::queue(tx.as_mut(), "", false, 500, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        order,
        vec![ids[2], ids[1], ids[3], ids[0]],
        "critical, then STAT, then oldest routine first"
    );
    drop(tx);

    // Eight specialists claim at once: exactly one wins.
    let target = ids[1];
    let mut handles = Vec::new();
    for &claimer in users {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut tx = store.write().await.unwrap();
            let won = cases::claim(tx.as_mut(), target, claimer, 600, 10_000)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            won
        }));
    }
    let mut wins = 0;
    for h in handles {
        wins += usize::from(h.await.unwrap());
    }
    assert_eq!(wins, 1, "exactly one concurrent claimer wins");
    let mut tx = store.read().await.unwrap();
    let claimed = cases::get(tx.as_mut(), target).await.unwrap().unwrap();
    assert_eq!(claimed.state, "claimed");
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let holder = claimed.claimed_by.unwrap();
    let other = *users.iter().find(|u| **u != holder).unwrap();
    assert!(
        !cases::claim(tx.as_mut(), target, other, 700, 20_000)
            .await
            .unwrap(),
        "an active claim cannot be taken"
    );
    assert!(
        cases::claim(tx.as_mut(), target, other, 10_001, 20_000)
            .await
            .unwrap(),
        "an expired claim can be taken"
    );
    assert!(
        !cases::renew(tx.as_mut(), target, holder, 10_002, 30_000)
            .await
            .unwrap(),
        "the old holder cannot renew"
    );
    assert!(
        cases::unclaim(tx.as_mut(), target, Some(other))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

async fn jobs_are_leased_once(store: &Store) {
    let mut tx = store.write().await.unwrap();
    let case_id = cases::insert(tx.as_mut(), &case("j.1", 1, false))
        .await
        .unwrap()
        .unwrap();
    let job = jobs::insert(tx.as_mut(), case_id, JobKind::ImageSeries, "series", 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut handles = Vec::new();
    for i in 0..4 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut tx = store.write().await.unwrap();
            let got = jobs::lease_next(tx.as_mut(), &format!("w{i}"), 10, 100, 3)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            got.map(|j| j.id)
        }));
    }
    let mut leased = Vec::new();
    for h in handles {
        leased.extend(h.await.unwrap());
    }
    assert_eq!(leased, vec![job], "exactly one worker leases the job");
    let mut tx = store.write().await.unwrap();
    let owner = jobs::get(tx.as_mut(), job)
        .await
        .unwrap()
        .unwrap()
        .lease_owner;
    assert!(
        !jobs::finish(tx.as_mut(), job, "someone-else", "", 20)
            .await
            .unwrap()
    );
    let again = jobs::lease_next(tx.as_mut(), "late", 101, 200, 3)
        .await
        .unwrap();
    assert_eq!(
        again.map(|j| (j.id, j.attempts)),
        Some((job, 2)),
        "an expired lease goes to the next worker"
    );
    assert!(
        !jobs::finish(tx.as_mut(), job, &owner, "", 120)
            .await
            .unwrap(),
        "a late result of an expired lease is refused"
    );
    assert!(
        jobs::finish(tx.as_mut(), job, "late", "", 120)
            .await
            .unwrap()
    );
    assert!(
        jobs::lease_next(tx.as_mut(), "x", 300, 400, 3)
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
}

async fn events_are_delivered_once(store: &Store) {
    let mut tx = store.write().await.unwrap();
    let e1 = events::append(tx.as_mut(), "report_signed", 1, "{}", 1)
        .await
        .unwrap();
    let e2 = events::append(tx.as_mut(), "report_signed", 2, "{}", 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    let pending: Vec<i64> = events::undelivered(tx.as_mut(), "sub", 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(pending, vec![e1, e2]);
    assert!(
        events::mark_delivered(tx.as_mut(), e1, "sub", 3)
            .await
            .unwrap()
    );
    assert!(
        !events::mark_delivered(tx.as_mut(), e1, "sub", 4)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let pending: Vec<i64> = events::undelivered(tx.as_mut(), "sub", 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(pending, vec![e2]);
    assert_eq!(
        events::undelivered(tx.as_mut(), "other", 10)
            .await
            .unwrap()
            .len(),
        2,
        "subscribers are independent"
    );
}

/// What report watchers read: versions after a cursor, in id order, filtered as asked.
async fn reports_after_a_cursor(store: &Store, author: i64) {
    let mut tx = store.write().await.unwrap();
    let case_id = cases::insert(tx.as_mut(), &case("1.2.follow", 1, false))
        .await
        .unwrap()
        .unwrap();
    let before = reports::newest_id(tx.as_mut()).await.unwrap();
    let report = Report {
        case_id,
        status: "final".into(),
        impression: "first".into(),
        author_id: author,
        ..Report::default()
    };
    let r1 = reports::append(tx.as_mut(), &report).await.unwrap();
    let critical = Report {
        critical: true,
        ..report
    };
    let r2 = reports::append(tx.as_mut(), &critical).await.unwrap();
    assert_eq!(reports::newest_id(tx.as_mut()).await.unwrap(), r2);
    assert_eq!(
        ids_after(tx.as_mut(), before, "", false, 10).await,
        vec![r1, r2]
    );
    assert_eq!(
        ids_after(tx.as_mut(), r1, "TS-A", false, 10).await,
        vec![r2]
    );
    assert_eq!(ids_after(tx.as_mut(), before, "", true, 10).await, vec![r2]);
    assert_eq!(ids_after(tx.as_mut(), before, "", false, 1).await, vec![r1]);
    assert_eq!(
        ids_after(tx.as_mut(), before, "TS-B", false, 10).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids_after(tx.as_mut(), r2, "", false, 10).await,
        Vec::<i64>::new()
    );
    tx.commit().await.unwrap();
}

async fn ids_after(
    tx: &mut dyn SqlTx,
    cursor: i64,
    institution: &str,
    critical_only: bool,
    limit: i64,
) -> Vec<i64> {
    let found = reports::after(tx, cursor, institution, critical_only, limit).await;
    found.unwrap().iter().map(|r| r.id).collect()
}

async fn recognition_entries_and_ledger(store: &Store, author: i64) {
    let mut tx = store.write().await.unwrap();
    let case_id = cases::insert(tx.as_mut(), &case("1.2.recog", 1, false))
        .await
        .unwrap()
        .unwrap();
    let report = Report {
        case_id,
        status: "final".into(),
        impression: "first".into(),
        author_id: author,
        ..Report::default()
    };
    let r1 = reports::append(tx.as_mut(), &report).await.unwrap();
    let mut entry = RecognitionEntry {
        case_id,
        report_id: r1,
        patient_key: "k".into(),
        exam_item_code: "CT-HEAD".into(),
        institution_code: "TS-A".into(),
        valid_until_ms: 10_000,
        recognisable: true,
        impression: "first".into(),
        ..RecognitionEntry::default()
    };
    let id = recognition::upsert_entry(tx.as_mut(), &entry)
        .await
        .unwrap();
    // An amendment points the same entry at the new version.
    let r2 = reports::append(
        tx.as_mut(),
        &Report {
            impression: "amended".into(),
            ..report
        },
    )
    .await
    .unwrap();
    entry.report_id = r2;
    entry.impression = "amended".into();
    assert_eq!(
        recognition::upsert_entry(tx.as_mut(), &entry)
            .await
            .unwrap(),
        id
    );
    let listed = recognition::entries_in_window(tx.as_mut(), "k", "CT-HEAD", 9_999)
        .await
        .unwrap();
    assert_eq!(
        (
            listed.len(),
            listed[0].report_id,
            listed[0].impression.as_str()
        ),
        (1, r2, "amended")
    );
    assert_eq!(listed[0].institution_name, "A");
    assert!(
        recognition::entries_in_window(tx.as_mut(), "k", "CT-HEAD", 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    let accept = LedgerRow {
        entry_id: id,
        kind: "accept".into(),
        institution_code: "TS-A".into(),
        fee_fen: 15_000,
        at_ms: 5_000,
        ..LedgerRow::default()
    };
    let a = recognition::append_ledger(tx.as_mut(), &accept)
        .await
        .unwrap();
    assert_eq!(
        recognition::standing_acceptance(tx.as_mut(), id, "TS-A")
            .await
            .unwrap()
            .map(|r| r.id),
        Some(a)
    );
    let reversal = LedgerRow {
        kind: "reversal".into(),
        reverses_id: Some(a),
        fee_fen: -15_000,
        at_ms: 6_000,
        ..accept
    };
    let r = recognition::append_ledger(tx.as_mut(), &reversal)
        .await
        .unwrap();
    assert!(
        recognition::standing_acceptance(tx.as_mut(), id, "TS-A")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        recognition::reversal_of(tx.as_mut(), a)
            .await
            .unwrap()
            .map(|x| x.id),
        Some(r)
    );
    tx.commit().await.unwrap();
    // One reversal per row, enforced by the schema.
    let mut tx = store.write().await.unwrap();
    assert!(
        recognition::append_ledger(tx.as_mut(), &reversal)
            .await
            .is_err()
    );
    drop(tx);
    let mut tx = store.read().await.unwrap();
    let rows = recognition::ledger_between(tx.as_mut(), 0, 5_500)
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.fee_fen).collect::<Vec<_>>(),
        vec![15_000]
    );
    let all: i64 = recognition::ledger_between(tx.as_mut(), 0, i64::MAX)
        .await
        .unwrap()
        .iter()
        .map(|r| r.fee_fen)
        .sum();
    assert_eq!(all, 0);
}

/// Accepting and declining are exclusive per entry and institution in the schema itself: the
/// second decision is not recorded, whatever it is, until a reversal withdraws an acceptance.
async fn one_decision_per_entry_and_institution(store: &Store) {
    let mut tx = store.write().await.unwrap();
    let entry = recognition::entries_of_patient(tx.as_mut(), "k", "CT-HEAD")
        .await
        .unwrap()[0]
        .id;
    let accept = LedgerRow {
        entry_id: entry,
        kind: "accept".into(),
        institution_code: "TS-A".into(),
        at_ms: 7_000,
        ..LedgerRow::default()
    };
    let ledger_id = recognition::append_ledger(tx.as_mut(), &accept)
        .await
        .unwrap();
    let decline_id = recognition::append_decline(
        tx.as_mut(),
        &RecognitionDecline {
            entry_id: entry,
            institution_code: "TS-A".into(),
            reason: "emergency".into(),
            at_ms: 7_000,
            ..RecognitionDecline::default()
        },
    )
    .await
    .unwrap();
    let decision = |ledger: Option<i64>, decline: Option<i64>| RecognitionDecision {
        entry_id: entry,
        institution_code: "TS-A".into(),
        decision: if ledger.is_some() {
            "accept"
        } else {
            "decline"
        }
        .into(),
        ledger_id: ledger,
        decline_id: decline,
        at_ms: 7_000,
    };
    let accepted = decision(Some(ledger_id), None);
    let declined = decision(None, Some(decline_id));
    assert!(
        recognition::record_decision(tx.as_mut(), &accepted)
            .await
            .unwrap()
    );
    for second in [&declined, &accepted] {
        assert!(
            !recognition::record_decision(tx.as_mut(), second)
                .await
                .unwrap(),
            "a second decision was recorded: {second:?}"
        );
    }
    let standing = recognition::decision_of(tx.as_mut(), entry, "TS-A")
        .await
        .unwrap();
    assert_eq!(standing, Some(accepted.clone()));
    // A reversal withdraws the acceptance; then a decline may stand.
    assert!(
        recognition::withdraw_acceptance(tx.as_mut(), ledger_id)
            .await
            .unwrap()
    );
    assert!(
        recognition::record_decision(tx.as_mut(), &declined)
            .await
            .unwrap()
    );
    assert!(
        !recognition::record_decision(tx.as_mut(), &accepted)
            .await
            .unwrap()
    );
    assert!(
        !recognition::withdraw_acceptance(tx.as_mut(), ledger_id)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

/// A receiving case of `patient` holding one instance, `<study>.1`, whose content is `key`.
async fn case_with_content(store: &Store, study: &str, patient: &str, key: &str) -> i64 {
    let mut tx = store.write().await.unwrap();
    let c = Case {
        patient_key: patient.into(),
        ..case(study, 1, false)
    };
    let id = cases::insert(tx.as_mut(), &c).await.unwrap().unwrap();
    let sop = format!("{study}.1");
    let inst = Instance {
        sop_instance_uid: sop.clone(),
        case_id: id,
        series_instance_uid: format!("{study}.9"),
        blob_key: key.into(),
        source: "upload:u".into(),
        ..Instance::default()
    };
    assert!(instances::insert(tx.as_mut(), &inst).await.unwrap());
    mixups::record_content(tx.as_mut(), key, patient, &sop, id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn content_identity_and_mixups(store: &Store, admin: i64) {
    let key = "c0".repeat(32);
    let first = case_with_content(store, "7.1", "patient-a", &key).await;
    let second = case_with_content(store, "7.2", "patient-b", &key).await;
    let mut tx = store.write().await.unwrap();
    // Recording the same instance again is a no-op.
    mixups::record_content(tx.as_mut(), &key, "patient-a", "7.1.1", first)
        .await
        .unwrap();
    let under = |p: &'static str| {
        let key = key.clone();
        async move {
            let mut tx = store.read().await.unwrap();
            mixups::under_other_patients(tx.as_mut(), &key, p, 20)
                .await
                .unwrap()
                .iter()
                .map(|m| (m.case_id, m.sop_instance_uid.clone()))
                .collect::<Vec<_>>()
        }
    };
    tx.commit().await.unwrap();
    assert_eq!(under("patient-b").await, vec![(first, "7.1.1".to_owned())]);
    assert_eq!(under("patient-a").await, vec![(second, "7.2.1".to_owned())]);
    assert_eq!(under("patient-c").await.len(), 2, "one match per case");

    let mut tx = store.write().await.unwrap();
    let m = Mixup {
        case_id: second,
        other_case_id: first,
        sop_instance_uid: "7.2.1".into(),
        other_sop_instance_uid: "7.1.1".into(),
        created_at_ms: 10,
        ..Mixup::default()
    };
    assert!(mixups::insert(tx.as_mut(), &m).await.unwrap().is_some());
    assert!(
        mixups::insert(tx.as_mut(), &m).await.unwrap().is_none(),
        "a pair is recorded once"
    );
    // Held while receiving: the hold takes effect when the case is queued.
    assert!(!cases::hold(tx.as_mut(), second, "why").await.unwrap());
    cases::mark_received(tx.as_mut(), second, 20, 99, 0)
        .await
        .unwrap();
    cases::add_pending_jobs(tx.as_mut(), second, 0, 20)
        .await
        .unwrap();
    assert!(cases::finish_hold(tx.as_mut(), second).await.unwrap());
    // A queued case leaves the queue at once.
    cases::mark_received(tx.as_mut(), first, 20, 99, 0)
        .await
        .unwrap();
    cases::add_pending_jobs(tx.as_mut(), first, 0, 20)
        .await
        .unwrap();
    assert!(cases::hold(tx.as_mut(), first, "why too").await.unwrap());
    assert!(!cases::finish_hold(tx.as_mut(), first).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = store.write().await.unwrap();
    let held = cases::get(tx.as_mut(), second).await.unwrap().unwrap();
    assert_eq!(
        (held.state.as_str(), held.hold_reason.as_str()),
        ("mixup_hold", "why")
    );
    let queue = cases::queue(tx.as_mut(), "", true, 30, 500).await.unwrap();
    assert!(
        queue.iter().all(|c| c.id != second && c.id != first),
        "held cases are not queued"
    );
    assert!(
        !cases::claim(tx.as_mut(), second, admin, 30, 99)
            .await
            .unwrap()
    );
    let open = mixups::list(tx.as_mut(), "TS-A", false, 10).await.unwrap();
    assert_eq!(
        open.iter().map(|m| m.case_id).collect::<Vec<_>>(),
        vec![second]
    );
    assert!(
        mixups::list(tx.as_mut(), "TS-B", true, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let r = mixups::Resolution {
        state: MixupState::DifferentPatient,
        user_id: admin,
        user_name: "u",
        note: "checked",
        at_ms: 40,
    };
    assert_eq!(mixups::resolve(tx.as_mut(), second, &r).await.unwrap(), 1);
    assert!(
        cases::release_hold(tx.as_mut(), second, 500, 40)
            .await
            .unwrap()
    );
    assert!(
        cases::withdraw(tx.as_mut(), first, "withdrawn: copy")
            .await
            .unwrap()
    );
    assert!(
        !cases::withdraw(tx.as_mut(), second, "no").await.unwrap(),
        "not held"
    );
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let released = cases::get(tx.as_mut(), second).await.unwrap().unwrap();
    assert_eq!(
        (
            released.state.as_str(),
            released.deadline_at_ms,
            released.hold_reason.as_str()
        ),
        ("ready", 500, "")
    );
    let gone = cases::get(tx.as_mut(), first).await.unwrap().unwrap();
    assert_eq!(gone.state, "withdrawn");
    assert!(
        mixups::list(tx.as_mut(), "", false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let all = mixups::of_case(tx.as_mut(), second).await.unwrap();
    assert_eq!(
        (
            all[0].state.as_str(),
            all[0].resolved_by,
            all[0].resolution_note.as_str()
        ),
        ("different_patient", Some(admin), "checked")
    );
}

async fn blobs(store: Arc<dyn BlobStore>) {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let key = store.put_bytes(data.clone()).await.unwrap();
    assert_eq!(key, sha256_hex(&data));
    assert_eq!(
        store.put_bytes(data.clone()).await.unwrap(),
        key,
        "storing the same bytes twice is idempotent"
    );
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(store.size(&key).await.unwrap(), 300_000);
    assert_eq!(
        store.read_range(&key, 1000, 10).await.unwrap(),
        data[1000..1010]
    );
    assert_eq!(
        store.read_range(&key, 299_995, 100).await.unwrap(),
        data[299_995..],
        "a range past the end is cut short"
    );
    let scratch = tempfile::tempdir().unwrap();
    let copy = store.local_copy(&key, scratch.path()).await.unwrap();
    assert_eq!(std::fs::read(copy).unwrap(), data);

    let file = scratch.path().join("upload");
    std::fs::write(&file, b"instance bytes").unwrap();
    let file_key = sha256_hex(b"instance bytes");
    store.put_file(&file, &file_key).await.unwrap();
    assert_eq!(
        store.read_range(&file_key, 0, 100).await.unwrap(),
        b"instance bytes"
    );
    assert!(!store.exists(&"0".repeat(64)).await.unwrap());
    assert!(
        store.size("../../etc/passwd").await.is_err(),
        "keys that are not hashes are refused"
    );
}

/// A study may have several cases: its first, and one following each signed case. Each is
/// listed under the study's own UID; one follower per followed case; the newest is the study's.
async fn followers_of_a_signed_case(store: &Store) {
    let mut tx = store.write().await.unwrap();
    let first = cases::insert(tx.as_mut(), &case("8.1", 1, false))
        .await
        .unwrap()
        .unwrap();
    let follower = Case {
        follows_case_id: first,
        ..case("8.1", 1, false)
    };
    let second = cases::insert(tx.as_mut(), &follower)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        cases::insert(tx.as_mut(), &follower).await.unwrap(),
        None,
        "a signed case has one follower"
    );
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let newest = cases::by_study(tx.as_mut(), "8.1").await.unwrap().unwrap();
    assert_eq!((newest.id, newest.follows_case_id), (second, first));
    let old = cases::get(tx.as_mut(), first).await.unwrap().unwrap();
    assert_eq!(
        (old.study_instance_uid.as_str(), old.follows_case_id),
        ("8.1", 0)
    );
    assert_eq!(newest.study_instance_uid, "8.1");
}

/// The orphan collector's question: which of these blobs does a row point at?
async fn blob_references(store: &Store) {
    let mut tx = store.write().await.unwrap();
    let case_id = cases::insert(tx.as_mut(), &case("8.2", 1, false))
        .await
        .unwrap()
        .unwrap();
    let artifact = crate::model::Artifact {
        case_id,
        name: "preview.png".into(),
        media_type: "image/png".into(),
        blob_key: "cd".repeat(32),
        size: 4,
    };
    super::derived::put_artifact(tx.as_mut(), &artifact, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let keys = ["ab", "cd", "ef"].map(|k| k.repeat(32));
    let mut tx = store.read().await.unwrap();
    let used = instances::blobs_in_use(tx.as_mut(), &keys).await.unwrap();
    // "ab..." is the instance stored by `index_round_trip`.
    let expected: std::collections::HashSet<String> = keys[..2].iter().cloned().collect();
    assert_eq!(used, expected);
    assert!(
        instances::blobs_in_use(tx.as_mut(), &[])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Listing by write time, the write time of one blob, and removal (what the collector uses).
async fn blob_collection(store: Arc<dyn BlobStore>) {
    use std::time::{Duration, SystemTime};
    let key = store
        .put_bytes(b"a blob for the collector".to_vec())
        .await
        .unwrap();
    let group = u8::from_str_radix(&key[..2], 16).unwrap();
    let later = SystemTime::now() + Duration::from_secs(60);
    let earlier = SystemTime::now() - Duration::from_secs(3600);
    assert!(
        store
            .written_at(&key)
            .await
            .unwrap()
            .is_some_and(|t| t < later && t > earlier)
    );
    assert!(
        store
            .written_before(group, later)
            .await
            .unwrap()
            .contains(&key)
    );
    assert!(
        !store
            .written_before(group, earlier)
            .await
            .unwrap()
            .contains(&key)
    );
    store.delete(&key).await.unwrap();
    assert!(!store.exists(&key).await.unwrap());
    assert_eq!(store.written_at(&key).await.unwrap(), None);
    store.delete(&key).await.unwrap();
    assert!(
        !store
            .written_before(group, later)
            .await
            .unwrap()
            .contains(&key)
    );
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_and_local_directory_conform() {
        let dir = tempfile::tempdir().unwrap();
        let db = std::sync::Arc::new(
            super::super::sqlite::SqliteBackend::open(&dir.path().join("index.sqlite3")).unwrap(),
        );
        let blobs = std::sync::Arc::new(
            super::super::LocalBlobStore::open(&dir.path().join("blobs")).unwrap(),
        );
        let key = super::super::chain_conformance::test_key();
        let store = super::Store::open(db.clone(), blobs, key).await.unwrap();
        // Migrating twice changes nothing.
        assert_eq!(
            super::super::migrate::migrate(db.as_ref()).await.unwrap(),
            0
        );
        super::check(store).await;
    }
}
