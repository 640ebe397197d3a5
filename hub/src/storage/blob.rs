//! Content-addressed blob storage: stored instances and derived files, keyed by their SHA-256.
//!
//! Content addressing makes writes idempotent (the same bytes land on the same key, so a repeated
//! upload stores nothing new) and lets every read be checked against its key.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;

use super::sql::StorageError;

/// Where blobs live.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Moves a complete local file (not necessarily fsynced) into the store under `sha256`, its
    /// lower-case hex SHA-256. Durable when this returns. The file is gone afterwards.
    async fn put_file(&self, file: &Path, sha256: &str) -> Result<(), StorageError>;

    /// Stores bytes; returns their key. Durable when this returns.
    async fn put_bytes(&self, bytes: Vec<u8>) -> Result<String, StorageError>;

    /// The blob's size in bytes.
    async fn size(&self, key: &str) -> Result<u64, StorageError>;

    /// Reads `len` bytes from `offset` (fewer at the end of the blob).
    async fn read_range(&self, key: &str, offset: u64, len: usize)
    -> Result<Vec<u8>, StorageError>;

    /// A local file holding the blob: the blob itself for a local store, else a downloaded copy in
    /// `scratch`. The worker reads instances from such a path.
    async fn local_copy(&self, key: &str, scratch: &Path) -> Result<PathBuf, StorageError>;

    /// True if the blob exists.
    async fn exists(&self, key: &str) -> Result<bool, StorageError>;

    /// Keys of the blobs of fan-out group `group` (keys starting with its two hex digits) last
    /// written before `before`: what the orphan collector looks at, a group at a time so that no
    /// listing holds the whole store. A store that cannot list returns none (collects nothing).
    async fn written_before(
        &self,
        _group: u8,
        _before: SystemTime,
    ) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }

    /// When the blob was last written (a put of bytes it already holds counts), `None` if it does
    /// not exist.
    async fn written_at(&self, _key: &str) -> Result<Option<SystemTime>, StorageError> {
        Ok(None)
    }

    /// Removes a blob; nothing happens if it does not exist. Only the orphan collector calls it.
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        Err(StorageError::Blob(format!(
            "this blob store cannot delete blob {key}"
        )))
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Checks that a key is a SHA-256 in lower-case hex, so it can never name a path outside the store.
pub fn check_key(key: &str) -> Result<(), StorageError> {
    let ok = key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StorageError::Blob(format!("invalid blob key {key:?}")))
    }
}

/// Blobs as files under a local directory: `<root>/ab/cd/<sha256>`.
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Opens (creating if needed) a store rooted at `root`, with its 256 first-level fan-out
    /// directories made durable up front, so that a put never has to fsync the root.
    pub fn open(root: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(root)
            .map_err(|e| StorageError::Blob(format!("cannot create {}: {e}", root.display())))?;
        let mut created = false;
        for i in 0..=255u8 {
            let dir = root.join(format!("{i:02x}"));
            match std::fs::create_dir(&dir) {
                Ok(()) => created = true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("cannot create", &dir, e)),
            }
        }
        if created {
            fsync_path(root)?;
        }
        Ok(LocalBlobStore {
            root: root.to_owned(),
        })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StorageError> {
        check_key(key)?;
        Ok(self.root.join(&key[0..2]).join(&key[2..4]).join(key))
    }
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StorageError {
    StorageError::Blob(format!("{what} {}: {e}", path.display()))
}

/// fsyncs a file (its contents) or a directory (a rename or create inside it).
fn fsync_path(path: &Path) -> Result<(), StorageError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_err("cannot fsync", path, e))
}

/// Creates `dir` and any missing parents; returns the parents whose entries changed (the parent
/// of each directory created), deepest first, to be fsynced.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, StorageError> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.is_dir() {
        missing.push(at);
        match at.parent() {
            Some(p) => at = p,
            None => break,
        }
    }
    let mut changed = Vec::with_capacity(missing.len());
    for d in missing.iter().rev() {
        match std::fs::create_dir(d) {
            // AlreadyExists: created by a concurrent put, which may not have fsynced the parent
            // yet; so fsync it here too.
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("cannot create", d, e)),
        }
        if let Some(parent) = d.parent() {
            changed.push(parent.to_owned());
        }
    }
    changed.reverse();
    Ok(changed)
}

