//! Who a verified client certificate was issued to: its subject's common name and, for the
//! certificates `hub cert` issues, their kind (the DNS name `<name>.worker`, `<name>.modality` or
//! `<name>.audit` it carries). The TLS layer has already verified the certificate against the
//! county CA; this only reads it, and the domain decides ([`crate::domain::cert_identity`]).

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

pub use crate::domain::cert_identity::{CertIdentity, CertKind};

/// The identity of the leaf certificate `der` (None when it cannot be read or names no one).
pub fn of_der(der: &[u8]) -> Option<CertIdentity> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    let kind = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .and_then(|san| {
            san.value.general_names.iter().find_map(|n| match n {
                GeneralName::DNSName(dns) => CertKind::of_dns_name(dns),
                _ => None,
            })
        });
    Some(CertIdentity { common_name, kind })
}

/// The serial number of the certificate `der` (as a CRL lists it).
pub fn serial_of_der(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(cert.tbs_certificate.raw_serial().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::issue::{self, ClientKind};

    #[test]
    fn issued_certificates_name_their_holder_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        issue::init(dir.path(), "Q").unwrap();
        for (kind, name, want) in [
            (ClientKind::Worker, "w_1", CertKind::Worker),
            (ClientKind::Modality, "CT.SCANNER", CertKind::Modality),
        ] {
            let issued = issue::client(dir.path(), kind, name).unwrap();
            let certs = crate::tls::certificates(&issued.cert, "certificate").unwrap();
            let id = of_der(&certs[0]).unwrap();
            assert_eq!(id.common_name, name);
            assert_eq!(id.kind, Some(want));
        }
        let server = issue::server(dir.path(), &["localhost".into()]).unwrap();
        let certs = crate::tls::certificates(&server.cert, "certificate").unwrap();
        assert_eq!(of_der(&certs[0]).unwrap().kind, None);
    }
}
