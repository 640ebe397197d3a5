//! UploadService: files stream in, each is answered as soon as it is durable or refused.

use remotedx_proto::v1 as pb;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use super::{ResponseStream, caller, convert, status::to_status};
use crate::domain::Hub;
use crate::domain::ingest::{Accepted, IngestOptions, IngestSession};
use crate::domain::pseudonym::IdType;
use crate::domain::staging::{RejectReason, Rejection, StagingFile};
use upload_framing::{Effect, Framing, Message, Refusal, Violation};

/// The service.
pub struct Upload {
    hub: Hub,
}

impl Upload {
    /// Over `hub`.
    pub fn new(hub: Hub) -> Self {
        Upload { hub }
    }
}

type Reply = Result<pb::UploadResponse, Status>;

#[tonic::async_trait]
impl pb::upload_service_server::UploadService for Upload {
    type UploadStream = ResponseStream<pb::UploadResponse>;

    async fn upload(
        &self,
        req: Request<Streaming<pb::UploadRequest>>,
    ) -> Result<Response<Self::UploadStream>, Status> {
        let who = caller(&self.hub, &req).await?;
        tracing::debug!(user = %who.name, "upload started");
        // Refuse a wrong role at once; the options (if any) come with the first message, which is
        // read in the background so that response headers never wait on the client.
        self.hub
            .ingest_session(who.clone(), IngestOptions::default())
            .map_err(to_status)?;
        let inbound = req.into_inner();
        let (tx, rx) = mpsc::channel(16);
        let hub = self.hub.clone();
        tokio::spawn(async move { receive(hub, who, inbound, tx).await });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

/// Reads the optional options message, opens the session and receives the files.
async fn receive(
    hub: Hub,
    who: crate::model::Principal,
    mut inbound: Streaming<pb::UploadRequest>,
    tx: mpsc::Sender<Reply>,
) {
    let first = match inbound.message().await {
        Ok(first) => first.and_then(|m| m.msg),
        Err(e) => {
            tracing::info!("upload stream broke off before its first message: {e}");
            return;
        }
    };
    let (options, first) = match first {
        Some(pb::upload_request::Msg::Options(o)) => match options_from(o) {
            Ok(options) => (options, None),
            Err(status) => {
                let _ = tx.send(Err(status)).await;
                return;
            }
        },
        other => (IngestOptions::default(), other),
    };
    let session = match hub.ingest_session(who, options) {
        Ok(session) => session,
        Err(e) => {
            let _ = tx.send(Err(to_status(e))).await;
            return;
        }
    };
    let framing = Framing::new(hub.config().ingest.max_file_bytes);
    let mut receiver = Receiver {
        hub,
        session: Some(session),
        tx,
        current: None,
        framing,
        name: String::new(),
        counts: Counts::default(),
    };
    receiver.run(first, inbound).await;
}

fn options_from(o: pb::UploadOptions) -> Result<IngestOptions, Status> {
    let patient_id_type = if o.patient_id_type.is_empty() {
        None
    } else {
        Some(IdType::parse(&o.patient_id_type).map_err(Status::invalid_argument)?)
    };
    Ok(IngestOptions {
        priority: convert::priority_from(o.priority),
        critical: o.critical,
        critical_reason: o.critical_reason,
        exam_item_code: o.exam_item_code,
        patient_id_type,
        clinical_note: o.clinical_note,
        patient_id: o.patient_id,
    })
}

/// Counts for the summary.
#[derive(Default)]
struct Counts {
    accepted: u32,
    duplicates: u32,
    rejected: u32,
}

/// One upload stream's state: the file being received, if any. The order of messages, sizes
/// included, is [`Framing`]'s (fuzzed on its own); this carries out its effects.
struct Receiver {
    hub: Hub,
    session: Option<IngestSession>,
    tx: mpsc::Sender<Reply>,
    /// The staging file, exactly while `framing` has a file open.
    current: Option<StagingFile>,
    framing: Framing,
    /// The file a rejection names.
    name: String,
    counts: Counts,
}

impl Receiver {
    async fn run(
        &mut self,
        first: Option<pb::upload_request::Msg>,
        mut inbound: Streaming<pb::UploadRequest>,
    ) {
        if let Some(msg) = first {
            self.handle(msg).await;
        }
        loop {
            match inbound.message().await {
                Ok(Some(pb::UploadRequest { msg: Some(msg) })) => self.handle(msg).await,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    // The client went away: the file in flight is dropped (and deleted); what was
                    // accepted stays, and its studies are queued after the quiet period.
                    tracing::info!("upload stream broke off: {e}");
                    return;
                }
            }
        }
        if let Some(effect) = self.framing.close() {
            self.apply(effect).await;
        }
        let Some(mut session) = self.session.take() else {
            return;
        };
        for (name, outcome) in session.settle_pending() {
            self.answer(name, outcome).await;
        }
        let reply = match session.finish().await {
            Ok(cases) => Ok(pb::UploadResponse {
                msg: Some(pb::upload_response::Msg::Summary(self.summary(cases))),
            }),
            Err(e) => Err(to_status(e)),
        };
        let _ = self.tx.send(reply).await;
    }

    async fn handle(&mut self, msg: pb::upload_request::Msg) {
        use pb::upload_request::Msg;
        tracing::trace!(file = %self.framing.file_name(), kind = msg_kind(&msg), "upload message");
        let message = match &msg {
            Msg::Options(_) => Message::Options,
            Msg::Start(start) => Message::Start {
                file_name: &start.file_name,
                size: start.size,
            },
            Msg::Chunk(data) => Message::Chunk(data),
            Msg::End(end) => Message::End {
                sha256: &end.sha256,
            },
        };
        for effect in self.framing.on(message) {
            self.apply(effect).await;
        }
    }

    /// Carries out one framing effect.
    async fn apply(&mut self, effect: Effect<'_>) {
        match effect {
            Effect::Discard(refusal) => {
                self.current = None;
                self.refuse(refusal).await;
            }
            Effect::Refuse(refusal) => self.refuse(refusal).await,
            Effect::Open { name, .. } => {
                self.name.clone_from(&name);
                match self.hub.begin_staging(&name).await {
                    Ok(file) => self.current = Some(file),
                    Err(r) => self.fail(r).await,
                }
            }
            Effect::Write(data) => {
                let Some(file) = self.current.as_mut() else {
                    return;
                };
                if let Err(r) = file.write(data).await {
                    self.fail(r).await;
                }
            }
            Effect::Finish { sha256, size } => {
                if let Some(file) = self.current.take() {
                    self.finish(file, sha256, size).await;
                }
            }
        }
    }

    /// The open file could not be staged: it is dropped (deleted) and refused with the
    /// storage's reason; framing skips the rest of it.
    async fn fail(&mut self, r: Rejection) {
        self.current = None;
        self.framing.failed();
        self.reject(r).await;
    }

    async fn finish(&mut self, file: StagingFile, sha256: Option<&str>, size: u64) {
        let staged = match file.finish(sha256, Some(size)).await {
            Ok(staged) => staged,
            Err(r) => return self.reject(r).await,
        };
        let session = self.session.as_mut().expect("session open while receiving");
        for (name, outcome) in session.ingest_upload(staged).await {
            self.answer(name, outcome).await;
        }
    }

    /// Sends a framing refusal.
    async fn refuse(&mut self, refusal: Refusal) {
        self.name = refusal.file_name;
        let reason = match refusal.violation {
            Violation::TooLarge => RejectReason::TooLarge,
            Violation::SizeMismatch => RejectReason::ChecksumMismatch,
            Violation::Protocol => RejectReason::Protocol,
        };
        self.reject(Rejection::new(reason, refusal.message)).await;
    }

    /// Sends a file's fate (a WFDB part's may come later than its own `end`).
    async fn answer(&mut self, name: String, outcome: Result<Accepted, Rejection>) {
        let a = match outcome {
            Ok(a) => a,
            Err(r) => {
                self.name = name;
                return self.reject(r).await;
            }
        };
        if a.duplicate {
            self.counts.duplicates += 1;
        } else {
            self.counts.accepted += 1;
        }
        let accepted = pb::FileAccepted {
            file_name: a.file_name,
            sop_instance_uid: a.sop_instance_uid,
            case_id: a.case_id,
            duplicate: a.duplicate,
            size: a.size,
        };
        let _ = self
            .tx
            .send(Ok(pb::UploadResponse {
                msg: Some(pb::upload_response::Msg::Accepted(accepted)),
            }))
            .await;
    }

    async fn reject(&mut self, r: Rejection) {
        self.counts.rejected += 1;
        let rejected = pb::FileRejected {
            file_name: self.name.clone(),
            reason: reject_reason(r.reason).into(),
            message: r.message,
        };
        let _ = self
            .tx
            .send(Ok(pb::UploadResponse {
                msg: Some(pb::upload_response::Msg::Rejected(rejected)),
            }))
            .await;
    }

    fn summary(&self, cases: Vec<crate::domain::ingest::SessionCase>) -> pb::UploadSummary {
        let cases = cases
            .into_iter()
            .map(|s| pb::UploadedCase {
                case_id: s.case.id,
                study_instance_uid: s.case.study_instance_uid.clone(),
                modality: s.case.modality.clone(),
                exam_item_code: s.case.exam_item_code.clone(),
                instance_count: u32::try_from(s.case.instance_count).unwrap_or(u32::MAX),
                total_bytes: u64::try_from(s.case.total_bytes).unwrap_or(0),
                new_instances: s.new_instances,
                state: convert::state(&s.case.state).into(),
                priority: convert::priority(s.case.priority).into(),
                possible_repeat: s.case.possible_repeat.clone(),
            })
            .collect();
        pb::UploadSummary {
            cases,
            accepted: self.counts.accepted,
            duplicates: self.counts.duplicates,
            rejected: self.counts.rejected,
        }
    }
}

fn msg_kind(msg: &pb::upload_request::Msg) -> &'static str {
    match msg {
        pb::upload_request::Msg::Options(_) => "options",
        pb::upload_request::Msg::Start(_) => "start",
        pb::upload_request::Msg::Chunk(_) => "chunk",
        pb::upload_request::Msg::End(_) => "end",
    }
}

fn reject_reason(r: RejectReason) -> pb::RejectReason {
    match r {
        RejectReason::NotDicom => pb::RejectReason::NotDicom,
        RejectReason::Malformed => pb::RejectReason::Malformed,
        RejectReason::ChecksumMismatch => pb::RejectReason::ChecksumMismatch,
        RejectReason::MissingAttribute => pb::RejectReason::MissingAttribute,
        RejectReason::Conflict => pb::RejectReason::Conflict,
        RejectReason::ForeignStudy => pb::RejectReason::ForeignStudy,
        RejectReason::TooLarge => pb::RejectReason::TooLarge,
        RejectReason::Protocol => pb::RejectReason::Protocol,
        RejectReason::Storage => pb::RejectReason::Storage,
    }
}
