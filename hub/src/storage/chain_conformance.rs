//! The hash chains' part of the storage conformance suite ([`super::conformance`]): what every
//! index backend must do for the append-only, chained tables.

use super::chain::{Chain, ChainKey};
use super::{Store, audit};
use crate::domain::integrity::{self, Break};
use crate::model::AuditEntry;

/// The key the conformance suite chains with.
pub fn test_key() -> ChainKey {
    ChainKey::new(vec![42u8; 32]).expect("32 bytes")
}

/// Runs the chain checks on a store opened with [`test_key`].
pub async fn check(store: &Store) {
    concurrent_appends_keep_one_chain(store).await;
    append_only_tables_refuse_changes(store).await;
    only_the_key_makes_a_link_valid(store).await;
    audit_export_follows_the_chain(store).await;
}

/// The audit export reads every audit entry once, in link order, from its cursor; the cursor
/// never moves back, and a success clears the last error.
async fn audit_export_follows_the_chain(store: &Store) {
    use super::audit_export as export;
    let mut tx = store.read().await.unwrap();
    let head = export::head_seq(tx.as_mut()).await.unwrap();
    let all = export::linked_after(tx.as_mut(), 0, 100_000).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "every link, in order");
    let later = export::linked_after(tx.as_mut(), head - 3, 2)
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|l| l.seq).collect::<Vec<_>>(),
        [head - 2, head - 1]
    );
    assert_eq!(later[0].entry, all[(head - 3) as usize].entry);
    drop(tx);
    let mut tx = store.write().await.unwrap();
    export::failed(tx.as_mut(), "logs:6514", "refused", 5)
        .await
        .unwrap();
    export::advance(tx.as_mut(), "logs:6514", 7, 6)
        .await
        .unwrap();
    export::advance(tx.as_mut(), "logs:6514", 3, 8)
        .await
        .unwrap();
    export::failed(tx.as_mut(), "other:6514", "down", 9)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let c = export::cursor(tx.as_mut(), "logs:6514").await.unwrap();
    assert_eq!((c.last_seq, c.sent_at_ms, c.error.as_str()), (7, 8, ""));
    let cursors = export::cursors(tx.as_mut()).await.unwrap();
    assert_eq!(cursors.len(), 2);
    assert_eq!(
        (cursors[1].last_seq, cursors[1].error.as_str()),
        (0, "down")
    );
}

fn entry(writer: i64, n: i64) -> AuditEntry {
    AuditEntry {
        user_id: writer,
        actor: format!("writer {writer}"),
        institution_code: "TS-A".into(),
        action: "view".into(),
        detail: format!("append {n}"),
        ..AuditEntry::default()
    }
}

/// Writers appending at once (each in its own transaction, on PostgreSQL each on its own
/// connection under READ COMMITTED) leave one unbroken chain covering every row.
async fn concurrent_appends_keep_one_chain(store: &Store) {
    const WRITERS: i64 = 8;
    const EACH: i64 = 25;
    let before = walk(store, Chain::Audit).await.links;
    let tasks: Vec<_> = (1..=WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..EACH {
                    let mut tx = store.write().await.unwrap();
                    audit::append(tx.as_mut(), &entry(w, n), n).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let after = walk(store, Chain::Audit).await;
    assert_eq!(
        after.broken, None,
        "concurrent appends keep the audit chain whole"
    );
    assert_eq!(
        after.links,
        before + WRITERS * EACH,
        "every appended row is linked once"
    );
}

/// UPDATE and DELETE on the chained tables are refused by the database itself.
async fn append_only_tables_refuse_changes(store: &Store) {
    for sql in [
        "UPDATE audit SET detail = 'rewritten'",
        "DELETE FROM audit",
        "UPDATE reports SET findings = 'rewritten'",
        "DELETE FROM reports",
        "UPDATE recognition_ledger SET fee_fen = 999999",
        "DELETE FROM recognition_ledger",
        "DELETE FROM chain_links",
        "UPDATE chain_heads SET seq = 0",
    ] {
        let mut tx = store.write().await.unwrap();
        let err = tx.execute(sql, &[]).await;
        assert!(err.is_err(), "{sql} is refused");
    }
}

/// Links verify only with the key that made them; a write transaction without the key cannot
/// append to a chained table at all.
async fn only_the_key_makes_a_link_valid(store: &Store) {
    // Another key sees every link as altered: the key, not the database, makes a row valid.
    let mut tx = store.scan().await.unwrap();
    let other = ChainKey::new(vec![7u8; 32]).unwrap();
    let report = integrity::verify_chain(tx.as_mut(), &other, Chain::Audit)
        .await
        .unwrap();
    assert!(
        matches!(report.broken, Some(Break::RowChanged { seq: 1, .. })),
        "{report}"
    );
    let mut raw = store.db.begin(super::TxMode::Write).await.unwrap();
    assert!(
        audit::append(raw.as_mut(), &entry(99, 1), 1).await.is_err(),
        "appending without the key is refused"
    );
}

async fn walk(store: &Store, chain: Chain) -> integrity::ChainReport {
    let mut tx = store.scan().await.unwrap();
    integrity::verify_chain(tx.as_mut(), store.chain_key(), chain)
        .await
        .unwrap()
}
