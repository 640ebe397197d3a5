//! Recording who did what: every domain operation that reads patient data or changes state
//! appends to the audit trail in its own transaction.

use super::Result;
use crate::clock::now_ms;
use crate::model::{AuditEntry, Principal};
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

impl super::Hub {
    /// Entries of the audit trail (administrators only).
    pub async fn audit_trail(
        &self,
        who: &Principal,
        filter: &audit::AuditFilter,
    ) -> Result<Vec<AuditEntry>> {
        who.require(&[crate::model::Role::Admin], "reading the audit trail")?;
        let mut tx = self.store().read().await?;
        Ok(audit::list(tx.as_mut(), filter).await?)
    }
}
