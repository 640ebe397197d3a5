//! Reading `Accept` headers tolerantly (PS3.18 8.7): several headers or one with commas, quoted
//! and unquoted parameters, repeated `transfer-syntax`, `*` wildcards and q-values; and deciding
//! from them which transfer syntax a frame is sent in.

use crate::domain::dicomweb::metadata::{EXPLICIT_LE, FrameForm};

/// One media range of an `Accept` header.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRange {
    /// `type/subtype`, lower case (`*/*`, `multipart/related`, ...).
    pub media: String,
    /// Parameters in order, names lower case, values unquoted (`type`, `transfer-syntax`, ...).
    pub params: Vec<(String, String)>,
    /// Its q-value (1 when not given).
    pub q: f32,
}

impl MediaRange {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn syntaxes(&self) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(k, _)| k == "transfer-syntax")
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .collect()
    }

    fn is_any(&self) -> bool {
        matches!(self.media.as_str(), "*/*" | "multipart/*")
    }
}

/// The media ranges of every `Accept` value, best first; `*/*` when there are none.
pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<MediaRange> {
    let mut out: Vec<MediaRange> = values
        .into_iter()
        .flat_map(split_outside_quotes(','))
        .filter_map(|r| range(&r))
        .filter(|r| r.q > 0.0)
        .collect();
    if out.is_empty() {
        out.push(range("*/*").expect("a valid range"));
    }
    out.sort_by(|a, b| b.q.total_cmp(&a.q));
    out
}

fn split_outside_quotes(sep: char) -> impl Fn(&str) -> Vec<String> {
    move |s: &str| {
        let mut parts = vec![String::new()];
        let mut quoted = false;
        for c in s.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    parts.last_mut().expect("one part").push(c);
                }
                c if c == sep && !quoted => parts.push(String::new()),
                c => parts.last_mut().expect("one part").push(c),
            }
        }
        parts
    }
}

fn range(text: &str) -> Option<MediaRange> {
    let mut pieces = split_outside_quotes(';')(text).into_iter();
    let media = pieces.next()?.trim().to_ascii_lowercase();
    if !media.contains('/') {
        return None;
    }
    let mut r = MediaRange {
        media,
        params: Vec::new(),
        q: 1.0,
    };
    for p in pieces {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim().trim_matches('"').trim().to_owned();
        if k == "q" {
            r.q = v.parse().unwrap_or(1.0);
        } else {
            let v = if k == "type" {
                v.to_ascii_lowercase()
            } else {
                v
            };
            r.params.push((k, v));
        }
    }
    Some(r)
}

/// True if a DICOM JSON answer (`application/dicom+json`, or `application/json`) is acceptable.
pub fn accepts_json(ranges: &[MediaRange]) -> bool {
    ranges.iter().any(|r| {
        matches!(
            r.media.as_str(),
            "*/*" | "application/*" | "application/dicom+json" | "application/json"
        ) || (r.media == "multipart/related" && r.param("type") == Some("application/dicom+json"))
    })
}

/// True if instances as stored (`multipart/related; type="application/dicom"`) are acceptable:
/// a transfer syntax named must be `*` or one of `stored`; none named is taken as "as stored".
pub fn accepts_instances(ranges: &[MediaRange], stored: &[&str]) -> bool {
    ranges.iter().any(|r| {
        let dicom = match r.media.as_str() {
            "*/*" | "multipart/*" | "application/*" | "application/dicom" => true,
            "multipart/related" => r.param("type").is_none_or(|t| t == "application/dicom"),
            _ => false,
        };
        let ts = r.syntaxes();
        dicom && (ts.is_empty() || ts.iter().any(|t| *t == "*" || stored.contains(t)))
    })
}

/// The media types a compressed transfer syntax's frames are sent as (PS3.18 table 8.7.3-5).
fn media_of(syntax: &str) -> &'static [&'static str] {
    match syntax {
        "1.2.840.10008.1.2.4.50"
        | "1.2.840.10008.1.2.4.51"
        | "1.2.840.10008.1.2.4.57"
        | "1.2.840.10008.1.2.4.70" => &["image/jpeg"],
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => &["image/jls"],
        "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91" => &["image/jp2", "image/j2c"],
        "1.2.840.10008.1.2.5" => &["image/dicom-rle", "image/x-dicom-rle"],
        _ => &[],
    }
}

