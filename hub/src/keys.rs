//! The hub's two secrets, each in its own file beside (never inside) the index: the pseudonym key
//! and the integrity key of the hash chains.
//!
//! The index keeps a fingerprint of each (`hub_meta`), written when the key is first used. A key
//! file that is missing for an index that already has patients or chains, or whose fingerprint is
//! not the recorded one, stops the hub with a message saying which file and what to do: a new or
//! wrong pseudonym key would silently stop result recognition matching patients, a wrong
//! integrity key would make every record look altered.
//!
//! Pseudonym keys rotate ([`rotate`]): every stored pseudonym is re-keyed in one transaction, and
//! the old key is kept as `<key file>.v<version>` because a pseudonym of version n is computed
//! through every key up to n (see [`crate::domain::pseudonym`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::Config;
use crate::domain::pseudonym::Pseudonymizer;
use crate::params;
use crate::storage::chain::{self, ChainKey};
use crate::storage::{SqlBackend, SqlTx, Store, TxMode};

/// `hub_meta` name of the integrity key's fingerprint.
const INTEGRITY_FINGERPRINT: &str = "integrity.key_fingerprint";
/// `hub_meta` name of the pseudonym key versions, oldest first, comma-separated.
const PSEUDONYM_VERSIONS: &str = "pseudonym.versions";

fn pseudonym_fingerprint_name(version: i64) -> String {
    format!("pseudonym.fingerprint.{version}")
}

/// Reads a secret file; `None` if it does not exist.
pub fn read_secret(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read key file {}", path.display())),
    }
}

/// Creates a secret file with 32 random bytes, readable by the owner only, durably.
pub fn create_secret(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
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
        .with_context(|| format!("cannot create {what} {}", path.display()))?;
    file.write_all(&key)?;
    file.sync_all()?;
    sync_dir(path)?;
    tracing::warn!(path = %path.display(), "created a new {what}: back it up, and give every hub of this region the same one");
    Ok(key)
}

fn sync_dir(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// `<path><suffix>`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The integrity key for this index: read from `path` (created on the index's first start) and
/// checked against the fingerprint the index recorded.
pub async fn integrity_key(db: &dyn SqlBackend, path: &Path) -> anyhow::Result<ChainKey> {
    let mut tx = db.begin(TxMode::Write).await?;
    let recorded = chain::meta(tx.as_mut(), INTEGRITY_FINGERPRINT).await?;
    let key = match (read_secret(path)?, &recorded) {
        (Some(k), _) => k,
        (None, Some(fp)) => bail!(
            "the integrity key {} is missing, but this index was chained with a key of fingerprint {fp}. \
             Restore the key file from your backup (or point [integrity] key_file at it); a new key would make every record look altered",
            path.display()
        ),
        (None, None) => create_secret(path, "integrity key")?,
    };
    let key = ChainKey::new(key)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("integrity key {}", path.display()))?;
    match recorded {
        Some(fp) if fp != key.fingerprint() => bail!(
            "the integrity key {} is not the key this index was chained with (the index expects fingerprint {fp}, the file has {}). \
             Point [integrity] key_file at the right key, or restore it from your backup",
            path.display(),
            key.fingerprint()
        ),
        Some(_) => {}
        None => chain::set_meta(tx.as_mut(), INTEGRITY_FINGERPRINT, &key.fingerprint()).await?,
    }
    tx.commit().await?;
    Ok(key)
}

/// The pseudonym keys of this index: the first key and every rotation's, each checked against
/// its recorded fingerprint. On an index that has none recorded yet, the key file's fingerprint
/// is recorded (the key is created only if the index holds no patient yet).
pub async fn pseudonyms(store: &Store, config: &Config) -> anyhow::Result<Pseudonymizer> {
    let path = config.key_file();
    let mut tx = store.write().await?;
    let versions = chain::meta(tx.as_mut(), PSEUDONYM_VERSIONS).await?;
    let p = match versions {
        None => first_pseudonym_key(tx.as_mut(), &path, config.privacy.key_version).await?,
        Some(list) => keyring(tx.as_mut(), &path, &list).await?,
    };
    tx.commit().await?;
    if p.version() != config.privacy.key_version {
        tracing::info!(
            index = p.version(),
            configured = config.privacy.key_version,
            "the index's pseudonym key version is used; privacy.key_version applies only to a new index"
        );
    }
    Ok(p)
}

async fn first_pseudonym_key(
    tx: &mut dyn SqlTx,
    path: &Path,
    version: i64,
) -> anyhow::Result<Pseudonymizer> {
    let key = match read_secret(path)? {
        Some(k) => k,
        None if has_patients(tx).await? => bail!(
            "the pseudonym key {} is missing, but this index already holds patients. Restore the key file \
             from your backup (or point [privacy] key_file at it); a new key would silently stop result recognition matching them",
            path.display()
        ),
        None => create_secret(path, "pseudonym key")?,
    };
    chain::set_meta(tx, PSEUDONYM_VERSIONS, &version.to_string()).await?;
    let fp_name = pseudonym_fingerprint_name(version);
    chain::set_meta(tx, &fp_name, &Pseudonymizer::fingerprint(&key)).await?;
    Pseudonymizer::new(key, version).map_err(anyhow::Error::msg)
}

async fn has_patients(tx: &mut dyn SqlTx) -> anyhow::Result<bool> {
    Ok(tx
        .query_opt("SELECT 1 FROM cases LIMIT 1", params![])
        .await?
        .is_some())
}

fn parse_versions(list: &str) -> anyhow::Result<Vec<i64>> {
    list.split(',')
        .map(|v| v.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("the index's pseudonym key versions {list:?} are unreadable"))
}

