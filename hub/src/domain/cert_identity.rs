//! Client certificates tied to identities. A certificate of the county CA proves only that the
//! county issued it; these rules tie it to the one it was issued for:
//!
//! - a remote worker's certificate (`hub cert worker --name W`) to the worker user named `W`: a
//!   worker call whose token belongs to another user is refused and audited
//!   (`certificate_refused`);
//! - a modality's certificate (`hub cert modality --name AE`) to the calling AE title `AE`: an
//!   association on the DICOM TLS port whose calling AE title differs is rejected.
//!
//! The transport reads the verified certificate ([`crate::tls::identity`]) and hands it here with
//! the token or AE title.

use super::{Error, Result};
use crate::model::{Principal, Role};

/// What `hub cert` issued a client certificate for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKind {
    /// A remote worker.
    Worker,
    /// A modality on the DICOM TLS port.
    Modality,
    /// The hub towards a log server.
    AuditExport,
}

impl CertKind {
    /// The kind named by a certificate's DNS name (`<name>.worker`, `<name>.modality`,
    /// `<name>.audit`).
    pub fn of_dns_name(dns: &str) -> Option<CertKind> {
        let (_, suffix) = dns.rsplit_once('.')?;
        match suffix {
            "worker" => Some(CertKind::Worker),
            "modality" => Some(CertKind::Modality),
            "audit" => Some(CertKind::AuditExport),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            CertKind::Worker => "worker",
            CertKind::Modality => "modality",
            CertKind::AuditExport => "audit export",
        }
    }
}

/// Who a verified client certificate was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    /// The subject's common name: the name given to `hub cert worker|modality --name`.
    pub common_name: String,
    /// Its kind, for certificates `hub cert` issued.
    pub kind: Option<CertKind>,
}

impl std::fmt::Display for CertIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind.map_or("client", CertKind::as_str);
        write!(f, "the {kind} certificate of {:?}", self.common_name)
    }
}

/// Whether the certificate presented with a DICOM association may call as `calling_ae`: a
/// modality certificate issued for that AE title, or none (where none is required, the TLS port
/// demands one itself: `dicom.tls_require_client_cert`). The reason names both.
pub fn check_modality(
    calling_ae: &str,
    cert: Option<&CertIdentity>,
) -> std::result::Result<(), String> {
    match cert {
        None => Ok(()),
        Some(id) if id.kind == Some(CertKind::Modality) && id.common_name == calling_ae => Ok(()),
        Some(id) => Err(format!(
            "calling AE title {calling_ae:?} presented {id}: a modality calls only with the certificate `hub cert modality --name {calling_ae}` issued"
        )),
    }
}

impl super::Hub {
    /// Refuses (and audits) a worker call whose token and client certificate belong to different
    /// workers; a call without a certificate passes here (`tls.client_certs` decides whether one
    /// is needed).
    pub async fn check_worker_cert(
        &self,
        who: &Principal,
        cert: Option<&CertIdentity>,
    ) -> Result<()> {
        let Some(id) = cert else {
            return Ok(());
        };
        if who.role != Role::Worker
            || (id.kind == Some(CertKind::Worker) && id.common_name == who.name)
        {
            return Ok(());
        }
        let detail = format!("worker {:?} called with {id}", who.name);
        tracing::warn!(user_id = who.user_id, "refused: {detail}");
        let mut tx = self.store().write().await?;
        super::audit::record(tx.as_mut(), who, "certificate_refused", 0, "", &detail).await?;
        tx.commit().await?;
        Err(Error::PermissionDenied(format!(
            "{detail}: a worker calls only with the certificate `hub cert worker --name {}` issued",
            who.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str, kind: CertKind) -> CertIdentity {
        CertIdentity {
            common_name: name.into(),
            kind: Some(kind),
        }
    }

    #[test]
    fn a_modality_certificate_calls_as_its_own_ae_title_only() {
        assert!(check_modality("CT_A", None).is_ok());
        assert!(check_modality("CT_A", Some(&id("CT_A", CertKind::Modality))).is_ok());
        let err = check_modality("CT_B", Some(&id("CT_A", CertKind::Modality))).unwrap_err();
        assert!(
            err.contains("\"CT_B\"") && err.contains("\"CT_A\""),
            "{err}"
        );
        assert!(check_modality("CT_A", Some(&id("CT_A", CertKind::Worker))).is_err());
    }

    #[test]
    fn kinds_come_from_the_dns_name() {
        assert_eq!(CertKind::of_dns_name("w1.worker"), Some(CertKind::Worker));
        assert_eq!(
            CertKind::of_dns_name("ct-a.modality"),
            Some(CertKind::Modality)
        );
        assert_eq!(CertKind::of_dns_name("hub.example"), None);
        assert_eq!(CertKind::of_dns_name("localhost"), None);
    }
}
