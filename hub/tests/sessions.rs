//! Browser sessions in the domain: signing in with a token, the session standing in for it, a
//! wrong token refused, signing out, sessions ending with their lifetime and at once when the user
//! is disabled (here or by another process), and only the session id's hash in the data directory.

mod common;

use std::time::Duration;

use common::*;
use hub::domain::Error;
use hub::domain::session::SessionId;
use hub::model::{AuditEntry, Role};
use hub::storage::audit::AuditFilter;

async fn trail(t: &TestHub, action: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        action: action.into(),
        limit: 1000,
        ..AuditFilter::default()
    };
    t.hub.audit_trail(&t.admin, &filter).await.unwrap()
}

fn unauthenticated<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Unauthenticated(m)) => m,
        other => panic!("expected UNAUTHENTICATED, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stands_in_for_the_token_until_signed_out() {
    let t = test_hub(|_| {}).await;
    let (dr, token) = add_user(&t.hub, "dr zhou", Role::Specialist, "CTY").await;
    let session = t.hub.sign_in(&token).await.unwrap();
    assert_eq!(session.principal, dr);
    assert_eq!(session.lifetime, Duration::from_secs(12 * 3600));
    assert_eq!(t.hub.session_principal(&session.id).await.unwrap(), dr);
    assert_eq!(trail(&t, "session_start").await.len(), 1);

    t.hub.sign_out(&session.id).await.unwrap();
    let m = unauthenticated(t.hub.session_principal(&session.id).await);
    assert!(m.contains("sign in again"), "{m}");
    assert_eq!(trail(&t, "session_end").await.len(), 1);
    t.hub.sign_out(&session.id).await.unwrap(); // twice is no error
    t.hub.authenticate(&token).await.unwrap(); // the token itself still works
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_or_a_worker_token_does_not_sign_in() {
    let t = test_hub(|_| {}).await;
    let m = unauthenticated(t.hub.sign_in("rdx_not-a-token").await);
    assert!(m.contains("not recognised"), "{m}");
    unauthenticated(t.hub.sign_in("  ").await);
    let (_, worker_token) = add_user(&t.hub, "w1", Role::Worker, "CTY").await;
    let err = t.hub.sign_in(&worker_token).await.unwrap_err();
    assert!(
        matches!(&err, Error::PermissionDenied(m) if m.contains("worker")),
        "{err}"
    );
    assert!(trail(&t, "session_start").await.is_empty());
    let forged = SessionId::parse(&"ab".repeat(32)).unwrap();
    unauthenticated(t.hub.session_principal(&forged).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_with_its_lifetime() {
    let t = test_hub(|c| c.viewer.session_lifetime = Duration::from_millis(300)).await;
    let (_, token) = add_user(&t.hub, "dr wu", Role::Clinic, "TS-A").await;
    let session = t.hub.sign_in(&token).await.unwrap();
    t.hub.session_principal(&session.id).await.unwrap(); // cached now
    tokio::time::sleep(Duration::from_millis(400)).await;
    unauthenticated(t.hub.session_principal(&session.id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_ends_their_sessions_at_once() {
    let t = test_hub(|_| {}).await;
    let (clinic, token) = add_user(&t.hub, "dr qian", Role::Clinic, "TS-A").await;
    let session = t.hub.sign_in(&token).await.unwrap();
    t.hub.session_principal(&session.id).await.unwrap(); // cached now
    t.hub.disable_user(&t.admin, clinic.user_id).await.unwrap();
    unauthenticated(t.hub.session_principal(&session.id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_disabled_by_another_process_loses_their_sessions_within_a_second() {
    let t = test_hub(|_| {}).await;
    let (clinic, token) = add_user(&t.hub, "dr sun", Role::Clinic, "TS-A").await;
    let elsewhere = t.hub.with_extensions(
        hub::domain::pseudonym::Pseudonymizer::new(vec![2; 32], 1).unwrap(),
        Vec::new(),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = t.hub.clone();
    tokio::spawn(async move {
        watcher
            .watch_revocations(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let session = t.hub.sign_in(&token).await.unwrap();
    t.hub.session_principal(&session.id).await.unwrap(); // cached here
    tokio::time::sleep(Duration::from_millis(400)).await;

    elsewhere
        .disable_user(&t.admin, clinic.user_id)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    unauthenticated(t.hub.session_principal(&session.id).await);
    let _ = stop_tx.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_session_ids_hash_is_kept() {
    let t = test_hub(|_| {}).await;
    let (_, token) = add_user(&t.hub, "dr he", Role::Specialist, "CTY").await;
    let session = t.hub.sign_in(&token).await.unwrap();
    let id = session.id.as_str().as_bytes();
    for entry in walkdir(t.dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(id.len()).any(|w| w == id),
            "{} holds the session id",
            entry.display()
        );
    }
}

fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walkdir(&p));
        } else {
            files.push(p);
        }
    }
    files
}
