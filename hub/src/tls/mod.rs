//! TLS off loopback: the hub's certificate and key, the county CA its clients' certificates must
//! chain to, and the rule that nothing is served in plaintext on a non-loopback address without an
//! explicit, logged opt-in.
//!
//! - [`ServerTls`]: the material of `[tls]`, loaded and checked once at start-up, as tonic's
//!   server configuration (gRPC, the worker link) and as a rustls configuration (the DICOM TLS
//!   port, PS3.15 B.1; a future HTTP listener).
//! - [`check_plaintext`]: a listener without TLS is refused on a non-loopback address unless
//!   its opt-in is set, and then logged as a WARN.
//! - [`identity`]: who a verified client certificate was issued to.
//! - [`revoke`]: `hub cert revoke` and the CRLs of `[tls] crl_files`.
//! - [`issue`]: `hub cert`: a county's local CA, the hub's server certificate, client certificates
//!   for remote workers and modalities.

pub mod identity;
pub mod issue;
pub mod revoke;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ClientCertPolicy, TlsConfig};

/// Why TLS cannot be set up, naming the file or setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file cannot be read or holds nothing usable.
    #[error("cannot use {what} {path}: {reason} (`hub cert` writes these files)")]
    File {
        /// What the file should hold ("certificate", "private key", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The settings do not fit together.
    #[error("{0}")]
    Settings(String),
    /// rustls refused the material.
    #[error("the TLS material cannot be used: {0}")]
    Rustls(#[from] rustls::Error),
    /// A listener would serve plaintext on a non-loopback address without the opt-in.
    #[error(
        "refusing to serve {listener} in plaintext on {addr}, which is not a loopback address: \
         tokens and patient data would cross the network readable by anyone on it. Give the hub a \
         certificate ([tls] cert and key, made with `hub cert`), or, only behind a TLS-terminating \
         proxy on a private link, opt in with {opt_in}"
    )]
    Plaintext {
        /// Which listener ("gRPC", "DICOM").
        listener: &'static str,
        /// Its address.
        addr: SocketAddr,
        /// The setting or flag that allows it.
        opt_in: &'static str,
    },
}

