//! Result recognition: entries, the append-only savings ledger and refusals, plus the rows the
//! administrators' statistics are computed from. Nothing here updates or deletes a ledger row.

use super::sql::{Row, SqlTx, StorageError};
use crate::model::{LedgerRow, RecognitionDecision, RecognitionDecline, RecognitionEntry};
use crate::params;

const ENTRY: &str =
    "SELECT e.id, e.case_id, e.report_id, e.patient_key, e.exam_item_code, e.category,
    e.modality, e.institution_code, COALESCE(i.name, ''), e.institution_level, e.exam_date,
    e.valid_until, e.valid_until_ms, e.scope, e.hr_mark, e.fee_fen, e.recognisable, e.reason,
    e.impression, e.created_at_ms, e.updated_at_ms, e.reason_code
  FROM recognition_entries e LEFT JOIN institutions i ON i.code = e.institution_code";

fn entry(r: &Row) -> RecognitionEntry {
    RecognitionEntry {
        id: r.int(0),
        case_id: r.int(1),
        report_id: r.int(2),
        patient_key: r.text(3),
        exam_item_code: r.text(4),
        category: r.text(5),
        modality: r.text(6),
        institution_code: r.text(7),
        institution_name: r.text(8),
        institution_level: r.text(9),
        exam_date: r.text(10),
        valid_until: r.text(11),
        valid_until_ms: r.int(12),
        scope: r.text(13),
        hr_mark: r.text(14),
        fee_fen: r.int(15),
        recognisable: r.bool(16),
        reason: r.text(17),
        impression: r.text(18),
        created_at_ms: r.int(19),
        updated_at_ms: r.int(20),
        reason_code: r.text(21),
    }
}

/// Creates the entry of a case, or (the case's report was amended) points it at the new report
/// version and impression. Returns the entry id.
pub async fn upsert_entry(tx: &mut dyn SqlTx, e: &RecognitionEntry) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO recognition_entries (case_id, report_id, patient_key, exam_item_code,
                category, modality, institution_code, institution_level, exam_date, valid_until,
                valid_until_ms, scope, hr_mark, fee_fen, recognisable, reason, impression,
                created_at_ms, updated_at_ms, reason_code)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19)
             ON CONFLICT (case_id) DO UPDATE SET report_id = excluded.report_id,
                impression = excluded.impression, updated_at_ms = excluded.updated_at_ms
             RETURNING id",
            params![
                e.case_id, e.report_id, &e.patient_key, &e.exam_item_code, &e.category,
                &e.modality, &e.institution_code, &e.institution_level, &e.exam_date,
                &e.valid_until, e.valid_until_ms, &e.scope, &e.hr_mark, e.fee_fen,
                e.recognisable, &e.reason, &e.impression, e.created_at_ms, &e.reason_code
            ],
        )
        .await?;
    Ok(row.int(0))
}

/// The entry with this id.
pub async fn entry_by_id(
    tx: &mut dyn SqlTx,
    id: i64,
) -> Result<Option<RecognitionEntry>, StorageError> {
    let sql = format!("{ENTRY} WHERE e.id = $1");
    Ok(tx.query_opt(&sql, params![id]).await?.as_ref().map(entry))
}

/// Entries of a patient's item still within their validity window at `now_ms` (recognisable or
/// not), newest examination first.
pub async fn entries_in_window(
    tx: &mut dyn SqlTx,
    patient_key: &str,
    item: &str,
    now_ms: i64,
) -> Result<Vec<RecognitionEntry>, StorageError> {
    let sql = format!(
        "{ENTRY} WHERE e.patient_key = $1 AND e.exam_item_code = $2 AND e.valid_until_ms > $3
         ORDER BY e.exam_date DESC, e.id DESC"
    );
    let rows = tx.query(&sql, params![patient_key, item, now_ms]).await?;
    Ok(rows.iter().map(entry).collect())
}

/// Every entry of a patient's item, whatever its validity, newest examination first: what a check
/// shows (the expired and unrecognisable ones with their reasons).
pub async fn entries_of_patient(
    tx: &mut dyn SqlTx,
    patient_key: &str,
    item: &str,
) -> Result<Vec<RecognitionEntry>, StorageError> {
    let sql = format!(
        "{ENTRY} WHERE e.patient_key = $1 AND e.exam_item_code = $2
         ORDER BY e.exam_date DESC, e.id DESC"
    );
    let rows = tx.query(&sql, params![patient_key, item]).await?;
    Ok(rows.iter().map(entry).collect())
}

