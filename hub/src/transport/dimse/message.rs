//! DIMSE messages as the listener needs them: command sets (always Implicit VR Little Endian, no
//! sequences) read and written by hand, the status codes, which SOP classes and transfer syntaxes
//! are accepted, and the Part 10 header that turns a received data set into a file for ingest.

use dicom_object::FileMetaTableBuilder;

use crate::domain::staging::RejectReason;

/// The Verification SOP Class (C-ECHO).
pub const VERIFICATION: &str = "1.2.840.10008.1.1";

/// The DICOM application context name.
pub const APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";

/// The hub's implementation class UID (sent in A-ASSOCIATE-AC and written to file meta headers).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.84167199513790691864510090310534812269";

/// The hub's implementation version name (at most 16 characters).
pub const IMPLEMENTATION_VERSION_NAME: &str = concat!("REMOTEDX_", env!("CARGO_PKG_VERSION"));

/// Implicit VR Little Endian.
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";

/// Transfer syntaxes accepted for storage: the ones the worker reads, taken as they come (no
/// transcoding on receipt).
pub const STORAGE_TRANSFER_SYNTAXES: [&str; 13] = [
    "1.2.840.10008.1.2",      // Implicit VR Little Endian
    "1.2.840.10008.1.2.1",    // Explicit VR Little Endian
    "1.2.840.10008.1.2.2",    // Explicit VR Big Endian (retired, still sent)
    "1.2.840.10008.1.2.1.99", // Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.4.50", // JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51", // JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.57", // JPEG Lossless (Process 14)
    "1.2.840.10008.1.2.4.70", // JPEG Lossless, First-Order Prediction (Process 14 SV1)
    "1.2.840.10008.1.2.4.80", // JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81", // JPEG-LS Near-Lossless
    "1.2.840.10008.1.2.4.90", // JPEG 2000 (Lossless Only)
    "1.2.840.10008.1.2.4.91", // JPEG 2000
    "1.2.840.10008.1.2.5",    // RLE Lossless
];

/// Transfer syntaxes accepted for verification.
pub const VERIFICATION_TRANSFER_SYNTAXES: [&str; 3] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
];

/// Command Field values.
pub mod field {
    /// C-STORE-RQ.
    pub const C_STORE_RQ: u16 = 0x0001;
    /// C-STORE-RSP.
    pub const C_STORE_RSP: u16 = 0x8001;
    /// C-ECHO-RQ.
    pub const C_ECHO_RQ: u16 = 0x0030;
    /// C-ECHO-RSP.
    pub const C_ECHO_RSP: u16 = 0x8030;
    /// C-CANCEL-RQ (has no response).
    pub const C_CANCEL_RQ: u16 = 0x0FFF;
}

/// DIMSE status codes the listener answers with.
pub mod status {
    /// Success.
    pub const SUCCESS: u16 = 0x0000;
    /// Refused: out of resources (storage failed; nothing was kept).
    pub const OUT_OF_RESOURCES: u16 = 0xA700;
    /// Error: cannot understand (the data set does not parse).
    pub const CANNOT_UNDERSTAND: u16 = 0xC000;
    /// Error: the SOP Instance UID is stored already with other content.
    pub const CONFLICT: u16 = 0xC001;
    /// Refused: not authorized (the study belongs to another institution).
    pub const NOT_AUTHORIZED: u16 = 0x0124;
    /// Refused: SOP class not supported (or not the presentation context's).
    pub const SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;
    /// Unrecognized operation.
    pub const UNRECOGNIZED_OPERATION: u16 = 0x0211;
}

/// The C-STORE status for a refused file.
pub fn store_status(reason: RejectReason) -> u16 {
    match reason {
        RejectReason::Storage | RejectReason::TooLarge => status::OUT_OF_RESOURCES,
        RejectReason::NotDicom
        | RejectReason::Malformed
        | RejectReason::MissingAttribute
        | RejectReason::ChecksumMismatch
        | RejectReason::Protocol => status::CANNOT_UNDERSTAND,
        RejectReason::Conflict => status::CONFLICT,
        RejectReason::ForeignStudy => status::NOT_AUTHORIZED,
    }
}

