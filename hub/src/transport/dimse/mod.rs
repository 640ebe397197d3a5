//! The DICOM listener: modalities push studies with C-STORE (and check the link with C-ECHO).
//!
//! Built on dicom-ul's PDU codec; association negotiation is done here because it depends on the
//! hub's configuration and index: the calling AE title must be mapped to an institution
//! (`[dicom.calling_ae]`) that exists, the called AE title must be the hub's, at most
//! `max_associations` run at once (a slot is taken only after the AE titles are accepted), and
//! only storage SOP classes (and Verification) with the transfer syntaxes the worker reads are
//! accepted, as they are. Before that, connections are bounded in all and per IP address
//! (`max_connections`, `max_connections_per_ip`) and must ask for an association within ARTIM.
//!
//! One task per association. Each association is one [`crate::domain::ingest::IngestSession`] acting
//! for the peer's institution (principal `dicom:<calling AE>`): every data set is staged as a Part 10
//! file, ingested exactly like an uploaded file, and answered only once it is durable. At A-RELEASE
//! the session finishes, which queues its studies for reading just as the end of an upload does.
//!
//! The same associations run over TLS on their own port (`dicom.tls_listen`, PS3.15 B.1 secure
//! transport): the handshake, within ARTIM, comes first, then everything above. A calling AE title
//! listed in `[dicom.calling_ae_networks]` is accepted only from its networks, and a client
//! certificate presented there must be the one `hub cert modality` issued for the calling AE title
//! ([`crate::domain::cert_identity`]).
//!
//! Shutdown: no new connections; an association between messages is aborted at once, one in the
//! middle of a C-STORE first finishes and answers it; the sessions of both are finished.

mod association;
pub mod message;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use dicom_ul::pdu::{
    AbortRQServiceProviderReason, AbortRQSource, AssociationAC, AssociationRJ, AssociationRJResult,
    AssociationRJServiceProviderPresentationReason, AssociationRJServiceUserReason,
    AssociationRJSource, AssociationRQ, Pdu, PresentationContextResult,
    PresentationContextResultReason, UserVariableItem,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use crate::domain::Hub;
use crate::domain::cert_identity::{self, CertIdentity};
use crate::domain::ingest::IngestOptions;
use crate::model::Principal;
use message::{
    APPLICATION_CONTEXT, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME,
    STORAGE_TRANSFER_SYNTAXES, VERIFICATION, VERIFICATION_TRANSFER_SYNTAXES, trim_uid,
};

/// A connection's bytes: plain TCP, or TLS over TCP on the DICOM TLS port.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// An association's connection, whichever port it came in on.
type Socket = Box<dyn Io>;

/// Serves DICOM associations on `listener` (over TLS when `tls` is given) until `stop` turns
/// true, then stops accepting and waits for the associations in flight to end (see the module
/// documentation).
pub async fn serve(
    hub: Hub,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let config = &hub.config().dicom;
    let slots = Arc::new(Semaphore::new(config.max_associations));
    let connections =
        super::limits::ConnectionLimits::new(config.max_connections, config.max_connections_per_ip);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    // DCMTK and others stall ~40-90 ms per message on Nagle + delayed ACK.
                    if let Err(e) = socket.set_nodelay(true) {
                        tracing::warn!(%peer, "cannot set TCP_NODELAY: {e}");
                    }
                    let admitted = match connections.admit(peer.ip()) {
                        Ok(admitted) => admitted,
                        Err(refused) => {
                            tracing::warn!(%peer, "DICOM connection closed at once: {refused}");
                            drop(socket);
                            continue;
                        }
                    };
                    let (hub, slots, stop, tls) = (hub.clone(), slots.clone(), stop.clone(), tls.clone());
                    tasks.spawn(async move {
                        let artim = hub.config().dicom.artim_timeout;
                        if let Some((socket, cert)) = secure(socket, peer, tls.as_ref(), artim).await {
                            handle(hub, socket, peer, cert, &slots, stop).await;
                        }
                        drop(admitted);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!("accepting a DICOM connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    if !tasks.is_empty() {
        tracing::info!(
            associations = tasks.len(),
            "DICOM: finishing associations in flight"
        );
    }
    while tasks.join_next().await.is_some() {}
}

/// The connection as the association sees it, with whom its verified client certificate names:
/// after a TLS handshake (within ARTIM) on the TLS port; None (logged) when the handshake fails.
async fn secure(
    socket: TcpStream,
    peer: SocketAddr,
    tls: Option<&TlsAcceptor>,
    artim: Duration,
) -> Option<(Socket, Option<CertIdentity>)> {
    let Some(acceptor) = tls else {
        return Some((Box::new(socket), None));
    };
    match tokio::time::timeout(artim, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => {
            let cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(|leaf| crate::tls::identity::of_der(leaf));
            Some((Box::new(stream), cert))
        }
        Ok(Err(e)) => {
            tracing::warn!(%peer, "DICOM TLS handshake failed: {e}");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "DICOM TLS: no handshake within {artim:?} (ARTIM); closing");
            None
        }
    }
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Why reading a PDU failed.
#[derive(Debug)]
enum ReceiveError {
    /// The peer closed the connection.
    Closed,
    /// The socket failed.
    Io(std::io::Error),
    /// The bytes are not a valid PDU (or one larger than we announced).
    Malformed(dimse::PduError),
}

impl std::fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReceiveError::Closed => f.write_str("the peer closed the connection"),
            ReceiveError::Io(e) => write!(f, "socket error: {e}"),
            ReceiveError::Malformed(e) => write!(f, "{e}"),
        }
    }
}

