//! An upload stream as the hub reads it: `UploadRequest` messages decoded by prost (as tonic
//! does) -> the options message, if first, set aside -> every other message framed
//! (`upload_framing::Framing`) -> the effects carried out against a model of the staging file,
//! with a simulated storage failure now and then.
//!
//! Checked on every message: at most one file is open and the framing agrees about it; bytes go
//! only to the open file and never past its announced size nor the hub's maximum; a file is
//! finished only with exactly its announced bytes; every file opened ends exactly once.
//!
//! Input layout: one byte choosing the hub's maximum file size (in 16-byte steps), then
//! length-delimited `UploadRequest` messages (varint length, message) until the input ends or one
//! does not decode (the stream breaks off there, as a broken gRPC stream does).
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message as _;
use remotedx_proto::v1::{UploadRequest, upload_request::Msg};
use upload_framing::{Effect, Framing, Message};

/// The model of the hub's staging file: bytes written of the announced size.
#[derive(Default)]
struct Model {
    open: Option<(u64, u64)>,
    opened: u32,
    ended: u32,
}

fuzz_target!(|data: &[u8]| {
    let Some((&max, mut rest)) = data.split_first() else {
        return;
    };
    let max_file_bytes = u64::from(max) * 16;
    let mut framing = Framing::new(max_file_bytes);
    let mut model = Model::default();
    let mut first = true;
    while let Ok(request) = UploadRequest::decode_length_delimited(&mut rest) {
        let Some(msg) = request.msg else { continue };
        if std::mem::take(&mut first) && matches!(msg, Msg::Options(_)) {
            continue;
        }
        let message = match &msg {
            Msg::Options(_) => Message::Options,
            Msg::Start(s) => Message::Start {
                file_name: &s.file_name,
                size: s.size,
            },
            Msg::Chunk(c) => Message::Chunk(c),
            Msg::End(e) => Message::End { sha256: &e.sha256 },
        };
        for effect in framing.on(message) {
            apply(&mut model, &mut framing, effect, max_file_bytes);
        }
        assert_eq!(framing.is_open(), model.open.is_some());
        if rest.is_empty() {
            break;
        }
    }
    if let Some(effect) = framing.close() {
        apply(&mut model, &mut framing, effect, max_file_bytes);
    }
    assert!(model.open.is_none());
    assert_eq!(model.opened, model.ended, "a file opened but never ended");
});

fn apply(model: &mut Model, framing: &mut Framing, effect: Effect<'_>, max_file_bytes: u64) {
    match effect {
        Effect::Discard(r) => {
            assert!(model.open.take().is_some(), "discarded with no file open");
            assert!(r.message.starts_with(&r.file_name));
            model.ended += 1;
        }
        Effect::Refuse(_) => {}
        Effect::Open { size, .. } => {
            assert!(model.open.is_none(), "opened a second file");
            assert!(size <= max_file_bytes);
            model.open = Some((0, size));
            model.opened += 1;
        }
        Effect::Write(bytes) => {
            let (written, size) = model.open.as_mut().expect("written with no file open");
            *written += bytes.len() as u64;
            assert!(*written <= *size, "wrote past the announced size");
            // A storage failure (disk full) now and then: the hub refuses the file.
            if bytes.first() == Some(&0xEE) {
                framing.failed();
                model.open = None;
                model.ended += 1;
            }
        }
        Effect::Finish { size, .. } => {
            let (written, announced) = model.open.take().expect("finished with no file open");
            assert_eq!((written, announced), (size, size));
            model.ended += 1;
        }
    }
}
