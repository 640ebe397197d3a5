//! The region's exam-item catalogue: what can be examined, and how a study maps to an item.
//!
//! A versioned TOML file ships with the hub (`catalog/default-region.toml`, demo values) and a region
//! overrides it with its own (`catalog.path` in the configuration).
//!
//! The same file carries the region's result-recognition rules: which items are recognised (with
//! their validity, scope and "HR" mark), the price table (item × institution level × effective
//! date) and the quality-control passes (institution × category × period); see
//! [`super::recognition::rules`].

use std::path::Path;

use serde::Deserialize;

use super::recognition::rules::{Day, Price, QcPass, SCOPES};

/// The default catalogue shipped with the hub.
pub const DEFAULT_CATALOG: &str = include_str!("../../catalog/default-region.toml");

/// Item code used when nothing in the catalogue matches a study.
pub const UNLISTED: &str = "UNLISTED";

/// A catalogue file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// The region it belongs to.
    pub region: String,
    /// Its version.
    pub version: String,
    /// The items.
    pub items: Vec<ExamItem>,
    /// The price table (result recognition).
    #[serde(default)]
    pub prices: Vec<Price>,
    /// Passed quality-control statuses (result recognition).
    #[serde(default)]
    pub qc_passes: Vec<QcPass>,
}

/// One examination the region catalogues.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExamItem {
    /// Stable code, e.g. "CT-HEAD".
    pub code: String,
    /// Name shown to people.
    pub name: String,
    /// DICOM modality codes that perform it.
    pub modalities: Vec<String>,
    /// Body Part Examined values it covers; empty for the catch-all item of its modalities.
    #[serde(default)]
    pub body_parts: Vec<String>,
    /// Category, e.g. "ct", "radiography", "ecg" (quality control is granted per category).
    pub category: String,
    /// How long a result stays valid for recognition, in days.
    pub validity_days: u32,
    /// In the region's recognition catalogue: a signed report creates a recognition entry.
    #[serde(default)]
    pub recognisable: bool,
    /// Where a recognised result counts: "county-alliance", "city" or "province".
    #[serde(default)]
    pub scope: String,
    /// The mutual-recognition mark printed on the report, e.g. "HR 县域互认".
    #[serde(default)]
    pub hr_mark: String,
    /// First examination day the item is recognised (always, when absent).
    #[serde(default)]
    pub recognised_from: Option<Day>,
    /// Last examination day the item is recognised (open-ended, when absent).
    #[serde(default)]
    pub recognised_until: Option<Day>,
}

