//! The demo region: a county hospital, two township clinics, one user per role with well-known
//! tokens, and the project's synthetic sample studies uploaded by the clinics, so a newcomer sees
//! a full queue at once.
//!
//! The demo tokens are printed and documented in README.md. They are for trying the hub out on one
//! machine only: never run `--demo` on a hub that holds real patients; [`guard`] keeps a demo's
//! data directory and a real hub's apart.

pub mod guard;

use std::path::{Path, PathBuf};

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;

use crate::clock::now_ms;
use crate::domain::auth::NewUser;
use crate::domain::ingest::IngestOptions;
use crate::domain::recognition::rules::Day;
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
    let shift = days_to_today(&manifest);
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
        seeded.files += upload(hub, who, options, &paths, shift).await?;
        seeded.cases += 1;
    }
    Ok(seeded)
}

/// How many days the samples' dates move forward so that the newest study is dated today: the
/// README's walk-through (recognition within a validity window of 30 days) then works whenever
/// a newcomer runs it, not only in the month the samples were generated.
fn days_to_today(manifest: &sample_data::manifest::Manifest) -> i64 {
    let newest = manifest
        .studies
        .iter()
        .filter_map(|s| Day::parse(&s.study_date).ok())
        .max();
    newest.map_or(0, |d| (Day::of_ms(now_ms()).0 - d.0).max(0))
}

/// The top-level dates of a study that say when it was performed; the patient's birth date is
/// not among them, so the patient ages as a real one would.
const EXAM_DATES: [dicom_core::Tag; 5] = [
    tags::STUDY_DATE,
    tags::SERIES_DATE,
    tags::ACQUISITION_DATE,
    tags::CONTENT_DATE,
    tags::INSTANCE_CREATION_DATE,
];

/// A sample file's bytes with its examination dates moved `shift` days forward.
fn dated(path: &Path, shift: i64) -> anyhow::Result<Vec<u8>> {
    if shift == 0 {
        return Ok(std::fs::read(path)?);
    }
    let mut obj = dicom_object::open_file(path)?;
    for tag in EXAM_DATES {
        let Some(day) = obj
            .element_opt(tag)?
            .and_then(|e| e.to_str().ok())
            .and_then(|t| Day::parse(&t).ok())
        else {
            continue;
        };
        let (y, m, d) = day.plus(shift).ymd();
        obj.put(DataElement::new(
            tag,
            VR::DA,
            PrimitiveValue::from(format!("{y:04}{m:02}{d:02}")),
        ));
    }
    let mut bytes = Vec::new();
    obj.write_all(&mut bytes)?;
    Ok(bytes)
}

/// Uploads files through the same ingest path as the gRPC upload, their examination dates moved
/// `shift` days forward; returns how many were stored.
async fn upload(
    hub: &Hub,
    who: Principal,
    options: IngestOptions,
    paths: &[PathBuf],
    shift: i64,
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
        let source = path.clone();
        let bytes = tokio::task::spawn_blocking(move || dated(&source, shift)).await??;
        file.write(&bytes).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(obj: &dicom_object::DefaultDicomObject, tag: dicom_core::Tag) -> String {
        obj.element(tag)
            .unwrap()
            .to_str()
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Regression: the samples carried fixed 2026 dates, so once their 30-day recognition
    /// window had passed the README's walk-through answered "No valid CT-HEAD result".
    #[test]
    fn sample_dates_move_forward_and_nothing_else_changes() {
        let path = Path::new(SAMPLE_DATA).join("baishui/zhang-san-ct-head/CT0001.dcm");
        let before = dicom_object::open_file(&path).unwrap();
        let moved = dated(&path, 200).unwrap();
        let after = dicom_object::from_reader(&moved[128..]).unwrap();
        let day = |obj: &dicom_object::DefaultDicomObject| {
            Day::parse(&text(obj, tags::STUDY_DATE)).unwrap()
        };
        assert_eq!(day(&after), day(&before).plus(200));
        for tag in [
            tags::PATIENT_BIRTH_DATE,
            tags::PATIENT_ID,
            tags::SOP_INSTANCE_UID,
        ] {
            assert_eq!(text(&after, tag), text(&before, tag));
        }
        assert_eq!(
            after.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap(),
            before
                .element(tags::PIXEL_DATA)
                .unwrap()
                .to_bytes()
                .unwrap()
        );
        assert_eq!(dated(&path, 0).unwrap(), std::fs::read(&path).unwrap());
    }

    #[test]
    fn the_newest_sample_study_is_dated_today() {
        let text =
            std::fs::read_to_string(Path::new(SAMPLE_DATA).join(sample_data::MANIFEST)).unwrap();
        let manifest: sample_data::manifest::Manifest = serde_json::from_str(&text).unwrap();
        let shift = days_to_today(&manifest);
        let newest = manifest
            .studies
            .iter()
            .map(|s| Day::parse(&s.study_date).unwrap())
            .max()
            .unwrap();
        assert_eq!(newest.plus(shift), Day::of_ms(now_ms()));
    }
}
