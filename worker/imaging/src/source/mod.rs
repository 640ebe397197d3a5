//! Opening an object: the meta group and pixel layout by a header walk (`locate`), the
//! attributes by dicom-object over the header bytes, and per-frame access to the pixel bytes
//! (`fragments` for encapsulated data). Only the header and one frame's bytes are ever in memory,
//! except for deflated data sets, which must be inflated whole (within a budget:
//! [`crate::set_max_inflated_bytes`]).

pub(crate) mod fragments;
pub(crate) use dicom_check::{bytes, locate};

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use dicom_check::CheckedHeader;
use dicom_check::{CheckError, DatasetSyntax, parse_header};

use crate::attrs::{self, PixelAttrs};
use crate::codec::{self, Codec, Geometry, Syntax};
use crate::error::{ImagingError, ObjectId};
use crate::frame::{DecodedFrame, normalize};
use bytes::{ByteSource, MemBytes};
use fragments::{FragmentTable, StartMarker};
use locate::{Encoding, PixelElement};

/// Where a frame's bytes are.
enum Layout {
    Native {
        offset: u64,
        len: u64,
        swapped_words: bool,
    },
    Encapsulated {
        table: FragmentTable,
        frames: Vec<Range<usize>>,
    },
}

/// An opened image object: attributes parsed, pixel bytes located, nothing decoded yet.
pub struct Image {
    id: ObjectId,
    attrs: PixelAttrs,
    syntax: Syntax,
    codec: Codec,
    geometry: Geometry,
    src: Arc<dyn ByteSource>,
    layout: Layout,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("id", &self.id)
            .field("attrs", &self.attrs)
            .finish()
    }
}

impl Image {
    /// Opens a file, reading its header and pixel data layout (not its pixel data).
    pub fn open(path: &Path) -> Result<Self, ImagingError> {
        let (src, id) = open_file(path)?;
        Self::from_source(src, id)
    }

    /// Opens an object held in memory; `label` names it in errors.
    pub fn from_bytes(data: Arc<[u8]>, label: &Path) -> Result<Self, ImagingError> {
        let id = ObjectId {
            file: label.to_path_buf(),
            ..ObjectId::default()
        };
        Self::from_source(Arc::new(MemBytes(data)), id)
    }

    /// The object's identity (file, SOP Instance UID, transfer syntax).
    pub fn id(&self) -> &ObjectId {
        &self.id
    }

    /// The image attributes.
    pub fn attrs(&self) -> &PixelAttrs {
        &self.attrs
    }

    /// The transfer syntax.
    pub fn syntax(&self) -> &Syntax {
        &self.syntax
    }

