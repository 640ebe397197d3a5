//! Shared set-up for the hub's integration tests: a real hub on a temporary data directory.

#![allow(dead_code)]

use std::path::PathBuf;

use hub::config::Config;
use hub::domain::Hub;
use hub::domain::auth::NewUser;
use hub::domain::ingest::{Accepted, IngestOptions};
use hub::domain::staging::{self, Rejection};
use hub::model::{Institution, Principal, Role};

/// The test corpus: $REMOTEDX_CORPUS, else ../shared/corpus beside the workspace.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("REMOTEDX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    assert!(
        dir.is_dir(),
        "test corpus not found at {} (set REMOTEDX_CORPUS)",
        dir.display()
    );
    dir
}

/// A corpus file.
pub fn corpus_file(rel: &str) -> PathBuf {
    corpus().join(rel)
}

/// A hub with institutions TS-A, TS-B (township) and CTY (county) and a user per role.
pub struct TestHub {
    pub hub: Hub,
    pub dir: tempfile::TempDir,
    pub clinic_a: Principal,
    pub clinic_b: Principal,
    pub specialist: Principal,
    pub senior: Principal,
    pub admin: Principal,
    /// A remote worker user (jobs are leased by worker principals only).
    pub worker: Principal,
}

pub async fn test_hub(tweak: impl FnOnce(&mut Config)) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.jobs.in_process = false;
    tweak(&mut config);
    let hub = hub::startup::open(config).await.unwrap();
    for (code, level) in [
        ("TS-A", "township"),
        ("TS-B", "township"),
        ("CTY", "county"),
    ] {
        hub.upsert_institution(&Institution {
            code: code.into(),
            name: format!("{code} hospital"),
            level: level.into(),
        })
        .await
        .unwrap();
    }
    let mut users = Vec::new();
    for (name, role, inst, senior) in [
        ("clinic a", Role::Clinic, "TS-A", false),
        ("clinic b", Role::Clinic, "TS-B", false),
        ("dr li", Role::Specialist, "CTY", false),
        ("dr chen", Role::Specialist, "CTY", true),
        ("admin", Role::Admin, "CTY", false),
        ("worker", Role::Worker, "CTY", false),
    ] {
        let (_, token) = hub
            .create_user(&NewUser {
                name: name.into(),
                role,
                institution_code: inst.into(),
                senior,
            })
            .await
            .unwrap();
        users.push(hub.authenticate(&token).await.unwrap());
    }
    let mut it = users.into_iter();
    TestHub {
        hub,
        dir,
        clinic_a: it.next().unwrap(),
        clinic_b: it.next().unwrap(),
        specialist: it.next().unwrap(),
        senior: it.next().unwrap(),
        admin: it.next().unwrap(),
        worker: it.next().unwrap(),
    }
}

/// Adds a user and returns their principal and token.
pub async fn add_user(hub: &Hub, name: &str, role: Role, inst: &str) -> (Principal, String) {
    let (_, token) = hub
        .create_user(&NewUser {
            name: name.into(),
            role,
            institution_code: inst.into(),
            senior: false,
        })
        .await
        .unwrap();
    (hub.authenticate(&token).await.unwrap(), token)
}

/// Stages bytes as an uploaded file named `name`.
pub async fn stage(hub: &Hub, name: &str, bytes: &[u8]) -> staging::StagedFile {
    let mut f = staging::begin(&hub.config().staging_dir(), name, u64::MAX)
        .await
        .unwrap();
    f.write(bytes).await.unwrap();
    f.finish(None, None).await.unwrap()
}

/// Uploads files as `who` in one session; returns each file's outcome and the session's case ids.
pub async fn upload(
    hub: &Hub,
    who: &Principal,
    files: &[(&str, Vec<u8>)],
) -> (Vec<Result<Accepted, Rejection>>, Vec<i64>) {
    let mut session = hub
        .ingest_session(who.clone(), IngestOptions::default())
        .unwrap();
    let mut out = Vec::new();
    for (name, bytes) in files {
        out.push(session.ingest(stage(hub, name, bytes).await).await);
    }
    let cases = session
        .finish()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.case.id)
        .collect();
    (out, cases)
}