/// SHA-256 of a file's contents, or `None` if it cannot be read.
fn file_sha256(path: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hex::encode(hasher.finalize()))
}

/// Moves `file` (complete, not necessarily fsynced) to `dest` (same file system, named by the
/// content's SHA-256 `key`), creating the fan-out directories; returns what must be fsynced before
/// the blob is durable: the parent of every directory created for it, its directory and the file
/// itself (last). [`LocalBlobStore::put_file`] fsyncs them all at once.
///
/// Each fsync costs about one device cache flush when issued alone, while fsyncs issued together
/// can share the journal commit that carries them (`bench/dimse/fsync_probe.py` on the sandbox's
/// ext4 volume while its disk was slow: file and directory fsynced from two threads at once,
/// 1,119–1,790 pairs/s, one after the other 138–600/s; on a quiet disk about the same either
/// way). Hence the rename comes first: a crash before the fsyncs complete can leave an
/// incomplete file under its key, but nothing points at it (the index is written only after this
/// put returns) and the next put of that key checks the contents and replaces it.
fn install(file: &Path, dest: &Path, key: &str) -> Result<Vec<PathBuf>, StorageError> {
    let dir = dest.parent().expect("blob paths have a parent");
    let mut to_sync = create_dirs(dir)?;
    // Checked, not trusted: a file under its key written by something else than this function
    // (a copied store, a tool, a put cut short by a crash) is replaced unless its contents match.
    if dest.exists() && file_sha256(dest).as_deref() == Some(key) {
        // Same key, same bytes: already stored (or being stored by a concurrent put, whose fsyncs
        // may not have completed; fsyncing here too keeps this put's promise on its own). Marked
        // as written now, so that the orphan collector's grace period starts again.
        let _ = std::fs::remove_file(file);
        let _ = std::fs::File::options()
            .write(true)
            .open(dest)
            .and_then(|f| f.set_modified(SystemTime::now()));
    } else {
        std::fs::rename(file, dest).map_err(|e| io_err("cannot move blob to", dest, e))?;
    }
    to_sync.push(dir.to_owned());
    to_sync.push(dest.to_owned());
    Ok(to_sync)
}

/// Fsyncs every path (files and directories) at the same time, so that they can share journal
/// commits: the last on this thread, each other one on another thread of the blocking `pool`; the
/// first error wins. Call from the blocking pool: it waits for them all.
fn fsync_together(pool: &tokio::runtime::Handle, paths: &[PathBuf]) -> Result<(), StorageError> {
    let Some((here, others)) = paths.split_last() else {
        return Ok(());
    };
    let (done, results) = std::sync::mpsc::channel();
    for path in others {
        let (done, path) = (done.clone(), path.clone());
        pool.spawn_blocking(move || {
            let _ = done.send(fsync_path(&path));
        });
    }
    drop(done);
    let mut result = fsync_path(here);
    let mut heard = 0;
    for other in results {
        heard += 1;
        if result.is_ok() {
            result = other;
        }
    }
    if result.is_ok() && heard < others.len() {
        // A task dropped unrun (the runtime shutting down): its path was not fsynced.
        result = Err(StorageError::Blob(
            "an fsync did not run: the hub is shutting down".into(),
        ));
    }
    result
}

