//! DIMSE messages as the listener needs them: the command sets, status codes and negotiated
//! syntaxes come from the [`dimse`] crate (parsed without I/O, fuzzed on their own); here are what
//! depends on the hub: the status for a refused file and the Part 10 header that turns a received
//! data set into a file for ingest.

use dicom_object::FileMetaTableBuilder;

use crate::domain::staging::RejectReason;
pub use dimse::command::*;

/// The hub's implementation class UID (sent in A-ASSOCIATE-AC and written to file meta headers).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.84167199513790691864510090310534812269";

/// The hub's implementation version name (at most 16 characters).
pub const IMPLEMENTATION_VERSION_NAME: &str = concat!("REMOTEDX_", env!("CARGO_PKG_VERSION"));

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
