//! ReadingService: the queue, claims and reports.

use remotedx_proto::v1 as pb;
use tokio::sync::broadcast::error::RecvError;
use tonic::{Request, Response, Status};

use super::{ResponseStream, caller, convert, status::to_status};
use crate::domain::Hub;
use crate::domain::reading::Claimed;
use crate::domain::reports::ReportText;
use crate::model::Role;

/// The service.
pub struct Reading {
    hub: Hub,
}

impl Reading {
    /// Over `hub`.
    pub fn new(hub: Hub) -> Self {
        Reading { hub }
    }

    fn claim_response(&self, c: Claimed) -> pb::ClaimResponse {
        pb::ClaimResponse {
            summary: Some(convert::summary(&c.case, &[], self.hub.catalog())),
            expires_at_ms: c.expires_at_ms,
            passed_over_case_ids: c.passed_over,
        }
    }
}

#[tonic::async_trait]
impl pb::reading_service_server::ReadingService for Reading {
    async fn queue(
        &self,
        req: Request<pb::QueueRequest>,
    ) -> Result<Response<pb::QueueResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let modality = r.modality.to_ascii_uppercase();
        let entries = self
            .hub
            .queue(&who, &modality, r.include_claimed, r.review, r.limit)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::QueueResponse {
            entries: entries
                .iter()
                .map(|e| convert::queue_entry(e, self.hub.catalog()))
                .collect(),
            now_ms: crate::clock::now_ms(),
        }))
    }

    async fn claim(
        &self,
        req: Request<pb::ClaimRequest>,
    ) -> Result<Response<pb::ClaimResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.get_ref();
        let claimed = self
            .hub
            .claim(&who, r.case_id, &r.skip_reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(self.claim_response(claimed)))
    }

    async fn renew(
        &self,
        req: Request<pb::RenewRequest>,
    ) -> Result<Response<pb::ClaimResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let claimed = self
            .hub
            .renew(&who, req.get_ref().case_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(self.claim_response(claimed)))
    }

    async fn release(
        &self,
        req: Request<pb::ReleaseRequest>,
    ) -> Result<Response<pb::ReleaseResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let case = self
            .hub
            .release(&who, req.get_ref().case_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ReleaseResponse {
            summary: Some(convert::summary(&case, &[], self.hub.catalog())),
        }))
    }

    async fn file_report(
        &self,
        req: Request<pb::FileReportRequest>,
    ) -> Result<Response<pb::ReportVersion>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let text = ReportText {
            findings: r.findings,
            impression: r.impression,
            critical: r.critical,
        };
        let report = self
            .hub
            .file_report(&who, r.case_id, &text, r.sign)
            .await
            .map_err(to_status)?;
        Ok(Response::new(convert::report(&report)))
    }

    async fn sign_report(
        &self,
        req: Request<pb::SignReportRequest>,
    ) -> Result<Response<pb::ReportVersion>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let edits = ReportText {
            findings: r.findings,
            impression: r.impression,
            critical: r.critical,
        };
        let report = self
            .hub
            .sign_report(&who, r.case_id, &edits)
            .await
            .map_err(to_status)?;
        Ok(Response::new(convert::report(&report)))
    }

    async fn amend_report(
        &self,
        req: Request<pb::AmendReportRequest>,
    ) -> Result<Response<pb::ReportVersion>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let text = ReportText {
            findings: r.findings,
            impression: r.impression,
            critical: false,
        };
        let report = self
            .hub
            .amend_report(&who, r.case_id, &text, r.critical, &r.reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(convert::report(&report)))
    }

    async fn list_reports(
        &self,
        req: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let list = self
            .hub
            .list_reports(&who, r.since_ms, r.critical_only, r.limit)
            .await
            .map_err(to_status)?;
        let reports = list
            .iter()
            .map(|(c, rep)| pb::CaseReport {
                summary: Some(convert::summary(c, &[], self.hub.catalog())),
                report: Some(convert::report(rep)),
            })
            .collect();
        Ok(Response::new(pb::ListReportsResponse { reports }))
    }

    type WatchReportsStream = ResponseStream<pb::CaseReport>;

    async fn watch_reports(
        &self,
        req: Request<pb::WatchReportsRequest>,
    ) -> Result<Response<Self::WatchReportsStream>, Status> {
        let who = caller(&self.hub, &req).await?;
        who.require(
            &[Role::Clinic, Role::Specialist, Role::Admin],
            "watching reports",
        )
        .map_err(to_status)?;
        let critical_only = req.get_ref().critical_only;
        let mut notices = self.hub.watch_reports();
        let hub = self.hub.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let notice = match notices.recv().await {
                    Ok(n) => n,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            "a report watcher missed {missed} reports (it can list them with ListReports)"
                        );
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                };
                let visible = (who.role != Role::Clinic
                    || notice.case.institution_code == who.institution_code)
                    && crate::domain::reports::visible_to(&who, &notice.report);
                if !visible || (critical_only && !notice.report.critical) {
                    continue;
                }
                let item = pb::CaseReport {
                    summary: Some(convert::summary(&notice.case, &[], hub.catalog())),
                    report: Some(convert::report(&notice.report)),
                };
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
