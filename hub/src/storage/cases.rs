//! Cases: one study (or one ECG) awaiting a read, and its workflow state.

use super::placeholders;
use super::sql::{Row, SqlTx, StorageError, Value};
use crate::model::{Case, CaseState};
use crate::params;

/// The columns of [`Case`], with the institution's name, the claimer's name and the newest report
/// status. A case's study is `study_uid` (the DICOM UID); `study_instance_uid` is only the case's
/// unique key (the UID itself for a study's first case, see [`key_of`]).
const SELECT: &str = "SELECT c.id, c.institution_code, i.name, c.study_uid, c.kind, c.modality,
    c.exam_item_code, c.priority, c.critical, c.critical_reason, c.state, c.patient_key,
    c.patient_key_version, c.patient_id_masked, c.patient_display, c.patient_sex, c.patient_age_years,
    c.study_date, c.study_description, c.clinical_note, c.possible_repeat, c.instance_count,
    c.total_bytes, c.pending_jobs, c.created_at_ms, c.last_instance_at_ms, c.received_at_ms,
    c.processing_at_ms, c.ready_at_ms, c.claimed_at_ms, c.reported_at_ms, c.signed_at_ms,
    c.deadline_at_ms, c.claimed_by, COALESCE(u.name, ''), c.claim_expires_at_ms,
    COALESCE((SELECT r.status FROM reports r WHERE r.case_id = c.id ORDER BY r.version DESC LIMIT 1), ''),
    c.hold_reason, c.follows_case_id
  FROM cases c
  JOIN institutions i ON i.code = c.institution_code
  LEFT JOIN users u ON u.id = c.claimed_by";

fn case(r: &Row) -> Case {
    Case {
        id: r.int(0),
        institution_code: r.text(1),
        institution_name: r.text(2),
        study_instance_uid: r.text(3),
        kind: r.text(4),
        modality: r.text(5),
        exam_item_code: r.text(6),
        priority: r.int(7),
        critical: r.bool(8),
        critical_reason: r.text(9),
        state: r.text(10),
        patient_key: r.text(11),
        patient_key_version: r.int(12),
        patient_id_masked: r.text(13),
        patient_display: r.text(14),
        patient_sex: r.text(15),
        patient_age_years: r.int(16),
        study_date: r.text(17),
        study_description: r.text(18),
        clinical_note: r.text(19),
        possible_repeat: r.text(20),
        instance_count: r.int(21),
        total_bytes: r.int(22),
        pending_jobs: r.int(23),
        created_at_ms: r.int(24),
        last_instance_at_ms: r.int(25),
        received_at_ms: r.int(26),
        processing_at_ms: r.int(27),
        ready_at_ms: r.int(28),
        claimed_at_ms: r.int(29),
        reported_at_ms: r.int(30),
        signed_at_ms: r.int(31),
        deadline_at_ms: r.int(32),
        claimed_by: r.opt_int(33),
        claimed_by_name: r.text(34),
        claim_expires_at_ms: r.int(35),
        report_status: r.text(36),
        hold_reason: r.text(37),
        follows_case_id: r.int(38),
    }
}

/// The unique key of a case: its study's UID for the study's first case; for a case that follows
/// a signed one (instances that arrived after the signature), the UID and the followed case's id,
/// so that concurrent sessions opening the follower of one signed case open the same one.
fn key_of(c: &Case) -> String {
    if c.follows_case_id == 0 {
        c.study_instance_uid.clone()
    } else {
        format!("{}#{}", c.study_instance_uid, c.follows_case_id)
    }
}

