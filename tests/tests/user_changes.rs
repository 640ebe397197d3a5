//! Changing a user's role or institution with `hub user set-role` / `hub user move` (issue 13): the
//! change is audited, the user's open report stream ends at once, and their next call carries the
//! new role or institution (the token cache does not keep the old one).

use std::time::{Duration, Instant};

use e2e::*;
use pb::account_service_client::AccountServiceClient;
use pb::admin_service_client::AdminServiceClient;
use pb::reading_service_client::ReadingServiceClient;
use remotedx_proto::v1 as pb;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_user_and_changing_their_role_end_their_sessions_and_are_audited() {
    let region = Region::start(&[]);
    let channel = region.hub.channel().await;
    let token = region.token("clinic_a");
    let whoami = || async {
        AccountServiceClient::new(channel.clone())
            .who_am_i(authed(pb::WhoAmIRequest {}, token))
            .await
            .unwrap()
            .into_inner()
    };
    let me = whoami().await;
    assert_eq!(me.institution_code, "TS-A");
    let id = me.user_id.to_string();

    // Moved to TS-B: the open stream ends, the next call is TS-B's.
    let mut stream = ReadingServiceClient::new(channel.clone())
        .watch_reports(authed(pb::WatchReportsRequest::default(), token))
        .await
        .unwrap()
        .into_inner();
    let out = region.hub.admin(&["user", "move", &id, "TS-B"]);
    assert!(out.contains("TS-B"), "{out}");
    let moved_at = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(2), stream.message())
        .await
        .expect("the stream ends");
    let status = ended.expect_err("ended with a status");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    eprintln!(
        "the stream ended {:?} after `hub user move` returned",
        moved_at.elapsed()
    );
    assert_eq!(whoami().await.institution_code, "TS-B");

    // Made a specialist: the next call has the new role at once (not after the cache's 30 s).
    let out = region.hub.admin(&["user", "set-role", &id, "specialist"]);
    assert!(out.contains("specialist"), "{out}");
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut role = whoami().await.role;
    while role != pb::Role::Specialist as i32 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        role = whoami().await.role;
    }
    assert_eq!(role, pb::Role::Specialist as i32, "the role did not change");

    // A missing institution or user is refused by name, and nothing changes.
    let bad = std::process::Command::new(binary("hub"))
        .args(["--data-dir", region.hub.data_dir.to_str().unwrap()])
        .args(["user", "move", &id, "NOWHERE"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("NOWHERE"),
        "{bad:?}"
    );

    for action in ["user_move", "user_set_role"] {
        let audit = AdminServiceClient::new(channel.clone())
            .list_audit(authed(
                pb::ListAuditRequest {
                    action: action.into(),
                    ..Default::default()
                },
                region.token("admin"),
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(audit.entries.len(), 1, "{action}: {audit:?}");
    }
}
