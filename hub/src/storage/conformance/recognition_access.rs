//! Conformance: what recognition checks returned, found the same way on every backend, and two
//! acceptances of one entry by one institution at the same moment booking one ledger row.

use super::super::recognition_access::{self as access, CheckRecord, Returned};
use super::super::{Store, recognition, users};
use crate::model::{Institution, LedgerRow, RecognitionDecision};

/// Runs after the recognition checks, over the entry of patient "k" they filed (valid until
/// 10,000 ms).
pub(super) async fn check(store: &Store, user: i64) {
    let (entry, case) = first_entry(store).await;
    access_rows(store, user, entry, case).await;
    concurrent_acceptances_book_once(store, user, entry).await;
}

async fn first_entry(store: &Store) -> (i64, i64) {
    let mut tx = store.write().await.unwrap();
    let e = recognition::entries_of_patient(tx.as_mut(), "k", "CT-HEAD")
        .await
        .unwrap()
        .remove(0);
    let b = Institution {
        code: "TS-B".into(),
        name: "B".into(),
        level: "township".into(),
    };
    users::upsert_institution(tx.as_mut(), &b, 1).await.unwrap();
    tx.commit().await.unwrap();
    (e.id, e.case_id)
}

async fn access_rows(store: &Store, user: i64, entry: i64, case: i64) {
    let mut tx = store.write().await.unwrap();
    let record = |at_ms, patient_key: &str| CheckRecord {
        user_id: user,
        institution_code: "TS-B".into(),
        patient_key: patient_key.into(),
        exam_item_code: "CT-HEAD".into(),
        purpose: "before-examining".into(),
        at_ms,
    };
    let empty = access::record_check(tx.as_mut(), &record(1_000, "k"))
        .await
        .unwrap();
    access::record_returned(tx.as_mut(), empty, &[], 6_000)
        .await
        .unwrap();
    let check = access::record_check(tx.as_mut(), &record(2_000, "k"))
        .await
        .unwrap();
    let returned = Returned {
        entry_id: entry,
        case_id: case,
        may_open: true,
    };
    access::record_returned(tx.as_mut(), check, &[returned], 7_000)
        .await
        .unwrap();
    let closed = access::record_check(tx.as_mut(), &record(3_000, "other"))
        .await
        .unwrap();
    let shown_only = Returned {
        may_open: false,
        ..returned
    };
    access::record_returned(tx.as_mut(), closed, &[shown_only], 9_000)
        .await
        .unwrap();
    let open = access::check_opening_case(tx.as_mut(), user, case, 6_999)
        .await
        .unwrap();
    assert_eq!(open, Some(check));
    let closed_now = access::check_opening_case(tx.as_mut(), user, case, 7_000)
        .await
        .unwrap();
    assert_eq!(closed_now, None, "the window has closed");
    let returning = access::check_returning_entry(tx.as_mut(), user, entry, 8_000)
        .await
        .unwrap();
    assert_eq!(returning, Some(closed), "returned, though not to open");
    let stranger = access::check_opening_case(tx.as_mut(), user + 1, case, 2_500)
        .await
        .unwrap();
    assert_eq!(stranger, None, "another user's check opens nothing");
    assert_eq!(
        access::checks_since(tx.as_mut(), user, 1_000, "k", 0)
            .await
            .unwrap(),
        (2, 2)
    );
    let oldest = access::oldest_check_since(tx.as_mut(), user, 0, Some("other"))
        .await
        .unwrap();
    assert_eq!(oldest, Some(3_000));
    let none = access::oldest_check_since(tx.as_mut(), user, 5_000, None)
        .await
        .unwrap();
    assert_eq!(none, None);
    tx.commit().await.unwrap();
}

/// Two users of TS-B accept the same entry at once: each books a ledger row and records the
/// decision in one transaction; the primary key lets one commit and the other roll back.
async fn concurrent_acceptances_book_once(store: &Store, user: i64, entry: i64) {
    let accept = |user_id: i64| async move {
        let mut tx = store.write().await.unwrap();
        let row = LedgerRow {
            entry_id: entry,
            kind: "accept".into(),
            institution_code: "TS-B".into(),
            user_id,
            fee_fen: 100,
            at_ms: 50_000,
            ..LedgerRow::default()
        };
        let ledger_id = recognition::append_ledger(tx.as_mut(), &row).await.unwrap();
        tokio::task::yield_now().await;
        let decision = RecognitionDecision {
            entry_id: entry,
            institution_code: "TS-B".into(),
            decision: "accept".into(),
            ledger_id: Some(ledger_id),
            decline_id: None,
            at_ms: 50_000,
        };
        let won = recognition::record_decision(tx.as_mut(), &decision)
            .await
            .unwrap();
        if won {
            tx.commit().await.unwrap();
        }
        won
    };
    let (a, b) = tokio::join!(accept(user), accept(user + 1));
    assert!(a != b, "exactly one acceptance stands: {a} / {b}");
    let mut tx = store.read().await.unwrap();
    let booked = recognition::ledger_between(tx.as_mut(), 50_000, 50_001)
        .await
        .unwrap();
    assert_eq!(booked.len(), 1, "{booked:?}");
}
