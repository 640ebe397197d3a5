//! Every RPC, every role: a missing or unknown token is UNAUTHENTICATED, a wrong role is
//! PERMISSION_DENIED, each with a message that says which; the right role gets past the check.

use e2e::*;
use remotedx_proto::v1 as pb;
use tonic::transport::Channel;
use tonic::{Code, Status};

/// A call's outcome, ignoring its payload.
type Outcome = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Status>> + Send>>;

/// One RPC invoked with a token.
type Call = fn(Channel, String) -> Outcome;

/// First chunk of a streaming response, so the status of the call itself is seen.
async fn first<T>(r: Result<tonic::Response<tonic::Streaming<T>>, Status>) -> Result<(), Status> {
    r?.into_inner().message().await.map(drop)
}

macro_rules! call {
    ($client:ident, $method:ident, $req:expr) => {
        |ch: Channel, token: String| -> Outcome {
            Box::pin(async move {
                $client::new(ch)
                    .$method(authed($req, &token))
                    .await
                    .map(drop)
            })
        }
    };
    (stream $client:ident, $method:ident, $req:expr) => {
        |ch: Channel, token: String| -> Outcome {
            Box::pin(
                async move { first($client::new(ch).$method(authed($req, &token)).await).await },
            )
        }
    };
}

use pb::account_service_client::AccountServiceClient;
use pb::admin_service_client::AdminServiceClient;
use pb::case_service_client::CaseServiceClient;
use pb::reading_service_client::ReadingServiceClient;
use pb::upload_service_client::UploadServiceClient;
use pb::worker_service_client::WorkerServiceClient;

/// Each RPC with the roles allowed to call it.
fn rpcs() -> Vec<(&'static str, &'static [&'static str], Call)> {
    const ALL: &[&str] = &["clinic_a", "specialist", "senior", "admin", "worker"];
    const SPECIALISTS: &[&str] = &["specialist", "senior"];
    const READERS: &[&str] = &["clinic_a", "specialist", "senior", "admin"];
    vec![
        ("Upload", &["clinic_a"], |ch, token| {
            Box::pin(async move {
                let msgs = file_messages("x.dcm", b"not dicom");
                let r = UploadServiceClient::new(ch)
                    .upload(authed(tokio_stream::iter(msgs), &token))
                    .await;
                first(r).await
            })
        }),
        (
            "ListCases",
            READERS,
            call!(
                CaseServiceClient,
                list_cases,
                pb::ListCasesRequest::default()
            ),
        ),
        (
            "GetCase",
            READERS,
            call!(
                CaseServiceClient,
                get_case,
                pb::GetCaseRequest { case_id: 1 }
            ),
        ),
        (
            "GetInstance",
            READERS,
            call!(stream CaseServiceClient, get_instance, pb::GetInstanceRequest { case_id: 1, sop_instance_uid: "none".into() }),
        ),
        (
            "GetArtifact",
            READERS,
            call!(stream CaseServiceClient, get_artifact, pb::GetArtifactRequest { case_id: 1, name: "none".into() }),
        ),
        (
            "RenderFrame",
            READERS,
            call!(stream CaseServiceClient, render_frame, pb::RenderFrameRequest { case_id: 1, sop_instance_uid: "none".into(), ..Default::default() }),
        ),
        (
            "ListMixups",
            &["clinic_a", "admin"],
            call!(
                CaseServiceClient,
                list_mixups,
                pb::ListMixupsRequest::default()
            ),
        ),
        (
            "ResolveMixup",
            &["clinic_a", "admin"],
            call!(
                CaseServiceClient,
                resolve_mixup,
                pb::ResolveMixupRequest {
                    case_id: 999,
                    outcome: pb::MixupState::Withdrawn as i32,
                    note: "checked".into()
                }
            ),
        ),
        (
            "Queue",
            SPECIALISTS,
            call!(ReadingServiceClient, queue, pb::QueueRequest::default()),
        ),
        (
            "Claim",
            SPECIALISTS,
            call!(
                ReadingServiceClient,
                claim,
                pb::ClaimRequest {
                    case_id: 999,
                    skip_reason: String::new()
                }
            ),
        ),
        (
            "Renew",
            SPECIALISTS,
            call!(
                ReadingServiceClient,
                renew,
                pb::RenewRequest { case_id: 999 }
            ),
        ),
        (
            "Release",
            SPECIALISTS,
            call!(
                ReadingServiceClient,
                release,
                pb::ReleaseRequest { case_id: 999 }
            ),
        ),
        (
            "FileReport",
            SPECIALISTS,
            call!(
                ReadingServiceClient,
                file_report,
                pb::FileReportRequest {
                    case_id: 999,
                    impression: "x".into(),
                    ..Default::default()
                }
            ),
        ),
        (
            "SignReport",
            &["senior"],
            call!(
                ReadingServiceClient,
                sign_report,
                pb::SignReportRequest {
                    case_id: 999,
                    ..Default::default()
                }
            ),
        ),
        (
            "AmendReport",
            SPECIALISTS,
            call!(
                ReadingServiceClient,
                amend_report,
                pb::AmendReportRequest {
                    case_id: 999,
                    impression: "x".into(),
                    reason: "r".into(),
                    ..Default::default()
                }
            ),
        ),
        (
            "ListReports",
            READERS,
            call!(
                ReadingServiceClient,
                list_reports,
                pb::ListReportsRequest::default()
            ),
        ),
        (
            "WhoAmI",
            ALL,
            call!(AccountServiceClient, who_am_i, pb::WhoAmIRequest {}),
        ),
        (
            "ListAudit",
            &["admin"],
            call!(
                AdminServiceClient,
                list_audit,
                pb::ListAuditRequest::default()
            ),
        ),
        (
            "LeaseJob",
            &["worker"],
            call!(
                WorkerServiceClient,
                lease_job,
                pb::LeaseJobRequest {
                    worker_name: "t".into(),
                    wait_ms: 0
                }
            ),
        ),
        (
            "FetchInput",
            &["worker"],
            call!(stream WorkerServiceClient, fetch_input, pb::FetchInputRequest { job_id: 999, index: 0 }),
        ),
        (
            "CompleteJob",
            &["worker"],
            call!(
                WorkerServiceClient,
                complete_job,
                pb::CompleteJobRequest {
                    job_id: 999,
                    ..Default::default()
                }
            ),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_checks_token_and_role() {
    let region = Region::start(&[]);
    let channel = region.hub.channel().await;
    let mut failures = Vec::new();
    for (name, allowed, rpc) in rpcs() {
        for (token, label) in [
            (String::new(), "no token"),
            ("rdx_0000".to_owned(), "unknown token"),
        ] {
            let status = rpc(channel.clone(), token).await.err();
            match status {
                Some(s) if s.code() == Code::Unauthenticated && s.message().contains("token") => {}
                other => failures.push(format!(
                    "{name} with {label}: expected UNAUTHENTICATED, got {other:?}"
                )),
            }
        }
        for user in ["clinic_a", "specialist", "senior", "admin", "worker"] {
            let result = rpc(channel.clone(), region.token(user).to_owned()).await;
            let denied = matches!(&result, Err(s) if s.code() == Code::PermissionDenied);
            if allowed.contains(&user) && denied {
                failures.push(format!("{name} as {user}: allowed, but denied: {result:?}"));
            }
            if !allowed.contains(&user) {
                match &result {
                    Err(s) if s.code() == Code::PermissionDenied && s.message().contains("needs") => {}
                    other => failures.push(format!("{name} as {user}: expected PERMISSION_DENIED saying what is needed, got {other:?}")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix failures:\n{}",
        failures.join("\n")
    );
}
