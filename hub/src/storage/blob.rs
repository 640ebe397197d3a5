//! Content-addressed blob storage: stored instances and derived files, keyed by their SHA-256.
//!
//! Content addressing makes writes idempotent (the same bytes land on the same key, so a repeated
//! upload stores nothing new) and lets every read be checked against its key.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::sql::StorageError;

/// Where blobs live.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Moves a complete local file (already fsynced by the caller) into the store under `sha256`,
    /// its lower-case hex SHA-256. Durable when this returns. The file is gone afterwards.
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
    /// Opens (creating if needed) a store rooted at `root`.
    pub fn open(root: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(root)
            .map_err(|e| StorageError::Blob(format!("cannot create {}: {e}", root.display())))?;
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

/// Makes a rename or create inside `dir` durable.
fn fsync_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("cannot fsync directory", dir, e))
}

/// Renames `file` to `dest` (same file system), creating the fan-out directories, durably.
fn install(file: &Path, dest: &Path) -> Result<(), StorageError> {
    let dir = dest.parent().expect("blob paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| io_err("cannot create", dir, e))?;
    if dest.exists() {
        // Same key, same bytes: already stored.
        let _ = std::fs::remove_file(file);
        return Ok(());
    }
    std::fs::rename(file, dest).map_err(|e| io_err("cannot move blob to", dest, e))?;
    fsync_dir(dir)
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put_file(&self, file: &Path, sha256: &str) -> Result<(), StorageError> {
        let dest = self.path_of(sha256)?;
        let file = file.to_owned();
        tokio::task::spawn_blocking(move || install(&file, &dest))
            .await
            .map_err(|e| StorageError::Blob(e.to_string()))?
    }

    async fn put_bytes(&self, bytes: Vec<u8>) -> Result<String, StorageError> {
        let key = sha256_hex(&bytes);
        let dest = self.path_of(&key)?;
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            if dest.exists() {
                return Ok(());
            }
            let mut tmp = tempfile::NamedTempFile::new_in(&root)
                .map_err(|e| io_err("cannot create temp file in", &root, e))?;
            std::io::Write::write_all(&mut tmp, &bytes)
                .map_err(|e| io_err("cannot write", tmp.path(), e))?;
            tmp.as_file()
                .sync_all()
                .map_err(|e| io_err("cannot fsync", tmp.path(), e))?;
            let (_, path) = tmp.keep().map_err(|e| StorageError::Blob(e.to_string()))?;
            install(&path, &dest)
        })
        .await
        .map_err(|e| StorageError::Blob(e.to_string()))??;
        Ok(key)
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
}
