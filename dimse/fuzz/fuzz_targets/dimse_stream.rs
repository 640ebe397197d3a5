//! What a peer sends to the hub's DICOM port, as the listener reads it: bytes arriving in pieces
//! -> PDUs cut off the buffer (`take_pdu`, with the maximum PDU length checked from the header)
//! -> P-DATA command fragments assembled within the cap (`push_fragment`) -> command sets parsed
//! (`parse_command`) -> the response written for each and read back.
//!
//! Input layout: two bytes (little-endian) choosing the maximum PDU length (4,096 bytes and up,
//! in steps of 16) and the size of the pieces the stream arrives in; the rest is the stream.
#![no_main]

use bytes::BytesMut;
use dicom_ul::pdu::{PDataValueType, Pdu};
use dimse::command::{response, status};
use dimse::pdu::bytes_wanted;
use dimse::{parse_command, push_fragment, take_pdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, stream)) = data.split_first_chunk::<2>() else {
        return;
    };
    let max_pdu = 4096 + u32::from(head[0]) * 16;
    let piece = usize::from(head[1]).max(1) * 7;
    let mut buf = BytesMut::new();
    let mut command: Vec<u8> = Vec::new();
    for chunk in stream.chunks(piece) {
        buf.extend_from_slice(chunk);
        loop {
            match take_pdu(&mut buf, max_pdu) {
                Ok(Some(pdu)) => {
                    if !on_pdu(pdu, &mut command) {
                        return;
                    }
                }
                Ok(None) => {
                    assert!(bytes_wanted(&buf, max_pdu) > 0, "waiting for no bytes");
                    break;
                }
                // The listener aborts the association here.
                Err(_) => return,
            }
        }
    }
});

/// Handles a PDU as the association does; false when the association would be aborted.
fn on_pdu(pdu: Pdu, command: &mut Vec<u8>) -> bool {
    let Pdu::PData { data } = pdu else {
        return true;
    };
    for value in data {
        if value.value_type != PDataValueType::Command {
            continue;
        }
        if push_fragment(command, &value.data).is_err() {
            return false;
        }
        if value.is_last {
            let bytes = std::mem::take(command);
            match parse_command(&bytes) {
                Ok(rq) => answer(&rq),
                Err(_) => return false,
            }
        }
    }
    true
}

/// The response to a parsed request reads back with the request's UIDs.
fn answer(rq: &dimse::Command) {
    let rsp = response(
        rq.field | 0x8000,
        rq,
        status::CANNOT_UNDERSTAND,
        "refused: é\\ with a comment longer than the sixty-four characters of LO",
    );
    let back = parse_command(&rsp).expect("a response the hub wrote parses");
    assert_eq!(back.field, rq.field | 0x8000);
    assert_eq!(back.sop_class_uid, rq.sop_class_uid);
    assert_eq!(back.sop_instance_uid, rq.sop_instance_uid);
    assert!(!back.has_data_set);
}
