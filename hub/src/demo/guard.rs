//! Keeping the demo and real hubs apart.
//!
//! `serve --demo` renames institutions, adds users whose tokens are printed in README.md
//! (`demo-admin` among them) and lets any calling AE title store as a township. That is only safe in
//! a data directory the demo made for itself, so the demo writes a marker file ([`MARKER`]) into a
//! fresh directory before anything else, and:
//!
//! - `serve --demo` refuses a directory that holds a hub but no marker (a real hub);
//! - `serve` without `--demo` refuses a directory with the marker (its tokens are public);
//! - `serve` without `--demo` also refuses an index in which a demo token still works, whatever
//!   the files say (a marker deleted by hand must not turn a demo into a real hub).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::domain::Hub;

/// The file in a data directory that says `serve --demo` created it.
pub const MARKER: &str = "DEMO-REGION";

/// What the marker says to someone who finds it.
const MARKER_TEXT: &str = "This data directory was created by `hub serve --demo`.\n\
Its users have public tokens (demo-admin, demo-clinic-a, ...): never put real patients here.\n\
`hub serve` without --demo refuses to serve it.\n";

/// Why `serve` refused a data directory.
#[derive(Debug, thiserror::Error)]
pub enum DemoGuardError {
    /// `--demo` on a directory holding a hub that the demo did not create.
    #[error(
        "{dir} holds a hub that was not created by `--demo` (it has no {MARKER} file); the demo \
         would add users with public tokens to it. Run the demo in a directory of its own \
         (`hub --data-dir hub-demo serve --demo`), or serve this one without --demo. (A demo \
         directory from before this check existed can simply be deleted.)",
        dir = .dir.display()
    )]
    NotADemoDirectory {
        /// The data directory.
        dir: PathBuf,
    },
    /// No `--demo` on a directory the demo created.
    #[error(
        "{dir} was created by `hub serve --demo` (see its {MARKER} file): its users have public \
         tokens and it must never serve real patients. Serve it with --demo, or start the real hub \
         in a new data directory (`hub --data-dir /srv/remotedx serve`).",
        dir = .dir.display()
    )]
    DemoDirectory {
        /// The data directory.
        dir: PathBuf,
    },
    /// `--demo` with PostgreSQL or S3, whose contents the marker cannot vouch for.
    #[error(
        "--demo keeps its region in the embedded SQLite index and local blob directory of its data \
         directory; remove storage.database and storage.blobs (REMOTEDX_HUB_STORAGE__*) from the \
         configuration to run it"
    )]
    SharedStorage,
    /// The index accepts a demo token although the directory has no marker.
    #[error(
        "the index of {dir} accepts the demo's public token `{token}`: a demo region is in it. \
         Disable the demo users (`hub user list`, then `hub user disable ID` for each demo-* user) \
         before serving it without --demo, or serve it with --demo if it is a demo.",
        dir = .dir.display()
    )]
    PublicTokens {
        /// The data directory.
        dir: PathBuf,
        /// The demo token that still works.
        token: &'static str,
    },
    /// The marker could not be written.
    #[error("cannot mark {} as a demo directory: {source}", .path.display())]
    Marker {
        /// The marker's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Checks, before the hub opens its data directory, that `demo` (the `--demo` flag) matches the
/// directory; marks a fresh directory as the demo's.
pub fn check_data_dir(config: &Config, demo: bool) -> Result<(), DemoGuardError> {
    let dir = config.data_dir.clone();
    let marked = dir.join(MARKER).exists();
    match (demo, marked) {
        (true, true) => embedded_storage(config),
        (true, false) => {
            embedded_storage(config)?;
            if holds_a_hub(config) {
                return Err(DemoGuardError::NotADemoDirectory { dir });
            }
            write_marker(&dir)
        }
        (false, true) => Err(DemoGuardError::DemoDirectory { dir }),
        (false, false) => Ok(()),
    }
}

/// Checks, once the hub is open and before it serves without `--demo`, that no demo token works.
pub async fn refuse_public_tokens(hub: &Hub) -> Result<(), DemoGuardError> {
    for user in &super::USERS {
        if hub.authenticate(user.token).await.is_ok() {
            return Err(DemoGuardError::PublicTokens {
                dir: hub.config().data_dir.clone(),
                token: user.token,
            });
        }
    }
    Ok(())
}

fn embedded_storage(config: &Config) -> Result<(), DemoGuardError> {
    if config.storage.database == "sqlite" && config.storage.blobs == "local" {
        Ok(())
    } else {
        Err(DemoGuardError::SharedStorage)
    }
}

/// True if a hub has already written its index, blobs or key into the directory.
fn holds_a_hub(config: &Config) -> bool {
    [config.sqlite_path(), config.blob_dir(), config.key_file()]
        .iter()
        .any(|p| p.exists())
}

fn write_marker(dir: &Path) -> Result<(), DemoGuardError> {
    let path = dir.join(MARKER);
    let marker = |source| DemoGuardError::Marker {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(marker)?;
    std::fs::write(&path, MARKER_TEXT).map_err(marker)?;
    tracing::info!(dir = %dir.display(), "marked a new data directory as the demo's");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_owned(),
            ..Config::default()
        }
    }

    #[test]
    fn a_fresh_directory_becomes_the_demos_and_stays_it() {
        let tmp = tempfile::tempdir().unwrap();
        let c = config(&tmp.path().join("hub-data"));
        check_data_dir(&c, true).unwrap();
        assert!(c.data_dir.join(MARKER).is_file());
        std::fs::write(c.sqlite_path(), b"").unwrap();
        check_data_dir(&c, true).expect("the second demo run");
        let err = check_data_dir(&c, false).unwrap_err();
        assert!(matches!(err, DemoGuardError::DemoDirectory { .. }), "{err}");
        assert!(err.to_string().contains("--demo"), "{err}");
    }

    #[test]
    fn the_demo_refuses_a_real_hubs_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let c = config(tmp.path());
        std::fs::write(c.key_file(), b"0123").unwrap();
        let err = check_data_dir(&c, true).unwrap_err();
        assert!(
            matches!(err, DemoGuardError::NotADemoDirectory { .. }),
            "{err}"
        );
        assert!(!c.data_dir.join(MARKER).exists());
        check_data_dir(&c, false).expect("the real hub serves it");
    }

    #[test]
    fn the_demo_runs_only_on_embedded_storage() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = config(tmp.path());
        c.storage.database = "postgres://hub:secret@db/hub".into();
        let err = check_data_dir(&c, true).unwrap_err().to_string();
        assert!(err.contains("storage.database"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