async fn keyring(tx: &mut dyn SqlTx, path: &Path, list: &str) -> anyhow::Result<Pseudonymizer> {
    let versions = parse_versions(list)?;
    let mut pseudonymizer: Option<Pseudonymizer> = None;
    for (i, &v) in versions.iter().enumerate() {
        let current = i + 1 == versions.len();
        let fp = chain::meta(tx, &pseudonym_fingerprint_name(v))
            .await?
            .with_context(|| {
                format!("the index names pseudonym key version {v} but has no fingerprint for it")
            })?;
        let key = find_key(path, v, &fp, current)?;
        pseudonymizer = Some(
            match pseudonymizer {
                None => Pseudonymizer::new(key, v),
                Some(p) => p.rotated(key, v),
            }
            .map_err(anyhow::Error::msg)?,
        );
        if current && i > 0 {
            finish_rotation(path, versions[i - 1], &fp)?;
        }
    }
    pseudonymizer.context("the index lists no pseudonym key version")
}

/// Where a version's key may be: the current one in the key file (or, if a rotation stopped
/// between its commit and its renames, in `<key file>.next`); an older one in `<key file>.v<n>`
/// (or still in the key file, same case).
fn candidates(path: &Path, version: i64, current: bool) -> Vec<PathBuf> {
    if current {
        vec![path.to_owned(), beside(path, ".next")]
    } else {
        vec![beside(path, &format!(".v{version}")), path.to_owned()]
    }
}

fn find_key(
    path: &Path,
    version: i64,
    fingerprint: &str,
    current: bool,
) -> anyhow::Result<Vec<u8>> {
    let places = candidates(path, version, current);
    for place in &places {
        if let Some(key) = read_secret(place)?
            && Pseudonymizer::fingerprint(&key) == fingerprint
        {
            return Ok(key);
        }
    }
    let names: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "pseudonym key version {version} (fingerprint {fingerprint}) is not in {}: the key file is missing or is another key. \
         Restore it from your backup; without it result recognition cannot match the patients already on file",
        names.join(" or ")
    )
}

/// Completes the file renames of a rotation whose database commit happened: the old key to
/// `<key file>.v<old>`, the new one from `<key file>.next` to the key file.
fn finish_rotation(path: &Path, old_version: i64, current_fp: &str) -> anyhow::Result<()> {
    let next = beside(path, ".next");
    let Some(key) = read_secret(&next)? else {
        return Ok(());
    };
    if Pseudonymizer::fingerprint(&key) != current_fp {
        return Ok(());
    }
    let retired = beside(path, &format!(".v{old_version}"));
    if !retired.exists() && path.exists() {
        std::fs::rename(path, &retired).with_context(|| {
            format!("cannot keep the old pseudonym key as {}", retired.display())
        })?;
    }
    std::fs::rename(&next, path)
        .with_context(|| format!("cannot move the new pseudonym key to {}", path.display()))?;
    sync_dir(path)?;
    tracing::info!(path = %path.display(), "finished a pseudonym key rotation that had stopped half-way");
    Ok(())
}

/// Rotates the pseudonym key: a new key, every stored pseudonym re-keyed with it in one
/// transaction, the old key kept as `<key file>.v<old version>`. Returns the new version.
/// Every hub serving this index must be stopped meanwhile.
pub async fn rotate(
    store: &Store,
    config: &Config,
    current: &Pseudonymizer,
) -> anyhow::Result<i64> {
    let path = config.key_file();
    let next = beside(&path, ".next");
    // A `.next` left by a rotation that stopped before its commit was never used.
    if next.exists() {
        std::fs::remove_file(&next)?;
    }
    let key = create_secret(&next, "pseudonym key")?;
    let version = current.version() + 1;
    let mut tx = store.write().await?;
    let rekeyed = rekey_all(tx.as_mut(), &key, version).await?;
    let list = chain::meta(tx.as_mut(), PSEUDONYM_VERSIONS)
        .await?
        .context("the index records no pseudonym key version")?;
    chain::set_meta(
        tx.as_mut(),
        PSEUDONYM_VERSIONS,
        &format!("{list},{version}"),
    )
    .await?;
    let fp = Pseudonymizer::fingerprint(&key);
    chain::set_meta(tx.as_mut(), &pseudonym_fingerprint_name(version), &fp).await?;
    tx.commit().await?;
    finish_rotation(&path, current.version(), &fp)?;
    tracing::info!(version, rekeyed, "pseudonym key rotated");
    Ok(version)
}

/// Re-keys every stored pseudonym (cases, recognition entries, content identity); the audit
/// trail keeps the pseudonyms it was written with. Returns how many patients.
async fn rekey_all(tx: &mut dyn SqlTx, key: &[u8], version: i64) -> anyhow::Result<usize> {
    let olds = tx
        .query(
            "SELECT patient_key FROM cases UNION SELECT patient_key FROM recognition_entries
             UNION SELECT patient_key FROM instance_content
             UNION SELECT patient_key FROM recognition_checks",
            params![],
        )
        .await?;
    let olds: Vec<String> = olds
        .iter()
        .map(|r| r.text(0))
        .filter(|k| !k.is_empty())
        .collect();
    for old in &olds {
        let new = Pseudonymizer::rekey(key, old);
        tx.execute(
            "UPDATE cases SET patient_key = $2, patient_key_version = $3 WHERE patient_key = $1",
            params![old, &new, version],
        )
        .await?;
        for table in [
            "recognition_entries",
            "instance_content",
            "recognition_checks",
        ] {
            let sql = format!("UPDATE {table} SET patient_key = $2 WHERE patient_key = $1");
            tx.execute(&sql, params![old, &new]).await?;
        }
    }
    Ok(olds.len())
}
