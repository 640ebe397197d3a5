//! The image attributes that decoding and rendering need, read from a data set that dicom-object
//! parsed: Image Pixel module, Modality LUT, VOI LUT, palette colour, multi-frame.

use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;

/// Photometric Interpretation (0028,0004).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Photometric {
    /// Grey, minimum is white.
    Monochrome1,
    /// Grey, minimum is black.
    Monochrome2,
    /// Indices into the palette colour LUTs.
    PaletteColor,
    /// Red, green, blue.
    Rgb,
    /// Full-range YCbCr (ITU-R BT.601 coefficients).
    YbrFull,
    /// Full-range YCbCr with horizontally halved chroma.
    YbrFull422,
    /// JPEG 2000 irreversible colour transform (decoders return RGB).
    YbrIct,
    /// JPEG 2000 reversible colour transform (decoders return RGB).
    YbrRct,
    /// Anything else (retired or not supported), as written.
    Other(String),
}

impl Photometric {
    /// Parses the attribute's value.
    pub fn parse(s: &str) -> Self {
        match s.trim_matches([' ', '\0']) {
            "MONOCHROME1" => Self::Monochrome1,
            "MONOCHROME2" => Self::Monochrome2,
            "PALETTE COLOR" => Self::PaletteColor,
            "RGB" => Self::Rgb,
            "YBR_FULL" => Self::YbrFull,
            "YBR_FULL_422" => Self::YbrFull422,
            "YBR_ICT" => Self::YbrIct,
            "YBR_RCT" => Self::YbrRct,
            other => Self::Other(other.to_string()),
        }
    }

    /// True for MONOCHROME1 and MONOCHROME2.
    pub fn is_monochrome(&self) -> bool {
        matches!(self, Self::Monochrome1 | Self::Monochrome2)
    }
}

/// A lookup table (Modality LUT, VOI LUT, one palette channel): LUT Descriptor and LUT Data.
#[derive(Debug, Clone, PartialEq)]
pub struct Lut {
    /// First input value mapped (values below map to the first entry).
    pub first: i32,
    /// Bits per entry (8 or 16).
    pub bits: u16,
    /// The entries.
    pub data: Vec<u16>,
}

impl Lut {
    /// The entry for input `x`, clamping outside the table.
    pub fn get(&self, x: i64) -> u16 {
        let i = (x - i64::from(self.first)).clamp(0, self.data.len() as i64 - 1);
        self.data[i as usize]
    }
}

/// Modality LUT: how stored values become modality values (e.g. Hounsfield units).
#[derive(Debug, Clone, PartialEq)]
pub enum ModalityLut {
    /// Rescale Slope and Intercept (identity when absent).
    Rescale {
        /// Rescale Slope (0028,1053).
        slope: f64,
        /// Rescale Intercept (0028,1052).
        intercept: f64,
    },
    /// Modality LUT Sequence (0028,3000).
    Table(Lut),
}

/// VOI LUT Function (0028,1056).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VoiFunction {
    /// PS3.3 C.11.2.1.2.1, the default.
    #[default]
    Linear,
    /// PS3.3 C.11.2.1.3.2.
    LinearExact,
    /// PS3.3 C.11.2.1.3.1.
    Sigmoid,
}

/// Everything the decoders and the renderer need about one image object.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelAttrs {
    /// Rows.
    pub rows: u32,
    /// Columns.
    pub columns: u32,
    /// Samples per Pixel.
    pub samples_per_pixel: u16,
    /// Bits Allocated.
    pub bits_allocated: u16,
    /// Bits Stored.
    pub bits_stored: u16,
    /// Pixel Representation is 1 (two's complement).
    pub signed: bool,
    /// Planar Configuration is 1 (colour by plane).
    pub planar: bool,
    /// Photometric Interpretation.
    pub photometric: Photometric,
    /// Number of Frames (1 when absent).
    pub frames: u32,
    /// Modality LUT.
    pub modality_lut: ModalityLut,
    /// Window Center/Width pairs, in dataset order.
    pub windows: Vec<(f64, f64)>,
    /// VOI LUT Function.
    pub voi_function: VoiFunction,
    /// VOI LUT Sequence items.
    pub voi_luts: Vec<Lut>,
    /// Red, green, blue palette LUTs (PALETTE COLOR).
    pub palette: Option<[Lut; 3]>,
    /// SOP Instance UID.
    pub sop_instance_uid: Option<String>,
    /// Modality (0008,0060).
    pub modality: Option<String>,
    /// Extended Offset Table (7FE0,0001), if present.
    pub extended_offsets: Option<Vec<u64>>,
}