/// Inserts a new case in state `receiving` from the fields of `c` (id and counters are ignored);
/// returns its id, or `None` if the study already has a case (another session created it first)
/// or, for a case following a signed one, that case already has its follower.
pub async fn insert(tx: &mut dyn SqlTx, c: &Case) -> Result<Option<i64>, StorageError> {
    let row = tx
        .query_opt(
            "INSERT INTO cases (institution_code, study_instance_uid, kind, modality, exam_item_code,
                priority, critical, critical_reason, state, patient_key, patient_key_version,
                patient_id_masked, patient_display, patient_sex, patient_age_years, study_date,
                study_description, clinical_note, possible_repeat, created_at_ms, last_instance_at_ms,
                study_uid, follows_case_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21, $22)
             ON CONFLICT (study_instance_uid) DO NOTHING
             RETURNING id",
            params![
                &c.institution_code, &key_of(c), &c.kind, &c.modality, &c.exam_item_code,
                c.priority, c.critical, &c.critical_reason, CaseState::Receiving.as_str(), &c.patient_key,
                c.patient_key_version, &c.patient_id_masked, &c.patient_display, &c.patient_sex,
                c.patient_age_years, &c.study_date, &c.study_description, &c.clinical_note,
                &c.possible_repeat, c.created_at_ms, &c.study_instance_uid, c.follows_case_id,
            ],
        )
        .await?;
    Ok(row.map(|r| r.int(0)))
}

/// The case with this id.
pub async fn get(tx: &mut dyn SqlTx, id: i64) -> Result<Option<Case>, StorageError> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    Ok(tx.query_opt(&sql, params![id]).await?.map(|r| case(&r)))
}

/// The newest case of a study: its only one, or the last follower of its signed cases.
pub async fn by_study(tx: &mut dyn SqlTx, study_uid: &str) -> Result<Option<Case>, StorageError> {
    let sql = format!("{SELECT} WHERE c.study_uid = $1 ORDER BY c.id DESC LIMIT 1");
    Ok(tx
        .query_opt(&sql, params![study_uid])
        .await?
        .map(|r| case(&r)))
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only these states (empty: all).
    pub states: Vec<CaseState>,
    /// Only this modality ("": all).
    pub modality: String,
    /// Only this institution ("": all).
    pub institution_code: String,
    /// Only critical cases.
    pub critical_only: bool,
    /// Only cases created at or after this time.
    pub since_ms: i64,
    /// At most this many.
    pub limit: i64,
}

/// Cases matching `f`, newest first.
pub async fn list(tx: &mut dyn SqlTx, f: &CaseFilter) -> Result<Vec<Case>, StorageError> {
    let mut params: Vec<Value> = vec![
        f.modality.clone().into(),
        f.institution_code.clone().into(),
        f.critical_only.into(),
        f.since_ms.into(),
        f.limit.into(),
    ];
    let mut sql = format!(
        "{SELECT} WHERE ($1 = '' OR c.modality = $1) AND ($2 = '' OR c.institution_code = $2)
           AND ($3 = 0 OR c.critical = 1) AND c.created_at_ms >= $4"
    );
    if !f.states.is_empty() {
        sql += &format!(" AND c.state IN ({})", placeholders(6, f.states.len()));
        params.extend(f.states.iter().map(|s| Value::from(s.as_str())));
    }
    sql += " ORDER BY c.id DESC LIMIT $5";
    Ok(tx.query(&sql, &params).await?.iter().map(case).collect())
}

/// Cases waiting to be read at `now_ms`, in reading order: critical first, then by priority, then
/// longest waiting. A claim whose lease ran out counts as waiting. With `include_claimed`, cases under
/// an active lease are listed too (in the same order).
pub async fn queue(
    tx: &mut dyn SqlTx,
    modality: &str,
    include_claimed: bool,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<Case>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE ($1 = '' OR c.modality = $1)
           AND (c.state IN ('received', 'processing', 'ready')
                OR (c.state = 'claimed' AND ($2 = 1 OR c.claim_expires_at_ms <= $3)))
         ORDER BY c.critical DESC, c.priority DESC, c.received_at_ms ASC, c.id ASC LIMIT $4"
    );
    let rows = tx
        .query(&sql, params![modality, include_claimed, now_ms, limit])
        .await?;
    Ok(rows.iter().map(case).collect())
}

