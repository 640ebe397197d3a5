//! DICOM JSON (PS3.18 F.2) of a stored instance's header, with a `BulkDataURI` in place of Pixel
//! Data, waveform data and every other binary value larger than [`INLINE_MAX`] bytes.
//!
//! Written here rather than through `dicom-json`: that crate writes every binary value as
//! `InlineBinary` and refuses encapsulated Pixel Data, while DICOMweb metadata must point at bulk
//! data, nested ones included (Waveform Data sits inside the Waveform Sequence), by a URI that
//! names the element's path.

use base64::Engine;
use dicom_core::value::{PrimitiveValue, Value as DicomValue};
use dicom_core::{Tag, VR};
use dicom_object::InMemDicomObject;
use serde_json::{Map, Value, json};

/// Binary values up to this many bytes are written inline (base64); larger ones by URI.
pub const INLINE_MAX: usize = 1024;

/// Pixel Data, Float and Double Float Pixel Data, Waveform Data: always bulk data.
const ALWAYS_BULK: [Tag; 4] = [
    Tag(0x7FE0, 0x0010),
    Tag(0x7FE0, 0x0008),
    Tag(0x7FE0, 0x0009),
    Tag(0x5400, 0x1010),
];

/// A data set as a DICOM JSON object; bulk data elements point at `bulk_base` followed by
/// `/bulkdata/<path>`, the path being the element's tag, preceded for nested elements by the
/// sequence tags and item indexes that lead to it (`54000100/0/54001010`).
pub fn object(obj: &InMemDicomObject, bulk_base: &str) -> Map<String, Value> {
    object_at(obj, bulk_base, "")
}

fn object_at(obj: &InMemDicomObject, bulk_base: &str, prefix: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for elem in obj {
        let tag = elem.header().tag;
        let key = tag_key(tag);
        let path = format!("{prefix}{key}");
        let vr = elem.vr();
        let value = match elem.value() {
            DicomValue::Sequence(seq) => {
                let items: Vec<Value> = seq
                    .items()
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        Value::Object(object_at(item, bulk_base, &format!("{path}/{i}/")))
                    })
                    .collect();
                element(VR::SQ, Some(("Value", Value::Array(items))))
            }
            DicomValue::PixelSequence(_) => bulk(vr, bulk_base, &path),
            DicomValue::Primitive(p) => primitive(tag, vr, p, bulk_base, &path),
        };
        out.insert(key, value);
    }
    out
}

/// `GGGGEEEE`, the key of an attribute in DICOM JSON.
pub fn tag_key(tag: Tag) -> String {
    format!("{:04X}{:04X}", tag.group(), tag.element())
}

fn element(vr: VR, value: Option<(&str, Value)>) -> Value {
    let mut m = Map::new();
    m.insert("vr".into(), Value::String(vr.to_string().to_owned()));
    if let Some((k, v)) = value {
        m.insert(k.into(), v);
    }
    Value::Object(m)
}

fn bulk(vr: VR, bulk_base: &str, path: &str) -> Value {
    let uri = format!("{bulk_base}/bulkdata/{path}");
    element(vr, Some(("BulkDataURI", Value::String(uri))))
}

fn primitive(tag: Tag, vr: VR, p: &PrimitiveValue, bulk_base: &str, path: &str) -> Value {
    if p.multiplicity() == 0 && !is_binary(vr) {
        return element(vr, None);
    }
    match vr {
        VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN => {
            let bytes = p.to_bytes();
            if ALWAYS_BULK.contains(&tag) || bytes.len() > INLINE_MAX {
                bulk(vr, bulk_base, path)
            } else if bytes.is_empty() {
                element(vr, None)
            } else {
                let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
                element(vr, Some(("InlineBinary", Value::String(b64))))
            }
        }
        VR::PN => element(vr, Some(("Value", person_names(p)))),
        VR::DS | VR::FL | VR::FD => element(vr, Some(("Value", floats(p)))),
        VR::IS | VR::SL | VR::SS | VR::UL | VR::US | VR::SV | VR::UV => {
            element(vr, Some(("Value", integers(p))))
        }
        VR::AT => {
            let tags: Vec<Value> = match p {
                PrimitiveValue::Tags(t) => t.iter().map(|t| Value::String(tag_key(*t))).collect(),
                _ => Vec::new(),
            };
            element(vr, Some(("Value", Value::Array(tags))))
        }
        _ => element(vr, Some(("Value", strings(vr, p)))),
    }
}

fn is_binary(vr: VR) -> bool {
    matches!(
        vr,
        VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN
    )
}

