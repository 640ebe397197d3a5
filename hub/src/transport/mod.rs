//! gRPC transport: thin adapters over the domain (authenticate → convert → call → convert back).
//!
//! - [`status`]: the one mapping from domain errors to gRPC statuses.
//! - [`convert`]: domain types to and from the contract; [`mixup`]: possible patient mix-ups.
//! - one module per service: [`upload`], [`cases`], [`reading`], [`account`], [`admin`], [`jobs`],
//!   [`recognition`].
//! - [`client_cert`]: mTLS for remote workers (`tls.client_certs`).
//! - [`dimse`]: the DICOM listener (C-ECHO, C-STORE), feeding the same ingest path as [`upload`].
//! - [`http`]: the HTTP listener: DICOMweb (QIDO-RS, WADO-RS, STOW-RS) over the same domain.

pub mod account;
pub mod admin;
pub mod authenticated;
pub mod cases;
pub mod client_cert;
pub mod convert;
pub mod dimse;
pub mod grpc_listener;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod mixup;
pub mod reading;
pub mod recognition;
pub mod status;
pub mod upload;

use std::pin::Pin;

use futures::Stream;
use remotedx_proto::v1 as pb;
use tonic::{Request, Status};

use crate::domain::{Hub, StoredFile};
use crate::model::Principal;
use authenticated::Authenticated;

/// A server-streaming response.
pub type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The bearer token of a request, or "" if it has none.
fn bearer<T>(req: &Request<T>) -> &str {
    token_of(
        req.metadata()
            .get(remotedx_proto::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The token in an `authorization` header's value (`Bearer <token>`, or the bare token), or ""
/// without one.
fn token_of(authorization: Option<&str>) -> &str {
    authorization
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
        })
        .unwrap_or("")
}

/// Authenticates a request's caller.
pub async fn caller<T>(hub: &Hub, req: &Request<T>) -> Result<Principal, Status> {
    hub.authenticate(bearer(req))
        .await
        .map_err(status::to_status)
}

/// Streams a stored file the domain handed out, in chunks, the first carrying its size and media
/// type.
pub fn stream_blob(file: StoredFile) -> ResponseStream<pb::Chunk> {
    let media_type = file.media_type().to_owned();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let size = match file.size().await {
            Ok(size) => size,
            Err(e) => {
                let _ = tx
                    .send(Err(Status::unavailable(format!(
                        "cannot read stored file: {e}"
                    ))))
                    .await;
                return;
            }
        };
        let mut offset = 0u64;
        let mut first = true;
        loop {
            let data = match file.read_range(offset, remotedx_proto::CHUNK_BYTES).await {
                Ok(d) => d,
                Err(e) => {
                    let _ = tx
                        .send(Err(Status::unavailable(format!(
                            "cannot read stored file: {e}"
                        ))))
                        .await;
                    return;
                }
            };
            let done = data.is_empty() || offset + data.len() as u64 >= size;
            offset += data.len() as u64;
            let chunk = pb::Chunk {
                data,
                total_size: if first { size } else { 0 },
                media_type: if first {
                    media_type.clone()
                } else {
                    String::new()
                },
            };
            first = false;
            if tx.send(Ok(chunk)).await.is_err() || done {
                return;
            }
        }
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// Streams bytes already in memory (a render) in chunks, the first carrying size and media type.
pub fn stream_bytes(data: Vec<u8>, media_type: &str) -> ResponseStream<pb::Chunk> {
    let total = data.len() as u64;
    let chunks: Vec<Result<pb::Chunk, Status>> = data
        .chunks(remotedx_proto::CHUNK_BYTES)
        .enumerate()
        .map(|(i, c)| {
            Ok(pb::Chunk {
                data: c.to_vec(),
                total_size: if i == 0 { total } else { 0 },
                media_type: if i == 0 {
                    media_type.to_owned()
                } else {
                    String::new()
                },
            })
        })
        .collect();
    Box::pin(tokio_stream::iter(chunks))
}

/// Every service, ready to add to a tonic router; each authenticates its caller from the
/// headers before its request body is read ([`authenticated`]); with `workers_need_cert` the
/// worker service also needs a client certificate from the county CA ([`client_cert`]).
pub fn routes(hub: &Hub, workers_need_cert: bool) -> tonic::service::Routes {
    let max = remotedx_proto::MAX_MESSAGE_BYTES;
    tonic::service::Routes::new(Authenticated::new(
        hub,
        pb::upload_service_server::UploadServiceServer::new(upload::Upload::new(hub.clone()))
            .max_decoding_message_size(max),
    ))
    .add_service(Authenticated::new(
        hub,
        pb::case_service_server::CaseServiceServer::new(cases::Cases::new(hub.clone()))
            .max_encoding_message_size(max),
    ))
    .add_service(Authenticated::new(
        hub,
        pb::reading_service_server::ReadingServiceServer::new(reading::Reading::new(hub.clone())),
    ))
    .add_service(Authenticated::new(
        hub,
        pb::account_service_server::AccountServiceServer::new(account::Account::new(hub.clone())),
    ))
    .add_service(Authenticated::new(
        hub,
        pb::admin_service_server::AdminServiceServer::new(admin::Admin::new(hub.clone())),
    ))
    .add_service(Authenticated::new(
        hub,
        pb::recognition_service_server::RecognitionServiceServer::new(
            recognition::Recognition::new(hub.clone()),
        ),
    ))
    .add_service(workers(hub, workers_need_cert))
}

/// The worker service, behind a client-certificate check when the hub requires one.
fn workers(
    hub: &Hub,
    need_cert: bool,
) -> client_cert::RequireClientCert<Authenticated<WorkerServer>> {
    let max = remotedx_proto::MAX_MESSAGE_BYTES;
    let service = Authenticated::new(
        hub,
        pb::worker_service_server::WorkerServiceServer::new(jobs::Jobs::new(hub.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max),
    );
    client_cert::RequireClientCert::new(service, need_cert)
}

type WorkerServer = pb::worker_service_server::WorkerServiceServer<jobs::Jobs>;
