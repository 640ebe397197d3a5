//! The crate's error type. Every variant names the input: the file, and the SOP Instance UID and
//! transfer syntax once they are known, so that a line in a log or a case outcome is enough to
//! find the object that failed.

use std::fmt;
use std::path::PathBuf;

/// Which object an error is about. Filled in as far as the object was read before it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectId {
    /// The file (or a label such as `<memory>` for in-memory input).
    pub file: PathBuf,
    /// SOP Instance UID, once the header was parsed.
    pub sop_instance_uid: Option<String>,
    /// Transfer Syntax UID, once the file meta group was read.
    pub transfer_syntax: Option<String>,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        let sop = self.sop_instance_uid.as_deref();
        let ts = self.transfer_syntax.as_deref();
        match (sop, ts) {
            (Some(sop), Some(ts)) => write!(f, " (SOP Instance {sop}, transfer syntax {ts})"),
            (Some(sop), None) => write!(f, " (SOP Instance {sop})"),
            (None, Some(ts)) => write!(f, " (transfer syntax {ts})"),
            (None, None) => Ok(()),
        }
    }
}

/// Why an imaging operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// The file could not be read from disk.
    #[error("{object}: cannot read the file: {source}")]
    Io {
        /// The object.
        object: Box<ObjectId>,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The bytes are not a DICOM object this crate can parse (bad preamble, meta group or data
    /// set structure).
    #[error("{object}: not a readable DICOM object: {reason}")]
    Parse {
        /// The object.
        object: Box<ObjectId>,
        /// What is wrong.
        reason: String,
    },
    /// The deflated data set would inflate to more than the budget
    /// ([`crate::set_max_inflated_bytes`]); refused before it is held in memory.
    #[error("{object}: its deflated data set inflates to more than {limit} bytes")]
    InflatesTooLarge {
        /// The object.
        object: Box<ObjectId>,
        /// The budget, in bytes.
        limit: u64,
    },
    /// One decoded frame would take more than the per-frame budget
    /// ([`crate::set_max_frame_bytes`]); refused from the attributes, before any of it is read.
    #[error(
        "{object}: a frame of {columns} x {rows} pixels x {samples} samples decodes to {bytes} \
         bytes, more than the {limit} bytes one frame may take (the per-frame decode budget); \
         the object stays stored and is served as sent"
    )]
    FrameTooLarge {
        /// The object.
        object: Box<ObjectId>,
        /// Columns.
        columns: u32,
        /// Rows.
        rows: u32,
        /// Samples per Pixel.
        samples: u16,
        /// The decoded frame's bytes.
        bytes: u64,
        /// The budget, in bytes.
        limit: u64,
    },
    /// The object has no Pixel Data (an SR, an RT plan, a waveform...).
    #[error("{object}: has no Pixel Data")]
    NoPixelData {
        /// The object.
        object: Box<ObjectId>,
    },
    /// The image attributes (Rows, Bits Allocated, Photometric Interpretation...) are missing or
    /// inconsistent.
    #[error("{object}: invalid image attributes: {reason}")]
    BadAttributes {
        /// The object.
        object: Box<ObjectId>,
        /// What is wrong.
        reason: String,
    },
    /// The transfer syntax or pixel layout is valid DICOM that this crate does not decode. The
    /// object stays stored and is served raw.
    #[error("{object}: unsupported: {what}")]
    Unsupported {
        /// The object.
        object: Box<ObjectId>,
        /// What is not supported.
        what: String,
    },
    /// The pixel data of one frame is corrupt or truncated.
    #[error("{object}, frame {frame}: corrupt pixel data: {reason}")]
    Corrupt {
        /// The object.
        object: Box<ObjectId>,
        /// Zero-based frame index.
        frame: u32,
        /// What the decoder found.
        reason: String,
    },
    /// A frame index past the object's Number of Frames.
    #[error("{object}: frame {frame} requested, but the object has {frames} frame(s)")]
    FrameOutOfRange {
        /// The object.
        object: Box<ObjectId>,
        /// Requested zero-based index.
        frame: u32,
        /// Number of frames in the object.
        frames: u32,
    },
    /// A thumbnail handed to [`crate::series_strip`] is not a PNG this crate can read.
    #[error("thumbnail {index} of the series strip: {reason}")]
    Thumbnail {
        /// Position of the thumbnail in the input.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Encoding an output PNG failed.
    #[error("{object}: PNG encoding failed: {reason}")]
    Png {
        /// The object.
        object: Box<ObjectId>,
        /// The encoder's message.
        reason: String,
    },
}

impl ImagingError {
    /// The object the error is about, when it is about one.
    pub fn object(&self) -> Option<&ObjectId> {
        match self {
            Self::Io { object, .. }
            | Self::Parse { object, .. }
            | Self::InflatesTooLarge { object, .. }
            | Self::FrameTooLarge { object, .. }
            | Self::NoPixelData { object }
            | Self::BadAttributes { object, .. }
            | Self::Unsupported { object, .. }
            | Self::Corrupt { object, .. }
            | Self::FrameOutOfRange { object, .. }
            | Self::Png { object, .. } => Some(object),
            Self::Thumbnail { .. } => None,
        }
    }
}
