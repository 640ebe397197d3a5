//! `show --out DIR --full` against an in-test CaseService: every artifact and render is saved under
//! DIR (names from the hub cannot escape it), a render the hub refuses is reported while the rest
//! are saved (exit code 1), and case.json is written.

use std::pin::Pin;

use remotedx_proto::v1 as pb;
use remotedx_proto::v1::case_service_server::{CaseService, CaseServiceServer};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

type Chunks = Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::Chunk, Status>> + Send>>;

struct FakeCases;

/// Two chunks, so that saving has to append.
fn chunks(body: &str) -> Chunks {
    let (a, b) = body.split_at(body.len() / 2);
    let items = [a, b].map(|part| {
        Ok(pb::Chunk {
            data: part.as_bytes().to_vec(),
            ..Default::default()
        })
    });
    Box::pin(tokio_stream::iter(items))
}

fn instance(uid: &str, sop_class: &str) -> pb::InstanceInfo {
    pb::InstanceInfo {
        sop_instance_uid: uid.into(),
        sop_class_uid: sop_class.into(),
        rows: 8,
        ..Default::default()
    }
}

#[tonic::async_trait]
impl CaseService for FakeCases {
    type GetInstanceStream = Chunks;
    type GetArtifactStream = Chunks;
    type RenderFrameStream = Chunks;

    async fn list_cases(
        &self,
        _: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn get_case(
        &self,
        req: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::CaseDetail>, Status> {
        let case_id = req.into_inner().case_id;
        let artifact = |name: &str| pb::ArtifactInfo {
            name: name.into(),
            media_type: "image/png".into(),
            size: 4,
        };
        Ok(Response::new(pb::CaseDetail {
            summary: Some(pb::CaseSummary {
                case_id,
                modality: "CT".into(),
                ..Default::default()
            }),
            instances: vec![
                instance("1.2.1", "1.2.840.10008.5.1.4.1.1.2"),
                instance("1.2.2", "1.2.840.10008.5.1.4.1.1.2"),
                instance("1.2.3", "1.2.840.10008.5.1.4.1.1.9.1.1"),
            ],
            artifacts: vec![
                artifact("preview/1.2.1.png"),
                artifact("../escape.png"),
                artifact("broken.svg"),
            ],
            ..Default::default()
        }))
    }

    async fn get_instance(
        &self,
        _: Request<pb::GetInstanceRequest>,
    ) -> Result<Response<Chunks>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn get_artifact(
        &self,
        req: Request<pb::GetArtifactRequest>,
    ) -> Result<Response<Chunks>, Status> {
        if req.get_ref().name == "broken.svg" {
            // The stream breaks off after its first chunk.
            let items = [
                Ok(pb::Chunk {
                    data: b"<svg".to_vec(),
                    ..Default::default()
                }),
                Err(Status::internal("blob read failed")),
            ];
            return Ok(Response::new(Box::pin(tokio_stream::iter(items))));
        }
        Ok(Response::new(chunks(&format!(
            "artifact {}",
            req.into_inner().name
        ))))
    }

    async fn render_frame(
        &self,
        req: Request<pb::RenderFrameRequest>,
    ) -> Result<Response<Chunks>, Status> {
        let r = req.into_inner();
        assert!(
            !r.sop_instance_uid.ends_with(".3"),
            "waveforms are not rendered"
        );
        if r.sop_instance_uid == "1.2.2" {
            return Err(Status::failed_precondition("1.2.2 could not be decoded"));
        }
        Ok(Response::new(chunks(&format!(
            "render {} frame {} window {}",
            r.sop_instance_uid, r.frame, r.window_preset
        ))))
    }

    async fn list_mixups(
        &self,
        _: Request<pb::ListMixupsRequest>,
    ) -> Result<Response<pb::ListMixupsResponse>, Status> {
        Err(Status::unimplemented("not used by show"))
    }

    async fn resolve_mixup(
        &self,
        _: Request<pb::ResolveMixupRequest>,
    ) -> Result<Response<pb::ResolveMixupResponse>, Status> {
        Err(Status::unimplemented("not used by show"))
    }
}

#[tokio::test]
async fn show_out_saves_everything_it_can_and_reports_the_rest() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(CaseServiceServer::new(FakeCases))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("case");
    let out_arg = out_dir.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_viewer-cli"))
            .args([
                "show", "5", "--json", "--full", "--frame", "0", "--window", "lung", "--hub", &url,
                "--out",
            ])
            .arg(&out_arg)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let read = |rel: &str| std::fs::read_to_string(out_dir.join(rel)).unwrap();
    assert_eq!(read("preview/1.2.1.png"), "artifact preview/1.2.1.png");
    assert_eq!(
        read("escape.png"),
        "artifact ../escape.png",
        "kept inside the folder"
    );
    assert!(!dir.path().join("escape.png").exists());
    assert_eq!(
        read("render/1.2.1-f0.png"),
        "render 1.2.1 frame 0 window lung"
    );
    assert!(!out_dir.join("render/1.2.2-f0.png").exists());
    assert!(
        !out_dir.join("render/1.2.2-f0.png.part").exists(),
        "no half-written file"
    );
    assert!(!out_dir.join("broken.svg").exists() && !out_dir.join("broken.svg.part").exists());
    let case: serde_json::Value = serde_json::from_str(&read("case.json")).unwrap();
    assert_eq!(case["case"]["case_id"], 5);
    let written: Vec<&str> = json["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(written.len(), 4);
    assert!(
        written
            .iter()
            .all(|w| w.starts_with(&out_dir.display().to_string()))
    );
    assert_eq!(json["failed"][0], "broken.svg: blob read failed");
    assert_eq!(
        json["failed"][1],
        "render of 1.2.2: 1.2.2 could not be decoded"
    );
}
