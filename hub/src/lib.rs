//! The remotedx hub: township clinics upload studies and ECGs, county specialists read them from a
//! priority queue and sign reports.
//!
//! Data flows one way: [`transport`] (gRPC, DICOM and HTTP adapters) → [`domain`] (what the hub does) →
//! [`storage`] (SQL index and blob store behind traits). [`runner`] runs worker jobs on the hub's
//! rayon pool; [`config`] is layered configuration; [`tls`] the hub's TLS material and `hub cert`; [`model`] the plain data types; [`demo`] seeds a
//! demo region. The binary (`main.rs`) parses flags, binds listeners and calls [`run`].

pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod keys;
pub mod model;
pub mod runner;
pub mod startup;
pub mod storage;
pub mod tls;
pub mod transport;

use std::future::Future;

use tokio::net::TcpListener;
use tokio::sync::watch;

use domain::Hub;

/// The sockets the hub serves, bound by the caller (tests bind `127.0.0.1:0`).
pub struct Listeners {
    /// The gRPC listener.
    pub grpc: TcpListener,
    /// The DICOM listener, if enabled.
    pub dicom: Option<TcpListener>,
    /// The DICOM TLS listener (`dicom.tls_listen`), if any; needs `tls`.
    pub dicom_tls: Option<TcpListener>,
    /// The HTTP listener (DICOMweb), if enabled; served with `tls` when given.
    pub http: Option<TcpListener>,
    /// The TLS material gRPC and the DICOM TLS port are served with (`[tls]`); None: plaintext.
    pub tls: Option<std::sync::Arc<tls::ServerTls>>,
}

/// Serves the hub until `shutdown` resolves, then stops accepting, lets requests and jobs in
/// flight finish, and returns.
///
/// Shutdown is one `watch` channel: every background task (sweeper, event dispatcher, job runner)
/// and the gRPC server wait on it, so one signal stops them all; report watchers' endless streams
/// are ended through [`Hub::begin_shutdown`].
pub async fn run(
    hub: Hub,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_dimse = stop_rx.clone();
    let stop_http = stop_rx.clone();
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    {
        let (hub, stop) = (hub.clone(), stopped());
        tasks.spawn(async move { hub.run_sweeper(stop).await });
    }
    {
        let (hub, stop) = (hub.clone(), stopped());
        tasks.spawn(async move { hub.run_event_dispatcher(stop).await });
    }
    {
        // Users disabled by another process (`hub user disable`, another replica) lose access here.
        let (hub, stop) = (hub.clone(), stopped());
        tasks.spawn(async move { hub.watch_revocations(stop).await });
    }
    if hub.config().jobs.in_process {
        let (hub, stop) = (hub.clone(), stopped());
        let threads = hub.config().jobs.threads;
        tasks.spawn(async move { runner::run(hub, threads, stop).await });
    }
    if let Some(dicom) = listeners.dicom {
        let (hub, stop) = (hub.clone(), stop_dimse.clone());
        tasks.spawn(async move { transport::dimse::serve(hub, dicom, None, stop).await });
    }
    if let Some(dicom_tls) = listeners.dicom_tls {
        let material = listeners
            .tls
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("dicom.tls_listen needs [tls] cert and key"))?;
        let config = material.rustls(hub.config().dicom.tls_require_client_cert)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let (hub, stop) = (hub.clone(), stop_dimse);
        tasks.spawn(
            async move { transport::dimse::serve(hub, dicom_tls, Some(acceptor), stop).await },
        );
    }
    if let Some(http) = listeners.http {
        let acceptor = match &listeners.tls {
            Some(material) => Some(transport::http::tls_acceptor(material)?),
            None => None,
        };
        let (hub, stop) = (hub.clone(), stop_http);
        tasks.spawn(async move { transport::http::serve(hub, http, acceptor, stop).await });
    }
    let addr = listeners.grpc.local_addr()?;
    tracing::info!(%addr, tls = listeners.tls.is_some(), "gRPC listening");
    let incoming = transport::grpc_listener::incoming(listeners.grpc, &hub.config().grpc);
    let mut builder = tonic::transport::Server::builder();
    if let Some(material) = &listeners.tls {
        builder = builder.tls_config(material.grpc())?;
    }
    let workers_need_cert = listeners
        .tls
        .as_ref()
        .is_some_and(|t| t.workers_need_client_cert());
    let server = builder
        .concurrency_limit_per_connection(hub.config().grpc.max_concurrent_requests)
        .http2_keepalive_interval(Some(transport::grpc_listener::keepalive(
            &hub.config().grpc,
        )))
        .http2_keepalive_timeout(Some(hub.config().grpc.idle_timeout))
        .add_routes(transport::routes(&hub, workers_need_cert))
        .serve_with_incoming_shutdown(incoming, stopped());
    let stopping = hub.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests and jobs in flight");
        // Report watchers' streams never finish by themselves: tell them to end (they tell their
        // clients the hub is shutting down), or the server would wait for them.
        stopping.begin_shutdown();
        let _ = stop_tx.send(true);
    });
    let served = server.await;
    while tasks.join_next().await.is_some() {}
    served?;
    Ok(())
}
