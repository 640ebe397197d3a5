//! The region's recognition rules as pure functions: calendar days, validity windows, the
//! quality-control passes that make an institution's results recognisable, and the price table.
//!
//! All values come from the region's catalogue file (see `catalog/default-region.toml`); nothing
//! here knows a price or an institution.

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::domain::catalog::ExamItem;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// A calendar day, counted from 1970-01-01; a date without a time zone (the region's
/// [`Region`](super::Region) says which instants fall on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// Parses "YYYY-MM-DD" or the DICOM form "YYYYMMDD".
    pub fn parse(text: &str) -> Result<Day, String> {
        let t = text.trim();
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        let shaped = (t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-')
            || (t.len() == 8 && digits.len() == 8);
        if !shaped || digits.len() != 8 {
            return Err(format!("{text:?} is not a date (expected YYYY-MM-DD)"));
        }
        let num = |r: std::ops::Range<usize>| digits[r].parse::<i64>().unwrap_or(0);
        let (y, m, d) = (num(0..4), num(4..6), num(6..8));
        let day = Day(days_from_civil(y, m, d));
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || day.ymd() != (y, m, d) {
            return Err(format!("{text:?} is not a calendar date"));
        }
        Ok(day)
    }

    /// The UTC day containing a Unix-millisecond instant (the region's local day is
    /// [`Region::day_of`](super::Region::day_of)).
    pub fn of_ms(at_ms: i64) -> Day {
        Day(at_ms.div_euclid(DAY_MS))
    }

    /// The first millisecond of the day in UTC (locally: [`Region::start_ms`](super::Region::start_ms)).
    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }

    /// The day `n` days later.
    pub fn plus(self, n: i64) -> Day {
        Day(self.0 + n)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, i64, i64) {
        crate::clock::civil_from_days(self.0)
    }

    /// "YYYY-MM", the month it falls in.
    pub fn month(self) -> String {
        let (y, m, _) = self.ymd();
        format!("{y:04}-{m:02}")
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Days since 1970-01-01 of a Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One row of the price table: what an item costs at institutions of a level from a day on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Exam item code.
    pub item: String,
    /// Institution level ("township", "county", ...).
    pub level: String,
    /// First day the price applies; it applies until a later row for the same item and level.
    pub from: Day,
    /// The fee in yuan (two decimals at most).
    pub fee_yuan: f64,
}

impl Price {
    /// The fee in fen (1/100 yuan), the unit the ledger adds up exactly.
    pub fn fee_fen(&self) -> i64 {
        (self.fee_yuan * 100.0).round() as i64
    }
}

/// A passed quality-control status: results of `category` from `institution` are recognisable
/// for examinations done from `from` to `until` (inclusive; open-ended without `until`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QcPass {
    /// Institution code.
    pub institution: String,
    /// Exam-item category, e.g. "ct".
    pub category: String,
    /// First day of the pass.
    pub from: Day,
    /// Last day of the pass, if it ends.
    #[serde(default)]
    pub until: Option<Day>,
}

/// Where a recognised result counts.
pub const SCOPES: &[&str] = &["county-alliance", "city", "province"];

/// Why a result can never be recognised, whoever checks it and whenever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// The item was not in the region's recognition catalogue on the examination day.
    OutsideCatalogue,
    /// The performing institution held no passed quality-control status for the category.
    NoQcPass,
}

impl Ineligible {
    /// The code stored beside the entry.
    pub fn code(self) -> &'static str {
        match self {
            Ineligible::OutsideCatalogue => "outside-catalogue",
            Ineligible::NoQcPass => "no-qc-pass",
        }
    }

    /// The reason of a stored code, if it is one.
    pub fn parse(code: &str) -> Option<Ineligible> {
        match code {
            "outside-catalogue" => Some(Ineligible::OutsideCatalogue),
            "no-qc-pass" => Some(Ineligible::NoQcPass),
            _ => None,
        }
    }
}

/// Whether a result is recognisable, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    /// Recognisable.
    Recognisable,
    /// Stored, but not recognisable, for the reason given (with a sentence naming the dates).
    NotRecognisable(Ineligible, String),
}

/// The last day an examination done on `exam` stays valid for an item valid `validity_days`.
pub fn valid_until(exam: Day, validity_days: u32) -> Day {
    exam.plus(i64::from(validity_days))
}

/// Whether a result valid until `until` (inclusive) is still valid on `today`.
pub fn is_valid_on(until: Day, today: Day) -> bool {
    today <= until
}

/// Whether a result of `item` done at `institution` on `exam` is recognisable under `passes`.
pub fn eligibility(
    item: &ExamItem,
    institution: &str,
    exam: Day,
    passes: &[QcPass],
) -> Eligibility {
    if let Some(from) = item.recognised_from.filter(|f| exam < *f) {
        return Eligibility::NotRecognisable(
            Ineligible::OutsideCatalogue,
            format!(
                "{} enters the recognition catalogue on {from}; this examination was done on {exam}",
                item.code
            ),
        );
    }
    if let Some(until) = item.recognised_until.filter(|u| exam > *u) {
        return Eligibility::NotRecognisable(
            Ineligible::OutsideCatalogue,
            format!(
                "{} left the recognition catalogue after {until}; this examination was done on {exam}",
                item.code
            ),
        );
    }
    let covered = passes.iter().any(|p| {
        p.institution == institution
            && p.category == item.category
            && p.from <= exam
            && p.until.is_none_or(|u| exam <= u)
    });
    if covered {
        Eligibility::Recognisable
    } else {
        Eligibility::NotRecognisable(
            Ineligible::NoQcPass,
            format!(
                "{institution} held no passed quality-control status for {} examinations on {exam}",
                item.category
            ),
        )
    }
}