/// A required attribute is missing or unreadable.
pub(crate) type AttrError = String;

/// The value of an element whose VR is UN (writers that lost the dictionary, e.g. some
/// gdcmconv output): binary for US attributes, text for IS and DS.
fn un_bytes(e: &InMemElement) -> Option<Vec<u8>> {
    (e.vr() == VR::UN).then(|| e.to_bytes().map(|b| b.to_vec()).unwrap_or_default())
}

fn un_text(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_matches([' ', '\0'])
        .to_string()
}

fn int<T: TryFrom<i64>>(
    obj: &InMemDicomObject,
    tag: Tag,
    name: &str,
) -> Result<Option<T>, AttrError> {
    let Some(e) = obj.get(tag) else {
        return Ok(None);
    };
    if e.header().len.0 == 0 {
        return Ok(None);
    }
    let v = match un_bytes(e) {
        // Only IS attributes (Number of Frames) are read as text; the others here are US.
        Some(b) if tag == tags::NUMBER_OF_FRAMES => un_text(&b)
            .parse::<i64>()
            .map_err(|err| format!("{name}: {err}"))?,
        Some(b) if b.len() >= 2 => i64::from(u16::from_le_bytes([b[0], b[1]])),
        Some(_) => return Err(format!("{name}: value too short")),
        None => e.to_int::<i64>().map_err(|err| format!("{name}: {err}"))?,
    };
    T::try_from(v)
        .map(Some)
        .map_err(|_| format!("{name}: {v} is out of range"))
}

fn required<T: TryFrom<i64>>(obj: &InMemDicomObject, tag: Tag, name: &str) -> Result<T, AttrError> {
    int(obj, tag, name)?.ok_or_else(|| format!("{name} is missing"))
}

fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let e = obj.get(tag)?;
    let s = match un_bytes(e) {
        Some(b) => un_text(&b),
        None => e.to_str().ok()?.trim_matches([' ', '\0']).to_string(),
    };
    (!s.is_empty()).then_some(s)
}

fn floats(obj: &InMemDicomObject, tag: Tag) -> Vec<f64> {
    let Some(e) = obj.get(tag) else {
        return Vec::new();
    };
    match un_bytes(e) {
        Some(b) => un_text(&b)
            .split('\\')
            .filter_map(|v| v.trim().parse().ok())
            .collect(),
        None => e.to_multi_float64().unwrap_or_default(),
    }
}

/// The SOP Instance UID, if present and not empty.
pub(crate) fn sop_instance_uid(obj: &InMemDicomObject) -> Option<String> {
    text(obj, tags::SOP_INSTANCE_UID)
}

