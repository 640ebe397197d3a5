//! Pure DICOM imaging for remotedx: decode Pixel Data of every common transfer syntax into
//! ndarray frames, apply the modality LUT, VOI window and photometric conversion, and render
//! previews, thumbnails and series strips as PNG. No network, no database, no async runtime:
//! plain functions over files, parallel with rayon.
//!
//! # Module map
//! - [`api`]: the entry points ([`process_instance`], [`render_frame`], [`decode_frame`],
//!   [`series_strip`]).
//! - [`parallel`]: the only module that uses rayon ([`process_instances`], [`for_each_frame`]),
//!   each function with a sequential twin.
//! - [`source`]: opening an object: the header walk that locates Pixel Data without reading it,
//!   attribute parsing with dicom-object, per-frame byte access (fragments, offset tables).
//! - [`codec`]: transfer syntaxes and the decoders (native, RLE, JPEG DCT and lossless,
//!   JPEG-LS, JPEG 2000).
//! - [`frame`]: decoded frames ([`Samples`], [`DecodedFrame`]) and Bits Stored masking.
//! - [`attrs`]: the image attributes (Image Pixel, Modality LUT, VOI LUT, palette).
//! - [`render`]: modality LUT, VOI window and presets, MONOCHROME1 inversion, colour conversion,
//!   resizing and PNG.
//! - [`budget`]: the per-frame decode budget ([`set_max_frame_bytes`]) and a render's estimated
//!   peak memory.
//! - [`error`]: [`ImagingError`], whose messages name the file, SOP Instance UID and transfer
//!   syntax.
//!
//! # Invariants
//! - Opening an object reads its header, never its pixel data; decoding reads one frame.
//! - Corrupt input gives an error, never a panic or a hang (fuzzed; see `fuzz/`).
//! - A deflated data set is inflated only within the process's budget
//!   ([`set_max_inflated_bytes`]), counted before anything is held in memory.
//! - A frame is decoded only within the per-frame budget ([`set_max_frame_bytes`]), checked from
//!   its attributes before any of it is read.
//! - Parallel and sequential paths give identical results.

pub mod api;
pub mod attrs;
pub mod budget;
pub mod codec;
pub(crate) mod color;
pub mod error;
pub mod frame;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod parallel;
pub mod render;
pub mod source;

pub use api::{
    InstanceOutput, decode_frame, process_instance, render_frame, render_opened, series_strip,
};
pub use budget::{DEFAULT_MAX_FRAME_BYTES, max_frame_bytes, set_max_frame_bytes};
pub use dicom_check::{DEFAULT_MAX_INFLATED_BYTES, max_inflated_bytes, set_max_inflated_bytes};
pub use error::{ImagingError, ObjectId};
pub use frame::{DecodedFrame, Samples};
pub use parallel::{
    decode_all_frames, decode_all_frames_sequential, for_each_frame, process_instances,
    process_instances_sequential,
};
pub use render::window::{Preset, UnknownPreset, WindowSpec};
pub use render::{Image8, render};
pub use source::{CheckedHeader, Image, check_structure, read_checked, read_checked_with_content};