/// Reads one PDU of at most `max_pdu` bytes (after its header), buffering what follows it.
/// Framing and parsing are [`dimse::take_pdu`]'s (fuzzed in `dimse/fuzz`).
async fn receive(
    socket: &mut Socket,
    buf: &mut BytesMut,
    max_pdu: u32,
) -> Result<Pdu, ReceiveError> {
    loop {
        if let Some(pdu) = dimse::take_pdu(buf, max_pdu).map_err(ReceiveError::Malformed)? {
            return Ok(pdu);
        }
        // Room for the rest of this PDU (or, before its header, for a whole one), so a large one
        // arrives in few reads.
        let wanted = if buf.len() < dimse::pdu::PDU_HEADER {
            max_pdu as usize + dimse::pdu::PDU_HEADER
        } else {
            dimse::pdu::bytes_wanted(buf, max_pdu)
        };
        buf.reserve(wanted);
        match socket.read_buf(buf).await {
            Ok(0) => return Err(ReceiveError::Closed),
            Ok(_) => {}
            Err(e) => return Err(ReceiveError::Io(e)),
        }
    }
}

/// Writes one PDU.
async fn send(socket: &mut Socket, pdu: &Pdu) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(256);
    dicom_ul::pdu::write_pdu(&mut out, pdu)
        .map_err(|e| std::io::Error::other(format!("cannot encode PDU: {e}")))?;
    socket.write_all(&out).await
}

/// Sends an A-ABORT (best effort) and closes the connection.
async fn abort(socket: &mut Socket, source: AbortRQSource) {
    let _ = send(socket, &Pdu::AbortRQ { source }).await;
    let _ = socket.shutdown().await;
}

fn provider_abort() -> AbortRQSource {
    AbortRQSource::ServiceProvider(AbortRQServiceProviderReason::ReasonNotSpecified)
}

