//! One established association: DIMSE messages in, one at a time (no asynchronous operations
//! window is negotiated), each answered when it is done.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use dicom_ul::pdu::{AbortRQSource, PDataValue, PDataValueType, Pdu};
use tokio::sync::watch;

use super::message::{self, Command, field, status};
use super::{Context, ReceiveError, Socket, abort, provider_abort, receive, send, stopped};
use crate::domain::Hub;
use crate::domain::ingest::IngestSession;
use crate::domain::staging::{RejectReason, Rejection, StagingFile};

/// Where the association is between PDUs.
pub(super) enum Message {
    /// Between messages.
    Idle,
    /// Command fragments of a message on presentation context `pc`.
    Command { pc: u8, bytes: Vec<u8> },
    /// The data set of a C-STORE: written to `sink`, or discarded with the status to answer.
    Data {
        pc: u8,
        command: Command,
        sink: Sink,
    },
}

/// Where a data set's fragments go.
pub(super) enum Sink {
    /// The staging file (already holding the Part 10 header).
    Staging(Box<StagingFile>),
    /// Nowhere: the message is refused with this status and comment once its data set ends.
    Discard(u16, String),
}

/// How the association ended.
enum Ending {
    /// A-RELEASE: the peer is done.
    Released,
    /// The hub is shutting down (the association was aborted between messages).
    Shutdown,
    /// Aborted by the peer, broken, timed out, or a protocol error.
    Broken,
}

/// An established association.
pub(super) struct Association {
    pub(super) hub: Hub,
    pub(super) socket: Socket,
    pub(super) buf: BytesMut,
    pub(super) peer: SocketAddr,
    pub(super) calling_ae: String,
    pub(super) max_pdu: u32,
    pub(super) idle_timeout: Duration,
    pub(super) contexts: HashMap<u8, Context>,
    pub(super) session: Option<IngestSession>,
    pub(super) message: Message,
    pub(super) stored: u64,
    pub(super) failed: u64,
}

