//! QIDO-RS search parameters (PS3.18 8.3.4) and attribute matching (PS3.4 C.2.2.2) over DICOM
//! JSON records: single value, wildcard (`*`, `?`), UID list, date/time range, universal, and
//! fuzzy person-name matching.

use std::collections::BTreeSet;

use dicom_core::Tag;
use dicom_core::dictionary::DataDictionary;
use dicom_dictionary_std::StandardDataDictionary;
use serde_json::{Map, Value};

use super::json::tag_key;
use crate::domain::{Error, Result};

/// What a search asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    /// Matching keys, by tag (`GGGGEEEE`), with the value to match ("" matches anything).
    pub keys: Vec<(String, String)>,
    /// Extra attributes to return.
    pub include: BTreeSet<String>,
    /// `includefield=all`.
    pub include_all: bool,
    /// `fuzzymatching=true`: person names match any component's beginning, in any case.
    pub fuzzy: bool,
    /// At most this many results.
    pub limit: usize,
    /// Results skipped first.
    pub offset: usize,
}

/// The most results one search returns.
pub const MAX_LIMIT: usize = 1000;

impl SearchQuery {
    /// Parses a query string's pairs; an unknown attribute or a bad number is refused by name.
    pub fn parse(pairs: &[(String, String)]) -> Result<SearchQuery> {
        let mut q = SearchQuery {
            limit: MAX_LIMIT,
            ..SearchQuery::default()
        };
        for (name, value) in pairs {
            match name.as_str() {
                "includefield" => q.add_includes(value)?,
                "fuzzymatching" => q.fuzzy = value.eq_ignore_ascii_case("true"),
                "limit" => q.limit = number(name, value)?.min(MAX_LIMIT),
                "offset" => q.offset = number(name, value)?,
                // Sent by some clients; formats are fixed here (DICOM JSON).
                "format" | "charset" => {}
                _ => q.keys.push((attribute(name)?, value.clone())),
            }
        }
        Ok(q)
    }

    fn add_includes(&mut self, value: &str) -> Result<()> {
        for field in value.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            if field == "all" {
                self.include_all = true;
            } else {
                self.include.insert(attribute(field)?);
            }
        }
        Ok(())
    }

    /// The value asked for `tag` (`GGGGEEEE`), if it is a matching key.
    pub fn key(&self, tag: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(k, _)| k == tag)
            .map(|(_, v)| v.as_str())
    }

    /// True if `record` satisfies every matching key.
    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        self.keys
            .iter()
            .all(|(tag, value)| matches_key(record.get(tag), value, self.fuzzy))
    }

    /// `record` cut down to `defaults`, the matching keys and the included attributes (all of
    /// it with `includefield=all`).
    pub fn project(&self, mut record: Map<String, Value>, defaults: &[&str]) -> Map<String, Value> {
        if !self.include_all {
            record.retain(|k, _| {
                defaults.contains(&k.as_str())
                    || self.include.contains(k)
                    || self.keys.iter().any(|(t, _)| t == k)
            });
        }
        record
    }
}

fn number(name: &str, value: &str) -> Result<usize> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::InvalidArgument(format!("{name}={value:?} is not a whole number")))
}

/// An attribute named by keyword (`PatientName`) or tag (`00100010`), as `GGGGEEEE`. Nested
/// attributes (`a.b`) are not supported.
fn attribute(name: &str) -> Result<String> {
    StandardDataDictionary
        .parse_tag(name.trim())
        .map(tag_key)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unknown attribute {name:?} in the query (use a DICOM keyword such as PatientName, or a tag such as 00100010)"
            ))
        })
}

/// The tag of a `GGGGEEEE` key.
pub fn tag_of(key: &str) -> Option<Tag> {
    let n = u32::from_str_radix(key, 16).ok()?;
    Some(Tag((n >> 16) as u16, (n & 0xFFFF) as u16))
}

fn matches_key(element: Option<&Value>, wanted: &str, fuzzy: bool) -> bool {
    let wanted = wanted.trim();
    if wanted.is_empty() || wanted == "*" {
        return true;
    }
    let Some(element) = element else {
        return false;
    };
    let vr = element.get("vr").and_then(Value::as_str).unwrap_or("");
    let values = texts(element);
    match vr {
        "PN" => values.iter().any(|v| name_matches(v, wanted, fuzzy)),
        "DA" | "TM" | "DT" if wanted.contains('-') => {
            let (from, to) = wanted.split_once('-').unwrap_or((wanted, wanted));
            values.iter().any(|v| in_range(v, from, to))
        }
        _ => {
            let alternatives: Vec<&str> = wanted.split([',', '\\']).map(str::trim).collect();
            values.iter().any(|v| {
                alternatives
                    .iter()
                    .any(|a| glob(a.as_bytes(), v.as_bytes()))
            })
        }
    }
}