/// Why a catalogue cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file cannot be read.
    #[error("cannot read catalogue {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid catalogue.
    #[error("invalid catalogue {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl Catalog {
    /// Parses catalogue text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog = toml::from_str(text).map_err(|e| CatalogError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        catalog.validate().map_err(|reason| CatalogError::Invalid {
            path: path.to_owned(),
            reason,
        })?;
        Ok(catalog)
    }

    /// Loads a catalogue file, or the shipped default when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Catalog, CatalogError> {
        match path {
            None => Catalog::parse(DEFAULT_CATALOG, "<built-in default-region.toml>"),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| CatalogError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                Catalog::parse(&text, &p.display().to_string())
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for item in &self.items {
            if !seen.insert(&item.code) {
                return Err(format!("item code {} appears twice", item.code));
            }
            if item.modalities.is_empty() {
                return Err(format!("item {} lists no modality", item.code));
            }
            if item.recognisable
                && (!SCOPES.contains(&item.scope.as_str()) || item.hr_mark.trim().is_empty())
            {
                return Err(format!(
                    "recognisable item {} needs a scope ({}) and an hr_mark",
                    item.code,
                    SCOPES.join(", ")
                ));
            }
        }
        for price in &self.prices {
            if self.item(&price.item).is_none() {
                return Err(format!("price for unknown item {}", price.item));
            }
            if !(price.fee_yuan.is_finite() && price.fee_yuan >= 0.0) {
                return Err(format!(
                    "price of {} at {} level is not a fee",
                    price.item, price.level
                ));
            }
        }
        for pass in &self.qc_passes {
            if pass.until.is_some_and(|u| u < pass.from) {
                return Err(format!(
                    "quality-control pass of {} for {} ends before it starts",
                    pass.institution, pass.category
                ));
            }
        }
        Ok(())
    }

    /// The item with this code.
    pub fn item(&self, code: &str) -> Option<&ExamItem> {
        self.items.iter().find(|i| i.code == code)
    }

    /// The item a study of `modality` and `body_part` is: an item naming the body part first, else
    /// the catch-all item of the modality.
    pub fn derive(&self, modality: &str, body_part: &str) -> Option<&ExamItem> {
        let of_modality = || {
            self.items
                .iter()
                .filter(move |i| i.modalities.iter().any(|m| m == modality))
        };
        of_modality()
            .find(|i| i.body_parts.iter().any(|b| b == body_part))
            .or_else(|| of_modality().find(|i| i.body_parts.is_empty()))
    }

    /// The display name of an item code (the code itself if unknown).
    pub fn name_of(&self, code: &str) -> String {
        self.item(code)
            .map_or_else(|| code.to_owned(), |i| i.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_parses() {
        let c = Catalog::load(None).unwrap();
        assert!(c.items.len() >= 10);
        assert!(c.item("ECG-12").is_some());
        assert!(c.items.iter().filter(|i| i.recognisable).count() >= 6);
        let fee = |item: &str, level: &str| {
            super::super::recognition::rules::price_on(
                &c.prices,
                item,
                level,
                Day::parse("2026-12-01").unwrap(),
            )
            .map(Price::fee_fen)
        };
        // The demo values the catalogue file announces, at the county level.
        for (item, yuan) in [
            ("ECG-12", 20),
            ("DR-CHEST", 60),
            ("CT-HEAD", 150),
            ("CT-CHEST", 180),
            ("MR-HEAD", 550),
            ("US-ABD", 120),
        ] {
            assert_eq!(fee(item, "county"), Some(yuan * 100), "{item}");
            assert!(fee(item, "township").is_some(), "{item}");
        }
    }

    #[test]
    fn recognisable_items_need_scope_and_mark() {
        let text = r#"region = "r"
version = "1"
[[items]]
code = "A"
name = "a"
modalities = ["CT"]
category = "ct"
validity_days = 1
recognisable = true
scope = "galaxy"
hr_mark = "HR"
"#;
        let err = Catalog::parse(text, "t.toml").unwrap_err().to_string();
        assert!(err.contains("scope") && err.contains('A'), "{err}");
        let bad_price = text.replace("galaxy", "city")
            + "[[prices]]\nitem = \"B\"\nlevel = \"county\"\nfrom = \"2026-01-01\"\nfee_yuan = 1.0\n";
        let err = Catalog::parse(&bad_price, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown item B"), "{err}");
    }

    #[test]
    fn items_are_derived_from_modality_and_body_part() {
        let c = Catalog::load(None).unwrap();
        assert_eq!(c.derive("CT", "HEAD").unwrap().code, "CT-HEAD");
        assert_eq!(c.derive("CT", "KNEE").unwrap().code, "CT-OTHER");
        assert_eq!(c.derive("DX", "CHEST").unwrap().code, "DR-CHEST");
        assert!(c.derive("PT", "HEAD").is_none());
    }

    #[test]
    fn duplicate_codes_are_refused() {
        let text = r#"region = "r"
version = "1"
[[items]]
code = "A"
name = "a"
modalities = ["CT"]
category = "ct"
validity_days = 1
[[items]]
code = "A"
name = "b"
modalities = ["CT"]
category = "ct"
validity_days = 1
"#;
        let err = Catalog::parse(text, "test.toml").unwrap_err().to_string();
        assert!(
            err.contains("test.toml") && err.contains("appears twice"),
            "{err}"
        );
    }
}