    /// The codec that decodes this object's frames.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    fn from_source(src: Arc<dyn ByteSource>, mut id: ObjectId) -> Result<Self, ImagingError> {
        let parse = |id: &ObjectId, reason: String| ImagingError::Parse {
            object: Box::new(id.clone()),
            reason,
        };
        let dicom_check::DataSet {
            meta,
            src,
            start,
            enc,
        } = dicom_check::DataSet::read(src, &|uid| {
            let syntax = Syntax::from_uid(uid);
            DatasetSyntax {
                encoding: syntax.dataset,
                deflated: syntax.deflated,
            }
        })
        .map_err(|e| match e {
            dicom_check::InflateError::TooLarge { limit } => ImagingError::InflatesTooLarge {
                object: Box::new(id.clone()),
                limit,
            },
            dicom_check::InflateError::Bad(reason) => parse(&id, reason),
        })?;
        let syntax = Syntax::from_uid(&meta.transfer_syntax);
        id.sop_instance_uid = meta.media_sop_instance_uid.clone();
        id.transfer_syntax = Some(meta.transfer_syntax.clone());
        let mut needed = Vec::new();
        let pixel =
            locate::find_pixel_data_keeping(&*src, start, enc, &locate::is_needed, &mut needed)
                .map_err(|e| parse(&id, e.0))?;
        let obj = parse_header(&*src, &needed, enc).map_err(|e| parse(&id, e))?;
        if let Some(sop) = attrs::sop_instance_uid(&obj) {
            id.sop_instance_uid = Some(sop);
        }
        let Some(pixel) = pixel else {
            return Err(ImagingError::NoPixelData {
                object: Box::new(id),
            });
        };
        let attrs = attrs::read(&obj).map_err(|reason| ImagingError::BadAttributes {
            object: Box::new(id.clone()),
            reason,
        })?;
        let Some(codec) = syntax.codec else {
            return Err(ImagingError::Unsupported {
                what: format!(
                    "transfer syntax {} is not decoded by this worker",
                    syntax.uid
                ),
                object: Box::new(id),
            });
        };
        let layout =
            layout(&*src, &pixel, &attrs, &syntax, codec, enc).map_err(|e| parse(&id, e))?;
        let geometry = Geometry::new(&attrs, enc.big_endian);
        Ok(Self {
            id,
            attrs,
            syntax,
            codec,
            geometry,
            src,
            layout,
        })
    }

    /// Decodes frame `k` (zero-based).
    pub fn decode_frame(&self, k: u32) -> Result<DecodedFrame, ImagingError> {
        let corrupt = |reason: String| ImagingError::Corrupt {
            object: Box::new(self.id.clone()),
            frame: k,
            reason,
        };
        let (data, bit_offset) = self.frame_bytes(k)?;
        let raw =
            codec::decode(self.codec, &self.geometry, &data, bit_offset).map_err(|e| match e {
                codec::CodecError::Corrupt(reason) => corrupt(reason),
                codec::CodecError::Unsupported(what) => ImagingError::Unsupported {
                    object: Box::new(self.id.clone()),
                    what,
                },
            })?;
        let g = &self.geometry;
        let shape = (g.rows, g.cols, g.spp);
        let bits = if g.bits_allocated == 1 {
            8
        } else {
            g.bits_stored
        };
        let samples = normalize(raw.buf, shape, bits, g.signed).map_err(corrupt)?;
        Ok(DecodedFrame {
            samples,
            photometric: raw.photometric,
        })
    }

    /// Frame `k` (zero-based) as stored: its codestream for an encapsulated transfer syntax, its
    /// native bytes otherwise (what DICOMweb serves as a frame in the stored transfer syntax).
    pub fn stored_frame(&self, k: u32) -> Result<Vec<u8>, ImagingError> {
        self.frame_bytes(k).map(|(bytes, _)| bytes)
    }

    /// What the codec is told about each frame.
    #[cfg(test)]
    pub(crate) fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The bytes of frame `k` and, for 1-bit data, the bit where it starts in the first byte.
    pub(crate) fn frame_bytes(&self, k: u32) -> Result<(Vec<u8>, u8), ImagingError> {
        if k >= self.attrs.frames {
            return Err(ImagingError::FrameOutOfRange {
                object: Box::new(self.id.clone()),
                frame: k,
                frames: self.attrs.frames,
            });
        }
        let corrupt = |reason: String| ImagingError::Corrupt {
            object: Box::new(self.id.clone()),
            frame: k,
            reason,
        };
        let io = |source| ImagingError::Io {
            object: Box::new(self.id.clone()),
            source,
        };
        match &self.layout {
            Layout::Native {
                offset,
                len,
                swapped_words,
            } => {
                let bits = codec::native_frame_bits(&self.geometry);
                let first_bit = bits * u64::from(k);
                let (start, end) = (first_bit / 8, (first_bit + bits).div_ceil(8));
                if end > *len {
                    return Err(corrupt(format!(
                        "Pixel Data holds {len} bytes; frame {k} needs bytes {start}..{end}"
                    )));
                }
                if *swapped_words {
                    // Words are swapped relative to the element start, so read whole words.
                    let (ws, we) = (start & !1, (end + 1) & !1);
                    let mut v = self
                        .src
                        .read_vec(offset + ws, (we.min(*len) - ws) as usize)
                        .map_err(io)?;
                    v.chunks_exact_mut(2).for_each(|w| w.swap(0, 1));
                    let skip = (start - ws) as usize;
                    return Ok((v[skip..skip + (end - start) as usize].to_vec(), 0));
                }
                let v = self
                    .src
                    .read_vec(offset + start, (end - start) as usize)
                    .map_err(io)?;
                Ok((v, (first_bit % 8) as u8))
            }
            Layout::Encapsulated { table, frames } => {
                let range = frames[k as usize].clone();
                let frags = &table.fragments[range];
                if let Some(f) = frags.iter().find(|f| f.truncated) {
                    return Err(corrupt(format!(
                        "fragment at offset {} runs past the end of the file",
                        f.offset
                    )));
                }
                let total: u64 = frags.iter().map(|f| f.len).sum();
                let mut out = vec![0u8; total as usize];
                let mut at = 0usize;
                for f in frags {
                    self.src
                        .read_at(f.offset, &mut out[at..at + f.len as usize])
                        .map_err(io)?;
                    at += f.len as usize;
                }
                Ok((out, 0))
            }
        }
    }
}

