//! DIMSE command sets as the listener needs them: always Implicit VR Little Endian, group 0000, no
//! sequences, read and written by hand; the status codes; which SOP classes and transfer syntaxes
//! are accepted; and a command assembled from its P-DATA fragments within [`MAX_COMMAND_BYTES`].

/// The largest command set accepted. A DIMSE command holds a handful of short elements (a
/// C-STORE-RQ is about 200 bytes); fragments beyond this are an attack on memory, not a command.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// The Verification SOP Class (C-ECHO).
pub const VERIFICATION: &str = "1.2.840.10008.1.1";

/// The DICOM application context name.
pub const APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";

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

/// Why a command set is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Fewer than 8 bytes remain where an element header should be.
    #[error("command set ends inside an element header ({left} bytes left)")]
    HeaderCut {
        /// Bytes left.
        left: usize,
    },
    /// An element's length runs past the end of the command set.
    #[error("element ({group:04X},{element:04X}) of {length} bytes runs past the command set")]
    RunsPast {
        /// Group.
        group: u16,
        /// Element.
        element: u16,
        /// Its announced length.
        length: u32,
    },
    /// An element outside group 0000.
    #[error("element ({group:04X},{element:04X}) in a command set")]
    NotCommandGroup {
        /// Group.
        group: u16,
        /// Element.
        element: u16,
    },
    /// A US element with fewer than two bytes.
    #[error("(0000,{element:04X}) is not a US value")]
    NotUs {
        /// Element.
        element: u16,
    },
    /// No Command Field.
    #[error("the command set has no Command Field (0000,0100)")]
    NoCommandField,
    /// The fragments of one command add up to more than [`MAX_COMMAND_BYTES`].
    #[error("a command set of over {MAX_COMMAND_BYTES} bytes (no DIMSE command is this large)")]
    TooLarge,
}

/// Appends a command fragment to the bytes of the command so far, refusing a command that would
/// grow past [`MAX_COMMAND_BYTES`] (checked before the fragment is copied).
pub fn push_fragment(bytes: &mut Vec<u8>, fragment: &[u8]) -> Result<(), CommandError> {
    if bytes.len().saturating_add(fragment.len()) > MAX_COMMAND_BYTES {
        return Err(CommandError::TooLarge);
    }
    bytes.extend_from_slice(fragment);
    Ok(())
}

/// One element of a command set: its tag, its value and the bytes after it.
fn next_element(rest: &[u8]) -> Result<(u16, &[u8], &[u8]), CommandError> {
    let Some((header, after)) = rest.split_first_chunk::<8>() else {
        return Err(CommandError::HeaderCut { left: rest.len() });
    };
    let group = u16::from_le_bytes([header[0], header[1]]);
    let element = u16::from_le_bytes([header[2], header[3]]);
    let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let Some((value, after)) = usize::try_from(length)
        .ok()
        .and_then(|n| after.split_at_checked(n))
    else {
        return Err(CommandError::RunsPast {
            group,
            element,
            length,
        });
    };
    if group != 0x0000 {
        return Err(CommandError::NotCommandGroup { group, element });
    }
    Ok((element, value, after))
}

/// Reads a command set (Implicit VR Little Endian).
pub fn parse_command(bytes: &[u8]) -> Result<Command, CommandError> {
    let mut cmd = Command::default();
    let mut seen_field = false;
    let mut rest = bytes;
    while !rest.is_empty() {
        let (element, value, after) = next_element(rest)?;
        rest = after;
        let us = || match value {
            [a, b, ..] => Ok(u16::from_le_bytes([*a, *b])),
            _ => Err(CommandError::NotUs { element }),
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
        return Err(CommandError::NoCommandField);
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
                .to_string()
                .contains("header")
        );
        let long = [0, 0, 0x00, 0x01, 0x10, 0, 0, 0, 1, 0];
        assert!(
            parse_command(&long)
                .unwrap_err()
                .to_string()
                .contains("runs past")
        );
        let no_field = [0, 0, 0x10, 0x01, 2, 0, 0, 0, 1, 0];
        assert!(
            parse_command(&no_field)
                .unwrap_err()
                .to_string()
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
    fn fragments_past_the_cap_are_refused_before_they_are_copied() {
        let mut bytes = vec![0; MAX_COMMAND_BYTES - 10];
        push_fragment(&mut bytes, &[0; 10]).unwrap();
        assert_eq!(
            push_fragment(&mut bytes, &[0; 1]),
            Err(CommandError::TooLarge)
        );
        assert_eq!(bytes.len(), MAX_COMMAND_BYTES);
    }
}
