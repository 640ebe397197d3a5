//! Recording who did what: every domain operation that reads patient data or changes state
//! appends to the audit trail in its own transaction.
//!
//! Listings that carry clinical text (reports, clinical notes, critical findings: `ListReports`,
//! `ListCases`, `Queue`) are recorded as one entry per call naming every case listed, not one
//! per row: a specialist refreshing the queue would otherwise write hundreds of rows a minute.
//! A report delivered to a watcher's stream is one entry per report (it names its case).

use super::Result;
use crate::clock::now_ms;
use crate::model::{AuditEntry, Principal, Role};
use crate::storage::{SqlTx, audit};

/// Appends an audit entry for `who`.
pub async fn record(
    tx: &mut dyn SqlTx,
    who: &Principal,
    action: &str,
    case_id: i64,
    patient_key: &str,
    detail: impl Into<String>,
) -> Result<()> {
    let entry = AuditEntry {
        user_id: who.user_id,
        actor: who.name.clone(),
        institution_code: who.institution_code.clone(),
        action: action.to_owned(),
        case_id,
        patient_key: patient_key.to_owned(),
        detail: detail.into(),
        ..AuditEntry::default()
    };
    audit::append(tx, &entry, now_ms()).await?;
    Ok(())
}

/// Case ids named in full in a listing's entry; beyond them, only how many more.
const LISTED_IDS: usize = 200;

/// The detail of a listing's entry: `what` and the cases listed.
fn listing_detail(what: &str, case_ids: &[i64]) -> String {
    let shown: Vec<String> = case_ids
        .iter()
        .take(LISTED_IDS)
        .map(i64::to_string)
        .collect();
    let more = case_ids.len().saturating_sub(LISTED_IDS);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{what}: {} cases [{}]{tail}",
        case_ids.len(),
        shown.join(", ")
    )
}

impl super::Hub {
    /// Entries of the audit trail: administrators the region's (they carry pseudonyms, never
    /// names), auditors their own institution's (entries by its users or about its cases).
    pub async fn audit_trail(
        &self,
        who: &Principal,
        filter: &audit::AuditFilter,
    ) -> Result<Vec<AuditEntry>> {
        who.require(&[Role::Admin, Role::Auditor], "reading the audit trail")?;
        let mut filter = filter.clone();
        if who.role == Role::Auditor {
            filter.institution_code = who.institution_code.clone();
        }
        let mut tx = self.store().read().await?;
        Ok(audit::list(tx.as_mut(), &filter).await?)
    }

    /// Records that `who` read the clinical text of the listed cases (one entry per call; none
    /// when nothing was listed).
    pub(crate) async fn audit_listing(
        &self,
        who: &Principal,
        action: &str,
        what: &str,
        case_ids: &[i64],
    ) -> Result<()> {
        if case_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.store().write().await?;
        record(
            tx.as_mut(),
            who,
            action,
            0,
            "",
            listing_detail(what, case_ids),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a refused attempt to open a case (an administrator asking for a patient's images).
    pub(crate) async fn audit_refusal(
        &self,
        who: &Principal,
        case_id: i64,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.store().write().await?;
        record(tx.as_mut(), who, "view_refused", case_id, "", detail).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::listing_detail;

    #[test]
    fn listings_name_their_cases_up_to_a_bound() {
        assert_eq!(listing_detail("queue", &[3, 1]), "queue: 2 cases [3, 1]");
        let many: Vec<i64> = (1..=250).collect();
        let d = listing_detail("reports", &many);
        assert!(
            d.starts_with("reports: 250 cases [1, 2,") && d.ends_with("200] and 50 more"),
            "{d}"
        );
    }
}