/// True for a storage SOP class: the Storage Service Class's UID subtree holds every image,
/// waveform (ECG included), SR, RT and document storage class, retired and future ones alike.
pub fn is_storage_sop_class(uid: &str) -> bool {
    uid.strip_prefix("1.2.840.10008.5.1.4.1.1.")
        .is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .split('.')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// A UID as carried on the wire: without trailing NUL padding or spaces.
pub fn trim_uid(uid: &str) -> &str {
    uid.trim_end_matches(['\0', ' '])
}

/// The parts of a request command set the listener uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// Command Field (0000,0100).
    pub field: u16,
    /// Message ID (0000,0110).
    pub message_id: u16,
    /// Affected SOP Class UID (0000,0002).
    pub sop_class_uid: String,
    /// Affected SOP Instance UID (0000,1000).
    pub sop_instance_uid: String,
    /// A data set follows (Command Data Set Type (0000,0800) other than 0101H).
    pub has_data_set: bool,
}

/// Reads a command set (Implicit VR Little Endian).
pub fn parse_command(bytes: &[u8]) -> Result<Command, String> {
    let mut cmd = Command::default();
    let mut seen_field = false;
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 8 {
            return Err(format!(
                "command set ends inside an element header ({} bytes left)",
                rest.len()
            ));
        }
        let group = u16::from_le_bytes([rest[0], rest[1]]);
        let element = u16::from_le_bytes([rest[2], rest[3]]);
        let len = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let value = rest.get(8..8 + len).ok_or_else(|| {
            format!("element ({group:04X},{element:04X}) of {len} bytes runs past the command set")
        })?;
        rest = &rest[8 + len..];
        if group != 0x0000 {
            return Err(format!(
                "element ({group:04X},{element:04X}) in a command set"
            ));
        }
        let us = || -> Result<u16, String> {
            value
                .get(..2)
                .map(|v| u16::from_le_bytes([v[0], v[1]]))
                .ok_or_else(|| format!("(0000,{element:04X}) is not a US value"))
        };
        let ui = || trim_uid(&String::from_utf8_lossy(value)).to_owned();
        match element {
            0x0002 => cmd.sop_class_uid = ui(),
            0x0100 => {
                cmd.field = us()?;
                seen_field = true;
            }
            0x0110 => cmd.message_id = us()?,
            0x0800 => cmd.has_data_set = us()? != 0x0101,
            0x1000 => cmd.sop_instance_uid = ui(),
            _ => {}
        }
    }
    if !seen_field {
        return Err("the command set has no Command Field (0000,0100)".into());
    }
    Ok(cmd)
}

