//! `[audit_export]`: the audit trail sent to a county's log server as RFC 5424 syslog over TLS
//! (RFC 5425), each entry a DICOM audit message (PS3.15 A.5).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Export of the audit trail to a syslog server over TLS.
///
/// The hub sends every audit entry, in the order the audit chain links them, from a cursor kept in
/// the index: a log-server outage or a restart of the hub loses nothing, and an entry is sent again
/// only if the connection broke before the hub knew it was written. Turn it on in one replica of a
/// region only (each replica would send the whole trail).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditExportConfig {
    /// Send the audit trail (needs `server` and `ca_file`).
    pub enabled: bool,
    /// The log server, `host:port` (the host as its certificate names it; 6514 is syslog over TLS).
    pub server: String,
    /// The CA certificate(s) the log server's certificate must chain to (PEM).
    pub ca_file: Option<PathBuf>,
    /// The hub's client certificate (PEM, the certificate first), when the log server asks for one
    /// (mutual TLS): `hub cert audit --name HUB` writes one.
    pub client_cert: Option<PathBuf>,
    /// The private key of `client_cert` (PEM).
    pub client_key: Option<PathBuf>,
    /// The syslog APP-NAME, also the audit source id of the messages.
    pub app_name: String,
    /// The syslog HOSTNAME (default: the machine's host name).
    pub hostname: Option<String>,
    /// The region or site the messages name as `AuditEnterpriseSiteID` ("": none).
    pub site: String,
    /// How often to look for new audit entries when everything has been sent.
    #[serde(with = "super::human_duration")]
    pub poll_interval: Duration,
    /// The longest wait between attempts to reach an unreachable log server (the wait doubles from
    /// one second up to this).
    #[serde(with = "super::human_duration")]
    pub max_backoff: Duration,
}

impl Default for AuditExportConfig {
    fn default() -> Self {
        AuditExportConfig {
            enabled: false,
            server: String::new(),
            ca_file: None,
            client_cert: None,
            client_key: None,
            app_name: "remotedx".into(),
            hostname: None,
            site: String::new(),
            poll_interval: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

impl AuditExportConfig {
    /// Checks that an enabled export can reach and authenticate its server; the reason names the
    /// setting to fix.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.server_host_port().is_none() {
            return Err(format!(
                "audit_export.server {:?} must be host:port, e.g. \"logs.county.example:6514\"",
                self.server
            ));
        }
        if self.ca_file.is_none() {
            return Err("audit_export.ca_file must name the CA certificate the log server's certificate is checked against (audit events are never sent unverified)".into());
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(
                "audit_export.client_cert and audit_export.client_key go together: set both or neither"
                    .into(),
            );
        }
        let printable =
            |s: &str| !s.is_empty() && s.len() <= 48 && s.bytes().all(|b| (33..=126).contains(&b));
        if !printable(&self.app_name) || self.hostname.as_deref().is_some_and(|h| !printable(h)) {
            return Err("audit_export.app_name and audit_export.hostname must be 1 to 48 printable ASCII characters without spaces (RFC 5424)".into());
        }
        if self.poll_interval.is_zero() || self.max_backoff < Duration::from_secs(1) {
            return Err("audit_export.poll_interval must be positive and audit_export.max_backoff at least 1s".into());
        }
        Ok(())
    }

    /// The server's host and port, if `server` is `host:port` (`[v6]:port` for IPv6).
    pub fn server_host_port(&self) -> Option<(String, u16)> {
        let (host, port) = self.server.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = port.parse().ok()?;
        (!host.is_empty()).then(|| (host.to_owned(), port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enabled_export_needs_a_server_and_a_ca() {
        assert!(AuditExportConfig::default().validate().is_ok());
        let mut c = AuditExportConfig {
            enabled: true,
            ..AuditExportConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("audit_export.server"));
        c.server = "logs.example:6514".into();
        assert!(c.validate().unwrap_err().contains("audit_export.ca_file"));
        c.ca_file = Some("ca.pem".into());
        assert!(c.validate().is_ok());
        c.client_key = Some("k".into());
        assert!(c.validate().unwrap_err().contains("client_cert"));
    }

    #[test]
    fn servers_are_host_and_port() {
        let c = |s: &str| AuditExportConfig {
            server: s.into(),
            ..AuditExportConfig::default()
        };
        assert_eq!(c("a.b:6514").server_host_port(), Some(("a.b".into(), 6514)));
        assert_eq!(c("[::1]:1").server_host_port(), Some(("::1".into(), 1)));
        assert_eq!(c("a.b").server_host_port(), None);
        assert_eq!(c(":1").server_host_port(), None);
    }
}
