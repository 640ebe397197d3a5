//! Outbound: the audit trail sent to a county's log server as RFC 5424 syslog over TLS (RFC 5425),
//! each entry a DICOM audit message (PS3.15 A.5) built by [`crate::domain::audit_export`].
//!
//! One task ([`run`]) asks the domain for the entries after the durable cursor, writes them over
//! one TLS connection (the server's certificate verified against `audit_export.ca_file`, the hub's
//! own certificate presented when configured) and moves the cursor over what was written. A
//! connection the server closed is noticed before the next write, and an unreachable server is
//! tried again with a doubling wait: nothing is lost, and an entry is sent twice only if the hub
//! stops between writing it and moving the cursor (the receiver can drop the copy by its MAC).
//!
//! - [`frame`]: the RFC 5424 message and its octet-counting frame.

pub mod frame;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::AuditExportConfig;
use crate::domain::Hub;
use crate::domain::audit_export::Source;
use crate::model::Principal;
use crate::tls::{self, TlsError};

/// Entries asked for and written at a time.
const BATCH: i64 = 200;
/// How long connecting (TCP and the TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The exporter's settings, checked at start-up.
#[derive(Clone)]
pub struct Exporter {
    target: String,
    host: String,
    port: u16,
    connector: TlsConnector,
    header: frame::Header,
    source: Source,
    poll: Duration,
    max_backoff: Duration,
}

impl Exporter {
    /// Loads `[audit_export]`: None when it is off; an error naming the file or setting when its
    /// certificates cannot be used (the hub then refuses to start).
    pub fn load(config: &AuditExportConfig) -> Result<Option<Exporter>, TlsError> {
        if !config.enabled {
            return Ok(None);
        }
        let (host, port) = config.server_host_port().ok_or_else(|| {
            TlsError::Settings(format!(
                "audit_export.server {:?} must be host:port",
                config.server
            ))
        })?;
        let ca = config.ca_file.as_deref().ok_or_else(|| {
            TlsError::Settings("audit_export.ca_file must name the log server's CA".into())
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(tls::roots(ca)?);
        let client = match (&config.client_cert, &config.client_key) {
            (Some(cert), Some(key)) => builder.with_client_auth_cert(
                tls::certificates(cert, "audit export client certificate")?,
                tls::private_key(key)?,
            )?,
            _ => builder.with_no_client_auth(),
        };
        let hostname = config.hostname.clone().unwrap_or_else(machine_hostname);
        Ok(Some(Exporter {
            target: config.server.clone(),
            host,
            port,
            connector: TlsConnector::from(Arc::new(client)),
            header: frame::Header {
                hostname: hostname.clone(),
                app_name: config.app_name.clone(),
            },
            source: Source {
                source_id: config.app_name.clone(),
                site: config.site.clone(),
                hostname,
            },
            poll: config.poll_interval,
            max_backoff: config.max_backoff,
        }))
    }

    async fn connect(&self) -> Result<TlsStream<TcpStream>, String> {
        let name = rustls_pki_types::ServerName::try_from(self.host.clone())
            .map_err(|e| format!("audit_export.server host {:?}: {e}", self.host))?;
        let attempt = async {
            let tcp = TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| format!("cannot connect to {}: {e}", self.target))?;
            self.connector
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {} failed: {e}", self.target))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| format!("{} did not answer within {CONNECT_TIMEOUT:?}", self.target))?
    }
}

/// This machine's host name (RFC 5424 HOSTNAME), "-" when unknown.
fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty() && h.bytes().all(|b| (33..=126).contains(&b)))
        .unwrap_or_else(|| "-".into())
}

/// Whether the server has closed `conn` (or it failed): read without waiting.
fn closed(conn: &mut TlsStream<TcpStream>) -> bool {
    let mut buf = [0u8; 256];
    match conn.read(&mut buf).now_or_never() {
        None => false,
        Some(Ok(n)) => n == 0,
        Some(Err(_)) => true,
    }
}

/// Sends the audit trail to the log server until `shutdown` resolves.
pub async fn run(hub: Hub, exporter: Exporter, shutdown: impl Future<Output = ()>) {
    let who = Principal::system();
    let mut conn: Option<TlsStream<TcpStream>> = None;
    let mut backoff = Duration::from_secs(1);
    tokio::pin!(shutdown);
    tracing::info!(server = %exporter.target, "exporting the audit trail");
    loop {
        // A log server that does not answer must not hold up shutdown: stop mid-step (what was
        // written but not yet recorded is sent again next time).
        let stepped = tokio::select! {
            () = &mut shutdown => break,
            stepped = step(&hub, &who, &exporter, &mut conn) => stepped,
        };
        let wait = match stepped {
            Ok(0) => exporter.poll,
            Ok(_) => {
                backoff = Duration::from_secs(1);
                Duration::ZERO
            }
            Err(e) => {
                conn = None;
                tracing::warn!(server = %exporter.target, retry_in = ?backoff, "audit export: {e}");
                let _ = hub.audit_export_failed(&who, &exporter.target, &e).await;
                let wait = backoff;
                backoff = (backoff * 2).min(exporter.max_backoff);
                wait
            }
        };
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends the next batch; returns how many entries were sent.
async fn step(
    hub: &Hub,
    who: &Principal,
    exporter: &Exporter,
    conn: &mut Option<TlsStream<TcpStream>>,
) -> Result<usize, String> {
    let items = hub
        .audit_export_pending(who, &exporter.target, &exporter.source, BATCH)
        .await
        .map_err(|e| format!("cannot read the audit trail: {e}"))?;
    let Some(last) = items.last().map(|i| i.seq) else {
        return Ok(0);
    };
    if conn.as_mut().is_some_and(closed) {
        *conn = None;
    }
    let stream = match conn {
        Some(stream) => stream,
        None => conn.insert(exporter.connect().await?),
    };
    // On a failure the cursor stays: the whole batch is sent again (a copy rather than a loss).
    for item in &items {
        let framed = frame::octet_counted(&frame::message(item, &exporter.header));
        let written = async {
            stream.write_all(&framed).await?;
            stream.flush().await
        }
        .await;
        written.map_err(|e| format!("writing to {} failed: {e}", exporter.target))?;
    }
    hub.audit_export_sent(who, &exporter.target, last)
        .await
        .map_err(|e| format!("cannot record what was sent: {e}"))?;
    Ok(items.len())
}