/// A response command set to `rq`: `field` with `status` and, for failures, an error comment.
pub fn response(field: u16, rq: &Command, status: u16, comment: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(160);
    if !rq.sop_class_uid.is_empty() {
        put_text(&mut body, 0x0002, rq.sop_class_uid.as_bytes(), 0);
    }
    put_us(&mut body, 0x0100, field);
    put_us(&mut body, 0x0120, rq.message_id);
    put_us(&mut body, 0x0800, 0x0101);
    put_us(&mut body, 0x0900, status);
    if status != status::SUCCESS && !comment.is_empty() {
        // Error Comment is LO: at most 64 characters of the default repertoire.
        let ascii: String = comment
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() && c != '\\' {
                    c
                } else {
                    '?'
                }
            })
            .take(64)
            .collect();
        put_text(&mut body, 0x0902, ascii.as_bytes(), b' ');
    }
    if !rq.sop_instance_uid.is_empty() {
        put_text(&mut body, 0x1000, rq.sop_instance_uid.as_bytes(), 0);
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0]);
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn put_us(out: &mut Vec<u8>, element: u16, value: u16) {
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_text(out: &mut Vec<u8>, element: u16, value: &[u8], pad: u8) {
    let padded = value.len() + value.len() % 2;
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&u32::try_from(padded).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(value);
    if padded > value.len() {
        out.push(pad);
    }
}

/// The preamble, `DICM` and file meta group for a data set received over an association, so
/// that header + received bytes is the Part 10 file ingest expects.
pub fn part10_header(
    sop_class_uid: &str,
    sop_instance_uid: &str,
    transfer_syntax: &str,
    calling_ae: &str,
) -> Result<Vec<u8>, String> {
    let mut builder = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(sop_class_uid)
        .media_storage_sop_instance_uid(sop_instance_uid)
        .transfer_syntax(transfer_syntax)
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(IMPLEMENTATION_VERSION_NAME);
    if !calling_ae.trim().is_empty() {
        builder = builder.source_application_entity_title(calling_ae.trim());
    }
    let meta = builder
        .build()
        .map_err(|e| format!("cannot build a file meta header: {e}"))?;
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    meta.write(&mut out)
        .map_err(|e| format!("cannot write a file meta header: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_reads_back_as_a_command() {
        let rq = Command {
            field: field::C_STORE_RQ,
            message_id: 7,
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
            sop_instance_uid: "1.2.3.4.5".into(),
            has_data_set: true,
        };
        let bytes = response(
            field::C_STORE_RSP,
            &rq,
            status::CONFLICT,
            "é too \\ long ".repeat(10).as_str(),
        );
        // Group length counts everything after it.
        let gl = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        assert_eq!(gl, bytes.len() - 12);
        let back = parse_command(&bytes).unwrap();
        assert_eq!(back.field, field::C_STORE_RSP);
        assert_eq!(back.sop_class_uid, rq.sop_class_uid);
        assert_eq!(back.sop_instance_uid, rq.sop_instance_uid);
        assert!(!back.has_data_set);
        // Every value has even length.
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let len = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
            assert_eq!(len % 2, 0);
            rest = &rest[8 + len..];
        }
    }

    #[test]
    fn broken_command_sets_are_refused_with_a_reason() {
        assert!(
            parse_command(&[0, 0, 0x00, 0x01, 2, 0])
                .unwrap_err()
                .contains("header")
        );
        let long = [0, 0, 0x00, 0x01, 0x10, 0, 0, 0, 1, 0];
        assert!(parse_command(&long).unwrap_err().contains("runs past"));
        let no_field = [0, 0, 0x10, 0x01, 2, 0, 0, 0, 1, 0];
        assert!(
            parse_command(&no_field)
                .unwrap_err()
                .contains("Command Field")
        );
    }

    #[test]
    fn storage_classes_include_images_and_ecgs_but_not_queries() {
        assert!(is_storage_sop_class("1.2.840.10008.5.1.4.1.1.2")); // CT
        assert!(is_storage_sop_class("1.2.840.10008.5.1.4.1.1.1.1")); // DX
        assert!(is_storage_sop_class("1.2.840.10008.5.1.4.1.1.9.1.1")); // 12-lead ECG
        assert!(is_storage_sop_class("1.2.840.10008.5.1.4.1.1.9.2.1")); // hemodynamic
        assert!(!is_storage_sop_class("1.2.840.10008.5.1.4.1.2.2.1")); // study root FIND
        assert!(!is_storage_sop_class(VERIFICATION));
        assert!(!is_storage_sop_class("1.2.840.10008.5.1.4.1.1."));
        assert!(!is_storage_sop_class("1.2.840.10008.5.1.4.1.1.2.x"));
    }

    #[test]
    fn the_header_makes_a_part10_file() {
        let h = part10_header(
            "1.2.840.10008.5.1.4.1.1.7",
            "1.2.3",
            "1.2.840.10008.1.2",
            "CT1",
        )
        .unwrap();
        assert_eq!(&h[128..132], b"DICM");
        let gl = u32::from_le_bytes([h[140], h[141], h[142], h[143]]) as usize;
        assert_eq!(h.len(), 144 + gl);
        assert!(IMPLEMENTATION_VERSION_NAME.len() <= 16);
    }
}