/// Cases whose preliminary report waits for a senior's signature, oldest report first.
pub async fn review_queue(
    tx: &mut dyn SqlTx,
    modality: &str,
    limit: i64,
) -> Result<Vec<Case>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE c.state = 'reported' AND ($1 = '' OR c.modality = $1)
         ORDER BY c.critical DESC, c.priority DESC, c.reported_at_ms ASC LIMIT $2"
    );
    Ok(tx
        .query(&sql, params![modality, limit])
        .await?
        .iter()
        .map(case)
        .collect())
}

/// Adds an instance's bytes to a case's counters.
pub async fn add_instance(
    tx: &mut dyn SqlTx,
    id: i64,
    size: i64,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE cases SET instance_count = instance_count + 1, total_bytes = total_bytes + $2,
                last_instance_at_ms = $3 WHERE id = $1",
        params![id, size, now_ms],
    )
    .await?;
    Ok(())
}

/// Moves a `receiving` case to `received` with its deadline and job count. Returns false if the case
/// was no longer receiving (another session finished it first).
pub async fn mark_received(
    tx: &mut dyn SqlTx,
    id: i64,
    now_ms: i64,
    deadline_at_ms: i64,
    jobs: i64,
) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE cases SET state = 'received', received_at_ms = $2, deadline_at_ms = $3, pending_jobs = $4
             WHERE id = $1 AND state = 'receiving'",
            params![id, now_ms, deadline_at_ms, jobs],
        )
        .await?;
    Ok(n == 1)
}

/// Ids of cases still `receiving` whose last instance arrived at or before `quiet_before_ms`.
pub async fn quiet_receiving(
    tx: &mut dyn SqlTx,
    quiet_before_ms: i64,
) -> Result<Vec<i64>, StorageError> {
    let rows = tx
        .query(
            "SELECT id FROM cases WHERE state = 'receiving' AND last_instance_at_ms <= $1 ORDER BY id",
            params![quiet_before_ms],
        )
        .await?;
    Ok(rows.iter().map(|r| r.int(0)).collect())
}

/// Sets a case to `processing` the first time one of its jobs is leased.
pub async fn mark_processing(tx: &mut dyn SqlTx, id: i64, now_ms: i64) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE cases SET state = 'processing', processing_at_ms = $2 WHERE id = $1 AND state = 'received'",
        params![id, now_ms],
    )
    .await?;
    Ok(())
}

/// Adds `delta` to the case's count of unfinished jobs; when none are left, a case still being
/// processed becomes `ready`. Returns the count left.
pub async fn add_pending_jobs(
    tx: &mut dyn SqlTx,
    id: i64,
    delta: i64,
    now_ms: i64,
) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "UPDATE cases SET pending_jobs = pending_jobs + $2 WHERE id = $1 RETURNING pending_jobs",
            params![id, delta],
        )
        .await?;
    let left = row.int(0);
    if left <= 0 {
        tx.execute(
            "UPDATE cases SET state = 'ready', ready_at_ms = $2
             WHERE id = $1 AND state IN ('received', 'processing')",
            params![id, now_ms],
        )
        .await?;
    }
    Ok(left)
}

/// Marks a case critical (never clears it) and pulls its deadline in to `deadline_at_ms` if sooner.
pub async fn raise_critical(
    tx: &mut dyn SqlTx,
    id: i64,
    reason: &str,
    deadline_at_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE cases SET critical = 1,
            critical_reason = CASE WHEN critical_reason = '' THEN $2 ELSE critical_reason END,
            deadline_at_ms = CASE WHEN deadline_at_ms = 0 OR deadline_at_ms > $3 THEN $3 ELSE deadline_at_ms END
         WHERE id = $1",
        params![id, reason, deadline_at_ms],
    )
    .await?;
    Ok(())
}

