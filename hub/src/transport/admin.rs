//! AdminService: the audit trail.

use remotedx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{caller, status::to_status};
use crate::domain::Hub;
use crate::storage::audit::AuditFilter;

/// The service.
pub struct Admin {
    hub: Hub,
}

impl Admin {
    /// Over `hub`.
    pub fn new(hub: Hub) -> Self {
        Admin { hub }
    }
}

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for Admin {
    async fn list_audit(
        &self,
        req: Request<pb::ListAuditRequest>,
    ) -> Result<Response<pb::ListAuditResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let filter = AuditFilter {
            case_id: r.case_id,
            user_id: r.user_id,
            action: r.action,
            since_ms: r.since_ms,
            limit: i64::from(if r.limit == 0 { 100 } else { r.limit.min(5000) }),
        };
        let entries = self
            .hub
            .audit_trail(&who, &filter)
            .await
            .map_err(to_status)?;
        let entries = entries
            .into_iter()
            .map(|e| pb::AuditEntry {
                id: e.id,
                at_ms: e.at_ms,
                user_id: e.user_id,
                actor: e.actor,
                institution_code: e.institution_code,
                action: e.action,
                case_id: e.case_id,
                patient_key: e.patient_key,
                detail: e.detail,
            })
            .collect();
        Ok(Response::new(pb::ListAuditResponse { entries }))
    }
}
