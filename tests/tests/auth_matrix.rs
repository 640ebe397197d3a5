//! Every RPC of every service, every role: a missing or unknown token is UNAUTHENTICATED, a wrong
//! role is PERMISSION_DENIED, each with a message that says which; another institution's case is
//! PERMISSION_DENIED; the right role gets past the check. The RPCs are read from the `.proto`
//! files, so a new RPC without a row here fails the test.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use e2e::*;
use remotedx_proto::v1 as pb;
use tonic::transport::Channel;
use tonic::{Code, Status};

/// A call's outcome, ignoring its payload.
type Outcome = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Status>> + Send>>;

/// One RPC invoked with a token, about a case of TS-A (for the RPCs that take a case).
type Call = fn(Channel, String, i64) -> Outcome;

/// First chunk of a streaming response, so the status of the call itself is seen.
async fn first<T>(r: Result<tonic::Response<tonic::Streaming<T>>, Status>) -> Result<(), Status> {
    r?.into_inner().message().await.map(drop)
}

macro_rules! call {
    ($client:ident, $method:ident, |$case:ident| $req:expr) => {
        |ch: Channel, token: String, $case: i64| -> Outcome {
            Box::pin(async move {
                $client::new(ch)
                    .$method(authed($req, &token))
                    .await
                    .map(drop)
            })
        }
    };
    ($client:ident, $method:ident, $req:expr) => {
        |ch: Channel, token: String, _case: i64| -> Outcome {
            Box::pin(async move {
                $client::new(ch)
                    .$method(authed($req, &token))
                    .await
                    .map(drop)
            })
        }
    };
    (stream $client:ident, $method:ident, |$case:ident| $req:expr) => {
        |ch: Channel, token: String, $case: i64| -> Outcome {
            Box::pin(
                async move { first($client::new(ch).$method(authed($req, &token)).await).await },
            )
        }
    };
    (stream $client:ident, $method:ident, $req:expr) => {
        |ch: Channel, token: String, _case: i64| -> Outcome {
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
use pb::recognition_service_client::RecognitionServiceClient;
use pb::upload_service_client::UploadServiceClient;
use pb::worker_service_client::WorkerServiceClient;

/// Every user of the region, by the token key `Region` gives them.
const USERS: &[&str] = &[
    "clinic_a",
    "clinic_b",
    "specialist",
    "senior",
    "admin",
    "auditor_a",
    "worker",
];

/// One row of the matrix: an RPC, who may call it, and who is refused for the case's
/// institution rather than for their role.
struct Row {
    service: &'static str,
    rpc: &'static str,
    allowed: &'static [&'static str],
    other_institution: &'static [&'static str],
    call: Call,
}

fn row(
    service: &'static str,
    rpc: &'static str,
    allowed: &'static [&'static str],
    call: Call,
) -> Row {
    Row {
        service,
        rpc,
        allowed,
        other_institution: &[],
        call,
    }
}

/// A row about the TS-A case: to clinic B it reads as a case that does not exist.
fn case_row(rpc: &'static str, call: Call) -> Row {
    Row {
        other_institution: &["clinic_b"],
        ..row("CaseService", rpc, CLINICAL_A, call)
    }
}

const ALL: &[&str] = USERS;
const CLINICS: &[&str] = &["clinic_a", "clinic_b"];
const SPECIALISTS: &[&str] = &["specialist", "senior"];
/// Who opens a TS-A patient's case: its clinic and the specialists (never an administrator).
const CLINICAL_A: &[&str] = &["clinic_a", "specialist", "senior"];
const CLINICAL: &[&str] = &["clinic_a", "clinic_b", "specialist", "senior"];
const READERS: &[&str] = &["clinic_a", "clinic_b", "specialist", "senior", "admin"];

fn upload(ch: Channel, token: String, _case: i64) -> Outcome {
    Box::pin(async move {
        let msgs = file_messages("x.dcm", b"not dicom");
        let r = UploadServiceClient::new(ch)
            .upload(authed(tokio_stream::iter(msgs), &token))
            .await;
        first(r).await
    })
}