/// Raises a case's priority to at least `rank`, pulling its deadline in to `deadline_at_ms` if sooner.
pub async fn raise_priority(
    tx: &mut dyn SqlTx,
    id: i64,
    rank: i64,
    deadline_at_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE cases SET priority = $2,
            deadline_at_ms = CASE WHEN deadline_at_ms = 0 OR deadline_at_ms > $3 THEN $3 ELSE deadline_at_ms END
         WHERE id = $1 AND priority < $2",
        params![id, rank, deadline_at_ms],
    )
    .await?;
    Ok(())
}

/// Takes the lease for `user_id` if the case is waiting and nobody holds an unexpired lease.
/// Atomic: of concurrent claimers exactly one sees `true`.
pub async fn claim(
    tx: &mut dyn SqlTx,
    id: i64,
    user_id: i64,
    now_ms: i64,
    expires_ms: i64,
) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE cases SET state = 'claimed', claimed_by = $2, claimed_at_ms = $3, claim_expires_at_ms = $4
             WHERE id = $1 AND (state IN ('received', 'processing', 'ready')
                                OR (state = 'claimed' AND (claim_expires_at_ms <= $3 OR claimed_by = $2)))",
            params![id, user_id, now_ms, expires_ms],
        )
        .await?;
    Ok(n == 1)
}

/// Extends `user_id`'s unexpired lease. Returns false if they do not hold it.
pub async fn renew(
    tx: &mut dyn SqlTx,
    id: i64,
    user_id: i64,
    now_ms: i64,
    expires_ms: i64,
) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE cases SET claim_expires_at_ms = $4
             WHERE id = $1 AND state = 'claimed' AND claimed_by = $2 AND claim_expires_at_ms > $3",
            params![id, user_id, now_ms, expires_ms],
        )
        .await?;
    Ok(n == 1)
}

/// Returns a claimed case to the queue (state `ready`, or `processing` if jobs are left), if
/// `holder` holds it (any holder when `None`, for expiry). Returns false if nothing changed.
pub async fn unclaim(
    tx: &mut dyn SqlTx,
    id: i64,
    holder: Option<i64>,
) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE cases SET state = CASE WHEN pending_jobs > 0 THEN 'processing' ELSE 'ready' END,
                claimed_by = NULL, claim_expires_at_ms = 0
             WHERE id = $1 AND state = 'claimed' AND ($2 = 0 OR claimed_by = $2)",
            params![id, holder.unwrap_or(0)],
        )
        .await?;
    Ok(n == 1)
}

/// Ids of claimed cases whose lease ran out at or before `now_ms`.
pub async fn expired_claims(
    tx: &mut dyn SqlTx,
    now_ms: i64,
) -> Result<Vec<(i64, i64)>, StorageError> {
    let rows = tx
        .query(
            "SELECT id, claimed_by FROM cases WHERE state = 'claimed' AND claim_expires_at_ms <= $1",
            params![now_ms],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.int(0), r.int(1))).collect())
}

/// Moves a case to `to` after a report version, stamping the first report and first signature
/// times (amendments keep them, so turnaround counts to the first final report). `from` lists the
/// states it may leave; returns false if it was in none of them.
pub async fn advance_after_report(
    tx: &mut dyn SqlTx,
    id: i64,
    from: &[CaseState],
    to: CaseState,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let mut params: Vec<Value> = vec![id.into(), to.as_str().into(), now_ms.into()];
    params.extend(from.iter().map(|s| Value::from(s.as_str())));
    let sql = format!(
        "UPDATE cases SET state = $2,
            signed_at_ms = CASE WHEN $2 = 'signed' AND signed_at_ms = 0 THEN $3 ELSE signed_at_ms END,
            reported_at_ms = CASE WHEN reported_at_ms = 0 THEN $3 ELSE reported_at_ms END,
            claimed_by = CASE WHEN $2 = 'signed' THEN NULL ELSE claimed_by END,
            claim_expires_at_ms = 0
         WHERE id = $1 AND state IN ({})",
        placeholders(4, from.len())
    );
    Ok(tx.execute(&sql, &params).await? == 1)
}