/// Reads the attributes from a parsed data set.
pub(crate) fn read(obj: &InMemDicomObject) -> Result<PixelAttrs, AttrError> {
    let signed = required::<u16>(obj, tags::PIXEL_REPRESENTATION, "Pixel Representation")? == 1;
    let bits_allocated = required(obj, tags::BITS_ALLOCATED, "Bits Allocated")?;
    let photometric = text(obj, tags::PHOTOMETRIC_INTERPRETATION)
        .map(|s| Photometric::parse(&s))
        .ok_or("Photometric Interpretation is missing")?;
    let attrs = PixelAttrs {
        rows: required(obj, tags::ROWS, "Rows")?,
        columns: required(obj, tags::COLUMNS, "Columns")?,
        samples_per_pixel: required(obj, tags::SAMPLES_PER_PIXEL, "Samples per Pixel")?,
        bits_allocated,
        bits_stored: int(obj, tags::BITS_STORED, "Bits Stored")?.unwrap_or(bits_allocated),
        signed,
        planar: int::<u16>(obj, tags::PLANAR_CONFIGURATION, "Planar Configuration")? == Some(1),
        frames: int(obj, tags::NUMBER_OF_FRAMES, "Number of Frames")?.unwrap_or(1),
        modality_lut: modality_lut(obj, signed)?,
        windows: windows(obj),
        voi_function: voi_function(obj),
        voi_luts: sequence_luts(obj, tags::VOILUT_SEQUENCE, signed)?,
        palette: palette(obj)?,
        sop_instance_uid: text(obj, tags::SOP_INSTANCE_UID),
        modality: text(obj, tags::MODALITY),
        extended_offsets: obj
            .get(tags::EXTENDED_OFFSET_TABLE)
            .and_then(|e| e.to_bytes().ok())
            .map(|b| {
                b.chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                    .collect()
            }),
        photometric,
    };
    validate(&attrs)?;
    Ok(attrs)
}

fn validate(a: &PixelAttrs) -> Result<(), AttrError> {
    if a.rows == 0 || a.columns == 0 {
        return Err(format!("image is {}x{}", a.columns, a.rows));
    }
    if a.frames == 0 {
        return Err("Number of Frames is 0".into());
    }
    if !matches!(a.bits_allocated, 1 | 8 | 16 | 32) {
        return Err(format!(
            "Bits Allocated {} (expected 1, 8, 16 or 32)",
            a.bits_allocated
        ));
    }
    if a.bits_stored == 0 || a.bits_stored > a.bits_allocated {
        return Err(format!(
            "Bits Stored {} with Bits Allocated {}",
            a.bits_stored, a.bits_allocated
        ));
    }
    if !matches!(a.samples_per_pixel, 1 | 3) {
        return Err(format!(
            "Samples per Pixel {} (expected 1 or 3)",
            a.samples_per_pixel
        ));
    }
    Ok(())
}

/// The first item of a functional group macro (enhanced multi-frame objects keep their window
/// and rescale there): the shared groups first, else the first frame's.
fn functional(obj: &InMemDicomObject, macro_seq: Tag) -> Option<&InMemDicomObject> {
    [
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
    ]
    .into_iter()
    .filter_map(|fg| {
        obj.get(fg)?
            .items()?
            .first()?
            .get(macro_seq)?
            .items()?
            .first()
    })
    .next()
}

fn windows(obj: &InMemDicomObject) -> Vec<(f64, f64)> {
    let pairs = |o: &InMemDicomObject| -> Vec<(f64, f64)> {
        let c = floats(o, tags::WINDOW_CENTER);
        let w = floats(o, tags::WINDOW_WIDTH);
        c.into_iter().zip(w).filter(|&(_, w)| w > 0.0).collect()
    };
    let top = pairs(obj);
    if !top.is_empty() {
        return top;
    }
    functional(obj, tags::FRAME_VOILUT_SEQUENCE)
        .map(pairs)
        .unwrap_or_default()
}

fn voi_function(obj: &InMemDicomObject) -> VoiFunction {
    match text(obj, tags::VOILUT_FUNCTION).as_deref() {
        Some("LINEAR_EXACT") => VoiFunction::LinearExact,
        Some("SIGMOID") => VoiFunction::Sigmoid,
        _ => VoiFunction::Linear,
    }
}

