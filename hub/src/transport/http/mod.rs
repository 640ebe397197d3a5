//! The HTTP listener: DICOMweb (PS3.18) under `/dicomweb`, in the hub's process, over the same
//! domain as gRPC and DIMSE, with the same tokens, roles and audit trail.
//!
//! - [`router`] assembles the routes; each concern has its file: [`qido`] (searches), [`wado`]
//!   (retrieves), [`stow`] (stores, through the one ingest path), [`accept`] (`Accept` headers),
//!   [`multipart`] (`multipart/related` answers), [`error`] (domain errors as HTTP statuses).
//! - [`Caller`] is the one place a request is authenticated: `Authorization: Bearer <token>`,
//!   or else a signed-in browser's session cookie ([`session`]), read from the headers before any
//!   body, so a stranger's upload is refused unread.
//! - [`session`]: signing in at `/login` with a token; [`viewer`]: the OHIF viewer at `/viewer`.
//! - [`serve`] accepts connections (counted in all and per address before anything is read,
//!   TLS with `[tls]`'s certificate when set) until shutdown, then lets requests in flight end.

pub mod accept;
pub mod error;
pub mod multipart;
pub mod qido;
pub mod session;
pub mod stow;
pub mod viewer;
pub mod wado;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::limits::ConnectionLimits;
use crate::domain::Hub;
use crate::model::Principal;
pub use error::HttpError;

/// What every handler gets: the hub.
#[derive(Clone)]
pub struct HttpState {
    /// The hub.
    pub hub: Hub,
}

/// The authenticated caller of a request (`Authorization: Bearer <token>`, or without one a
/// browser's session cookie). The one place HTTP requests are authenticated.
pub struct Caller(pub Principal);

impl FromRequestParts<HttpState> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, HttpError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if value.is_none()
            && let Some(signed_in) = session::principal(&state.hub, &parts.headers).await
        {
            return Ok(Caller(signed_in?));
        }
        let token = super::token_of(value);
        Ok(Caller(state.hub.authenticate(token).await?))
    }
}

/// Every route of the HTTP listener.
pub fn router(hub: Hub) -> Router {
    let config = hub.config().http.clone();
    let secure = hub.config().tls.cert.is_some();
    let browser = session::router(hub.clone(), secure).merge(viewer::router(hub.clone()));
    let state = HttpState { hub };
    Router::new()
        .nest("/dicomweb", dicomweb())
        .merge(browser)
        .layer(DefaultBodyLimit::max(
            usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
        ))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .compress_when(compressible),
        )
        .layer(cors(&config.cors_allowed_origins))
        .with_state(state)
}

/// The DICOMweb routes (PS3.18 10.4 to 10.6): QIDO-RS searches, WADO-RS retrieves, STOW-RS.
fn dicomweb() -> Router<HttpState> {
    const INSTANCE: &str = "/studies/{study}/series/{series}/instances/{sop}";
    let at = |tail: &str| format!("{INSTANCE}{tail}");
    Router::new()
        .route("/studies", get(qido::studies).post(stow::store))
        .route("/series", get(qido::all_series))
        .route("/instances", get(qido::all_instances))
        .route(
            "/studies/{study}",
            get(wado::study).post(stow::store_in_study),
        )
        .route("/studies/{study}/metadata", get(wado::study_metadata))
        .route("/studies/{study}/rendered", get(wado::study_rendered))
        .route("/studies/{study}/thumbnail", get(wado::study_thumbnail))
        .route("/studies/{study}/series", get(qido::series))
        .route("/studies/{study}/instances", get(qido::study_instances))
        .route("/studies/{study}/series/{series}", get(wado::series))
        .route(
            "/studies/{study}/series/{series}/metadata",
            get(wado::series_metadata),
        )
        .route(
            "/studies/{study}/series/{series}/thumbnail",
            get(wado::series_thumbnail),
        )
        .route(
            "/studies/{study}/series/{series}/rendered",
            get(wado::series_rendered),
        )
        .route(
            "/studies/{study}/series/{series}/instances",
            get(qido::instances),
        )
        .route(INSTANCE, get(wado::instance))
        .route(&at("/metadata"), get(wado::instance_metadata))
        .route(&at("/frames/{frames}"), get(wado::frames))
        .route(&at("/frames/{frames}/rendered"), get(wado::rendered_frame))
        .route(&at("/rendered"), get(wado::rendered))
        .route(&at("/thumbnail"), get(wado::thumbnail))
        .route(&at("/bulkdata/{*path}"), get(wado::bulkdata))
}

/// Only JSON and text are worth compressing (DICOM pixel data is compressed or does not shrink
/// for the CPU it costs); kept metadata arrives already compressed.
fn compressible(
    _: StatusCode,
    _: Version,
    headers: &HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/dicom+json")
                || ct.starts_with("application/json")
                || ct.starts_with("text/")
        })
}

/// CORS for a viewer served from another origin: preflights answered, headers on every answer
/// (errors included, since the layer wraps every route). Nothing crosses origins when `origins`
/// is empty.
fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::ACCEPT, header::CONTENT_TYPE])
        .expose_headers([
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::WARNING,
        ])
        .max_age(Duration::from_secs(600))
}

/// Serves HTTP on `listener` (TLS when `tls` is given) until `stop` flips, then waits up to 10 s
/// for requests in flight.
pub async fn serve(
    hub: Hub,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let config = hub.config().http.clone();
    let limits = ConnectionLimits::new(config.max_connections, config.max_connections_per_ip);
    let app = router(hub);
    let graceful = GracefulShutdown::new();
    let tls = tls.map(Arc::new);
    let stopping = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopping);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("HTTP accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stopping => break,
        };
        let admitted = match limits.admit(peer.ip()) {
            Ok(a) => a,
            Err(refused) => {
                tracing::warn!(%peer, "HTTP connection refused: {refused}");
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        match tls.clone() {
            None => {
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(admitted);
                });
            }
            Some(acceptor) => {
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                            .await
                    else {
                        return;
                    };
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn.into_owned()).await;
                    drop(admitted);
                });
            }
        }
    }
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("HTTP requests still running after 10 s of shutdown were cut");
    }
}

/// The TLS acceptor for HTTPS from the hub's TLS material (HTTP/2 and HTTP/1.1 offered).
pub fn tls_acceptor(material: &crate::tls::ServerTls) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let mut config = (*material.rustls(false)?).clone();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