/// Negotiates an association on a fresh connection and serves it.
async fn handle(
    hub: Hub,
    mut socket: Socket,
    peer: SocketAddr,
    cert: Option<CertIdentity>,
    slots: &Arc<Semaphore>,
    stop: watch::Receiver<bool>,
) {
    let config = hub.config().dicom.clone();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    // ARTIM: a connection that does not ask for an association in time is dropped.
    let first = tokio::time::timeout(
        config.artim_timeout,
        receive(&mut socket, &mut buf, config.max_pdu_length),
    )
    .await;
    let rq = match first {
        Err(_) => {
            tracing::info!(%peer, "DICOM: no association request within {:?} (ARTIM); closing", config.artim_timeout);
            return abort(&mut socket, provider_abort()).await;
        }
        Ok(Err(ReceiveError::Closed)) => return,
        Ok(Err(e)) => {
            tracing::info!(%peer, "DICOM: bad first PDU: {e}");
            return abort(&mut socket, provider_abort()).await;
        }
        Ok(Ok(Pdu::AssociationRQ(rq))) => rq,
        Ok(Ok(other)) => {
            tracing::info!(%peer, "DICOM: expected A-ASSOCIATE-RQ, got {}", pdu_name(&other));
            let source =
                AbortRQSource::ServiceProvider(AbortRQServiceProviderReason::UnexpectedPdu);
            return abort(&mut socket, source).await;
        }
    };
    let calling = rq.calling_ae_title.trim().to_owned();
    let accepted = match accept(&hub, &rq, peer, cert.as_ref(), slots).await {
        Ok(accepted) => accepted,
        Err((source, transient, why)) => {
            tracing::warn!(%peer, calling_ae = %calling, called_ae = %rq.called_ae_title.trim(), "DICOM association rejected: {why}");
            let result = if transient {
                AssociationRJResult::Transient
            } else {
                AssociationRJResult::Permanent
            };
            let _ = send(
                &mut socket,
                &Pdu::AssociationRJ(AssociationRJ { result, source }),
            )
            .await;
            let _ = socket.shutdown().await;
            return;
        }
    };
    let Accepted {
        principal,
        contexts,
        results,
        peer_max_pdu,
        slot,
    } = accepted;
    let session = match hub.ingest_session(principal.clone(), IngestOptions::default()) {
        Ok(session) => session,
        Err(e) => {
            tracing::error!(%peer, "DICOM association rejected: cannot open an ingest session: {e}");
            let rj = AssociationRJ {
                result: AssociationRJResult::Transient,
                source: AssociationRJSource::ServiceUser(
                    AssociationRJServiceUserReason::NoReasonGiven,
                ),
            };
            let _ = send(&mut socket, &Pdu::AssociationRJ(rj)).await;
            return;
        }
    };
    let ac = Pdu::AssociationAC(AssociationAC {
        protocol_version: 1,
        calling_ae_title: rq.calling_ae_title.clone(),
        called_ae_title: rq.called_ae_title.clone(),
        application_context_name: APPLICATION_CONTEXT.into(),
        presentation_contexts: results,
        user_variables: vec![
            UserVariableItem::MaxLength(config.max_pdu_length),
            UserVariableItem::ImplementationClassUID(IMPLEMENTATION_CLASS_UID.into()),
            UserVariableItem::ImplementationVersionName(IMPLEMENTATION_VERSION_NAME.into()),
        ],
    });
    if let Err(e) = send(&mut socket, &ac).await {
        tracing::info!(%peer, "DICOM: cannot send A-ASSOCIATE-AC: {e}");
        return;
    }
    tracing::info!(%peer, calling_ae = %calling, institution = %principal.institution_code, contexts = contexts.len(), peer_max_pdu, max_pdu = config.max_pdu_length, "DICOM association accepted");
    association::Association {
        hub,
        socket,
        buf,
        peer,
        calling_ae: calling,
        max_pdu: config.max_pdu_length,
        idle_timeout: config.idle_timeout,
        contexts,
        session: Some(session),
        message: association::Message::Idle,
        stored: 0,
        failed: 0,
    }
    .run(stop)
    .await;
    drop(slot);
}

/// An accepted presentation context.
#[derive(Debug, Clone)]
struct Context {
    abstract_syntax: String,
    transfer_syntax: String,
}

/// The outcome of a successful negotiation.
struct Accepted {
    principal: Principal,
    contexts: std::collections::HashMap<u8, Context>,
    results: Vec<PresentationContextResult>,
    peer_max_pdu: u32,
    /// The association's place under `dicom.max_associations`, held until it ends.
    slot: OwnedSemaphorePermit,
}

/// Rejection: source and reason, transient or not, and what to log.
type Reject = (AssociationRJSource, bool, String);

fn user_reject(reason: AssociationRJServiceUserReason, why: String) -> Reject {
    (AssociationRJSource::ServiceUser(reason), false, why)
}