/// The certificates in a PEM file (a chain: the leaf first).
pub fn certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |reason: String| TlsError::File {
        what,
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::File {
        what: "private key",
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The hub's TLS material (`[tls]`), loaded and checked at start-up.
#[derive(Debug)]
pub struct ServerTls {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca_pem: Option<Vec<u8>>,
    client_roots: Option<Arc<RootCertStore>>,
    /// The county CA's revocation lists (`tls.crl_files`).
    crls: Vec<rustls_pki_types::CertificateRevocationListDer<'static>>,
    policy: ClientCertPolicy,
}

impl ServerTls {
    /// Loads `[tls]`: None when no certificate is configured (the listeners are then plaintext,
    /// which [`check_plaintext`] allows on loopback only).
    pub fn load(config: &TlsConfig) -> Result<Option<ServerTls>, TlsError> {
        let (cert, key) = match (&config.cert, &config.key) {
            (None, None) => {
                if config.client_ca.is_some() || config.client_certs != ClientCertPolicy::None {
                    return Err(TlsError::Settings(
                        "tls.client_ca and tls.client_certs need the hub's own certificate: set tls.cert and tls.key".into(),
                    ));
                }
                return Ok(None);
            }
            (Some(cert), Some(key)) => (cert, key),
            _ => {
                return Err(TlsError::Settings(
                    "tls.cert and tls.key go together: set both (the files `hub cert server` wrote) or neither".into(),
                ));
            }
        };
        let chain = certificates(cert, "certificate")?;
        let key_der = private_key(key)?;
        let read = |path: &Path, what| {
            std::fs::read(path).map_err(|e| TlsError::File {
                what,
                path: path.to_owned(),
                reason: e.to_string(),
            })
        };
        let client_roots = match &config.client_ca {
            Some(path) => Some(Arc::new(roots(path)?)),
            None if config.client_certs != ClientCertPolicy::None => {
                return Err(TlsError::Settings(format!(
                    "tls.client_certs = \"{}\" needs tls.client_ca, the county CA certificate client certificates are checked against (ca.pem from `hub cert init`)",
                    config.client_certs.as_str()
                )));
            }
            None => None,
        };
        let tls = ServerTls {
            cert_pem: read(cert, "certificate")?,
            key_pem: read(key, "private key")?,
            chain,
            key: key_der,
            client_ca_pem: config
                .client_ca
                .as_deref()
                .map(|p| read(p, "CA certificate"))
                .transpose()?,
            client_roots,
            crls: revoke::load(&config.crl_files)?,
            policy: config.client_certs,
        };
        if !tls.crls.is_empty() && tls.client_roots.is_none() {
            return Err(TlsError::Settings(
                "tls.crl_files needs tls.client_ca, the CA whose revocations they list".into(),
            ));
        }
        // Build once now, so a key that does not match its certificate stops the start-up.
        tls.rustls(false)?;
        Ok(Some(tls))
    }

    /// The gRPC server's TLS: client certificates are verified against `tls.client_ca` when
    /// presented, and required on every connection with `client_certs = "all"`.
    pub fn grpc(&self) -> tonic::transport::ServerTlsConfig {
        let identity = tonic::transport::Identity::from_pem(&self.cert_pem, &self.key_pem);
        let mut config = tonic::transport::ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca_pem {
            config = config
                .client_ca_root(tonic::transport::Certificate::from_pem(ca))
                .client_auth_optional(self.policy != ClientCertPolicy::All);
        }
        config
    }

    /// The serial numbers of revoked client certificates (`tls.crl_files`): tonic's gRPC TLS
    /// takes no CRLs, so the worker service refuses these itself.
    pub fn revoked_serials(&self) -> Vec<Vec<u8>> {
        revoke::revoked_serials(&self.crls)
    }

    /// Whether the worker service needs a client certificate from the county CA.
    pub fn workers_need_client_cert(&self) -> bool {
        self.policy != ClientCertPolicy::None
    }

    /// A rustls server configuration (the DICOM TLS port): client certificates verified
    /// against `tls.client_ca` when presented, required when `require_client_cert`.
    pub fn rustls(&self, require_client_cert: bool) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_roots {
            Some(roots) => {
                let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider)
                    .with_crls(self.crls.iter().cloned())
                    .only_check_end_entity_revocation();
                let verifier = if require_client_cert {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                let verifier = verifier.build().map_err(|e| {
                    TlsError::Settings(format!("tls.client_ca cannot verify clients: {e}"))
                })?;
                builder.with_client_cert_verifier(verifier)
            }
            None if require_client_cert => {
                return Err(TlsError::Settings(
                    "dicom.tls_require_client_cert needs tls.client_ca (the county CA certificate)"
                        .into(),
                ));
            }
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(builder.with_single_cert(
            self.chain.clone(),
            self.key.clone_key(),
        )?))
    }
}

/// The CA certificates in a PEM file, as a root store.
pub fn roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in certificates(path, "CA certificate")? {
        store.add(cert).map_err(|e| TlsError::File {
            what: "CA certificate",
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    }
    Ok(store)
}

/// Allows a plaintext listener on a loopback address; elsewhere only with its opt-in
/// (`allowed`), and then with a WARN at start.
pub fn check_plaintext(
    listener: &'static str,
    addr: SocketAddr,
    allowed: bool,
    opt_in: &'static str,
) -> Result<(), TlsError> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if !allowed {
        return Err(TlsError::Plaintext {
            listener,
            addr,
            opt_in,
        });
    }
    tracing::warn!(%addr, "{listener} is served WITHOUT TLS on a non-loopback address ({opt_in}): anyone on the network can read tokens and patient data");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_refused_off_loopback_without_the_opt_in() {
        let lo: SocketAddr = "127.0.0.1:50051".parse().unwrap();
        let lo6: SocketAddr = "[::1]:50051".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:50051".parse().unwrap();
        assert!(check_plaintext("gRPC", lo, false, "x").is_ok());
        assert!(check_plaintext("gRPC", lo6, false, "x").is_ok());
        let err = check_plaintext("gRPC", any, false, "tls.allow_plaintext")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("0.0.0.0:50051") && err.contains("tls.allow_plaintext"),
            "{err}"
        );
        assert!(check_plaintext("gRPC", any, true, "x").is_ok());
    }

    #[test]
    fn half_a_configuration_is_refused_by_name() {
        let config = TlsConfig {
            cert: Some("/nowhere/server.pem".into()),
            ..TlsConfig::default()
        };
        let err = ServerTls::load(&config).unwrap_err().to_string();
        assert!(err.contains("tls.key"), "{err}");
        let config = TlsConfig {
            client_certs: ClientCertPolicy::Workers,
            ..TlsConfig::default()
        };
        assert!(ServerTls::load(&config).is_err());
        assert!(ServerTls::load(&TlsConfig::default()).unwrap().is_none());
    }
}