/// Checks that the file at `path` is a DICOM object well formed to its last byte, without reading
/// its values (see [`dicom_check::check_structure`]). Ingest uses it so that a 7 MB radiograph is
/// not decoded into memory to be validated.
pub fn check_structure(path: &Path) -> Result<(), ImagingError> {
    dicom_check::check_structure(path).map_err(imaging_error)
}

/// [`check_structure`] that also returns the top-level attributes `wanted` asks for (by tag),
/// from the same walk (see [`dicom_check::read_checked`]): the hub's index fields are a few dozen
/// bytes of a header that can hold tens of kilobytes of private data.
pub fn read_checked(
    path: &Path,
    wanted: &dyn Fn((u16, u16)) -> bool,
) -> Result<CheckedHeader, ImagingError> {
    dicom_check::read_checked(path, wanted).map_err(imaging_error)
}

/// [`read_checked`] that also feeds `content` the bytes of what the object holds (see
/// [`dicom_check::read_checked_with_content`]): a hash of them recognises the same image or
/// signal sent again under another identity.
pub fn read_checked_with_content(
    path: &Path,
    wanted: &dyn Fn((u16, u16)) -> bool,
    content: &mut dyn FnMut(&[u8]),
) -> Result<CheckedHeader, ImagingError> {
    dicom_check::read_checked_with_content(path, wanted, content).map_err(imaging_error)
}

/// The check's error as this crate's, naming the same file.
fn imaging_error(e: CheckError) -> ImagingError {
    let id = |file: PathBuf| {
        Box::new(ObjectId {
            file,
            ..ObjectId::default()
        })
    };
    match e {
        CheckError::Io { file, source } => ImagingError::Io {
            object: id(file),
            source,
        },
        CheckError::InflatesTooLarge { file, limit } => ImagingError::InflatesTooLarge {
            object: id(file),
            limit,
        },
        CheckError::Malformed { file, reason } => ImagingError::Parse {
            object: id(file),
            reason,
        },
    }
}

/// Opens a file as a byte source, with the identity its errors carry.
fn open_file(path: &Path) -> Result<(Arc<dyn ByteSource>, ObjectId), ImagingError> {
    let id = ObjectId {
        file: path.to_path_buf(),
        ..ObjectId::default()
    };
    dicom_check::open_file(path)
        .map(|src| (src, id))
        .map_err(imaging_error)
}

fn layout(
    src: &dyn ByteSource,
    pixel: &PixelElement,
    attrs: &PixelAttrs,
    syntax: &Syntax,
    codec: Codec,
    enc: Encoding,
) -> Result<Layout, String> {
    if let Some(len) = pixel.length {
        if codec != Codec::Native {
            return Err(format!(
                "native Pixel Data in {} ({})",
                syntax.name, syntax.uid
            ));
        }
        let len = len.min(src.len().saturating_sub(pixel.value_start));
        let swapped_words = enc.big_endian && attrs.bits_allocated == 8 && pixel.vr == Some(*b"OW");
        return Ok(Layout::Native {
            offset: pixel.value_start,
            len,
            swapped_words,
        });
    }
    let table = fragments::read_table(src, pixel.value_start).map_err(|e| e.0)?;
    let marker = match codec {
        Codec::JpegDct | Codec::JpegLossless | Codec::JpegLs => StartMarker::Jpeg,
        Codec::J2k => StartMarker::J2k,
        Codec::Native | Codec::Rle => StartMarker::None,
    };
    let frames = fragments::map_frames(
        src,
        &table,
        attrs.frames,
        attrs.extended_offsets.as_deref(),
        marker,
    )?;
    Ok(Layout::Encapsulated { table, frames })
}
