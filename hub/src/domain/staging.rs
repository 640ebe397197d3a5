//! Files while they arrive: written to the staging directory in chunks of at most [`BUFFER`] bytes
//! (never held whole in memory), hashed on the way, and handed complete to [`super::ingest`]. A
//! file of at most [`INLINE_BYTES`] is created, hashed and written in one go by the receiving task
//! when it is complete (about 0.1 ms for a 40 KB CT slice, less than handing it to another thread
//! and back); a larger one a chunk at a time on the blocking pool, each chunk hashed on one thread
//! and written on another while the next one is received (two buffers; at most one chunk in
//! flight, so the bytes land in order). Durability is not staging's business: the local blob
//! store fsyncs the file as it takes it (an S3 store need not), before anything points at it (see
//! [`crate::storage::BlobStore::put_file`]); staging only writes the chunks of a large file back
//! to the device as they arrive, so that that fsync has little left to do.
//!
//! A file that is abandoned half-way (client gone, hub killed) is a temporary file nobody points at;
//! it is deleted on drop (once a chunk in flight has landed), and whatever a crash leaves behind is
//! swept at start-up.

use std::path::{Path, PathBuf};

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

/// Bytes gathered in memory before they are written to the staging file. Small, so that the last
/// chunk, still to be hashed when the last byte has arrived, adds little to the response time
/// (with 1 MiB chunks a 7.2 MB radiograph was acknowledged about 7 % later).
pub const BUFFER: usize = 256 << 10;

/// Files up to this size are written and parsed by the task receiving them rather than on the
/// blocking pool: the work (hashing, writing to the page cache, reading the header back) takes
/// less time than the two thread hand-offs it would otherwise need.
pub const INLINE_BYTES: u64 = 256 << 10;

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

    /// A storage failure while taking `file_name`: the sender is told a reference, the hub's log
    /// gets `detail` (which may name paths or SQL) under it.
    pub fn storage(file_name: &str, detail: impl std::fmt::Display) -> Self {
        let message = super::storage_message(&detail);
        Rejection::new(RejectReason::Storage, format!("{file_name}: {message}"))
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
    /// The file and the hash of what was written to it, while no chunk is in flight.
    sink: Option<Sink>,
    /// The chunk being hashed and written on the blocking pool.
    in_flight: Option<InFlight>,
    /// Bytes received and not yet handed to a flush.
    pending: Vec<u8>,
    /// The other buffer, empty, for the chunk after the one in flight.
    spare: Vec<u8>,
    /// A write-back of the staging file is running (see [`StagingFile::start_flush`]).
    writing_back: Arc<AtomicBool>,
    written: u64,
    max_bytes: u64,
    file_name: String,
}

/// Where the bytes go: the staging file, once something was written to it (`None` while the
/// bytes fit in the buffer), and the SHA-256 of everything written so far.
struct Sink {
    file: Option<StagingHandle>,
    hasher: Sha256,
}

/// A chunk of a large file on the blocking pool: hashed on one thread while it is written on
/// another (SHA-256 runs at about 2 GB/s on one of the sandbox's cores, no faster than loopback
/// delivers, so hashing and then writing on one thread held the receiver back).
struct InFlight {
    hashed: tokio::task::JoinHandle<Sha256>,
    written: tokio::task::JoinHandle<Result<StagingHandle, Rejection>>,
    chunk: Arc<Vec<u8>>,
}

/// The open staging file.
type StagingHandle = (std::fs::File, tempfile::TempPath);

/// Starts receiving a file named `file_name` into `dir` (created when the first bytes are written).
pub async fn begin(dir: &Path, file_name: &str, max_bytes: u64) -> Result<StagingFile, Rejection> {
    Ok(StagingFile {
        dir: dir.to_owned(),
        sink: Some(Sink {
            file: None,
            hasher: Sha256::new(),
        }),
        in_flight: None,
        pending: Vec::new(),
        spare: Vec::new(),
        writing_back: Arc::new(AtomicBool::new(false)),
        written: 0,
        max_bytes,
        file_name: file_name.to_owned(),
    })
}

