//! CaseService: looking at cases, their files and renders.

use remotedx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{ResponseStream, caller, convert, mixup, status::to_status, stream_blob, stream_bytes};
use crate::domain::Hub;
use crate::storage::cases::CaseFilter;

/// The service.
pub struct Cases {
    hub: Hub,
}

impl Cases {
    /// Over `hub`.
    pub fn new(hub: Hub) -> Self {
        Cases { hub }
    }
}

#[tonic::async_trait]
impl pb::case_service_server::CaseService for Cases {
    async fn list_cases(
        &self,
        req: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let filter = CaseFilter {
            states: r
                .states
                .into_iter()
                .filter_map(convert::state_from)
                .collect(),
            modality: r.modality.to_ascii_uppercase(),
            institution_code: r.institution_code,
            critical_only: r.critical_only,
            since_ms: r.since_ms,
            limit: i64::from(r.limit),
        };
        let list = self.hub.list_cases(&who, filter).await.map_err(to_status)?;
        let cases = list
            .iter()
            .map(|(c, f)| convert::summary(c, f, self.hub.catalog()))
            .collect();
        Ok(Response::new(pb::ListCasesResponse { cases }))
    }

    async fn get_case(
        &self,
        req: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::CaseDetail>, Status> {
        let who = caller(&self.hub, &req).await?;
        let detail = self
            .hub
            .case_detail(&who, req.get_ref().case_id)
            .await
            .map_err(to_status)?;
        let name = self.hub.patient_name(&detail).await;
        Ok(Response::new(convert::detail(
            &detail,
            name,
            self.hub.catalog(),
        )))
    }

    type GetInstanceStream = ResponseStream<pb::Chunk>;

    async fn get_instance(
        &self,
        req: Request<pb::GetInstanceRequest>,
    ) -> Result<Response<Self::GetInstanceStream>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.get_ref();
        let file = self
            .hub
            .instance_file(&who, r.case_id, &r.sop_instance_uid)
            .await
            .map_err(to_status)?;
        Ok(Response::new(stream_blob(file)))
    }

    type GetArtifactStream = ResponseStream<pb::Chunk>;

    async fn get_artifact(
        &self,
        req: Request<pb::GetArtifactRequest>,
    ) -> Result<Response<Self::GetArtifactStream>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.get_ref();
        let file = self
            .hub
            .artifact_file(&who, r.case_id, &r.name)
            .await
            .map_err(to_status)?;
        Ok(Response::new(stream_blob(file)))
    }

    type RenderFrameStream = ResponseStream<pb::Chunk>;

    async fn render_frame(
        &self,
        req: Request<pb::RenderFrameRequest>,
    ) -> Result<Response<Self::RenderFrameStream>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let window = window_spec(&r)?;
        let png = self
            .hub
            .render_frame(
                &who,
                r.case_id,
                &r.sop_instance_uid,
                r.frame,
                window,
                r.max_size,
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(stream_bytes(png, "image/png")))
    }

    async fn list_mixups(
        &self,
        req: Request<pb::ListMixupsRequest>,
    ) -> Result<Response<pb::ListMixupsResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.get_ref();
        let list = self
            .hub
            .mixups(&who, r.include_resolved, r.limit)
            .await
            .map_err(to_status)?;
        let mixups = list.iter().map(|v| mixup::mixup(v, who.role)).collect();
        Ok(Response::new(pb::ListMixupsResponse { mixups }))
    }

    async fn resolve_mixup(
        &self,
        req: Request<pb::ResolveMixupRequest>,
    ) -> Result<Response<pb::ResolveMixupResponse>, Status> {
        let who = caller(&self.hub, &req).await?;
        let r = req.into_inner();
        let outcome = mixup::outcome_from(r.outcome).ok_or_else(|| {
            Status::invalid_argument(
                "outcome must be MIXUP_STATE_DIFFERENT_PATIENT or MIXUP_STATE_WITHDRAWN",
            )
        })?;
        let case = self
            .hub
            .resolve_mixup(&who, r.case_id, outcome, &r.note)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ResolveMixupResponse {
            case: Some(convert::summary(&case, &[], self.hub.catalog())),
        }))
    }
}

/// The window a render request asks for.
fn window_spec(r: &pb::RenderFrameRequest) -> Result<worker_imaging::WindowSpec, Status> {
    if r.window_width > 0.0 {
        return Ok(worker_imaging::WindowSpec::Explicit {
            center: r.window_center,
            width: r.window_width,
        });
    }
    if r.window_preset.is_empty() {
        return Ok(worker_imaging::WindowSpec::Default);
    }
    let preset: worker_imaging::Preset = r
        .window_preset
        .parse()
        .map_err(|e: worker_imaging::UnknownPreset| Status::invalid_argument(e.to_string()))?;
    Ok(worker_imaging::WindowSpec::Preset(preset))
}
