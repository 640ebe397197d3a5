//! PDU framing: one PDU at a time off the front of a receive buffer.
//!
//! The announced length is checked against the hub's maximum before the rest of the PDU is
//! waited for, so a header that claims 4 GiB costs nothing; a PDU is parsed (by dicom-ul) from its
//! own split-off buffer only when all of it is there.

use bytes::BytesMut;
use dicom_ul::pdu::Pdu;

/// PDU header size: type, reserved byte, 32-bit big-endian length.
pub const PDU_HEADER: usize = 6;

/// Why the bytes at the front of a buffer are not a PDU the hub accepts.
#[derive(Debug, thiserror::Error)]
pub enum PduError {
    /// The header announces more than the hub's maximum PDU length.
    #[error(
        "a PDU of {length} bytes is longer than the {max} bytes negotiated (dicom.max_pdu_length)"
    )]
    TooLong {
        /// The announced length.
        length: u32,
        /// The maximum.
        max: u32,
    },
    /// dicom-ul could not read it.
    #[error("malformed PDU: {0}")]
    Malformed(String),
    /// The announced length ends before the PDU's own fields do.
    #[error("truncated PDU")]
    Truncated,
}

/// The length announced by the PDU at the front of `buf`, once its header is there.
pub fn announced_length(buf: &[u8]) -> Option<u32> {
    let header = buf.get(..PDU_HEADER)?;
    Some(u32::from_be_bytes([
        header[2], header[3], header[4], header[5],
    ]))
}

/// How many more bytes `buf` needs before [`take_pdu`] can answer: at least one while the header
/// is incomplete (`max_pdu` plus the header is a good buffer size then), the rest of the PDU
/// after that.
pub fn bytes_wanted(buf: &[u8], max_pdu: u32) -> usize {
    match announced_length(buf) {
        Some(length) if length <= max_pdu => {
            (PDU_HEADER + length as usize).saturating_sub(buf.len())
        }
        Some(_) => 0,
        None => PDU_HEADER - buf.len(),
    }
}

/// Takes the PDU at the front of `buf` when all of it has arrived (`Ok(None)` until then).
/// A PDU longer than `max_pdu` is refused as soon as its header is in, without waiting for it.
/// `max_pdu` must lie within PS3.8's bounds (4,096 bytes to 128 MiB) as the hub's configuration
/// ensures; outside them every PDU is refused.
pub fn take_pdu(buf: &mut BytesMut, max_pdu: u32) -> Result<Option<Pdu>, PduError> {
    let Some(length) = announced_length(buf) else {
        return Ok(None);
    };
    if length > max_pdu {
        return Err(PduError::TooLong {
            length,
            max: max_pdu,
        });
    }
    let whole = PDU_HEADER + length as usize;
    if buf.len() < whole {
        return Ok(None);
    }
    let mut bytes = buf.split_to(whole);
    match dicom_ul::pdu::read_pdu(&mut bytes, max_pdu, true) {
        Ok(Some(pdu)) => Ok(Some(pdu)),
        Ok(None) => Err(PduError::Truncated),
        Err(e) => Err(PduError::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u32 = 16_384;

    #[test]
    fn a_pdu_is_taken_once_whole_and_what_follows_stays() {
        let mut buf = BytesMut::from(&[0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0x06][..]);
        let mut first = buf.split_to(7);
        assert!(take_pdu(&mut first, MAX).unwrap().is_none());
        assert_eq!(bytes_wanted(&first, MAX), 3);
        first.unsplit(buf);
        assert!(matches!(
            take_pdu(&mut first, MAX).unwrap(),
            Some(Pdu::ReleaseRQ)
        ));
        assert_eq!(&first[..], &[0x06]);
        assert_eq!(bytes_wanted(&first, MAX), 5);
    }

    #[test]
    fn a_header_announcing_more_than_the_maximum_is_refused_before_its_body() {
        let mut buf = BytesMut::from(&[0x04, 0, 0xFF, 0xFF, 0xFF, 0xFF][..]);
        assert_eq!(bytes_wanted(&buf, MAX), 0);
        let err = take_pdu(&mut buf, MAX).unwrap_err();
        assert!(err.to_string().contains("4294967295 bytes"), "{err}");
    }
}
