//! Opening the hub from its configuration: storage, keys, hash chains, catalogue, extensions.

use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::domain::catalog::Catalog;
use crate::domain::pseudonym::Pseudonymizer;
use crate::domain::recognition::{RecognitionExtension, Region};
use crate::domain::{Extension, Hub, integrity, staging};
use crate::keys;
use crate::storage::blob_s3::{S3BlobStore, S3Config};
use crate::storage::postgres::PostgresBackend;
use crate::storage::{
    BlobStore, LocalBlobStore, SqlBackend, Store, migrate, sqlite::SqliteBackend,
};

/// Opens (creating if needed) everything the configuration names and builds the hub. Refuses to
/// start when a hash chain is broken (see [`refuse_broken_chains`]).
pub async fn open(config: Config) -> anyhow::Result<Hub> {
    let (store, pseudonyms) = open_store(&config).await?;
    refuse_broken_chains(&store).await?;
    let catalog = Catalog::load(config.catalog.path.as_deref())?;
    let region = Region::new(&config.region.time_zone).map_err(anyhow::Error::msg)?;
    let extensions = extensions(&catalog, region);
    Ok(Hub::new(store, config, catalog, pseudonyms, extensions))
}

/// Opens the index and blobs with their keys, without serving: the schema brought up to date, the
/// integrity and pseudonym keys checked against the fingerprints the index recorded, rows from
/// before the hash chains linked. `hub verify` and `hub key rotate` start here.
pub async fn open_store(config: &Config) -> anyhow::Result<(Store, Pseudonymizer)> {
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
    let db = open_database(config).await?;
    let blobs = open_blobs(config)?;
    migrate::migrate(db.as_ref())
        .await
        .context("cannot prepare the index database")?;
    let chain_key = keys::integrity_key(db.as_ref(), &config.integrity_key_file()).await?;
    let store = Store::open(db, blobs, chain_key)
        .await
        .context("cannot prepare the index database")?;
    let linked = integrity::backfill(&store)
        .await
        .context("cannot link the records written before the hash chains")?;
    if linked > 0 {
        tracing::info!(
            linked,
            "linked the existing audit, report and ledger rows into their hash chains"
        );
    }
    let pseudonyms = keys::pseudonyms(&store, config).await?;
    Ok((store, pseudonyms))
}

/// Walks every hash chain and refuses to serve if one is broken: a hub must not serve (or go on
/// appending to) records that were altered behind its back.
pub async fn refuse_broken_chains(store: &Store) -> anyhow::Result<()> {
    let reports = integrity::verify(store)
        .await
        .context("cannot verify the hash chains")?;
    let broken: Vec<String> = reports
        .iter()
        .filter(|r| r.broken.is_some())
        .map(ToString::to_string)
        .collect();
    if broken.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to start: records were altered outside the hub.\n  {}\n\
         Run `hub verify` to see every chain, keep a copy of the data directory as evidence, then restore \
         the index from the last backup that `hub verify` passes (docs/INTEGRITY.md)",
        broken.join("\n  ")
    )
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