/// Records an institution's decision on an entry unless one stands already (the primary key
/// decides, so of two concurrent decisions exactly one is recorded); returns whether it was.
pub async fn record_decision(
    tx: &mut dyn SqlTx,
    d: &RecognitionDecision,
) -> Result<bool, StorageError> {
    let row = tx
        .query_opt(
            "INSERT INTO recognition_decisions (entry_id, institution_code, decision, ledger_id,
                decline_id, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (entry_id, institution_code) DO NOTHING
             RETURNING entry_id",
            params![
                d.entry_id,
                &d.institution_code,
                &d.decision,
                d.ledger_id,
                d.decline_id,
                d.at_ms
            ],
        )
        .await?;
    Ok(row.is_some())
}

/// The institution's standing decision on an entry, if any.
pub async fn decision_of(
    tx: &mut dyn SqlTx,
    entry_id: i64,
    institution: &str,
) -> Result<Option<RecognitionDecision>, StorageError> {
    let row = tx
        .query_opt(
            "SELECT entry_id, institution_code, decision, ledger_id, decline_id, at_ms
             FROM recognition_decisions WHERE entry_id = $1 AND institution_code = $2",
            params![entry_id, institution],
        )
        .await?;
    Ok(row.map(|r| RecognitionDecision {
        entry_id: r.int(0),
        institution_code: r.text(1),
        decision: r.text(2),
        ledger_id: r.opt_int(3),
        decline_id: r.opt_int(4),
        at_ms: r.int(5),
    }))
}

/// Withdraws the acceptance booked as ledger row `ledger_id` (it was reversed): the institution
/// may decide on the entry again. Returns whether it stood.
pub async fn withdraw_acceptance(tx: &mut dyn SqlTx, ledger_id: i64) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "DELETE FROM recognition_decisions WHERE decision = 'accept' AND ledger_id = $1",
            params![ledger_id],
        )
        .await?;
    Ok(n > 0)
}

/// Appends a ledger row, linked into the ledger's hash chain; returns its id.
pub async fn append_ledger(tx: &mut dyn SqlTx, l: &LedgerRow) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO recognition_ledger (entry_id, kind, reverses_id, institution_code,
                institution_level, exam_item_code, modality, performing_institution, user_id,
                fee_fen, note, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            params![
                l.entry_id,
                &l.kind,
                l.reverses_id,
                &l.institution_code,
                &l.institution_level,
                &l.exam_item_code,
                &l.modality,
                &l.performing_institution,
                l.user_id,
                l.fee_fen,
                &l.note,
                l.at_ms
            ],
        )
        .await?;
    let id = row.int(0);
    super::chain::append(tx, super::chain::Chain::Ledger, id).await?;
    Ok(id)
}

const LEDGER: &str = "SELECT l.id, l.entry_id, l.kind, l.reverses_id, l.institution_code,
    l.institution_level, l.exam_item_code, l.modality, l.performing_institution, l.user_id,
    l.fee_fen, l.note, l.at_ms FROM recognition_ledger l";

fn ledger(r: &Row) -> LedgerRow {
    LedgerRow {
        id: r.int(0),
        entry_id: r.int(1),
        kind: r.text(2),
        reverses_id: r.opt_int(3),
        institution_code: r.text(4),
        institution_level: r.text(5),
        exam_item_code: r.text(6),
        modality: r.text(7),
        performing_institution: r.text(8),
        user_id: r.int(9),
        fee_fen: r.int(10),
        note: r.text(11),
        at_ms: r.int(12),
    }
}

/// The ledger row with this id.
pub async fn ledger_row(tx: &mut dyn SqlTx, id: i64) -> Result<Option<LedgerRow>, StorageError> {
    let sql = format!("{LEDGER} WHERE l.id = $1");
    Ok(tx.query_opt(&sql, params![id]).await?.as_ref().map(ledger))
}

/// The acceptance of an entry by an institution that no reversal cancels, if any.
pub async fn standing_acceptance(
    tx: &mut dyn SqlTx,
    entry_id: i64,
    institution: &str,
) -> Result<Option<LedgerRow>, StorageError> {
    let sql = format!(
        "{LEDGER} WHERE l.entry_id = $1 AND l.institution_code = $2 AND l.kind = 'accept'
           AND NOT EXISTS (SELECT 1 FROM recognition_ledger r WHERE r.reverses_id = l.id)
         ORDER BY l.id LIMIT 1"
    );
    Ok(tx
        .query_opt(&sql, params![entry_id, institution])
        .await?
        .as_ref()
        .map(ledger))
}

