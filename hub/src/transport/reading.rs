//! ReadingService: the queue, claims and reports.

use remotedx_proto::v1 as pb;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use super::{ResponseStream, caller, convert, status::to_status};
use crate::domain::Hub;
use crate::domain::follow::{FollowEvent, ReportFollower};
use crate::domain::reading::Claimed;
use crate::domain::reports::ReportText;

/// How long the final status of a watcher's stream waits for room in its channel.
const LAST_WORD: std::time::Duration = std::time::Duration::from_secs(2);

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
        let r = req.into_inner();
        let follower = self
            .hub
            .follow_reports(&who, r.after_report_id, r.critical_only)
            .await
            .map_err(to_status)?;
        let start = follower.start();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(forward_reports(self.hub.clone(), follower, tx));
        let mut response =
            Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
                as Self::WatchReportsStream);
        response
            .metadata_mut()
            .insert(remotedx_proto::REPORT_CURSOR, MetadataValue::from(start));
        Ok(response)
    }
}

/// Sends a follower's reports down a watcher's stream until the watcher leaves or the hub shuts
/// down (then the stream ends with [`shutting_down`]).
async fn forward_reports(
    hub: Hub,
    mut follower: ReportFollower,
    tx: tokio::sync::mpsc::Sender<Result<pb::CaseReport, Status>>,
) {
    loop {
        let next = tokio::select! {
            () = tx.closed() => return,
            next = follower.next() => next,
        };
        let item = match next {
            Ok(FollowEvent::Report(notice)) => Ok(pb::CaseReport {
                summary: Some(convert::summary(&notice.case, &[], hub.catalog())),
                report: Some(convert::report(&notice.report)),
            }),
            Ok(FollowEvent::ShuttingDown) => Err(shutting_down()),
            Err(e) => Err(to_status(e)),
        };
        let last = item.is_err();
        // A watcher that stopped reading must not hold up shutdown, nor keep this task for ever.
        let sent = tokio::select! {
            sent = tx.send(item) => sent.is_ok(),
            () = hub.shutting_down(), if !last => false,
            () = tokio::time::sleep(LAST_WORD), if last => false,
        };
        if !sent || last {
            return;
        }
    }
}

/// The status a watcher's stream ends with when the hub shuts down.
fn shutting_down() -> Status {
    let mut status = Status::unavailable(
        "the hub is shutting down; watch again when it is back (from the last report seen)",
    );
    status.metadata_mut().insert(
        remotedx_proto::SHUTTING_DOWN,
        MetadataValue::from_static("1"),
    );
    status
}
