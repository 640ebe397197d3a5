//! The structural check of a DICOM file, shared by every reader of uploaded objects: the meta
//! group, then every element header of the data set (inflated first when deflated), including
//! each item of undefined-length sequences and of encapsulated Pixel Data, must fit inside the
//! file, and only elements whose nested structure also fits are handed to dicom-object. A
//! crafted length therefore fails with the offset and what is wrong, instead of making a parser
//! allocate the gigabytes it claims. No values are decoded here and no codec is linked.
//!
//! # Module map
//! - [`bytes`]: random-access byte sources (a file read with positioned reads, or memory).
//! - [`locate`]: the header walk itself ([`locate::walk_to_end_keeping`],
//!   [`locate::find_pixel_data_keeping`]) and the strict nested check of kept elements.
//! - this file: [`read_checked`] and friends (file in, checked attributes out), the data set
//!   ([`DataSet`]: meta group read, deflate undone, encoding sniffed) and [`parse_header`].
//!
//! Users: worker-imaging (`worker_imaging::read_checked`, the hub's ingest, and image opening)
//! and worker-ecg (its DICOM waveform and page readers).

pub mod bytes;
mod content;
mod inflate;
pub mod locate;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries;

pub use bytes::{ByteSource, FileBytes, MemBytes};
pub use inflate::{
    DEFAULT_MAX_INFLATED_BYTES, InflateError, max_inflated_bytes, set_max_inflated_bytes,
};
pub use locate::Encoding;

/// Header bytes beyond this are refused rather than risk a crafted length exhausting memory
/// (inflated data sets have their own, configurable budget: [`set_max_inflated_bytes`]).
pub const MAX_IN_MEMORY: u64 = 1 << 30;

/// Why a file failed the check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The file could not be read from disk.
    #[error("{}: cannot read the file: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Its deflated data set inflates to more than the budget ([`set_max_inflated_bytes`]);
    /// refused before it is held in memory.
    #[error("{}: its deflated data set inflates to more than {limit} bytes", file.display())]
    InflatesTooLarge {
        /// The file.
        file: PathBuf,
        /// The budget, in bytes.
        limit: u64,
    },
    /// The bytes are not a well-formed DICOM object (bad preamble, meta group, or an element
    /// whose length runs past its item or the file).
    #[error("{}: not a readable DICOM object: {reason}", file.display())]
    Malformed {
        /// The file.
        file: PathBuf,
        /// What is wrong, with the offset.
        reason: String,
    },
}

/// What [`read_checked`] read: the meta group's identifiers and the attributes asked for.
#[derive(Debug, Clone)]
pub struct CheckedHeader {
    /// Transfer Syntax UID, as declared (or guessed when the meta group lacks it).
    pub transfer_syntax: String,
    /// The meta group declares it (DCMTK and GDCM read a file that does not; a Part 10 file must).
    pub transfer_syntax_declared: bool,
    /// Media Storage SOP Class UID, if present.
    pub media_sop_class_uid: Option<String>,
    /// Media Storage SOP Instance UID, if present.
    pub media_sop_instance_uid: Option<String>,
    /// The top-level attributes asked for, parsed by dicom-object (an element that would not
    /// parse cleanly is left out; the structure around it was checked).
    pub attributes: InMemDicomObject,
    /// The tags of asked-for top-level elements left out of `attributes` because something
    /// nested inside them does not fit (see [`locate::parses_cleanly`]).
    pub left_out: Vec<(u16, u16)>,
}

/// Checks that the file at `path` is a DICOM object well formed to its last byte, without reading
/// its values: the meta group, then every element header of the data set (inflated first when
/// deflated), including each item of undefined-length sequences and of encapsulated Pixel Data,
/// must fit inside the file. A truncated or corrupt file fails with the offset and what is wrong.
pub fn check_structure(path: &Path) -> Result<(), CheckError> {
    read_checked(path, &|_| false).map(|_| ())
}

/// [`check_structure`] that also returns the top-level attributes `wanted` asks for (by tag),
/// from the same walk: one read of the file, and the attribute parser sees only those elements,
/// each checked at every nesting level first.
pub fn read_checked(
    path: &Path,
    wanted: &dyn Fn((u16, u16)) -> bool,
) -> Result<CheckedHeader, CheckError> {
    read_checked_inner(path, wanted, None)
}

/// [`read_checked`] that also feeds `content` the bytes of what the object holds, in file order:
/// the value of Pixel Data (Float and Double Float Pixel Data too; encapsulated data as stored,
/// item headers included), and the Waveform Data values of each Waveform Sequence item. These do
/// not depend on the patient attributes or the UIDs, so a hash of them recognises the same image
/// or signal sent again under another identity. An object without either feeds nothing.
pub fn read_checked_with_content(
    path: &Path,
    wanted: &dyn Fn((u16, u16)) -> bool,
    content: &mut dyn FnMut(&[u8]),
) -> Result<CheckedHeader, CheckError> {
    read_checked_inner(path, wanted, Some(content))
}

/// Where the content bytes go, if anywhere.
type ContentSink<'a> = Option<&'a mut dyn FnMut(&[u8])>;

