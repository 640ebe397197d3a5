//! Uploading: find the files ([`walk`](mod@walk)), then stream them to the hub in one session ([`stream`]).
//!
//! Memory stays bounded whatever the study's size: each file is read in [`CHUNK_BYTES`] pieces
//! hashed as they are read, and at most [`stream::IN_FLIGHT`] chunks wait to be sent.

pub mod stream;
pub mod walk;

pub use remotedx_proto::CHUNK_BYTES;
pub use stream::{Event, LocalFailure, Outcome, upload};
pub use walk::{FileToSend, Skipped, Walk, walk};
