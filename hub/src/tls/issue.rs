//! `hub cert`: a county's local certificate authority and the certificates it issues.
//!
//! One directory holds them all: `ca.pem` / `ca.key` (the county CA; the key never leaves this
//! directory), `server.pem` / `server.key` (the hub: its host names and addresses), and one
//! `<kind>-<name>.pem` / `.key` per client (remote workers, modalities on the DICOM TLS port).
//! Keys are written readable by their owner only (0600) and never overwritten: reissuing means
//! removing the old files first, on purpose.

use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};

/// The CA certificate's file name.
pub const CA_CERT: &str = "ca.pem";
/// The CA key's file name.
pub const CA_KEY: &str = "ca.key";
/// The hub's certificate's file name (the certificate, then the CA's).
pub const SERVER_CERT: &str = "server.pem";
/// The hub's key's file name.
pub const SERVER_KEY: &str = "server.key";

/// How long the CA is valid, in years.
const CA_YEARS: i16 = 10;
/// How long a server or client certificate is valid, in years.
const LEAF_YEARS: i16 = 2;

/// Why a certificate cannot be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file exists already and is never overwritten.
    #[error(
        "{0} exists already: remove it first to issue a new one (and copy the new files where the old ones were)"
    )]
    Exists(PathBuf),
    /// No CA in the directory yet.
    #[error("no county CA in {0}: run `hub cert init --dir {0} --county NAME` first")]
    NoCa(PathBuf),
    /// A name or host is not usable.
    #[error("{0}")]
    Input(String),
    /// rcgen refused.
    #[error("cannot issue the certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// Who a client certificate is for (its file name prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A remote `worker` process.
    Worker,
    /// A modality or other DICOM peer on the DICOM TLS port.
    Modality,
    /// The hub itself, towards a county log server that asks for client certificates
    /// (`[audit_export] client_cert`).
    AuditExport,
}

impl ClientKind {
    fn prefix(self) -> &'static str {
        match self {
            ClientKind::Worker => "worker",
            ClientKind::Modality => "modality",
            ClientKind::AuditExport => "audit",
        }
    }
}

/// The certificate and key files just written.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, 0600).
    pub key: PathBuf,
}

/// Creates the county CA in `dir`.
pub fn init(dir: &Path, county: &str) -> Result<Issued, IssueError> {
    let county = county.trim();
    if county.is_empty() {
        return Err(IssueError::Input(
            "--county must name the county, e.g. \"Qingshan County\"".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, format!("remotedx CA {county}"));
    params
        .distinguished_name
        .push(DnType::OrganizationName, county);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, CA_YEARS);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    write(dir, CA_CERT, CA_KEY, &cert.pem(), &key)
}

/// Issues the hub's server certificate for `hosts` (DNS names or IP addresses clients dial).
pub fn server(dir: &Path, hosts: &[String]) -> Result<Issued, IssueError> {
    if hosts.is_empty() {
        return Err(IssueError::Input(
            "name at least one --host: each DNS name or IP address clients use to reach the hub"
                .into(),
        ));
    }
    let (issuer, ca_pem) = ca(dir)?;
    let mut params = CertificateParams::new(hosts.to_vec())
        .map_err(|e| IssueError::Input(format!("--host {hosts:?}: {e}")))?;
    params
        .distinguished_name
        .push(DnType::CommonName, hosts[0].clone());
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf(&mut params);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    write(dir, SERVER_CERT, SERVER_KEY, &(cert.pem() + &ca_pem), &key)
}

/// Issues a client certificate (mTLS) named `name`.
pub fn client(dir: &Path, kind: ClientKind, name: &str) -> Result<Issued, IssueError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        return Err(IssueError::Input(format!(
            "--name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-' (it names the files)"
        )));
    }
    let (issuer, ca_pem) = ca(dir)?;
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.subject_alt_names = vec![SanType::DnsName(
        format!(
            "{}.{}",
            name.to_ascii_lowercase().replace(['_', '.'], "-"),
            kind.prefix()
        )
        .try_into()
        .map_err(|e| IssueError::Input(format!("--name {name:?}: {e}")))?,
    )];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    leaf(&mut params);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    let stem = format!("{}-{name}", kind.prefix());
    write(
        dir,
        &format!("{stem}.pem"),
        &format!("{stem}.key"),
        &(cert.pem() + &ca_pem),
        &key,
    )
}

