//! Labels for the contract's enums, as JSON and tables show them (lower case, stable).

use remotedx_proto::v1 as pb;

/// "routine", "urgent", "stat" or "unspecified".
pub fn priority(p: i32) -> &'static str {
    match pb::Priority::try_from(p) {
        Ok(pb::Priority::Routine) => "routine",
        Ok(pb::Priority::Urgent) => "urgent",
        Ok(pb::Priority::Stat) => "stat",
        Ok(pb::Priority::Unspecified) | Err(_) => "unspecified",
    }
}

/// "receiving", "received", "processing", "ready", "claimed", "reported", "signed", "mixup_hold",
/// "withdrawn", "unspecified".
pub fn state(s: i32) -> &'static str {
    match pb::CaseState::try_from(s) {
        Ok(pb::CaseState::Receiving) => "receiving",
        Ok(pb::CaseState::Received) => "received",
        Ok(pb::CaseState::Processing) => "processing",
        Ok(pb::CaseState::Ready) => "ready",
        Ok(pb::CaseState::Claimed) => "claimed",
        Ok(pb::CaseState::Reported) => "reported",
        Ok(pb::CaseState::Signed) => "signed",
        Ok(pb::CaseState::MixupHold) => "mixup_hold",
        Ok(pb::CaseState::Withdrawn) => "withdrawn",
        Ok(pb::CaseState::Unspecified) | Err(_) => "unspecified",
    }
}

/// "preliminary", "final", "amended", or None when there is no report.
pub fn report_status(s: i32) -> Option<&'static str> {
    match pb::ReportStatus::try_from(s) {
        Ok(pb::ReportStatus::Preliminary) => Some("preliminary"),
        Ok(pb::ReportStatus::Final) => Some("final"),
        Ok(pb::ReportStatus::Amended) => Some("amended"),
        Ok(pb::ReportStatus::Unspecified) | Err(_) => None,
    }
}

/// "imaging", "ecg" or "unspecified".
pub fn kind(k: i32) -> &'static str {
    match pb::CaseKind::try_from(k) {
        Ok(pb::CaseKind::Imaging) => "imaging",
        Ok(pb::CaseKind::Ecg) => "ecg",
        Ok(pb::CaseKind::Unspecified) | Err(_) => "unspecified",
    }
}

/// "clinic", "specialist", "admin", "worker" or "unspecified".
pub fn role(r: i32) -> &'static str {
    match pb::Role::try_from(r) {
        Ok(pb::Role::Clinic) => "clinic",
        Ok(pb::Role::Specialist) => "specialist",
        Ok(pb::Role::Admin) => "admin",
        Ok(pb::Role::Worker) => "worker",
        Ok(pb::Role::Auditor) => "auditor",
        Ok(pb::Role::Unspecified) | Err(_) => "unspecified",
    }
}

/// "not_dicom", "malformed", ... as in the contract's RejectReason, lower case.
pub fn reject_reason(r: i32) -> &'static str {
    match pb::RejectReason::try_from(r) {
        Ok(pb::RejectReason::NotDicom) => "not_dicom",
        Ok(pb::RejectReason::Malformed) => "malformed",
        Ok(pb::RejectReason::ChecksumMismatch) => "checksum_mismatch",
        Ok(pb::RejectReason::MissingAttribute) => "missing_attribute",
        Ok(pb::RejectReason::Conflict) => "conflict",
        Ok(pb::RejectReason::ForeignStudy) => "foreign_study",
        Ok(pb::RejectReason::TooLarge) => "too_large",
        Ok(pb::RejectReason::Protocol) => "protocol",
        Ok(pb::RejectReason::Storage) => "storage",
        Ok(pb::RejectReason::Unspecified) | Err(_) => "unspecified",
    }
}

/// Bytes for people: "512 B", "1.5 KiB", "4.0 MiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(priority(pb::Priority::Stat as i32), "stat");
        assert_eq!(priority(99), "unspecified");
        assert_eq!(state(pb::CaseState::Ready as i32), "ready");
        assert_eq!(report_status(0), None);
        assert_eq!(
            report_status(pb::ReportStatus::Amended as i32),
            Some("amended")
        );
        assert_eq!(
            reject_reason(pb::RejectReason::NotDicom as i32),
            "not_dicom"
        );
        assert_eq!(role(pb::Role::Clinic as i32), "clinic");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(4_237_308), "4.0 MiB");
    }
}
