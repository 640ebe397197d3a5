//! Files while they arrive: written to the staging directory in chunks of at most [`BUFFER`] bytes
//! (never held whole in memory), hashed on the way, and handed complete to [`super::ingest`]. A
//! file smaller than [`BUFFER`] is created and written by one call on the blocking pool when it is
//! complete; a larger one is written a chunk at a time as it arrives. A staged file is not fsynced
//! here: the local blob store fsyncs it as it takes it (an S3 store need not), before anything
//! points at it (see [`crate::storage::BlobStore::put_file`]).
//!
//! A file that is abandoned half-way (client gone, hub killed) is a temporary file nobody points at;
//! it is deleted on drop, and whatever a crash leaves behind is swept at start-up.

use std::path::{Path, PathBuf};

use std::io::Write;

use sha2::{Digest, Sha256};

/// Bytes gathered in memory before they are written to the staging file.
pub const BUFFER: usize = 1 << 20;

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

/// A complete file in the staging directory, ready to ingest.
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
    dir: PathBuf,
    /// The staging file, once something was written to it (`None` while its bytes fit in `pending`).
    file: Option<(std::fs::File, tempfile::TempPath)>,
    /// Bytes not written yet.
    pending: Vec<u8>,
    hasher: Sha256,
    written: u64,
    max_bytes: u64,
    file_name: String,
}

/// Starts receiving a file named `file_name` into `dir` (created when the first bytes are written).
pub async fn begin(dir: &Path, file_name: &str, max_bytes: u64) -> Result<StagingFile, Rejection> {
    Ok(StagingFile {
        dir: dir.to_owned(),
        file: None,
        pending: Vec::new(),
        hasher: Sha256::new(),
        written: 0,
        max_bytes,
        file_name: file_name.to_owned(),
    })
}

/// Creates a staging file in `dir` (and `dir` if needed).
fn create(dir: &Path, file_name: &str) -> Result<(std::fs::File, tempfile::TempPath), Rejection> {
    let storage = |e: std::io::Error| {
        Rejection::new(
            RejectReason::Storage,
            format!(
                "{file_name}: cannot create a staging file in {}: {e}",
                dir.display()
            ),
        )
    };
    std::fs::create_dir_all(dir).map_err(storage)?;
    let temp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(dir)
        .map_err(storage)?;
    Ok(temp.into_parts())
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
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= BUFFER {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the pending bytes (creating the file first if needed): one trip to the blocking pool.
    async fn flush(&mut self) -> Result<(), Rejection> {
        let (file, dir, name) = (self.file.take(), self.dir.clone(), self.file_name.clone());
        let mut pending = std::mem::take(&mut self.pending);
        let (file, pending) = tokio::task::spawn_blocking(move || {
            let result = (|| {
                let (mut file, path) = match file {
                    Some(open) => open,
                    None => create(&dir, &name)?,
                };
                let written = file.write_all(&pending);
                // On failure the file is dropped here, and with it (TempPath) the staging file.
                written.map_err(|e| {
                    Rejection::new(
                        RejectReason::Storage,
                        format!("{name}: cannot write staging file: {e}"),
                    )
                })?;
                Ok((file, path))
            })();
            pending.clear();
            (result, pending)
        })
        .await
        .map_err(|e| self.storage_error(std::io::Error::other(e)))?;
        // Keep the buffer's allocation for the next chunk.
        self.pending = pending;
        self.file = Some(file?);
        Ok(())
    }

    /// Completes the file: checks the sender's SHA-256 and size (when given) and writes what is
    /// still buffered. Not fsynced: the blob store does that when it takes the file.
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
        self.flush().await?;
        let Some((_, path)) = self.file else {
            return Err(self.storage_error(std::io::Error::other("no staging file")));
        };
        Ok(StagedFile {
            path,
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
    async fn a_file_larger_than_the_buffer_arrives_whole() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..(BUFFER * 2 + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        let mut f = begin(dir.path(), "big.dcm", u64::MAX).await.unwrap();
        for chunk in bytes.chunks(100_000) {
            f.write(chunk).await.unwrap();
        }
        // More than a buffer arrived: the staging file exists before the end.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let staged = f.finish(None, Some(bytes.len() as u64)).await.unwrap();
        assert_eq!(std::fs::read(&staged.path).unwrap(), bytes);
        assert_eq!(staged.sha256, crate::storage::blob::sha256_hex(&bytes));
    }

    #[tokio::test]
    async fn abandoned_files_disappear() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = begin(dir.path(), "big.dcm", u64::MAX).await.unwrap();
        f.write(&vec![7u8; BUFFER + 1]).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let dir = tempfile::tempdir().unwrap();
        let mut f = begin(dir.path(), "a.dcm", 100).await.unwrap();
        f.write(b"partial").await.unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