fn read_checked_inner(
    path: &Path,
    wanted: &dyn Fn((u16, u16)) -> bool,
    content: ContentSink<'_>,
) -> Result<CheckedHeader, CheckError> {
    let malformed = |reason: String| CheckError::Malformed {
        file: path.to_path_buf(),
        reason,
    };
    let data_set = DataSet::read(open_file(path)?, &DatasetSyntax::of).map_err(|e| match e {
        InflateError::TooLarge { limit } => CheckError::InflatesTooLarge {
            file: path.to_path_buf(),
            limit,
        },
        InflateError::Bad(reason) => malformed(reason),
    })?;
    let (mut keep, mut left_out, mut ranges) = (Vec::new(), Vec::new(), Vec::new());
    locate::walk_to_end_keeping(
        &*data_set.src,
        data_set.start,
        data_set.enc,
        wanted,
        &mut keep,
        &mut left_out,
        &mut ranges,
    )
    .map_err(|e| malformed(e.0))?;
    if let Some(sink) = content {
        content::feed(&*data_set.src, &ranges, sink).map_err(|source| CheckError::Io {
            file: path.to_path_buf(),
            source,
        })?;
    }
    let attributes = parse_header(&*data_set.src, &keep, data_set.enc).map_err(malformed)?;
    Ok(CheckedHeader {
        transfer_syntax: data_set.meta.transfer_syntax,
        transfer_syntax_declared: data_set.meta.transfer_syntax_declared,
        media_sop_class_uid: data_set.meta.media_sop_class_uid,
        media_sop_instance_uid: data_set.meta.media_sop_instance_uid,
        attributes,
        left_out,
    })
}

/// Opens a file as a byte source (positioned reads; nothing is loaded).
pub fn open_file(path: &Path) -> Result<Arc<dyn ByteSource>, CheckError> {
    match FileBytes::open(path) {
        Ok(src) => Ok(Arc::new(src)),
        Err(source) => Err(CheckError::Io {
            file: path.to_path_buf(),
            source,
        }),
    }
}

/// How a transfer syntax encodes the data set around the pixel data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetSyntax {
    /// The encoding of the data set (after inflating, when deflated).
    pub encoding: Encoding,
    /// The data set after the meta group is deflated.
    pub deflated: bool,
}

impl DatasetSyntax {
    /// Looks a Transfer Syntax UID up: Implicit VR Little Endian, Explicit VR Big Endian and
    /// Deflated Explicit VR Little Endian are told apart; every other syntax (all the compressed
    /// ones, and unknown UIDs) encodes its data set in Explicit VR Little Endian.
    pub fn of(uid: &str) -> Self {
        let (encoding, deflated) = match uid.trim_matches([' ', '\0']) {
            "1.2.840.10008.1.2" => (Encoding::IMPLICIT_LE, false),
            "1.2.840.10008.1.2.2" => (Encoding::EXPLICIT_BE, false),
            "1.2.840.10008.1.2.1.99" => (Encoding::EXPLICIT_LE, true),
            _ => (Encoding::EXPLICIT_LE, false),
        };
        Self { encoding, deflated }
    }
}

/// An object's data set: its meta group read, the data set inflated when deflated, its encoding
/// sniffed from its first element.
pub struct DataSet {
    /// The meta group (or what was guessed without one).
    pub meta: locate::Meta,
    /// The data set's bytes (the file itself unless deflated).
    pub src: Arc<dyn ByteSource>,
    /// Where in `src` the data set begins.
    pub start: u64,
    /// How it is encoded.
    pub enc: Encoding,
}

impl DataSet {
    /// Reads the meta group of `src` and, through `syntax` (normally [`DatasetSyntax::of`]),
    /// how its data set is encoded; inflates a deflated data set within the budget
    /// ([`set_max_inflated_bytes`]). A malformed meta group or deflate stream is
    /// [`InflateError::Bad`] with what is wrong.
    pub fn read(
        src: Arc<dyn ByteSource>,
        syntax: &dyn Fn(&str) -> DatasetSyntax,
    ) -> Result<Self, InflateError> {
        let meta = locate::read_meta(&*src).map_err(|e| InflateError::Bad(e.0))?;
        let syntax = syntax(&meta.transfer_syntax);
        let (src, start) = if syntax.deflated {
            (inflate::inflate(&*src, meta.dataset_start)?, 0)
        } else {
            (src, meta.dataset_start)
        };
        let enc = locate::sniff(&*src, start, syntax.encoding);
        Ok(DataSet {
            meta,
            src,
            start,
            enc,
        })
    }
}

/// Parses the top-level elements at `ranges` (what the header walk kept; see
/// `locate::is_needed`) with dicom-object; at most [`MAX_IN_MEMORY`] bytes.
pub fn parse_header(
    src: &dyn ByteSource,
    ranges: &[Range<u64>],
    enc: Encoding,
) -> Result<InMemDicomObject, String> {
    let len: u64 = ranges.iter().map(|r| r.end - r.start).sum();
    if len > MAX_IN_MEMORY {
        return Err(format!("{len} bytes of attributes before Pixel Data"));
    }
    let mut header = vec![0u8; len as usize];
    let mut at = 0usize;
    for r in ranges {
        let n = (r.end - r.start) as usize;
        src.read_at(r.start, &mut header[at..at + n])
            .map_err(|e| e.to_string())?;
        at += n;
    }
    let ts = match (enc.explicit, enc.big_endian) {
        (false, _) => entries::IMPLICIT_VR_LITTLE_ENDIAN.erased(),
        (true, false) => entries::EXPLICIT_VR_LITTLE_ENDIAN.erased(),
        (true, true) => entries::EXPLICIT_VR_BIG_ENDIAN.erased(),
    };
    InMemDicomObject::read_dataset_with_ts(&header[..], &ts).map_err(|e| e.to_string())
}