/// The media type a range asks frames in (its `type` for `multipart/related`).
fn frame_type(r: &MediaRange) -> Option<&str> {
    match r.media.as_str() {
        "multipart/related" => Some(r.param("type").unwrap_or("application/octet-stream")),
        "*/*" | "multipart/*" => Some("*/*"),
        // A single-part request for one frame.
        m if m.starts_with("image/") || m == "application/octet-stream" => Some(m),
        _ => None,
    }
}

/// The part media type a range gives frames in `syntax`, if it accepts them.
fn frame_media(r: &MediaRange, syntax: &str) -> Option<String> {
    let t = frame_type(r)?;
    let ts = r.syntaxes();
    let named = |default: &str| {
        if ts.is_empty() {
            syntax == default
        } else {
            ts.iter().any(|t| *t == "*" || *t == syntax)
        }
    };
    match t {
        "*/*" if ts.is_empty() || named(syntax) => Some(default_media(syntax)),
        "application/octet-stream" if named(EXPLICIT_LE) => Some("application/octet-stream".into()),
        image if media_of(syntax).contains(&image) && (ts.is_empty() || named(syntax)) => {
            Some(image.to_owned())
        }
        _ => None,
    }
}

fn default_media(syntax: &str) -> String {
    media_of(syntax)
        .first()
        .map_or("application/octet-stream", |m| m)
        .to_owned()
}

/// How frames stored in `stored` are sent to a client that accepts `ranges`: as stored if it
/// accepts that, else decoded to Explicit VR Little Endian if it accepts that; with the part
/// media type. `None`: neither (406).
pub fn frame_choice(ranges: &[MediaRange], stored: &str) -> Option<(FrameForm, String)> {
    for r in ranges {
        if r.is_any() && r.syntaxes().is_empty() {
            return Some((FrameForm::Stored, default_media(stored)));
        }
        if let Some(media) = frame_media(r, stored) {
            return Some((FrameForm::Stored, media));
        }
    }
    ranges
        .iter()
        .find_map(|r| frame_media(r, EXPLICIT_LE))
        .map(|media| (FrameForm::Decoded, media))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JLS: &str = "1.2.840.10008.1.2.4.80";

    #[test]
    fn quoted_unquoted_repeated_and_weighted() {
        let r = parse([
            r#"multipart/related; type="application/octet-stream"; transfer-syntax=*"#,
            "application/dicom+json;q=0.5, text/html;q=0",
        ]);
        assert_eq!(r.len(), 2, "q=0 dropped");
        assert_eq!(r[0].param("type"), Some("application/octet-stream"));
        assert_eq!(r[0].syntaxes(), ["*"]);
        let r = parse([
            r#"multipart/related;type=application/octet-stream;transfer-syntax=1.2.840.10008.1.2.4.80;transfer-syntax="1.2.840.10008.1.2.1""#,
        ]);
        assert_eq!(r[0].syntaxes(), [JLS, EXPLICIT_LE]);
        assert_eq!(parse([])[0].media, "*/*");
    }

    #[test]
    fn frames_as_stored_or_decoded_or_not_at_all() {
        let any =
            parse([r#"multipart/related; type="application/octet-stream"; transfer-syntax=*"#]);
        assert_eq!(
            frame_choice(&any, JLS),
            Some((FrameForm::Stored, "application/octet-stream".into()))
        );
        let plain = parse(["multipart/related; type=application/octet-stream"]);
        assert_eq!(
            frame_choice(&plain, JLS),
            Some((FrameForm::Decoded, "application/octet-stream".into()))
        );
        assert_eq!(
            frame_choice(&plain, EXPLICIT_LE),
            Some((FrameForm::Stored, "application/octet-stream".into()))
        );
        let jls = parse(["multipart/related; type=image/jls"]);
        assert_eq!(
            frame_choice(&jls, JLS),
            Some((FrameForm::Stored, "image/jls".into()))
        );
        let jpeg_only = parse(["multipart/related; type=image/jpeg"]);
        assert_eq!(frame_choice(&jpeg_only, JLS), None);
        assert_eq!(
            frame_choice(&parse(["*/*"]), JLS),
            Some((FrameForm::Stored, "image/jls".into()))
        );
    }

    #[test]
    fn instances_and_json() {
        let r = parse([r#"multipart/related; type="application/dicom"; transfer-syntax=*"#]);
        assert!(accepts_instances(&r, &[JLS]));
        let r = parse([
            r#"multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1"#,
        ]);
        assert!(!accepts_instances(&r, &[JLS]));
        assert!(accepts_instances(&r, &[EXPLICIT_LE]));
        assert!(!accepts_json(&parse(["image/png"])));
        assert!(accepts_json(&parse(["application/dicom+json, */*;q=0.1"])));
    }
}