/// Creates a staging file in `dir` (and `dir` if needed).
fn create(dir: &Path, file_name: &str) -> Result<StagingHandle, Rejection> {
    let storage = |e: std::io::Error| {
        Rejection::storage(
            file_name,
            format_args!("cannot create a staging file in {}: {e}", dir.display()),
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
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= BUFFER {
            self.settle().await?;
            self.start_flush(true);
        }
        Ok(())
    }

    /// Waits for the chunk in flight (if any) to land; the sink is then back in `self.sink`.
    async fn settle(&mut self) -> Result<(), Rejection> {
        let Some(InFlight {
            hashed,
            written,
            chunk,
        }) = self.in_flight.take()
        else {
            return Ok(());
        };
        let failed = |e: tokio::task::JoinError| self.storage_error(std::io::Error::other(e));
        // Awaited in this order, an error leaves the write task to finish and delete the file.
        let hasher = hashed.await.map_err(failed)?;
        let file = written.await.map_err(failed)??;
        // Both tasks are done with the chunk: keep its allocation for the chunk after next.
        self.spare = Arc::try_unwrap(chunk).unwrap_or_default();
        self.spare.clear();
        self.sink = Some(Sink {
            file: Some(file),
            hasher,
        });
        Ok(())
    }

    /// Hands the pending bytes to the blocking pool, which hashes them on one thread and writes
    /// them to the staging file (creating it first if needed) on another. Call only when settled.
    ///
    /// `write_back`: also start writing the file back to the device (fdatasync on a second
    /// handle, in the background, at most one at a time, errors ignored: the blob store's fsync is
    /// what counts). Used for every chunk of a large file but its last, so that the fsync the blob
    /// store does before acknowledging has about one chunk left to write instead of the whole
    /// file (measured: about 6 ms of a 7.2 MB radiograph's 22 ms on the path to its C-STORE
    /// response), without the next chunk waiting for the device.
    fn start_flush(&mut self, write_back: bool) {
        let Some(Sink { file, mut hasher }) = self.sink.take() else {
            return;
        };
        let chunk = Arc::new(std::mem::replace(
            &mut self.pending,
            std::mem::take(&mut self.spare),
        ));
        let hashed = tokio::task::spawn_blocking({
            let chunk = chunk.clone();
            move || {
                hasher.update(&chunk[..]);
                hasher
            }
        });
        let (dir, name) = (self.dir.clone(), self.file_name.clone());
        let writing_back = write_back.then(|| self.writing_back.clone());
        let written = tokio::task::spawn_blocking({
            let chunk = chunk.clone();
            move || write_chunk(file, &chunk, &dir, &name, writing_back)
        });
        self.in_flight = Some(InFlight {
            hashed,
            written,
            chunk,
        });
    }

    /// Completes the file: writes what is still buffered and checks the sender's SHA-256 and size
    /// (when given). Not fsynced: the blob store does that when it takes the file.
    pub async fn finish(
        mut self,
        expected_sha256: Option<&str>,
        expected_size: Option<u64>,
    ) -> Result<StagedFile, Rejection> {
        if let Some(size) = expected_size.filter(|s| *s != self.written) {
            return Err(Rejection::new(
                RejectReason::ChecksumMismatch,
                format!(
                    "{}: announced {size} bytes but {} arrived",
                    self.file_name, self.written
                ),
            ));
        }
        self.settle().await?;
        let whole_file_pending = self.sink.as_ref().is_some_and(|s| s.file.is_none());
        if whole_file_pending && self.written <= INLINE_BYTES {
            let Some(Sink { file, mut hasher }) = self.sink.take() else {
                unreachable!("settled")
            };
            hasher.update(&self.pending);
            let file = write_chunk(file, &self.pending, &self.dir, &self.file_name, None)?;
            self.sink = Some(Sink {
                file: Some(file),
                hasher,
            });
        } else {
            self.start_flush(false);
            self.settle().await?;
        }
        let Some(Sink {
            file: Some((_, path)),
            hasher,
        }) = self.sink.take()
        else {
            return Err(self.storage_error(std::io::Error::other("no staging file")));
        };
        let sha256 = hex::encode(hasher.finalize());
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
        Ok(StagedFile {
            path,
            file_name: self.file_name,
            size: self.written,
            sha256,
        })
    }

    fn storage_error(&self, e: std::io::Error) -> Rejection {
        Rejection::storage(
            &self.file_name,
            format_args!("cannot write staging file: {e}"),
        )
    }
}

/// Appends `chunk` to the staging file (creating it first if needed). With `writing_back`, also
/// starts a write-back of the file (see [`StagingFile::start_flush`]) unless one is running.
fn write_chunk(
    file: Option<StagingHandle>,
    chunk: &[u8],
    dir: &Path,
    name: &str,
    writing_back: Option<Arc<AtomicBool>>,
) -> Result<StagingHandle, Rejection> {
    let (mut file, path) = match file {
        Some(open) => open,
        None => create(dir, name)?,
    };
    // On failure the file is dropped here, and with it (TempPath) the staging file.
    file.write_all(chunk)
        .map_err(|e| Rejection::storage(name, format_args!("cannot write staging file: {e}")))?;
    if let Some(writing_back) = writing_back
        && !writing_back.swap(true, Ordering::AcqRel)
    {
        match file.try_clone() {
            Ok(handle) => {
                tokio::task::spawn_blocking(move || {
                    let _ = handle.sync_data();
                    writing_back.store(false, Ordering::Release);
                });
            }
            Err(_) => writing_back.store(false, Ordering::Release),
        }
    }
    Ok((file, path))
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
        f.settle().await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let staged = f.finish(None, Some(bytes.len() as u64)).await.unwrap();
        assert_eq!(std::fs::read(&staged.path).unwrap(), bytes);
        assert_eq!(staged.sha256, crate::storage::blob::sha256_hex(&bytes));
    }

    #[tokio::test]
    async fn a_staging_failure_is_reported_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_dir = dir.path().join("plain-file");
        std::fs::write(&not_a_dir, b"x").unwrap();
        // A large file: a chunk's write fails on the blocking pool; the next write or the finish
        // reports why.
        let mut f = begin(&not_a_dir, "big.dcm", u64::MAX).await.unwrap();
        let mut result = Ok(());
        for _ in 0..4 {
            result = f.write(&vec![1u8; BUFFER]).await;
            if result.is_err() {
                break;
            }
        }
        let err = match result {
            Err(e) => e,
            Ok(()) => f.finish(None, None).await.unwrap_err(),
        };
        assert_eq!(err.reason, RejectReason::Storage);
        // The file is named; the path and the OS error stay in the hub's log, under a reference.
        assert!(
            err.message.starts_with("big.dcm: storage error (ref ")
                && !err.message.contains("plain-file"),
            "{}",
            err.message
        );
        // A small one, written inline.
        let mut f = begin(&not_a_dir, "small.dcm", u64::MAX).await.unwrap();
        f.write(b"hello").await.unwrap();
        let err = f.finish(None, None).await.unwrap_err();
        // The file is named; the path and the OS error stay in the hub's log, under a reference.
        assert!(
            err.message.starts_with("small.dcm: storage error (ref ")
                && !err.message.contains("plain-file"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn abandoned_files_disappear() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = begin(dir.path(), "big.dcm", u64::MAX).await.unwrap();
        f.write(&vec![7u8; BUFFER + 1]).await.unwrap();
        f.settle().await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // Dropped with a chunk in flight: the file goes once that chunk has landed.
        let mut f = begin(dir.path(), "big.dcm", u64::MAX).await.unwrap();
        f.write(&vec![7u8; BUFFER + 1]).await.unwrap();
        drop(f);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_dir(dir.path()).unwrap().count() > 0 {
            assert!(std::time::Instant::now() < deadline, "staging file left");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }

        let dir = tempfile::tempdir().unwrap();
        let mut f = begin(dir.path(), "a.dcm", 100).await.unwrap();
        f.write(b"partial").await.unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
