//! TLS to PostgreSQL: `sslmode=verify-full` with `sslrootcert=<CA file>` in the database URL, as
//! libpq spells them.
//!
//! tokio-postgres knows neither `verify-full` nor `sslrootcert`, so both are taken out of the URL
//! here: `verify-full` connects over rustls, which checks the server's certificate chain against
//! `sslrootcert` and its name against the host dialled (libpq's verify-full). A TCP host that is
//! not loopback needs TLS, or an explicit `sslmode=disable` (logged as a WARN); the modes that
//! encrypt without checking who answers (`require`, `verify-ca`, `prefer`, `allow`) are refused.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How the hub connects: the parsed configuration and, for `verify-full`, the TLS connector.
pub struct PgConnect {
    /// tokio-postgres's configuration (the URL without `sslmode` and `sslrootcert`).
    pub config: tokio_postgres::Config,
    /// The verifying TLS connector; None: plaintext.
    pub tls: Option<MakeRustlsConnect>,
}

/// Parses `url` (`postgres://…?sslmode=verify-full&sslrootcert=/etc/remotedx/db-ca.pem`, or the
/// `key=value` form). Errors say what to change; they never include the password.
pub fn parse(url: &str) -> Result<PgConnect, String> {
    let (rest, mode, root) = take_tls_options(url);
    let mut config: tokio_postgres::Config = rest
        .parse()
        .map_err(|e| format!("the database URL cannot be read: {e}"))?;
    match mode.as_deref() {
        Some("verify-full") => {
            let root = root.ok_or(
                "sslmode=verify-full needs sslrootcert=<file>: the CA certificate (PEM) the database server's certificate chains to",
            )?;
            config.ssl_mode(SslMode::Require);
            Ok(PgConnect {
                config,
                tls: Some(connector(&root)?),
            })
        }
        None | Some("disable") => {
            let explicit = mode.is_some();
            for host in config.get_hosts() {
                if let Host::Tcp(name) = host
                    && !is_loopback(name)
                {
                    if !explicit {
                        return Err(format!(
                            "the database host {name} is not on this machine: add sslmode=verify-full&sslrootcert=<CA file> to the URL, or sslmode=disable to send patient data in clear on purpose"
                        ));
                    }
                    tracing::warn!(host = %name, "PostgreSQL WITHOUT TLS to a host that is not on this machine (sslmode=disable)");
                }
            }
            config.ssl_mode(SslMode::Disable);
            Ok(PgConnect { config, tls: None })
        }
        Some(other) => Err(format!(
            "sslmode={other} does not check who answers: use sslmode=verify-full with sslrootcert=<CA file> (or sslmode=disable on a private link)"
        )),
    }
}

/// The URL without `sslmode` / `sslrootcert`, and their values.
fn take_tls_options(url: &str) -> (String, Option<String>, Option<PathBuf>) {
    let (mut mode, mut root) = (None, None);
    let mut take = |key: &str, value: &str| match key {
        "sslmode" => {
            mode = Some(value.to_owned());
            true
        }
        "sslrootcert" => {
            root = Some(PathBuf::from(value));
            true
        }
        _ => false,
    };
    let rest = if let Some((base, query)) = url.split_once('?').filter(|_| url.contains("://")) {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                !take(k, &decode(v))
            })
            .collect();
        if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else if url.contains("://") {
        url.to_owned()
    } else {
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                !take(k, v)
            })
            .collect();
        kept.join(" ")
    };
    (rest, mode, root)
}

/// Percent-decoding of a query value (paths may carry %2F).
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = if bytes[i] == b'%' {
            value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        } else {
            None
        };
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn connector(root: &std::path::Path) -> Result<MakeRustlsConnect, String> {
    let roots = crate::tls::roots(root).map_err(|e| format!("sslrootcert: {e}"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_leave_the_url_and_the_rest_stays() {
        let (rest, mode, root) = take_tls_options(
            "postgres://hub:pw@db:5432/hub?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=hub",
        );
        assert_eq!(rest, "postgres://hub:pw@db:5432/hub?application_name=hub");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root, Some(PathBuf::from("/etc/ca.pem")));
        let (rest, mode, _) = take_tls_options("host=db sslmode=disable dbname=hub");
        assert_eq!(rest, "host=db dbname=hub");
        assert_eq!(mode.as_deref(), Some("disable"));
    }

    #[test]
    fn a_remote_database_needs_tls_or_an_explicit_opt_out() {
        let err = parse("postgres://hub:s3cret@db.county.example/hub")
            .err()
            .unwrap();
        assert!(
            err.contains("sslmode=verify-full") && !err.contains("s3cret"),
            "{err}"
        );
        assert!(
            parse("postgres://hub@db.county.example/hub?sslmode=disable")
                .unwrap()
                .tls
                .is_none()
        );
        assert!(
            parse("postgres://hub@127.0.0.1:5432/hub")
                .unwrap()
                .tls
                .is_none()
        );
        assert!(
            parse("host=/run/postgresql dbname=hub")
                .unwrap()
                .tls
                .is_none()
        );
        let err = parse("postgres://hub@db/hub?sslmode=require")
            .err()
            .unwrap();
        assert!(err.contains("verify-full"), "{err}");
        let err = parse("postgres://hub@db/hub?sslmode=verify-full")
            .err()
            .unwrap();
        assert!(err.contains("sslrootcert"), "{err}");
    }
}
