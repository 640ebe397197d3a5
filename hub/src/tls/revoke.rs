//! `hub cert revoke`: the county CA's certificate revocation list (CRL).
//!
//! Each revoked certificate is noted in `revoked.txt` (its serial number, file stem and when) and
//! the whole list is signed again as `ca.crl.pem`, with a CRL number one higher. The hub reads it
//! at start (`[tls] crl_files`): on the DICOM TLS port rustls refuses a revoked client certificate
//! in the handshake; the worker service refuses calls over a connection whose certificate is
//! listed ([`revoked_serials`]).

use std::path::{Path, PathBuf};

use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use rustls_pki_types::CertificateRevocationListDer;
use rustls_pki_types::pem::PemObject;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::TlsError;
use super::issue::{self, IssueError};

/// The CRL's file name.
pub const CRL: &str = "ca.crl.pem";
/// The list of what was revoked (one line each: serial, file stem, Unix time).
pub const REVOKED: &str = "revoked.txt";

/// Revokes the certificate `<dir>/<stem>.pem` (e.g. `worker-w1`) and writes the new CRL.
pub fn revoke(dir: &Path, stem: &str) -> Result<PathBuf, IssueError> {
    let cert_path = dir.join(format!("{stem}.pem"));
    let serial = serial_of(&cert_path)?;
    let list_path = dir.join(REVOKED);
    let mut list = std::fs::read_to_string(&list_path).unwrap_or_default();
    let hex = hex::encode(&serial);
    if !list
        .lines()
        .any(|l| l.split_whitespace().next() == Some(&hex))
    {
        let now = jiff::Timestamp::now().as_second();
        list.push_str(&format!("{hex} {stem} {now}\n"));
        std::fs::write(&list_path, &list).map_err(|e| issue::io(&list_path, e))?;
    }
    let (ca, _) = issue::ca(dir)?;
    let day = |days| {
        let (y, m, d) = day(days);
        rcgen::date_time_ymd(y, m, d)
    };
    let revoked = list
        .lines()
        .filter_map(|l| hex::decode(l.split_whitespace().next()?).ok())
        .map(|serial| RevokedCertParams {
            serial_number: SerialNumber::from_slice(&serial),
            revocation_time: day(0),
            reason_code: Some(RevocationReason::CessationOfOperation),
            invalidity_date: None,
        })
        .collect::<Vec<_>>();
    let params = CertificateRevocationListParams {
        this_update: day(0),
        next_update: day(365),
        crl_number: SerialNumber::from(revoked.len() as u64),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&ca)?;
    let path = dir.join(CRL);
    std::fs::write(&path, crl.pem()?).map_err(|e| issue::io(&path, e))?;
    Ok(path)
}

/// Yesterday plus `days` (a day's margin for clocks that differ), as (year, month, day).
fn day(days: i64) -> (i32, u8, u8) {
    let d = jiff::Zoned::now()
        .date()
        .yesterday()
        .unwrap_or_default()
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or_default();
    (d.year().into(), d.month() as u8, d.day() as u8)
}

fn serial_of(cert_path: &Path) -> Result<Vec<u8>, IssueError> {
    let certs = super::certificates(cert_path, "certificate")
        .map_err(|e| IssueError::Input(e.to_string()))?;
    let (_, cert) = X509Certificate::from_der(&certs[0])
        .map_err(|e| IssueError::Input(format!("{}: {e}", cert_path.display())))?;
    Ok(cert.tbs_certificate.raw_serial().to_vec())
}

/// The CRLs of `[tls] crl_files`, for rustls.
pub fn load(paths: &[PathBuf]) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let mut crls = Vec::new();
    for path in paths {
        let bad = |reason: String| TlsError::File {
            what: "certificate revocation list",
            path: path.clone(),
            reason,
        };
        let found = CertificateRevocationListDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if found.is_empty() {
            return Err(bad("no PEM X509 CRL in it".into()));
        }
        crls.extend(found);
    }
    Ok(crls)
}

/// The serial numbers the CRLs list (the worker service checks them per call).
pub fn revoked_serials(crls: &[CertificateRevocationListDer<'_>]) -> Vec<Vec<u8>> {
    crls.iter()
        .filter_map(|der| x509_parser::parse_x509_crl(der).ok())
        .flat_map(|(_, crl)| {
            crl.iter_revoked_certificates()
                .map(|r| r.raw_serial().to_vec())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::issue::ClientKind;

    #[test]
    fn a_revoked_certificate_is_listed_in_the_signed_crl() {
        let dir = tempfile::tempdir().unwrap();
        issue::init(dir.path(), "Q").unwrap();
        issue::client(dir.path(), ClientKind::Worker, "w1").unwrap();
        issue::client(dir.path(), ClientKind::Worker, "w2").unwrap();
        revoke(dir.path(), "worker-w1").unwrap();
        let crl = revoke(dir.path(), "worker-w1").unwrap();
        let crls = load(&[crl]).unwrap();
        let serial = |stem: &str| serial_of(&dir.path().join(format!("{stem}.pem"))).unwrap();
        assert_eq!(revoked_serials(&crls), vec![serial("worker-w1")]);
        revoke(dir.path(), "worker-w2").unwrap();
        let crls = load(&[dir.path().join(CRL)]).unwrap();
        assert_eq!(revoked_serials(&crls).len(), 2);
        assert!(revoke(dir.path(), "worker-none").is_err());
    }
}