/// The reversal of a ledger row, if it has one.
pub async fn reversal_of(tx: &mut dyn SqlTx, id: i64) -> Result<Option<LedgerRow>, StorageError> {
    let sql = format!("{LEDGER} WHERE l.reverses_id = $1");
    Ok(tx.query_opt(&sql, params![id]).await?.as_ref().map(ledger))
}

/// Ledger rows booked in `[from_ms, to_ms)`, oldest first.
pub async fn ledger_between(
    tx: &mut dyn SqlTx,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<LedgerRow>, StorageError> {
    let sql = format!("{LEDGER} WHERE l.at_ms >= $1 AND l.at_ms < $2 ORDER BY l.id");
    let rows = tx.query(&sql, params![from_ms, to_ms]).await?;
    Ok(rows.iter().map(ledger).collect())
}

/// Appends a refusal; returns its id.
pub async fn append_decline(
    tx: &mut dyn SqlTx,
    d: &RecognitionDecline,
) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO recognition_declines (entry_id, institution_code, exam_item_code, modality,
                user_id, reason, note, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            params![
                d.entry_id, &d.institution_code, &d.exam_item_code, &d.modality, d.user_id,
                &d.reason, &d.note, d.at_ms
            ],
        )
        .await?;
    Ok(row.int(0))
}

/// Refusals recorded in `[from_ms, to_ms)`, oldest first.
pub async fn declines_between(
    tx: &mut dyn SqlTx,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<RecognitionDecline>, StorageError> {
    let rows = tx
        .query(
            "SELECT id, entry_id, institution_code, exam_item_code, modality, user_id, reason, note,
                at_ms
             FROM recognition_declines WHERE at_ms >= $1 AND at_ms < $2 ORDER BY id",
            params![from_ms, to_ms],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| RecognitionDecline {
            id: r.int(0),
            entry_id: r.int(1),
            institution_code: r.text(2),
            exam_item_code: r.text(3),
            modality: r.text(4),
            user_id: r.int(5),
            reason: r.text(6),
            note: r.text(7),
            at_ms: r.int(8),
        })
        .collect())
}

/// What the statistics need of a case.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseTimes {
    pub id: i64,
    pub institution_code: String,
    pub exam_item_code: String,
    pub modality: String,
    pub priority: i64,
    pub created_at_ms: i64,
    pub received_at_ms: i64,
    pub signed_at_ms: i64,
    pub deadline_at_ms: i64,
    pub possible_repeat: bool,
}

/// Cases created in `[from_ms, to_ms)` or signed in it.
pub async fn case_times(
    tx: &mut dyn SqlTx,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<CaseTimes>, StorageError> {
    let rows = tx
        .query(
            "SELECT id, institution_code, exam_item_code, modality, priority, created_at_ms,
                received_at_ms, signed_at_ms, deadline_at_ms, possible_repeat
             FROM cases
             WHERE (created_at_ms >= $1 AND created_at_ms < $2)
                OR (signed_at_ms >= $1 AND signed_at_ms < $2)
             ORDER BY id",
            params![from_ms, to_ms],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| CaseTimes {
            id: r.int(0),
            institution_code: r.text(1),
            exam_item_code: r.text(2),
            modality: r.text(3),
            priority: r.int(4),
            created_at_ms: r.int(5),
            received_at_ms: r.int(6),
            signed_at_ms: r.int(7),
            deadline_at_ms: r.int(8),
            possible_repeat: !r.text(9).is_empty(),
        })
        .collect())
}

/// Cases reported in `[from_ms, to_ms)` per specialist: (user id, name, cases written, cases
/// signed). A case counts once per specialist however many versions they wrote or signed (a
/// preliminary report signed unedited carries its author into the final version).
pub async fn workload(
    tx: &mut dyn SqlTx,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(i64, String, i64, i64)>, StorageError> {
    let rows = tx
        .query(
            "SELECT u.id, u.name,
                (SELECT COUNT(DISTINCT r.case_id) FROM reports r
                   WHERE r.author_id = u.id AND r.created_at_ms >= $1 AND r.created_at_ms < $2),
                (SELECT COUNT(DISTINCT r.case_id) FROM reports r WHERE r.signer_id = u.id
                   AND r.signed_at_ms >= $1 AND r.signed_at_ms < $2)
             FROM users u WHERE u.role = 'specialist' ORDER BY u.id",
            params![from_ms, to_ms],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.int(0), r.text(1), r.int(2), r.int(3)))
        .filter(|w| w.2 > 0 || w.3 > 0)
        .collect())
}