/// Sets the case's critical flag from its newest report (reports may lower it, through an amendment).
pub async fn set_critical(
    tx: &mut dyn SqlTx,
    id: i64,
    critical: bool,
    reason: &str,
) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE cases SET critical = $2, critical_reason = $3 WHERE id = $1",
        params![id, critical, reason],
    )
    .await?;
    Ok(())
}

/// Records that the study may repeat a still-valid earlier result.
pub async fn set_possible_repeat(
    tx: &mut dyn SqlTx,
    id: i64,
    text: &str,
) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE cases SET possible_repeat = $2 WHERE id = $1",
        params![id, text],
    )
    .await?;
    Ok(())
}

/// Holds a case for a person because of `reason`: a case in the reading queue (or claimed, the
/// lease dropped) leaves it for state `mixup_hold`; a case still receiving keeps receiving and is
/// held when it is queued ([`finish_hold`]); a case already reported keeps its state, the reason
/// shown beside it. Returns true if the case left the queue now.
pub async fn hold(tx: &mut dyn SqlTx, id: i64, reason: &str) -> Result<bool, StorageError> {
    let before = tx
        .query_opt("SELECT state FROM cases WHERE id = $1", params![id])
        .await?
        .map(|r| r.text(0));
    tx.execute(
        "UPDATE cases SET hold_reason = $2,
            state = CASE WHEN state IN ('received', 'processing', 'ready', 'claimed')
                         THEN 'mixup_hold' ELSE state END,
            claimed_by = CASE WHEN state = 'claimed' THEN NULL ELSE claimed_by END,
            claim_expires_at_ms = CASE WHEN state = 'claimed' THEN 0 ELSE claim_expires_at_ms END
         WHERE id = $1",
        params![id, reason],
    )
    .await?;
    let queued = ["received", "processing", "ready", "claimed"];
    Ok(before.is_some_and(|s| queued.contains(&s.as_str())))
}

/// Moves a case just queued (no longer `receiving`, not yet claimed) to `mixup_hold` if a hold
/// reason was recorded while it was receiving. Returns true if it did.
pub async fn finish_hold(tx: &mut dyn SqlTx, id: i64) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE cases SET state = 'mixup_hold'
             WHERE id = $1 AND state IN ('received', 'processing', 'ready') AND hold_reason <> ''",
            params![id],
        )
        .await?;
    Ok(n == 1)
}

/// Ends a hold: a held case joins the reading queue (`processing` while jobs are left, else
/// `ready`) with a new deadline; any other case only loses its hold reason. Returns true if the
/// case was held.
pub async fn release_hold(
    tx: &mut dyn SqlTx,
    id: i64,
    deadline_at_ms: i64,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE cases SET state = CASE WHEN pending_jobs > 0 THEN 'processing' ELSE 'ready' END,
                ready_at_ms = CASE WHEN pending_jobs <= 0 AND ready_at_ms = 0 THEN $3 ELSE ready_at_ms END,
                deadline_at_ms = $2, hold_reason = ''
             WHERE id = $1 AND state = 'mixup_hold'",
            params![id, deadline_at_ms, now_ms],
        )
        .await?;
    tx.execute(
        "UPDATE cases SET hold_reason = '' WHERE id = $1",
        params![id],
    )
    .await?;
    Ok(n == 1)
}

/// Withdraws a held case (state `withdrawn`, `reason` kept as its hold reason). Returns false if
/// it was not held.
pub async fn withdraw(tx: &mut dyn SqlTx, id: i64, reason: &str) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE cases SET state = 'withdrawn', hold_reason = $2, deadline_at_ms = 0
             WHERE id = $1 AND state = 'mixup_hold'",
            params![id, reason],
        )
        .await?;
    Ok(n == 1)
}
