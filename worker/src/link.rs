//! The remote worker's link to its hub: TLS with a client certificate (mTLS) for `https://`,
//! and no worker token sent over plaintext `http://` to another machine without an explicit
//! opt-in.

use std::path::PathBuf;

use anyhow::Context;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// How the link is secured.
#[derive(Debug, Clone, Default)]
pub struct LinkSecurity {
    /// The CA certificate (PEM) the hub's certificate must chain to (the county CA's `ca.pem`);
    /// the system's roots when absent.
    pub ca_file: Option<PathBuf>,
    /// This worker's client certificate (PEM) and key, from `hub cert worker`: presented to a
    /// hub that requires mTLS for workers.
    pub identity: Option<(PathBuf, PathBuf)>,
    /// Send the token over plaintext `http://` to a hub on another machine.
    pub allow_plaintext: bool,
}

/// Whether `host` (from a URL) is this machine.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The endpoint for `url`, secured as `security` says; refuses plaintext to another machine
/// before any connection is made.
pub fn endpoint(url: &str, security: &LinkSecurity) -> anyhow::Result<Endpoint> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid hub URL {url:?}"))?;
    let host = endpoint.uri().host().unwrap_or_default().to_owned();
    match endpoint.uri().scheme_str() {
        Some("https") => Ok(endpoint.tls_config(tls(security)?)?),
        Some("http") if !is_loopback(&host) && !security.allow_plaintext => anyhow::bail!(
            "refusing to send the worker token in clear to {host} over http://: use --hub https://{host}:PORT \
             with --ca-file (and --cert/--key when the hub requires client certificates), or \
             --insecure-plaintext on a private link you trust"
        ),
        _ => {
            if security.identity.is_some() {
                tracing::warn!(hub = %url, "--cert/--key are not used over http://");
            }
            Ok(endpoint)
        }
    }
}

fn tls(security: &LinkSecurity) -> anyhow::Result<ClientTlsConfig> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
    };
    let mut tls = match &security.ca_file {
        Some(path) => ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(path, "CA certificate")?)),
        None => ClientTlsConfig::new().with_native_roots(),
    };
    if let Some((cert, key)) = &security.identity {
        tls = tls.identity(Identity::from_pem(
            read(cert, "client certificate")?,
            read(key, "client key")?,
        ));
    }
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_goes_in_clear_to_another_machine() {
        let security = LinkSecurity::default();
        let err = endpoint("http://192.0.2.1:50051", &security)
            .unwrap_err()
            .to_string();
        assert!(err.contains("https://192.0.2.1"), "{err}");
        assert!(endpoint("http://127.0.0.1:50051", &security).is_ok());
        assert!(endpoint("http://localhost:50051", &security).is_ok());
        let opted_in = LinkSecurity {
            allow_plaintext: true,
            ..LinkSecurity::default()
        };
        assert!(endpoint("http://192.0.2.1:50051", &opted_in).is_ok());
        let missing = LinkSecurity {
            ca_file: Some("/nowhere/ca.pem".into()),
            ..LinkSecurity::default()
        };
        let err = endpoint("https://hub:50051", &missing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nowhere/ca.pem"), "{err}");
    }
}