/// Decides on an A-ASSOCIATE-RQ; an association slot is taken only once the AE titles and the
/// institution are known to be right.
async fn accept(
    hub: &Hub,
    rq: &AssociationRQ,
    peer: SocketAddr,
    cert: Option<&CertIdentity>,
    slots: &Arc<Semaphore>,
) -> Result<Accepted, Reject> {
    let config = &hub.config().dicom;
    if rq.protocol_version & 1 == 0 {
        return Err(user_reject(
            AssociationRJServiceUserReason::NoReasonGiven,
            format!(
                "protocol version {:#x} lacks version 1",
                rq.protocol_version
            ),
        ));
    }
    if trim_uid(&rq.application_context_name) != APPLICATION_CONTEXT {
        return Err(user_reject(
            AssociationRJServiceUserReason::ApplicationContextNameNotSupported,
            format!(
                "application context {:?} is not DICOM's",
                rq.application_context_name
            ),
        ));
    }
    let called = rq.called_ae_title.trim();
    if called != config.ae_title.trim() {
        return Err(user_reject(
            AssociationRJServiceUserReason::CalledAETitleNotRecognized,
            format!(
                "called AE title {called:?} is not the hub's ({:?}, dicom.ae_title)",
                config.ae_title
            ),
        ));
    }
    let calling = rq.calling_ae_title.trim();
    let not_recognized = |why: String| {
        user_reject(
            AssociationRJServiceUserReason::CallingAETitleNotRecognized,
            why,
        )
    };
    let Some(code) = config.institution_of(calling) else {
        return Err(not_recognized(format!(
            "calling AE title {calling:?} is not mapped to an institution (add it to [dicom.calling_ae])"
        )));
    };
    // A modality's certificate is tied to its AE title (the domain's rule).
    cert_identity::check_modality(calling, cert).map_err(not_recognized)?;
    if !config.network_allows(calling, peer.ip()) {
        return Err(not_recognized(format!(
            "calling AE title {calling:?} may not call from {} (not in its [dicom.calling_ae_networks])",
            peer.ip()
        )));
    }
    let institution = hub.institution(code).await.map_err(|e| {
        (
            AssociationRJSource::ServiceProviderPresentation(
                AssociationRJServiceProviderPresentationReason::TemporaryCongestion,
            ),
            true,
            format!("cannot read the index: {e}"),
        )
    })?;
    let Some(institution) = institution else {
        return Err(not_recognized(format!(
            "calling AE title {calling:?} is mapped to institution {code:?}, which does not exist (add it with `hub institution add`)"
        )));
    };
    let Ok(slot) = slots.clone().try_acquire_owned() else {
        return Err((
            AssociationRJSource::ServiceProviderPresentation(
                AssociationRJServiceProviderPresentationReason::LocalLimitExceeded,
            ),
            true,
            format!(
                "{} associations are open already (dicom.max_associations)",
                config.max_associations
            ),
        ));
    };
    let peer_max_pdu = rq
        .user_variables
        .iter()
        .find_map(|v| match v {
            UserVariableItem::MaxLength(0) => Some(u32::MAX),
            UserVariableItem::MaxLength(n) => Some(*n),
            _ => None,
        })
        .unwrap_or(16_384);
    let mut contexts = std::collections::HashMap::new();
    let mut results = Vec::with_capacity(rq.presentation_contexts.len());
    for pc in &rq.presentation_contexts {
        let abstract_syntax = trim_uid(&pc.abstract_syntax);
        let offered: &[&str] = if abstract_syntax == VERIFICATION {
            &VERIFICATION_TRANSFER_SYNTAXES
        } else if message::is_storage_sop_class(abstract_syntax) {
            &STORAGE_TRANSFER_SYNTAXES
        } else {
            results.push(PresentationContextResult {
                id: pc.id,
                reason: PresentationContextResultReason::AbstractSyntaxNotSupported,
                transfer_syntax: message::IMPLICIT_VR_LE.into(),
            });
            continue;
        };
        // The requestor's order of preference; the first one we read wins.
        let chosen = pc
            .transfer_syntaxes
            .iter()
            .map(|ts| trim_uid(ts))
            .find(|ts| offered.contains(ts));
        match chosen {
            Some(ts) => {
                contexts.insert(
                    pc.id,
                    Context {
                        abstract_syntax: abstract_syntax.to_owned(),
                        transfer_syntax: ts.to_owned(),
                    },
                );
                results.push(PresentationContextResult {
                    id: pc.id,
                    reason: PresentationContextResultReason::Acceptance,
                    transfer_syntax: ts.to_owned(),
                });
            }
            None => results.push(PresentationContextResult {
                id: pc.id,
                reason: PresentationContextResultReason::TransferSyntaxesNotSupported,
                transfer_syntax: message::IMPLICIT_VR_LE.into(),
            }),
        }
    }
    Ok(Accepted {
        principal: Principal::dicom_peer(calling, &institution),
        contexts,
        results,
        peer_max_pdu,
        slot,
    })
}

fn pdu_name(pdu: &Pdu) -> &'static str {
    match pdu {
        Pdu::Unknown { .. } => "an unknown PDU",
        Pdu::AssociationRQ(_) => "A-ASSOCIATE-RQ",
        Pdu::AssociationAC(_) => "A-ASSOCIATE-AC",
        Pdu::AssociationRJ(_) => "A-ASSOCIATE-RJ",
        Pdu::PData { .. } => "P-DATA-TF",
        Pdu::ReleaseRQ => "A-RELEASE-RQ",
        Pdu::ReleaseRP => "A-RELEASE-RP",
        Pdu::AbortRQ { .. } => "A-ABORT",
    }
}