impl Association {
    /// Serves messages until release, abort, idle timeout or shutdown; then finishes the ingest
    /// session (queuing its studies) unless the association broke.
    pub(super) async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let ending = loop {
            let idle = matches!(self.message, Message::Idle);
            let received = if idle {
                // Between messages a shutdown takes effect at once.
                tokio::select! {
                    biased;
                    () = stopped(&mut stop) => {
                        abort(&mut self.socket, AbortRQSource::ServiceUser).await;
                        break Ending::Shutdown;
                    }
                    r = tokio::time::timeout(self.idle_timeout, receive(&mut self.socket, &mut self.buf, self.max_pdu)) => r,
                }
            } else {
                tokio::time::timeout(
                    self.idle_timeout,
                    receive(&mut self.socket, &mut self.buf, self.max_pdu),
                )
                .await
            };
            let pdu = match received {
                Err(_) => {
                    tracing::info!(peer = %self.peer, calling_ae = %self.calling_ae, "DICOM: no PDU for {:?}; aborting the association", self.idle_timeout);
                    abort(&mut self.socket, provider_abort()).await;
                    break Ending::Broken;
                }
                Ok(Err(ReceiveError::Closed)) => {
                    tracing::info!(peer = %self.peer, calling_ae = %self.calling_ae, "DICOM: the peer closed the connection without releasing");
                    break Ending::Broken;
                }
                Ok(Err(e)) => {
                    tracing::info!(peer = %self.peer, calling_ae = %self.calling_ae, "DICOM: {e}; aborting the association");
                    abort(&mut self.socket, provider_abort()).await;
                    break Ending::Broken;
                }
                Ok(Ok(pdu)) => pdu,
            };
            match pdu {
                Pdu::PData { data } => {
                    if let Err(why) = self.on_pdata(data).await {
                        tracing::warn!(peer = %self.peer, calling_ae = %self.calling_ae, "DICOM protocol error: {why}; aborting the association");
                        abort(&mut self.socket, provider_abort()).await;
                        break Ending::Broken;
                    }
                }
                Pdu::ReleaseRQ => {
                    if !matches!(self.message, Message::Idle) {
                        tracing::info!(peer = %self.peer, "DICOM: release requested in the middle of a message; the message is dropped");
                    }
                    // The studies are queued before the release is confirmed, so a peer that has
                    // seen A-RELEASE-RP can rely on them being in the queue.
                    self.message = Message::Idle;
                    self.finish().await;
                    let _ = send(&mut self.socket, &Pdu::ReleaseRP).await;
                    break Ending::Released;
                }
                Pdu::AbortRQ { source } => {
                    tracing::info!(peer = %self.peer, calling_ae = %self.calling_ae, ?source, "DICOM: the peer aborted the association");
                    break Ending::Broken;
                }
                other => {
                    tracing::warn!(peer = %self.peer, "DICOM: unexpected {} on an established association; aborting", super::pdu_name(&other));
                    abort(&mut self.socket, provider_abort()).await;
                    break Ending::Broken;
                }
            }
        };
        // A data set in flight (if any) is dropped with its staging file: nothing half-stored.
        self.message = Message::Idle;
        match ending {
            Ending::Released => {}
            Ending::Shutdown => self.finish().await,
            Ending::Broken => {
                // Like a broken upload: what was acknowledged stays, and its studies are
                // queued when they go quiet.
                tracing::info!(peer = %self.peer, calling_ae = %self.calling_ae, stored = self.stored, failed = self.failed, "DICOM association broke off");
            }
        }
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut self.socket).await;
    }

    /// Finishes the ingest session: its studies are queued for reading, as at the end of an upload.
    async fn finish(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        match session.finish().await {
            Ok(cases) => {
                tracing::info!(peer = %self.peer, calling_ae = %self.calling_ae, stored = self.stored, failed = self.failed, cases = cases.len(), "DICOM association ended; its studies are queued")
            }
            Err(e) => {
                tracing::error!(peer = %self.peer, calling_ae = %self.calling_ae, "DICOM: queuing the association's studies failed: {e}; the sweeper queues them after the quiet period")
            }
        }
    }

    /// Handles the fragments of one P-DATA-TF PDU.
    async fn on_pdata(&mut self, values: Vec<PDataValue>) -> Result<(), String> {
        for value in values {
            let pc = value.presentation_context_id;
            if !self.contexts.contains_key(&pc) {
                return Err(format!(
                    "data on presentation context {pc}, which was not accepted"
                ));
            }
            match value.value_type {
                PDataValueType::Command => self.on_command(pc, value.data, value.is_last).await?,
                PDataValueType::Data => self.on_data(pc, &value.data, value.is_last).await?,
            }
        }
        Ok(())
    }

    async fn on_command(&mut self, pc: u8, data: Vec<u8>, last: bool) -> Result<(), String> {
        let mut bytes = match std::mem::replace(&mut self.message, Message::Idle) {
            Message::Idle => Vec::new(),
            Message::Command { pc: p, bytes } if p == pc => bytes,
            Message::Command { pc: p, .. } => {
                return Err(format!(
                    "command fragments on presentation contexts {p} and {pc} interleave"
                ));
            }
            Message::Data { .. } => {
                return Err("a command started before the previous data set ended".into());
            }
        };
        message::push_fragment(&mut bytes, &data).map_err(|e| e.to_string())?;
        if !last {
            self.message = Message::Command { pc, bytes };
            return Ok(());
        }
        let command = message::parse_command(&bytes).map_err(|e| e.to_string())?;
        self.on_request(pc, command).await
    }

    /// A complete command set.
    async fn on_request(&mut self, pc: u8, command: Command) -> Result<(), String> {
        let context = self.contexts[&pc].clone();
        match command.field {
            field::C_ECHO_RQ => {
                if command.has_data_set {
                    return Err("C-ECHO-RQ with a data set".into());
                }
                self.respond(pc, field::C_ECHO_RSP, &command, status::SUCCESS, "")
                    .await
            }
            field::C_STORE_RQ => {
                if !command.has_data_set {
                    return self
                        .respond(
                            pc,
                            field::C_STORE_RSP,
                            &command,
                            status::CANNOT_UNDERSTAND,
                            "C-STORE-RQ without a data set",
                        )
                        .await;
                }
                let sink = self.open_sink(&command, &context).await;
                self.message = Message::Data { pc, command, sink };
                Ok(())
            }
            field::C_CANCEL_RQ => Ok(()),
            other => {
                let comment = format!("command field {other:#06x} is not served here");
                if command.has_data_set {
                    self.message = Message::Data {
                        pc,
                        command,
                        sink: Sink::Discard(status::UNRECOGNIZED_OPERATION, comment),
                    };
                    Ok(())
                } else {
                    self.respond(
                        pc,
                        other | 0x8000,
                        &command,
                        status::UNRECOGNIZED_OPERATION,
                        &comment,
                    )
                    .await
                }
            }
        }
    }

    /// A staging file with the Part 10 header for a C-STORE's data set, or why not.
    async fn open_sink(&self, command: &Command, context: &Context) -> Sink {
        if command.sop_class_uid != context.abstract_syntax {
            return Sink::Discard(
                status::SOP_CLASS_NOT_SUPPORTED,
                format!(
                    "SOP class {} sent on a context for {}",
                    command.sop_class_uid, context.abstract_syntax
                ),
            );
        }
        if command.sop_instance_uid.is_empty() {
            return Sink::Discard(
                status::CANNOT_UNDERSTAND,
                "no Affected SOP Instance UID".into(),
            );
        }
        let header = match message::part10_header(
            &command.sop_class_uid,
            &command.sop_instance_uid,
            &context.transfer_syntax,
            &self.calling_ae,
        ) {
            Ok(header) => header,
            Err(e) => return Sink::Discard(status::CANNOT_UNDERSTAND, e),
        };
        let name = format!("{}.dcm", command.sop_instance_uid);
        let opened = self.hub.begin_staging(&name).await;
        let mut file = match opened {
            Ok(file) => file,
            Err(r) => return Sink::Discard(message::store_status(r.reason), r.message),
        };
        match file.write(&header).await {
            Ok(()) => Sink::Staging(Box::new(file)),
            Err(r) => Sink::Discard(message::store_status(r.reason), r.message),
        }
    }

    async fn on_data(&mut self, pc: u8, data: &[u8], last: bool) -> Result<(), String> {
        let Message::Data {
            pc: expected,
            command,
            mut sink,
        } = std::mem::replace(&mut self.message, Message::Idle)
        else {
            return Err("a data set fragment arrived without a command".into());
        };
        if expected != pc {
            return Err(format!(
                "data set fragment on presentation context {pc}, its command came on {expected}"
            ));
        }
        if let Sink::Staging(file) = &mut sink
            && let Err(r) = file.write(data).await
        {
            // The staging file is dropped (deleted) here; the rest of the data set is read
            // and discarded so that the peer gets an answer.
            sink = Sink::Discard(message::store_status(r.reason), r.message);
        }
        if !last {
            self.message = Message::Data { pc, command, sink };
            return Ok(());
        }
        let (code, comment) = match sink {
            Sink::Discard(code, comment) => (code, comment),
            Sink::Staging(file) => self.store(*file).await,
        };
        if code == status::SUCCESS {
            self.stored += 1;
        } else {
            self.failed += 1;
            tracing::info!(peer = %self.peer, calling_ae = %self.calling_ae, sop_instance_uid = %command.sop_instance_uid, status = format_args!("{code:#06x}"), "C-STORE refused: {comment}");
        }
        let response_field = if command.field == field::C_STORE_RQ {
            field::C_STORE_RSP
        } else {
            command.field | 0x8000
        };
        self.respond(pc, response_field, &command, code, &comment)
            .await
    }

    /// Makes a staged data set durable and indexes it through the ingest session.
    async fn store(&mut self, file: StagingFile) -> (u16, String) {
        let started = std::time::Instant::now();
        let staged = match file.finish(None, None).await {
            Ok(staged) => staged,
            Err(r) => return (message::store_status(r.reason), r.message),
        };
        tracing::trace!(
            stage_us = started.elapsed().as_micros(),
            "C-STORE data set staged"
        );
        let Some(session) = self.session.as_mut() else {
            let r = Rejection::new(RejectReason::Storage, "the ingest session is closed");
            return (message::store_status(r.reason), r.message);
        };
        match session.ingest(staged).await {
            Ok(accepted) => {
                tracing::debug!(sop_instance_uid = %accepted.sop_instance_uid, case = accepted.case_id, duplicate = accepted.duplicate, "C-STORE stored");
                (status::SUCCESS, String::new())
            }
            Err(r) => (message::store_status(r.reason), r.message),
        }
    }

    async fn respond(
        &mut self,
        pc: u8,
        response_field: u16,
        rq: &Command,
        code: u16,
        comment: &str,
    ) -> Result<(), String> {
        // Rejections name the file (`<SOP Instance UID>.dcm: ...`); the response names the
        // instance already, and the Error Comment has room for 64 characters only.
        let prefix = format!("{}.dcm: ", rq.sop_instance_uid);
        let comment = comment.strip_prefix(&prefix).unwrap_or(comment);
        let data = message::response(response_field, rq, code, comment);
        let pdu = Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: pc,
                value_type: PDataValueType::Command,
                is_last: true,
                data,
            }],
        };
        send(&mut self.socket, &pdu)
            .await
            .map_err(|e| format!("cannot send the response: {e}"))
    }
}