/// Every value of an element as text: person names by each of their groups.
fn texts(element: &Value) -> Vec<String> {
    let Some(values) = element.get("Value").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for v in values {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Object(groups) => {
                out.extend(groups.values().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        }
    }
    out
}

/// Person names match without regard to case; fuzzily, the query may match the beginning of
/// any component (family, given, ...) of the name.
fn name_matches(name: &str, wanted: &str, fuzzy: bool) -> bool {
    let name = name.to_lowercase();
    let wanted = wanted.to_lowercase();
    if glob(wanted.as_bytes(), name.as_bytes()) {
        return true;
    }
    if !fuzzy {
        return false;
    }
    let prefix = format!("{}*", wanted.trim_end_matches('*'));
    name.split(['^', ' ', '='])
        .any(|part| glob(prefix.as_bytes(), part.as_bytes()))
}

/// `value` within `from`..=`to` (either may be empty: open), compared as digits (dates
/// YYYYMMDD, times HHMMSS.FFFFFF) so that `20240101` and `2024-01-01` agree.
fn in_range(value: &str, from: &str, to: &str) -> bool {
    let digits = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect()
    };
    let (v, from, to) = (digits(value), digits(from), digits(to));
    (from.is_empty() || v.as_str() >= from.as_str())
        && (to.is_empty() || v.get(..to.len().min(v.len())).unwrap_or("") <= to.as_str())
}

/// Wildcard matching: `*` any run, `?` any one character (byte-wise for ASCII, which is what
/// the values compared here are, names lowered first).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn record() -> Map<String, Value> {
        json!({
            "00100010": {"vr": "PN", "Value": [{"Alphabetic": "WANG^XIAOMING", "Ideographic": "王小明"}]},
            "00080020": {"vr": "DA", "Value": ["20240315"]},
            "00080061": {"vr": "CS", "Value": ["CT", "SR"]},
            "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn hit(list: &[(&str, &str)]) -> bool {
        SearchQuery::parse(&pairs(list)).unwrap().matches(&record())
    }

    #[test]
    fn matching_as_ohif_asks() {
        assert!(hit(&[("PatientName", "wang*")]));
        assert!(hit(&[("PatientName", "*xiao*")]));
        assert!(!hit(&[("PatientName", "xiao")]));
        assert!(hit(&[("PatientName", "xiao"), ("fuzzymatching", "true")]));
        assert!(hit(&[("PatientName", "王*")]));
        assert!(hit(&[("StudyDate", "20240101-20241231")]));
        assert!(hit(&[("StudyDate", "20240315-")]));
        assert!(!hit(&[("StudyDate", "-20240314")]));
        assert!(hit(&[("ModalitiesInStudy", "MR,CT")]));
        assert!(!hit(&[("ModalitiesInStudy", "MR")]));
        assert!(hit(&[("0020000D", "9.9,1.2.3")]));
        assert!(!hit(&[("AccessionNumber", "A1")]), "absent attribute");
        assert!(hit(&[("AccessionNumber", "")]), "universal");
    }

    #[test]
    fn parameters_are_checked_by_name() {
        let e = SearchQuery::parse(&pairs(&[("PatientNam", "x")])).unwrap_err();
        assert!(e.to_string().contains("PatientNam"), "{e}");
        let e = SearchQuery::parse(&pairs(&[("limit", "ten")])).unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
        let q = SearchQuery::parse(&pairs(&[
            ("includefield", "00081030,SeriesDescription"),
            ("limit", "5000"),
        ]))
        .unwrap();
        assert!(q.include.contains("00081030") && q.include.contains("0008103E"));
        assert_eq!(q.limit, MAX_LIMIT);
    }

    #[test]
    fn wildcards() {
        assert!(glob(b"a*c", b"abbbc"));
        assert!(glob(b"a?c", b"abc"));
        assert!(!glob(b"a?c", b"abbc"));
        assert!(glob(b"*", b""));
    }
}