fn modality_lut(obj: &InMemDicomObject, signed: bool) -> Result<ModalityLut, AttrError> {
    if let Some(lut) = sequence_luts(obj, tags::MODALITY_LUT_SEQUENCE, signed)?
        .into_iter()
        .next()
    {
        return Ok(ModalityLut::Table(lut));
    }
    let source =
        if obj.get(tags::RESCALE_SLOPE).is_some() || obj.get(tags::RESCALE_INTERCEPT).is_some() {
            obj
        } else {
            functional(obj, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE).unwrap_or(obj)
        };
    let one = |tag| floats(source, tag).first().copied();
    Ok(ModalityLut::Rescale {
        slope: one(tags::RESCALE_SLOPE)
            .filter(|s| *s != 0.0)
            .unwrap_or(1.0),
        intercept: one(tags::RESCALE_INTERCEPT).unwrap_or(0.0),
    })
}

fn sequence_luts(obj: &InMemDicomObject, seq: Tag, signed: bool) -> Result<Vec<Lut>, AttrError> {
    let Some(items) = obj.get(seq).and_then(|e| e.items()) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|item| {
            let desc = item
                .get(tags::LUT_DESCRIPTOR)
                .and_then(|e| e.to_multi_int::<i64>().ok())
                .ok_or("LUT Descriptor is missing in a LUT sequence item")?;
            let data = lut_words(item.get(tags::LUT_DATA))?;
            lut(&desc, data, signed)
        })
        .collect()
}

fn lut_words(e: Option<&InMemElement>) -> Result<Vec<u16>, AttrError> {
    let e = e.ok_or("LUT Data is missing")?;
    e.to_multi_int::<u16>()
        .map_err(|err| format!("LUT Data: {err}"))
}

/// Builds a LUT from its descriptor (entries, first mapped value, bits per entry).
fn lut(desc: &[i64], mut data: Vec<u16>, signed_first: bool) -> Result<Lut, AttrError> {
    let [entries, first, bits] = desc[..] else {
        return Err(format!(
            "LUT Descriptor has {} values, expected 3",
            desc.len()
        ));
    };
    let entries = if entries == 0 {
        65536
    } else {
        entries as usize
    };
    // The first mapped value is US or SS following Pixel Representation; read as unsigned 16 bits.
    let first = if signed_first {
        i32::from(first as u16 as i16)
    } else {
        first as u16 as i32
    };
    let bits = bits as u16;
    if bits == 8 && data.len() * 2 == entries {
        // 8-bit entries packed two to a word.
        data = data
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .map(u16::from)
            .collect();
    }
    if data.is_empty() {
        return Err("LUT Data is empty".into());
    }
    data.truncate(entries);
    Ok(Lut { first, bits, data })
}

fn palette(obj: &InMemDicomObject) -> Result<Option<[Lut; 3]>, AttrError> {
    let channels = [
        (
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
    ];
    let mut luts = Vec::with_capacity(3);
    for (desc_tag, data_tag) in channels {
        let Some(desc) = obj.get(desc_tag).and_then(|e| e.to_multi_int::<i64>().ok()) else {
            return Ok(None);
        };
        let Some(data) = obj.get(data_tag) else {
            return Ok(None);
        };
        // The first mapped value of a palette is always unsigned (PS3.3 C.7.6.3.1.5).
        luts.push(lut(&desc, lut_words(Some(data))?, false)?);
    }
    Ok(luts.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_clamps_and_honours_the_first_mapped_value() {
        let l = lut(&[3, 0xFFFE, 16], vec![10, 20, 30], true).unwrap();
        assert_eq!(l.first, -2);
        assert_eq!(
            (l.get(-100), l.get(-1), l.get(0), l.get(100)),
            (10, 20, 30, 30)
        );
    }

    #[test]
    fn eight_bit_entries_packed_in_words_are_unpacked() {
        let l = lut(&[4, 0, 8], vec![0x0201, 0x0403], false).unwrap();
        assert_eq!(l.data, vec![1, 2, 3, 4]);
    }

    #[test]
    fn photometric_names_parse() {
        assert_eq!(Photometric::parse("YBR_FULL_422 "), Photometric::YbrFull422);
        assert_eq!(
            Photometric::parse("CMYK"),
            Photometric::Other("CMYK".into())
        );
    }
}
