//! Opening the hub from its configuration: storage, catalogue, pseudonym key, extensions.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::domain::catalog::Catalog;
use crate::domain::pseudonym::Pseudonymizer;
use crate::domain::recognition::{RecognitionExtension, Region};
use crate::domain::{Extension, Hub, staging};
use crate::storage::blob_s3::{S3BlobStore, S3Config};
use crate::storage::postgres::PostgresBackend;
use crate::storage::{BlobStore, LocalBlobStore, SqlBackend, Store, sqlite::SqliteBackend};

/// Opens (creating if needed) everything the configuration names and builds the hub.
pub async fn open(config: Config) -> anyhow::Result<Hub> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let removed = staging::sweep(&config.staging_dir()).with_context(|| {
        format!(
            "cannot clean staging directory {}",
            config.staging_dir().display()
        )
    })?;
    if removed > 0 {
        tracing::info!(removed, "deleted partial uploads left by an earlier run");
    }
    let db = open_database(&config).await?;
    let blobs = open_blobs(&config)?;
    let store = Store::open(db, blobs)
        .await
        .context("cannot prepare the index database")?;
    let catalog = Catalog::load(config.catalog.path.as_deref())?;
    let key = load_or_create_key(&config.key_file())?;
    let pseudonyms =
        Pseudonymizer::new(key, config.privacy.key_version).map_err(anyhow::Error::msg)?;
    let region = Region::new(&config.region.time_zone).map_err(anyhow::Error::msg)?;
    let extensions = extensions(&catalog, region);
    Ok(Hub::new(store, config, catalog, pseudonyms, extensions))
}

/// The extensions built into this hub.
fn extensions(catalog: &Catalog, region: Region) -> Vec<Arc<dyn Extension>> {
    vec![Arc::new(RecognitionExtension::new(catalog.clone(), region))]
}

async fn open_database(config: &Config) -> anyhow::Result<Arc<dyn SqlBackend>> {
    if config.storage.database == "sqlite" {
        let path = config.sqlite_path();
        return Ok(Arc::new(SqliteBackend::open(&path)?));
    }
    Ok(Arc::new(
        PostgresBackend::connect(&config.storage.database).await?,
    ))
}

fn open_blobs(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    if config.storage.blobs == "local" {
        return Ok(Arc::new(LocalBlobStore::open(&config.blob_dir())?));
    }
    let s3 = S3Config::from_url(&config.storage.blobs, |k| std::env::var(k).ok())?;
    Ok(Arc::new(S3BlobStore::open(&s3)?))
}

/// Reads the pseudonym key, creating a random one (readable by the owner only) on first start.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use rand::RngCore;
            use std::io::Write;
            let mut key = vec![0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .with_context(|| format!("cannot create pseudonym key {}", path.display()))?;
            file.write_all(&key)?;
            file.sync_all()?;
            tracing::warn!(path = %path.display(), "created a new pseudonym key: back it up, and give every hub of this region the same key");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read pseudonym key {}", path.display())),
    }
}
