//! The connection to the hub: one channel, the bearer-token interceptor and a typed client per
//! service.

use std::path::PathBuf;
use std::time::Duration;

use remotedx_proto::v1 as pb;
use remotedx_proto::{AUTHORIZATION, MAX_MESSAGE_BYTES};
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status};

use crate::error::CliError;

/// Adds `authorization: Bearer <token>` to every call (nothing without a token: the hub then
/// answers UNAUTHENTICATED and says how to pass one).
#[derive(Debug, Clone)]
pub struct Auth(Option<AsciiMetadataValue>);

impl Auth {
    /// For `token` (None or empty: no header).
    pub fn new(token: Option<&str>) -> Result<Auth, CliError> {
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Auth(None));
        };
        let value = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| CliError::Usage("the token may not contain control characters".into()))?;
        Ok(Auth(Some(value)))
    }
}

impl Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            req.metadata_mut().insert(AUTHORIZATION, value.clone());
        }
        Ok(req)
    }
}

/// A channel with the token attached.
pub type AuthChannel = InterceptedService<Channel, Auth>;

/// How the connection to the hub is secured.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// The CA certificate (PEM) an `https://` hub's certificate must chain to; the system's
    /// roots when absent.
    pub ca_file: Option<PathBuf>,
    /// Send the token over plaintext `http://` to a host that is not this machine.
    pub allow_plaintext: bool,
}

/// Whether `host` (from a URL) is this machine.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses, before any connection, to send a token in clear to another machine; sets up TLS
/// for `https://`.
fn secure(
    endpoint: Endpoint,
    url: &str,
    auth: &Auth,
    security: &Security,
) -> Result<Endpoint, CliError> {
    let uri = endpoint.uri().clone();
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") => {
            let tls = match &security.ca_file {
                Some(path) => {
                    let pem = std::fs::read(path).map_err(|e| CliError::file(path, e))?;
                    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem))
                }
                None => ClientTlsConfig::new().with_native_roots(),
            };
            endpoint
                .tls_config(tls)
                .map_err(|e| CliError::Usage(format!("--hub {url:?}: cannot set up TLS: {e}")))
        }
        Some("http") if auth.0.is_some() && !is_loopback(host) && !security.allow_plaintext => {
            Err(CliError::Usage(format!(
                "refusing to send your token in clear to {host} over http://: use --hub https://{host}:PORT \
                 (with --ca-file / HUB_CA_FILE for the county CA), or --insecure-plaintext on a private link you trust"
            )))
        }
        _ => Ok(endpoint),
    }
}

/// A hint for TLS failures, which the transport words for engineers.
fn tls_hint(reason: &str) -> &'static str {
    if reason.contains("UnknownIssuer") || reason.contains("certificate") {
        " (the hub's certificate is not one you trust: check --ca-file / HUB_CA_FILE, and that the --hub name is one the certificate was issued for)"
    } else {
        ""
    }
}

/// A connected hub.
#[derive(Debug, Clone)]
pub struct Hub {
    channel: Channel,
    auth: Auth,
    url: String,
}

impl Hub {
    /// Connects to `url` (failing fast if nothing listens there) with the default [`Security`]:
    /// TLS against the system's roots for `https://`, no token over `http://` to another machine.
    pub async fn connect(url: &str, token: Option<&str>) -> Result<Hub, CliError> {
        Hub::connect_secured(url, token, &Security::default()).await
    }

    /// Connects to `url` (failing fast if nothing listens there): over TLS for `https://`; a
    /// token is never sent over `http://` to another machine unless `security` allows it.
    pub async fn connect_secured(
        url: &str,
        token: Option<&str>,
        security: &Security,
    ) -> Result<Hub, CliError> {
        let auth = Auth::new(token)?;
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|e| CliError::Usage(format!("--hub {url:?} is not a valid URL: {e}")))?
            .connect_timeout(Duration::from_secs(10))
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        let endpoint = secure(endpoint, url, &auth, security)?;
        let channel = endpoint.connect().await.map_err(|e| {
            let reason = error_chain(&e);
            CliError::Unreachable {
                url: url.to_owned(),
                reason: format!("{reason}{}", tls_hint(&reason)),
            }
        })?;
        Ok(Hub {
            channel,
            auth,
            url: url.to_owned(),
        })
    }

    /// The URL it was reached at.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Maps a status from this hub to a [`CliError`].
    pub fn error(&self, status: Status) -> CliError {
        CliError::status(status, &self.url)
    }

    fn intercepted(&self) -> AuthChannel {
        InterceptedService::new(self.channel.clone(), self.auth.clone())
    }

    /// UploadService.
    pub fn upload(&self) -> pb::upload_service_client::UploadServiceClient<AuthChannel> {
        pb::upload_service_client::UploadServiceClient::new(self.intercepted())
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// CaseService.
    pub fn cases(&self) -> pb::case_service_client::CaseServiceClient<AuthChannel> {
        pb::case_service_client::CaseServiceClient::new(self.intercepted())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// ReadingService.
    pub fn reading(&self) -> pb::reading_service_client::ReadingServiceClient<AuthChannel> {
        pb::reading_service_client::ReadingServiceClient::new(self.intercepted())
    }

    /// AccountService.
    pub fn account(&self) -> pb::account_service_client::AccountServiceClient<AuthChannel> {
        pb::account_service_client::AccountServiceClient::new(self.intercepted())
    }

    /// AdminService.
    pub fn admin(&self) -> pb::admin_service_client::AdminServiceClient<AuthChannel> {
        pb::admin_service_client::AdminServiceClient::new(self.intercepted())
    }

    /// RecognitionService.
    pub fn recognition(
        &self,
    ) -> pb::recognition_service_client::RecognitionServiceClient<AuthChannel> {
        pb::recognition_service_client::RecognitionServiceClient::new(self.intercepted())
    }
}

/// An error and its causes on one line (the transport's top-level message alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_becomes_a_bearer_header() {
        let mut auth = Auth::new(Some(" demo-clinic-a ")).unwrap();
        let req = auth.call(Request::new(())).unwrap();
        assert_eq!(
            req.metadata().get(AUTHORIZATION).unwrap(),
            "Bearer demo-clinic-a"
        );
        let mut none = Auth::new(None).unwrap();
        assert!(
            none.call(Request::new(()))
                .unwrap()
                .metadata()
                .get(AUTHORIZATION)
                .is_none()
        );
        assert!(Auth::new(Some("to\nken")).is_err());
    }

    #[tokio::test]
    async fn nothing_listening_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let err = Hub::connect(&url, None).await.unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_UNAVAILABLE);
        assert!(err.to_string().contains(&url));
        let bad = Hub::connect("not a url", None).await.unwrap_err();
        assert_eq!(bad.exit_code(), crate::error::EXIT_USAGE);
    }

    #[tokio::test]
    async fn a_token_is_never_sent_in_clear_to_another_machine() {
        // 192.0.2.1 (TEST-NET-1) never answers: the refusal comes before any connection.
        let security = Security::default();
        let err = Hub::connect_secured("http://192.0.2.1:50051", Some("t"), &security)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
        assert!(err.to_string().contains("https://"), "{err}");
        for local in ["http://localhost:1", "http://127.0.0.1:1", "http://[::1]:1"] {
            let err = Hub::connect_secured(local, Some("t"), &security)
                .await
                .unwrap_err();
            assert_eq!(
                err.exit_code(),
                crate::error::EXIT_UNAVAILABLE,
                "{local}: {err}"
            );
        }
    }
}
