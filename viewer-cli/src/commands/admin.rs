//! `audit`.

use remotedx_proto::v1 as pb;

use crate::cli::AuditArgs;
use crate::client::Hub;
use crate::error::{CliError, EXIT_OK};
use crate::output::Output;
use crate::output::json::AuditJson;
use crate::output::table::Table;
use crate::output::time;

/// Prints the audit trail, newest first.
pub async fn audit(hub: &Hub, out: &Output, a: AuditArgs) -> Result<u8, CliError> {
    let req = pb::ListAuditRequest {
        case_id: a.case.unwrap_or(0),
        user_id: a.user.unwrap_or(0),
        action: a.action.unwrap_or_default(),
        since_ms: a.since.unwrap_or(0),
        limit: a.limit,
    };
    let list = hub
        .admin()
        .list_audit(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    let list = AuditJson::from(list);
    if out.json {
        out.json(&list)?;
        return Ok(EXIT_OK);
    }
    if list.entries.is_empty() {
        out.line("No audit entries match.")?;
        return Ok(EXIT_OK);
    }
    let mut t =
        Table::new(&["ID", "WHEN", "ACTOR", "INST", "ACTION", "CASE", "DETAIL"]).max_width(100);
    for e in &list.entries {
        let case = if e.case_id > 0 {
            e.case_id.to_string()
        } else {
            "-".into()
        };
        t.row(vec![
            e.id.to_string().into(),
            time::absolute(e.at_ms).into(),
            e.actor.clone().into(),
            e.institution_code.clone().into(),
            e.action.clone().into(),
            case.into(),
            e.detail.clone().into(),
        ]);
    }
    out.line(&t.render(out.color))?;
    Ok(EXIT_OK)
}