/// The county CA of `dir`, and its certificate as PEM.
pub(super) fn ca(dir: &Path) -> Result<(Issuer<'static, KeyPair>, String), IssueError> {
    let key_path = dir.join(CA_KEY);
    if !key_path.is_file() {
        return Err(IssueError::NoCa(dir.to_owned()));
    }
    let key_pem = std::fs::read_to_string(&key_path).map_err(|e| io(&key_path, e))?;
    let cert_path = dir.join(CA_CERT);
    let cert_pem = std::fs::read_to_string(&cert_path).map_err(|e| io(&cert_path, e))?;
    let key = KeyPair::from_pem(&key_pem)?;
    Ok((Issuer::from_ca_cert_pem(&cert_pem, key)?, cert_pem))
}

fn leaf(params: &mut CertificateParams) {
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    validity(params, LEAF_YEARS);
}

/// Valid from yesterday (clocks differ) for `years`, with a random serial number.
fn validity(params: &mut CertificateParams, years: i16) {
    let today = jiff::Zoned::now().date().yesterday().unwrap_or_default();
    let date = |year: i16| {
        rcgen::date_time_ymd(year.into(), today.month() as u8, today.day().min(28) as u8)
    };
    params.not_before = date(today.year());
    params.not_after = date(today.year() + years);
    let mut serial: [u8; 16] = rand::random();
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
}

fn write(
    dir: &Path,
    cert_name: &str,
    key_name: &str,
    cert_pem: &str,
    key: &KeyPair,
) -> Result<Issued, IssueError> {
    let cert = dir.join(cert_name);
    let key_path = dir.join(key_name);
    for path in [&cert, &key_path] {
        if path.exists() {
            return Err(IssueError::Exists(path.clone()));
        }
    }
    create(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
    create(&cert, cert_pem.as_bytes(), 0o644)?;
    Ok(Issued {
        cert,
        key: key_path,
    })
}

fn create(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IssueError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| io(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(path, e))
}

pub(super) fn io(path: &Path, source: std::io::Error) -> IssueError {
    IssueError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_county_ca_issues_server_and_client_certificates_with_private_keys() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            server(dir.path(), &["hub".into()]),
            Err(IssueError::NoCa(_))
        ));
        let ca = init(dir.path(), "Qingshan County").unwrap();
        let server = server(
            dir.path(),
            &["hub.county.example".into(), "10.0.0.5".into()],
        )
        .unwrap();
        let worker = client(dir.path(), ClientKind::Worker, "w1").unwrap();
        #[cfg(unix)]
        for key in [&ca.key, &server.key, &worker.key] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
        assert!(matches!(
            init(dir.path(), "Again"),
            Err(IssueError::Exists(_))
        ));
        assert!(client(dir.path(), ClientKind::Worker, "../w2").is_err());
        // The server chain verifies against the CA for the names it was issued for.
        let roots = crate::tls::roots(&ca.cert).unwrap();
        let chain = crate::tls::certificates(&server.cert, "certificate").unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        )
        .build()
        .unwrap();
        let now = rustls_pki_types::UnixTime::now();
        for host in ["hub.county.example", "10.0.0.5"] {
            let name = rustls_pki_types::ServerName::try_from(host).unwrap();
            rustls::client::danger::ServerCertVerifier::verify_server_cert(
                verifier.as_ref(),
                &chain[0],
                &chain[1..],
                &name,
                &[],
                now,
            )
            .unwrap();
        }
        let other = rustls_pki_types::ServerName::try_from("evil.example").unwrap();
        assert!(
            rustls::client::danger::ServerCertVerifier::verify_server_cert(
                verifier.as_ref(),
                &chain[0],
                &chain[1..],
                &other,
                &[],
                now,
            )
            .is_err()
        );
    }
}
