//! The demo region: a county hospital, two township clinics, one user per role with well-known
//! tokens, and the project's synthetic sample studies uploaded by the clinics, so a newcomer sees
//! a full queue at once.
//!
//! The demo tokens are printed and documented in README.md. They are for trying the hub out on one
//! machine only: never run `--demo` on a hub that holds real patients.

use std::path::{Path, PathBuf};

use crate::domain::auth::NewUser;
use crate::domain::ingest::IngestOptions;
use crate::domain::{Hub, staging};
use crate::model::{Institution, Principal, Role};

/// Where `cargo run` finds the generated sample studies.
pub const SAMPLE_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sample-data/files");

/// A demo user.
pub struct DemoUser {
    /// Name.
    pub name: &'static str,
    /// Role.
    pub role: Role,
    /// Institution code.
    pub institution: &'static str,
    /// Senior specialist.
    pub senior: bool,
    /// Well-known token.
    pub token: &'static str,
}

/// The demo institutions.
pub const INSTITUTIONS: [(&str, &str, &str); 3] = [
    (
        "CTY-H",
        "Qingshan County People's Hospital (青山县人民医院)",
        "county",
    ),
    (
        "TS-A",
        "Baishui Township Health Centre (白水镇卫生院)",
        "township",
    ),
    (
        "TS-B",
        "Lianhua Township Health Centre (莲花乡卫生院)",
        "township",
    ),
];

/// The demo users, one per role (two clinics, two specialists for two-level review).
pub const USERS: [DemoUser; 6] = [
    DemoUser {
        name: "Dr Wang (Baishui clinic)",
        role: Role::Clinic,
        institution: "TS-A",
        senior: false,
        token: "demo-clinic-a",
    },
    DemoUser {
        name: "Dr Zhao (Lianhua clinic)",
        role: Role::Clinic,
        institution: "TS-B",
        senior: false,
        token: "demo-clinic-b",
    },
    DemoUser {
        name: "Dr Li (radiology)",
        role: Role::Specialist,
        institution: "CTY-H",
        senior: false,
        token: "demo-specialist",
    },
    DemoUser {
        name: "Dr Chen (senior radiology)",
        role: Role::Specialist,
        institution: "CTY-H",
        senior: true,
        token: "demo-senior",
    },
    DemoUser {
        name: "Admin Sun",
        role: Role::Admin,
        institution: "CTY-H",
        senior: false,
        token: "demo-admin",
    },
    DemoUser {
        name: "worker-1",
        role: Role::Worker,
        institution: "CTY-H",
        senior: false,
        token: "demo-worker",
    },
];

/// What seeding did.
#[derive(Debug, Default)]
pub struct Seeded {
    /// False if the hub already had the demo users (nothing was added).
    pub fresh: bool,
    /// Files uploaded.
    pub files: usize,
    /// Cases created.
    pub cases: usize,
}

/// Seeds the demo region if it is not there yet, uploading the sample studies from `samples`.
pub async fn seed(hub: &Hub, samples: &Path) -> anyhow::Result<Seeded> {
    if hub.authenticate(USERS[0].token).await.is_ok() {
        return Ok(Seeded::default());
    }
    for (code, name, level) in INSTITUTIONS {
        hub.upsert_institution(&Institution {
            code: code.into(),
            name: name.into(),
            level: level.into(),
        })
        .await?;
    }
    for u in &USERS {
        let new = NewUser {
            name: u.name.into(),
            role: u.role,
            institution_code: u.institution.into(),
            senior: u.senior,
        };
        hub.create_user_with_token(&new, u.token).await?;
    }
    let mut seeded = Seeded {
        fresh: true,
        ..Seeded::default()
    };
    let manifest_path = samples.join(sample_data::MANIFEST);
    let Ok(text) = std::fs::read_to_string(&manifest_path) else {
        tracing::warn!(path = %manifest_path.display(), "no sample manifest; run `cargo run -p sample-data -- generate` to make the samples");
        return Ok(seeded);
    };
    let manifest: sample_data::manifest::Manifest = serde_json::from_str(&text)?;
    for study in &manifest.studies {
        let token = USERS
            .iter()
            .find(|u| u.role == Role::Clinic && u.institution == study.demo_institution_code)
            .map(|u| u.token);
        let Some(token) = token else { continue };
        let who = hub.authenticate(token).await?;
        let options = if study.critical_finding {
            // How a township doctor would send it: STAT, flagged, with the reason for urgency.
            IngestOptions {
                priority: Some(crate::model::Priority::Stat),
                critical: true,
                critical_reason: "township doctor suspects an emergency".into(),
                clinical_note: if study.modality == "ECG" {
                    "Crushing chest pain for 40 minutes, sweating; please read first."
                } else {
                    "Sudden headache and weakness this morning; please read first."
                }
                .into(),
                ..IngestOptions::default()
            }
        } else {
            IngestOptions::default()
        };
        let paths: Vec<PathBuf> = study
            .series
            .iter()
            .flat_map(|s| &s.files)
            .map(|f| samples.join(&f.path))
            .collect();
        seeded.files += upload(hub, who, options, &paths).await?;
        seeded.cases += 1;
    }
    Ok(seeded)
}

/// Uploads files through the same ingest path as the gRPC upload; returns how many were stored.
async fn upload(
    hub: &Hub,
    who: Principal,
    options: IngestOptions,
    paths: &[PathBuf],
) -> anyhow::Result<usize> {
    let mut session = hub.ingest_session(who, options)?;
    let mut stored = 0;
    for path in paths {
        let name = path.display().to_string();
        let mut file = staging::begin(
            &hub.config().staging_dir(),
            &name,
            hub.config().ingest.max_file_bytes,
        )
        .await?;
        file.write(&tokio::fs::read(path).await?).await?;
        match session.ingest(file.finish(None, None).await?).await {
            Ok(_) => stored += 1,
            Err(r) => tracing::warn!("sample {name} refused: {r}"),
        }
    }
    session.finish().await?;
    Ok(stored)
}

/// The text printed when the demo starts.
pub fn banner(addr: std::net::SocketAddr, seeded: &Seeded) -> String {
    let mut s = String::new();
    s += "\n=== remotedx demo region ===\n";
    if seeded.fresh {
        s += &format!(
            "Seeded {} sample files into {} cases.\n",
            seeded.files, seeded.cases
        );
    }
    s += &format!(
        "gRPC: http://{addr}\nDemo tokens (for this demo only; never on a hub with real patients):\n"
    );
    for u in &USERS {
        s += &format!(
            "  {:<16} {:<11} {:<7} {}\n",
            u.token,
            u.role.as_str(),
            u.institution,
            u.name
        );
    }
    s += "\nTry, in another terminal:\n";
    s += &format!("  export HUB_URL=http://{addr} HUB_TOKEN=demo-specialist\n");
    s += "  cargo run -p viewer-cli -- queue\n\n";
    s
}