/// Each RPC with the roles allowed to call it.
fn rows() -> Vec<Row> {
    vec![
        row("UploadService", "Upload", CLINICS, upload),
        row(
            "CaseService",
            "ListCases",
            READERS,
            call!(
                CaseServiceClient,
                list_cases,
                pb::ListCasesRequest::default()
            ),
        ),
        case_row(
            "GetCase",
            call!(CaseServiceClient, get_case, |case| pb::GetCaseRequest {
                case_id: case
            }),
        ),
        case_row(
            "GetInstance",
            call!(stream CaseServiceClient, get_instance, |case| pb::GetInstanceRequest { case_id: case, sop_instance_uid: "none".into() }),
        ),
        case_row(
            "GetArtifact",
            call!(stream CaseServiceClient, get_artifact, |case| pb::GetArtifactRequest { case_id: case, name: "none".into() }),
        ),
        case_row(
            "RenderFrame",
            call!(stream CaseServiceClient, render_frame, |case| pb::RenderFrameRequest { case_id: case, sop_instance_uid: "none".into(), ..Default::default() }),
        ),
        row(
            "CaseService",
            "ListMixups",
            &["clinic_a", "clinic_b", "admin"],
            call!(
                CaseServiceClient,
                list_mixups,
                pb::ListMixupsRequest::default()
            ),
        ),
        row(
            "CaseService",
            "ResolveMixup",
            &["clinic_a", "clinic_b", "admin"],
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
        row(
            "ReadingService",
            "Queue",
            SPECIALISTS,
            call!(ReadingServiceClient, queue, pb::QueueRequest::default()),
        ),
        row(
            "ReadingService",
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
        row(
            "ReadingService",
            "Renew",
            SPECIALISTS,
            call!(
                ReadingServiceClient,
                renew,
                pb::RenewRequest { case_id: 999 }
            ),
        ),
        row(
            "ReadingService",
            "Release",
            SPECIALISTS,
            call!(
                ReadingServiceClient,
                release,
                pb::ReleaseRequest { case_id: 999 }
            ),
        ),
        row(
            "ReadingService",
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
        row(
            "ReadingService",
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
        row(
            "ReadingService",
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
        row(
            "ReadingService",
            "ListReports",
            READERS,
            call!(
                ReadingServiceClient,
                list_reports,
                pb::ListReportsRequest::default()
            ),
        ),
        // The response headers (the call's own status) only: the stream itself never ends.
        row(
            "ReadingService",
            "WatchReports",
            READERS,
            call!(
                ReadingServiceClient,
                watch_reports,
                pb::WatchReportsRequest::default()
            ),
        ),
        row(
            "AccountService",
            "WhoAmI",
            ALL,
            call!(AccountServiceClient, who_am_i, pb::WhoAmIRequest {}),
        ),
        row(
            "AdminService",
            "ListAudit",
            &["admin", "auditor_a"],
            call!(
                AdminServiceClient,
                list_audit,
                pb::ListAuditRequest::default()
            ),
        ),
        row(
            "AdminService",
            "Stats",
            &["admin"],
            call!(AdminServiceClient, stats, pb::StatsRequest::default()),
        ),
        row(
            "RecognitionService",
            "Check",
            CLINICAL,
            call!(RecognitionServiceClient, check, pb::CheckRequest::default()),
        ),
        row(
            "RecognitionService",
            "Accept",
            CLINICAL,
            call!(
                RecognitionServiceClient,
                accept,
                pb::AcceptRequest { entry_id: 999 }
            ),
        ),
        row(
            "RecognitionService",
            "Decline",
            CLINICAL,
            call!(
                RecognitionServiceClient,
                decline,
                pb::DeclineRequest {
                    entry_id: 999,
                    reason: "condition-changed".into(),
                    ..Default::default()
                }
            ),
        ),
        row(
            "RecognitionService",
            "Reverse",
            READERS,
            call!(
                RecognitionServiceClient,
                reverse,
                pb::ReverseRequest {
                    ledger_id: 999,
                    reason: "r".into()
                }
            ),
        ),
        row(
            "WorkerService",
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
        row(
            "WorkerService",
            "FetchInput",
            &["worker"],
            call!(stream WorkerServiceClient, fetch_input, pb::FetchInputRequest { job_id: 999, index: 0 }),
        ),
        row(
            "WorkerService",
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

/// Every `Service/Rpc` declared in the contract's `.proto` files.
fn rpcs_in_contract() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/remotedx/v1");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("proto directory") {
        let path = entry.expect("proto entry").path();
        if path.extension().is_none_or(|e| e != "proto") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("proto file");
        let mut service = String::new();
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("service ") {
                service = rest.split_whitespace().next().unwrap_or("").to_owned();
            } else if let Some(rest) = line.strip_prefix("rpc ") {
                let rpc = rest.split('(').next().unwrap_or("").trim();
                out.insert(format!("{service}/{rpc}"));
            }
        }
    }
    out
}

#[test]
fn the_matrix_has_a_row_for_every_rpc_in_the_contract() {
    let contract = rpcs_in_contract();
    assert!(contract.len() >= 27, "read the contract: {contract:?}");
    let matrix: BTreeSet<String> = rows()
        .iter()
        .map(|r| format!("{}/{}", r.service, r.rpc))
        .collect();
    let missing: Vec<_> = contract.difference(&matrix).collect();
    let stale: Vec<_> = matrix.difference(&contract).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "RPCs without a row in the authorisation matrix: {missing:?}; rows without an RPC: {stale:?}"
    );
}

/// Uploads CT_small as clinic A; returns its case id.
async fn upload_case(region: &Region, channel: Channel) -> i64 {
    let bytes = std::fs::read(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let msgs = file_messages("ct.dcm", &bytes);
    let mut stream = UploadServiceClient::new(channel)
        .upload(authed(tokio_stream::iter(msgs), region.token("clinic_a")))
        .await
        .unwrap()
        .into_inner();
    while let Some(msg) = stream.message().await.unwrap() {
        if let Some(pb::upload_response::Msg::Accepted(a)) = msg.msg {
            return a.case_id;
        }
    }
    panic!("CT_small was not accepted");
}

fn check_outcome(row: &Row, user: &str, result: &Result<(), Status>) -> Option<String> {
    let name = format!("{}/{}", row.service, row.rpc);
    let denied = matches!(result, Err(s) if s.code() == Code::PermissionDenied);
    if row.allowed.contains(&user) {
        return denied.then(|| format!("{name} as {user}: allowed, but denied: {result:?}"));
    }
    // Another institution's case answers as one that does not exist (no case ids probed).
    if row.other_institution.contains(&user) {
        return match result {
            Err(s) if s.code() == Code::NotFound && s.message().starts_with("no case ") => None,
            other => Some(format!(
                "{name} as {user}: expected NOT_FOUND as for a case that does not exist, got {other:?}"
            )),
        };
    }
    match result {
        Err(s) if s.code() == Code::PermissionDenied && s.message().contains("needs") => None,
        other => Some(format!(
            "{name} as {user}: expected PERMISSION_DENIED saying what is needed, got {other:?}"
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_checks_token_role_and_institution() {
    let region = Region::start(&[]);
    let channel = region.hub.channel().await;
    let case = upload_case(&region, channel.clone()).await;
    let mut failures = Vec::new();
    for row in rows() {
        for (token, label) in [
            (String::new(), "no token"),
            ("rdx_0000".to_owned(), "unknown token"),
        ] {
            match (row.call)(channel.clone(), token, case).await.err() {
                Some(s) if s.code() == Code::Unauthenticated && s.message().contains("token") => {}
                other => failures.push(format!(
                    "{}/{} with {label}: expected UNAUTHENTICATED, got {other:?}",
                    row.service, row.rpc
                )),
            }
        }
        for user in USERS {
            let result = (row.call)(channel.clone(), region.token(user).to_owned(), case).await;
            failures.extend(check_outcome(&row, user, &result));
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix failures:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_see_masked_names_and_never_open_a_case() {
    let region = Region::start(&[]);
    let channel = region.hub.channel().await;
    let case = upload_case(&region, channel.clone()).await;
    let admin = region.token("admin");
    let full_name = "CompressedSamples";

    let detail = CaseServiceClient::new(channel.clone())
        .get_case(authed(
            pb::GetCaseRequest { case_id: case },
            region.token("specialist"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        format!("{detail:?}").contains(full_name),
        "a specialist sees the name"
    );
    let refused = CaseServiceClient::new(channel.clone())
        .get_case(authed(pb::GetCaseRequest { case_id: case }, admin))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    let stats = AdminServiceClient::new(channel.clone())
        .stats(authed(pb::StatsRequest::default(), admin))
        .await
        .unwrap()
        .into_inner();
    let cases = CaseServiceClient::new(channel.clone())
        .list_cases(authed(pb::ListCasesRequest::default(), admin))
        .await
        .unwrap()
        .into_inner();
    let audit = AdminServiceClient::new(channel.clone())
        .list_audit(authed(pb::ListAuditRequest::default(), admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cases.cases.len(), 1);
    for (what, text) in [
        ("stats", format!("{stats:?}")),
        ("cases", format!("{cases:?}")),
        ("audit", format!("{audit:?}")),
    ] {
        assert!(
            !text.contains(full_name),
            "{what} shows a full name: {text}"
        );
        assert!(!text.contains("1CT1"), "{what} shows a patient id: {text}");
    }
    let refusal = audit
        .entries
        .iter()
        .find(|e| e.action == "view_refused" && e.case_id == case);
    assert!(refusal.is_some(), "the refused view is audited: {audit:?}");

    // The auditor of TS-A reads TS-A's trail (its uploads, the views of its cases) and no other.
    let trail = AdminServiceClient::new(channel.clone())
        .list_audit(authed(
            pb::ListAuditRequest::default(),
            region.token("auditor_a"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        trail
            .entries
            .iter()
            .any(|e| e.case_id == case && e.action == "view")
    );
    assert!(
        trail
            .entries
            .iter()
            .all(|e| e.institution_code == "TS-A" || e.case_id == case),
        "{trail:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_users_stream_ends_within_a_second_and_their_next_call_is_refused() {
    let region = Region::start(&[]);
    let channel = region.hub.channel().await;
    let token = region.token("clinic_a");
    let me = AccountServiceClient::new(channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, token))
        .await
        .unwrap()
        .into_inner();
    let mut stream = ReadingServiceClient::new(channel.clone())
        .watch_reports(authed(pb::WatchReportsRequest::default(), token))
        .await
        .unwrap()
        .into_inner();

    let out = region
        .hub
        .admin(&["user", "disable", &me.user_id.to_string()]);
    assert!(out.contains("disabled"), "{out}");
    let disabled_at = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(2), stream.message())
        .await
        .expect("the stream ends");
    let took = disabled_at.elapsed();
    eprintln!("the stream ended {took:?} after `hub user disable` returned");
    let status = ended.expect_err("ended with a status");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("revoked"), "{status:?}");
    assert!(took < Duration::from_millis(1000), "took {took:?}");

    let next = AccountServiceClient::new(channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, token))
        .await
        .unwrap_err();
    assert_eq!(next.code(), Code::Unauthenticated, "{next:?}");
    let audit = AdminServiceClient::new(channel)
        .list_audit(authed(
            pb::ListAuditRequest {
                action: "user_disable".into(),
                ..Default::default()
            },
            region.token("admin"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(audit.entries.len(), 1, "{audit:?}");
}
