//! RFC 5424 syslog messages with RFC 5425 octet-counting framing (syslog over TLS).

use crate::domain::audit_export::ExportItem;

/// Facility 10: security/authorization messages (as IHE ATNA sends audit records).
const FACILITY_AUTHPRIV: u8 = 10;
/// Severity 5 (notice): an audit record.
const SEVERITY_NOTICE: u8 = 5;
/// Severity 4 (warning): a refused request.
const SEVERITY_WARNING: u8 = 4;
/// MSGID of a DICOM audit message in syslog (PS3.15 A.5, as IHE ATNA names it).
pub const MSGID: &str = "DICOM+RFC3881";
/// The SD-ID of the hub's structured data: its name at IANA's documentation enterprise number
/// (RFC 5612), which a county may replace with its own.
pub const SD_ID: &str = "remotedx@32473";

/// The header fields every message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// HOSTNAME.
    pub hostname: String,
    /// APP-NAME.
    pub app_name: String,
}

/// The RFC 5424 message of `item`: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [SD] BOM XML`.
/// The structured data carry the entry's audit chain link number, row id and chain MAC, by which a
/// receiver recognises a resent copy.
pub fn message(item: &ExportItem, header: &Header) -> String {
    let severity = if item.refused {
        SEVERITY_WARNING
    } else {
        SEVERITY_NOTICE
    };
    let pri = u16::from(FACILITY_AUTHPRIV) * 8 + u16::from(severity);
    format!(
        "<{pri}>1 {} {} {} - {MSGID} [{SD_ID} seq=\"{}\" row=\"{}\" mac=\"{}\"] \u{feff}{}",
        crate::domain::audit_export::message::date_time(item.at_ms),
        header.hostname,
        header.app_name,
        item.seq,
        item.row_id,
        item.mac,
        item.message
    )
}

/// `message` framed by octet counting (RFC 5425 section 4.3): its length in bytes, a space, itself.
pub fn octet_counted(message: &str) -> Vec<u8> {
    let mut frame = format!("{} ", message.len()).into_bytes();
    frame.extend_from_slice(message.as_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_rfc5424_with_its_length_in_front() {
        let item = ExportItem {
            seq: 3,
            row_id: 9,
            mac: "ab".into(),
            at_ms: 0,
            refused: true,
            message: "<AuditMessage>王</AuditMessage>".into(),
        };
        let header = Header {
            hostname: "hub1".into(),
            app_name: "remotedx".into(),
        };
        let m = message(&item, &header);
        assert_eq!(
            m,
            "<84>1 1970-01-01T00:00:00.000Z hub1 remotedx - DICOM+RFC3881 [remotedx@32473 seq=\"3\" row=\"9\" mac=\"ab\"] \u{feff}<AuditMessage>王</AuditMessage>"
        );
        let framed = octet_counted(&m);
        let (len, rest) = std::str::from_utf8(&framed)
            .unwrap()
            .split_once(' ')
            .unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), rest.len());
        assert!(
            rest.len() > rest.chars().count(),
            "the length counts bytes, not characters"
        );
    }
}