/// The price of `item` at an institution of `level` on `day`: the latest row in force that day.
pub fn price_on<'a>(prices: &'a [Price], item: &str, level: &str, day: Day) -> Option<&'a Price> {
    prices
        .iter()
        .filter(|p| p.item == item && p.level == level && p.from <= day)
        .max_by_key(|p| p.from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    fn item(category: &str) -> ExamItem {
        ExamItem {
            code: "CT-HEAD".into(),
            name: "CT head".into(),
            modalities: vec!["CT".into()],
            body_parts: vec![],
            category: category.into(),
            validity_days: 30,
            recognisable: true,
            scope: "county-alliance".into(),
            hr_mark: "HR".into(),
            recognised_from: None,
            recognised_until: None,
        }
    }

    #[test]
    fn days_parse_both_forms_and_round_trip() {
        assert_eq!(day("2026-11-30"), day("20261130"));
        assert_eq!(day("2000-02-29").to_string(), "2000-02-29");
        assert_eq!(day("1970-01-01"), Day(0));
        assert_eq!(Day::of_ms(1_795_000_000_000).to_string(), "2026-11-18");
        assert_eq!(day("2026-03-05").month(), "2026-03");
        for bad in ["2026-02-30", "2026-13-01", "26-1-1", "", "2026/11/30x"] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validity_window_includes_its_last_day() {
        let until = valid_until(day("2026-11-01"), 30);
        assert_eq!(until, day("2026-12-01"));
        assert!(is_valid_on(until, day("2026-11-01")));
        assert!(is_valid_on(until, day("2026-12-01")));
        assert!(!is_valid_on(until, day("2026-12-02")));
    }

    #[test]
    fn qc_passes_are_per_institution_category_and_period() {
        let passes = vec![QcPass {
            institution: "TS-A".into(),
            category: "ct".into(),
            from: day("2026-01-01"),
            until: Some(day("2026-06-30")),
        }];
        let ok = Eligibility::Recognisable;
        assert_eq!(
            eligibility(&item("ct"), "TS-A", day("2026-01-01"), &passes),
            ok
        );
        assert_eq!(
            eligibility(&item("ct"), "TS-A", day("2026-06-30"), &passes),
            ok
        );
        for (cat, inst, on) in [
            ("ct", "TS-A", "2025-12-31"),
            ("ct", "TS-A", "2026-07-01"),
            ("ct", "TS-B", "2026-03-01"),
            ("ultrasound", "TS-A", "2026-03-01"),
        ] {
            let Eligibility::NotRecognisable(Ineligible::NoQcPass, why) =
                eligibility(&item(cat), inst, day(on), &passes)
            else {
                panic!("{cat} {inst} {on} should not be recognisable");
            };
            assert!(
                why.contains(inst) && why.contains(cat) && why.contains(on),
                "{why}"
            );
        }
    }

    #[test]
    fn catalogue_effective_dates_bound_recognition() {
        let passes = vec![QcPass {
            institution: "TS-A".into(),
            category: "ct".into(),
            from: day("2020-01-01"),
            until: None,
        }];
        let mut it = item("ct");
        it.recognised_from = Some(day("2026-07-01"));
        it.recognised_until = Some(day("2027-06-30"));
        assert!(matches!(
            eligibility(&it, "TS-A", day("2026-06-30"), &passes),
            Eligibility::NotRecognisable(Ineligible::OutsideCatalogue, w) if w.contains("2026-07-01")
        ));
        assert_eq!(
            eligibility(&it, "TS-A", day("2026-07-01"), &passes),
            Eligibility::Recognisable
        );
        assert!(matches!(
            eligibility(&it, "TS-A", day("2027-07-01"), &passes),
            Eligibility::NotRecognisable(Ineligible::OutsideCatalogue, _)
        ));
    }

    #[test]
    fn the_price_in_force_is_the_latest_that_has_started() {
        let row = |level: &str, from: &str, fee: f64| Price {
            item: "CT-HEAD".into(),
            level: level.into(),
            from: day(from),
            fee_yuan: fee,
        };
        let prices = vec![
            row("county", "2026-01-01", 150.0),
            row("county", "2027-01-01", 165.5),
            row("township", "2026-01-01", 130.0),
        ];
        let fee = |level, on| price_on(&prices, "CT-HEAD", level, day(on)).map(Price::fee_fen);
        assert_eq!(fee("county", "2025-12-31"), None);
        assert_eq!(fee("county", "2026-12-31"), Some(15_000));
        assert_eq!(fee("county", "2027-01-01"), Some(16_550));
        assert_eq!(fee("township", "2027-05-01"), Some(13_000));
        assert_eq!(fee("city", "2027-05-01"), None);
        assert_eq!(
            price_on(&prices, "CT-CHEST", "county", day("2027-01-01")),
            None
        );
    }
}