/// Installs the file under its key and makes it durable, on the blocking pool: one hand-off for
/// the rename and the file's fsync, its directories fsynced alongside on other threads.
async fn install_durably(file: PathBuf, dest: PathBuf, key: String) -> Result<(), StorageError> {
    let pool = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let to_sync = install(&file, &dest, &key)?;
        fsync_together(&pool, &to_sync)
    })
    .await
    .map_err(|e| StorageError::Blob(e.to_string()))?
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put_file(&self, file: &Path, sha256: &str) -> Result<(), StorageError> {
        let dest = self.path_of(sha256)?;
        install_durably(file.to_owned(), dest, sha256.to_owned()).await
    }

    async fn put_bytes(&self, bytes: Vec<u8>) -> Result<String, StorageError> {
        let key = sha256_hex(&bytes);
        let dest = self.path_of(&key)?;
        let root = self.root.clone();
        let path = tokio::task::spawn_blocking(move || {
            let mut tmp = tempfile::NamedTempFile::new_in(&root)
                .map_err(|e| io_err("cannot create temp file in", &root, e))?;
            std::io::Write::write_all(&mut tmp, &bytes)
                .map_err(|e| io_err("cannot write", tmp.path(), e))?;
            let (_, path) = tmp.keep().map_err(|e| StorageError::Blob(e.to_string()))?;
            Ok::<_, StorageError>(path)
        })
        .await
        .map_err(|e| StorageError::Blob(e.to_string()))??;
        let installed = install_durably(path.clone(), dest, key.clone()).await;
        if installed.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        installed.map(|()| key)
    }

    async fn size(&self, key: &str) -> Result<u64, StorageError> {
        let path = self.path_of(key)?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| io_err("cannot stat blob", &path, e))?;
        Ok(meta.len())
    }

    async fn read_range(
        &self,
        key: &str,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, StorageError> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let path = self.path_of(key)?;
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| io_err("cannot open blob", &path, e))?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(|e| io_err("cannot seek blob", &path, e))?;
        let mut buf = Vec::with_capacity(len);
        file.take(len as u64)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| io_err("cannot read blob", &path, e))?;
        Ok(buf)
    }

    async fn local_copy(&self, key: &str, _scratch: &Path) -> Result<PathBuf, StorageError> {
        let path = self.path_of(key)?;
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Err(StorageError::Blob(format!(
                "blob {key} is missing from {}",
                self.root.display()
            )));
        }
        Ok(path)
    }

    async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        let path = self.path_of(key)?;
        Ok(tokio::fs::try_exists(&path).await.unwrap_or(false))
    }

    async fn written_before(
        &self,
        group: u8,
        before: SystemTime,
    ) -> Result<Vec<String>, StorageError> {
        let dir = self.root.join(format!("{group:02x}"));
        tokio::task::spawn_blocking(move || keys_written_before(&dir, before))
            .await
            .map_err(|e| StorageError::Blob(e.to_string()))?
    }

    async fn written_at(&self, key: &str) -> Result<Option<SystemTime>, StorageError> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(meta.modified().ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("cannot stat blob", &path, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("cannot remove blob", &path, e)),
        }
    }
}

/// The blob keys under a first-level fan-out directory (`<root>/ab/*/<key>`) whose files were
/// last written before `before`. Files that are not named by a key in their place are skipped.
fn keys_written_before(dir: &Path, before: SystemTime) -> Result<Vec<String>, StorageError> {
    let mut keys = Vec::new();
    let subdirs = match std::fs::read_dir(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(keys),
        Err(e) => return Err(io_err("cannot list", dir, e)),
    };
    for sub in subdirs.flatten() {
        let Ok(files) = std::fs::read_dir(sub.path()) else {
            continue;
        };
        let prefix = format!("{}{}", dir_name(dir), sub.file_name().to_string_lossy());
        for entry in files.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if check_key(&name).is_err() || !name.starts_with(&prefix) {
                continue;
            }
            // A file removed meanwhile has no metadata: not a candidate.
            let written = entry.metadata().and_then(|m| m.modified());
            if written.is_ok_and(|t| t < before) {
                keys.push(name);
            }
        }
    }
    Ok(keys)
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_truncated_leftover_under_a_key_is_replaced_and_a_complete_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(&dir.path().join("blobs")).unwrap();
        let bytes = b"the complete contents of an instance".to_vec();
        let key = sha256_hex(&bytes);
        // A file under the key that does not hold the key's bytes (not written by a put).
        let dest = store.path_of(&key).unwrap();
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, &bytes[..5]).unwrap();

        let staged = dir.path().join("staged");
        std::fs::write(&staged, &bytes).unwrap();
        store.put_file(&staged, &key).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), bytes);
        assert!(!staged.exists(), "the staged file was moved");

        // The same bytes again: kept as they are, the new copy removed.
        let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dest).unwrap());
        std::fs::write(&staged, &bytes).unwrap();
        store.put_file(&staged, &key).await.unwrap();
        assert!(!staged.exists());
        let after = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dest).unwrap());
        assert_eq!(inode, after, "a complete blob is not replaced");
        assert_eq!(store.put_bytes(bytes.clone()).await.unwrap(), key);
        assert_eq!(std::fs::read(&dest).unwrap(), bytes);
        assert_eq!(
            std::fs::read_dir(dir.path().join("blobs"))
                .unwrap()
                .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
                .count(),
            0,
            "no temporary file is left in the store's root"
        );
    }
}
