//! One raw codestream through the Rle codec: the first
//! `worker_imaging::fuzzing::GEOMETRY_BYTES` bytes choose the frame geometry, the rest is the
//! frame's bytes as an encapsulated fragment would hold them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use worker_imaging::codec::Codec;
use worker_imaging::fuzzing::decode_codestream;

fuzz_target!(|data: &[u8]| {
    let _ = decode_codestream(Codec::Rle, data);
});
