//! One upload session over UploadService's bidirectional stream.
//!
//! A sender task reads the files and feeds the request stream (options, then start, chunks and end
//! for each file) while this task reads the hub's answers as they come: the response is never
//! awaited before sending, so a large upload is never stalled waiting on the hub, and the bounded
//! channel between the two keeps at most [`IN_FLIGHT`] chunks in memory.

use indicatif::ProgressBar;
use remotedx_proto::CHUNK_BYTES;
use remotedx_proto::v1 as pb;
use remotedx_proto::v1::{upload_request, upload_response};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::walk::FileToSend;
use crate::client::Hub;
use crate::error::CliError;

/// Chunks that may wait between the file reader and the network.
pub const IN_FLIGHT: usize = 4;

/// What happened to one file, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The hub stored it (or already had it: `duplicate`).
    Accepted(pb::FileAccepted),
    /// The hub refused it.
    Rejected(pb::FileRejected),
}

/// A file that could not be read here (it was not sent, or the hub was told it is incomplete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFailure {
    /// The file's name in the upload.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

/// The result of a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The hub's answers, in order.
    pub events: Vec<Event>,
    /// Files that failed locally.
    pub local_failures: Vec<LocalFailure>,
    /// The hub's closing summary (None only if the stream ended without one).
    pub summary: Option<pb::UploadSummary>,
}

impl Outcome {
    /// Files refused by the hub plus files that failed here.
    pub fn failures(&self) -> usize {
        let rejected = self
            .events
            .iter()
            .filter(|e| matches!(e, Event::Rejected(_)))
            .count();
        rejected + self.local_failures.len()
    }
}

/// Sends `files` with `options` in one session, calling `on_event` for each answer as it
/// arrives. `progress` advances by the bytes read.
pub async fn upload(
    hub: &Hub,
    files: Vec<FileToSend>,
    options: pb::UploadOptions,
    progress: ProgressBar,
    mut on_event: impl FnMut(&Event),
) -> Result<Outcome, CliError> {
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    // Started before the call so that bytes flow while the hub answers the headers.
    let sender = tokio::spawn(send_all(files, options, tx, progress));
    let mut responses = match hub.upload().upload(ReceiverStream::new(rx)).await {
        Ok(r) => r.into_inner(),
        Err(status) => {
            sender.abort();
            return Err(hub.error(status));
        }
    };
    let mut outcome = Outcome::default();
    loop {
        let msg = match responses.message().await {
            Ok(Some(m)) => m.msg,
            Ok(None) => break,
            Err(status) => {
                sender.abort();
                return Err(hub.error(status));
            }
        };
        let event = match msg {
            Some(upload_response::Msg::Accepted(a)) => Event::Accepted(a),
            Some(upload_response::Msg::Rejected(r)) => Event::Rejected(r),
            Some(upload_response::Msg::Summary(s)) => {
                outcome.summary = Some(s);
                continue;
            }
            None => continue,
        };
        on_event(&event);
        outcome.events.push(event);
    }
    outcome.local_failures = sender.await.unwrap_or_default();
    Ok(outcome)
}

/// Why sending a file stopped.
enum Stop {
    /// This file could not be read; go on with the next.
    Local(LocalFailure),
    /// The stream is closed (the hub ended the session); stop sending.
    Closed,
}

async fn send_all(
    files: Vec<FileToSend>,
    options: pb::UploadOptions,
    tx: mpsc::Sender<pb::UploadRequest>,
    progress: ProgressBar,
) -> Vec<LocalFailure> {
    let mut failures = Vec::new();
    if send(&tx, upload_request::Msg::Options(options))
        .await
        .is_err()
    {
        return failures;
    }
    for file in &files {
        progress.set_message(file.name.clone());
        match send_file(file, &tx, &progress).await {
            Ok(()) => {}
            Err(Stop::Local(f)) => failures.push(f),
            Err(Stop::Closed) => break,
        }
    }
    failures
}

async fn send(tx: &mpsc::Sender<pb::UploadRequest>, msg: upload_request::Msg) -> Result<(), Stop> {
    tx.send(pb::UploadRequest { msg: Some(msg) })
        .await
        .map_err(|_| Stop::Closed)
}

/// Start, chunks of [`CHUNK_BYTES`] (the last may be shorter) and end with the SHA-256.
async fn send_file(
    file: &FileToSend,
    tx: &mpsc::Sender<pb::UploadRequest>,
    progress: &ProgressBar,
) -> Result<(), Stop> {
    let local = |e: std::io::Error| {
        Stop::Local(LocalFailure {
            name: file.name.clone(),
            message: format!("{}: cannot read: {e}", file.name),
        })
    };
    let mut reader = tokio::fs::File::open(&file.path).await.map_err(local)?;
    let start = pb::FileStart {
        file_name: file.name.clone(),
        size: file.size,
    };
    send(tx, upload_request::Msg::Start(start)).await?;
    let mut hasher = Sha256::new();
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES);
        let read = (&mut reader)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut chunk)
            .await;
        if let Err(e) = read {
            // The hub has the start: end the file so the session goes on. Its size no longer
            // matches, so the hub refuses it and stores nothing.
            send(
                tx,
                upload_request::Msg::End(pb::FileEnd {
                    sha256: String::new(),
                }),
            )
            .await?;
            return Err(local(e));
        }
        if chunk.is_empty() {
            break;
        }
        hasher.update(&chunk);
        progress.inc(chunk.len() as u64);
        let last = chunk.len() < CHUNK_BYTES;
        send(tx, upload_request::Msg::Chunk(chunk)).await?;
        if last {
            break;
        }
    }
    let sha256 = hex::encode(hasher.finalize());
    send(tx, upload_request::Msg::End(pb::FileEnd { sha256 })).await
}
