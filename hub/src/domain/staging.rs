//! Files while they arrive: written to the staging directory chunk by chunk (never held whole in
//! memory), hashed on the way, fsynced, and only then handed to [`super::ingest`].
//!
//! A file that is abandoned half-way (client gone, hub killed) is a temporary file nobody points at;
//! it is deleted on drop, and whatever a crash leaves behind is swept at start-up.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Why a file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// Not DICOM and not a known ECG record format.
    NotDicom,
    /// Truncated or unparsable.
    Malformed,
    /// The client's SHA-256 or size does not match what arrived.
    ChecksumMismatch,
    /// A required attribute is missing.
    MissingAttribute,
    /// The SOP Instance UID is stored with other content.
    Conflict,
    /// The study belongs to another institution.
    ForeignStudy,
    /// Over the size limit.
    TooLarge,
    /// The client broke the upload protocol.
    Protocol,
    /// Storage failed; try again.
    Storage,
}

/// A refused file, with a message naming it and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// Machine-readable reason.
    pub reason: RejectReason,
    /// What was wrong, for a person.
    pub message: String,
}

impl Rejection {
    /// A rejection.
    pub fn new(reason: RejectReason, message: impl Into<String>) -> Self {
        Rejection {
            reason,
            message: message.into(),
        }
    }
}

/// A complete, durable file in the staging directory, ready to ingest.
#[derive(Debug)]
pub struct StagedFile {
    /// Where it is. Deleted on drop unless ingest moved it into the blob store.
    pub path: tempfile::TempPath,
    /// The name the sender gave it (used in messages).
    pub file_name: String,
    /// Its size.
    pub size: u64,
    /// Its lower-case hex SHA-256.
    pub sha256: String,
}

/// A file being received.
pub struct StagingFile {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    hasher: Sha256,
    written: u64,
    max_bytes: u64,
    file_name: String,
}

/// Starts receiving a file named `file_name` into `dir`.
pub async fn begin(dir: &Path, file_name: &str, max_bytes: u64) -> Result<StagingFile, Rejection> {
    let storage = |e: std::io::Error| {
        Rejection::new(
            RejectReason::Storage,
            format!(
                "{file_name}: cannot create a staging file in {}: {e}",
                dir.display()
            ),
        )
    };
    tokio::fs::create_dir_all(dir).await.map_err(storage)?;
    let temp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(dir)
        .map_err(storage)?;
    let (std_file, path) = temp.into_parts();
    Ok(StagingFile {
        file: tokio::fs::File::from_std(std_file),
        path,
        hasher: Sha256::new(),
        written: 0,
        max_bytes,
        file_name: file_name.to_owned(),
    })
}

impl StagingFile {
    /// The file's name as the sender gave it.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// Appends the next bytes.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), Rejection> {
        self.written += chunk.len() as u64;
        if self.written > self.max_bytes {
            return Err(Rejection::new(
                RejectReason::TooLarge,
                format!(
                    "{}: larger than the hub accepts ({} bytes)",
                    self.file_name, self.max_bytes
                ),
            ));
        }
        self.hasher.update(chunk);
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| self.storage_error(e))
    }

    /// Completes the file: checks the sender's SHA-256 and size (when given) and makes it durable.
    pub async fn finish(
        mut self,
        expected_sha256: Option<&str>,
        expected_size: Option<u64>,
    ) -> Result<StagedFile, Rejection> {
        let sha256 = hex::encode(self.hasher.clone().finalize());
        if let Some(size) = expected_size.filter(|s| *s != self.written) {
            return Err(Rejection::new(
                RejectReason::ChecksumMismatch,
                format!(
                    "{}: announced {size} bytes but {} arrived",
                    self.file_name, self.written
                ),
            ));
        }
        if let Some(expected) = expected_sha256.filter(|e| e.trim().to_ascii_lowercase() != sha256)
        {
            return Err(Rejection::new(
                RejectReason::ChecksumMismatch,
                format!(
                    "{}: SHA-256 mismatch (sent {}, received bytes hash to {sha256})",
                    self.file_name,
                    expected.trim()
                ),
            ));
        }
        self.file.flush().await.map_err(|e| self.storage_error(e))?;
        self.file
            .sync_all()
            .await
            .map_err(|e| self.storage_error(e))?;
        Ok(StagedFile {
            path: self.path,
            file_name: self.file_name,
            size: self.written,
            sha256,
        })
    }

    fn storage_error(&self, e: std::io::Error) -> Rejection {
        Rejection::new(
            RejectReason::Storage,
            format!("{}: cannot write staging file: {e}", self.file_name),
        )
    }
}

/// Deletes staging files left by a crash. Called at start-up, before anything is received.
pub fn sweep(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    for entry in entries {
        let path: PathBuf = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("upload-"))
        {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checksum_and_size_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = begin(dir.path(), "a.dcm", 100).await.unwrap();
        f.write(b"hello ").await.unwrap();
        f.write(b"world").await.unwrap();
        let good = crate::storage::blob::sha256_hex(b"hello world");
        let staged = f.finish(Some(&good), Some(11)).await.unwrap();
        assert_eq!(std::fs::read(&staged.path).unwrap(), b"hello world");

        let mut f = begin(dir.path(), "b.dcm", 100).await.unwrap();
        f.write(b"hello").await.unwrap();
        let err = f.finish(Some(&good), None).await.unwrap_err();
        assert_eq!(err.reason, RejectReason::ChecksumMismatch);
        assert!(
            err.message.starts_with("b.dcm: SHA-256 mismatch"),
            "{}",
            err.message
        );

        let mut f = begin(dir.path(), "big.dcm", 4).await.unwrap();
        assert_eq!(
            f.write(b"hello").await.unwrap_err().reason,
            RejectReason::TooLarge
        );
    }

    #[tokio::test]
    async fn abandoned_files_disappear() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = begin(dir.path(), "a.dcm", 100).await.unwrap();
        f.write(b"partial").await.unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
