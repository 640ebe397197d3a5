//! AdminService: the audit trail and the statistics.

use remotedx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{caller, convert, status::to_status};
use crate::domain::Hub;
use crate::domain::recognition::rules::Day;
use crate::domain::recognition::stats::{Figures, GroupBy, Stats, StatsQuery};
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
            // The domain narrows an auditor's view to their institution.
            institution_code: String::new(),
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

    async fn stats(
        &self,
        req: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::StatsResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let day = |text: &str, flag: &str| -> Result<Option<Day>, Status> {
            match text.trim() {
                "" => Ok(None),
                t => Day::parse(t)
                    .map(Some)
                    .map_err(|e| Status::invalid_argument(format!("{flag}: {e}"))),
            }
        };
        let query = StatsQuery {
            from: day(&r.from, "--from")?,
            to: day(&r.to, "--to")?,
            by: GroupBy::parse(&r.by).map_err(to_status)?,
        };
        let stats = self.hub.stats(&who, &query).await.map_err(to_status)?;
        Ok(Response::new(stats_response(stats, r.from, r.to)))
    }
}

fn figures(key: String, f: Figures) -> pb::RecognitionFigures {
    pb::RecognitionFigures {
        key,
        recognitions: f.recognitions,
        reversals: f.reversals,
        tests_avoided: f.tests_avoided,
        saved_fen: f.saved_fen,
        declines: f.declines,
        repeats: f.repeats,
    }
}

fn stats_response(s: Stats, from: String, to: String) -> pb::StatsResponse {
    pb::StatsResponse {
        totals: Some(figures(String::new(), s.totals)),
        by: s.by.as_str().into(),
        groups: s.groups.into_iter().map(|(k, f)| figures(k, f)).collect(),
        declines_by_reason: s
            .declines_by_reason
            .into_iter()
            .map(|(reason, count)| pb::DeclineCount { reason, count })
            .collect(),
        savings: s
            .savings
            .into_iter()
            .map(|m| pb::MonthlySaving {
                month: m.month,
                institution_code: m.institution_code,
                saved_fen: m.saved_fen,
            })
            .collect(),
        cases_received: s.cases_received,
        cases_reported: s.cases_reported,
        deadline_breaches: s.deadline_breaches,
        turnaround: s
            .turnaround
            .into_iter()
            .map(|t| pb::TurnaroundFigures {
                priority: convert::priority(t.priority.rank()).into(),
                reported: t.reported,
                p50_ms: t.p50_ms,
                p90_ms: t.p90_ms,
                deadline_breaches: t.deadline_breaches,
            })
            .collect(),
        workload: s
            .workload
            .into_iter()
            .map(|w| pb::SpecialistWorkload {
                user_id: w.user_id,
                name: w.name,
                written: w.written,
                signed: w.signed,
            })
            .collect(),
        from: from.trim().into(),
        to: to.trim().into(),
    }
}
