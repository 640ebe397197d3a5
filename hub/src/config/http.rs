//! The HTTP listener (`[http]`): DICOMweb under `/dicomweb` (and the viewer beside it).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The HTTP listener. Served with `[tls]`'s certificate when one is set; plaintext off loopback
/// only with `allow_plaintext`, as for gRPC.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Serve HTTP at all.
    pub enabled: bool,
    /// Address to listen on (`--http-listen`).
    pub listen: SocketAddr,
    /// Origins a browser may call DICOMweb from (CORS), e.g. `["https://viewer.county.example"]`;
    /// `["*"]` for any. Empty: same origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body (a STOW-RS upload) in bytes.
    pub max_body_bytes: u64,
    /// Most TCP connections open at once; further ones are closed at once.
    pub max_connections: usize,
    /// Most TCP connections open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// Serve HTTP without TLS on a non-loopback address (logged as a WARN at start): only behind
    /// a TLS-terminating proxy on a private link.
    pub allow_plaintext: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            listen: ([127, 0, 0, 1], 8080).into(),
            cors_allowed_origins: Vec::new(),
            max_body_bytes: 4 << 30,
            max_connections: 1024,
            max_connections_per_ip: 256,
            allow_plaintext: false,
        }
    }
}