/// Text values, trailing padding removed; an empty value is `null`. LT, ST, UT and UR are single
/// valued (a backslash is text there).
fn strings(vr: VR, p: &PrimitiveValue) -> Value {
    let values: Vec<String> = if matches!(vr, VR::LT | VR::ST | VR::UT | VR::UR) {
        vec![p.to_str().into_owned()]
    } else {
        p.to_multi_str().into_owned()
    };
    Value::Array(
        values
            .iter()
            .map(|s| s.trim_end_matches([' ', '\0']))
            .map(|s| {
                let s = if vr == VR::UI { s } else { s.trim_start() };
                if s.is_empty() {
                    Value::Null
                } else {
                    Value::String(s.to_owned())
                }
            })
            .collect(),
    )
}

/// Person names as `{"Alphabetic", "Ideographic", "Phonetic"}` groups.
fn person_names(p: &PrimitiveValue) -> Value {
    Value::Array(
        p.to_multi_str()
            .iter()
            .map(|name| {
                let name = name.trim_end_matches([' ', '\0']);
                if name.is_empty() {
                    return Value::Null;
                }
                let mut m = Map::new();
                for (group, key) in name
                    .split('=')
                    .zip(["Alphabetic", "Ideographic", "Phonetic"])
                {
                    if !group.is_empty() {
                        m.insert(key.into(), Value::String(group.to_owned()));
                    }
                }
                Value::Object(m)
            })
            .collect(),
    )
}

fn floats(p: &PrimitiveValue) -> Value {
    match p.to_multi_float64() {
        Ok(values) => Value::Array(
            values
                .into_iter()
                .map(|v| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
                .collect(),
        ),
        // A malformed decimal string: kept as text rather than dropped.
        Err(_) => strings(VR::LO, p),
    }
}

fn integers(p: &PrimitiveValue) -> Value {
    match p.to_multi_int::<i64>() {
        Ok(values) => json!(values),
        Err(_) => floats(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::{DataElement, dicom_value};
    use dicom_object::mem::InMemFragment;

    fn obj(elements: Vec<DataElement<InMemDicomObject, InMemFragment>>) -> InMemDicomObject {
        InMemDicomObject::from_element_iter(elements)
    }

    #[test]
    fn person_names_numbers_and_bulk_data() {
        let o = obj(vec![
            DataElement::new(
                Tag(0x0010, 0x0010),
                VR::PN,
                dicom_value!(Str, "WANG^XIAO=王小"),
            ),
            DataElement::new(Tag(0x0028, 0x0010), VR::US, dicom_value!(U16, [512])),
            DataElement::new(
                Tag(0x0028, 0x1050),
                VR::DS,
                dicom_value!(Strs, ["40", "-600.5"]),
            ),
            DataElement::new(Tag(0x0008, 0x0018), VR::UI, dicom_value!(Str, "1.2.3\0")),
            DataElement::new(
                Tag(0x7FE0, 0x0010),
                VR::OW,
                PrimitiveValue::from(vec![0u8; 8]),
            ),
            DataElement::new(
                Tag(0x0009, 0x1001),
                VR::OB,
                PrimitiveValue::from(vec![1u8, 2]),
            ),
        ]);
        let j = Value::Object(object(&o, "/x"));
        assert_eq!(j["00100010"]["Value"][0]["Alphabetic"], "WANG^XIAO");
        assert_eq!(j["00100010"]["Value"][0]["Ideographic"], "王小");
        assert_eq!(j["00280010"], json!({"vr": "US", "Value": [512]}));
        assert_eq!(j["00281050"]["Value"], json!([40.0, -600.5]));
        assert_eq!(j["00080018"]["Value"][0], "1.2.3");
        assert_eq!(j["7FE00010"]["BulkDataURI"], "/x/bulkdata/7FE00010");
        assert_eq!(j["00091001"]["InlineBinary"], "AQI=");
    }

    #[test]
    fn nested_bulk_data_names_its_path() {
        let item = obj(vec![DataElement::new(
            Tag(0x5400, 0x1010),
            VR::OW,
            PrimitiveValue::from(vec![0u8; 4]),
        )]);
        let seq = dicom_core::value::DataSetSequence::from(vec![item]);
        let o = obj(vec![DataElement::new(Tag(0x5400, 0x0100), VR::SQ, seq)]);
        let j = Value::Object(object(&o, "/i"));
        assert_eq!(
            j["54000100"]["Value"][0]["54001010"]["BulkDataURI"],
            "/i/bulkdata/54000100/0/54001010"
        );
    }
}
