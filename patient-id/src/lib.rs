//! Patient identifiers as people type them, checked before they become a pseudonym.
//!
//! A typo in an identifier is not "another patient": it silently turns a recognition check into
//! "no result" or files a record under nobody. So a resident identity card number (GB 11643-1999)
//! is checked wherever it is entered — by the hub's domain for every transport, and by the CLI
//! first for a friendlier message:
//!
//! - [`normalise`]: what people type (spaces, dashes, full-width digits from a Chinese input
//!   method, a lower-case x) to the canonical form;
//! - [`IdCard::parse`]: 18 characters, a valid birth date not after today, the ISO 7064
//!   MOD 11-2 check character ([`check_char`]), each failure a distinct [`IdCardError`];
//! - [`mask`]: the masked display form the index stores and the ECG page prints;
//! - [`Ymd`]: the calendar date the birth date is compared with.
//!
//! Pure std: no I/O beyond reading the clock in [`Ymd::today_china`].

use std::fmt;

/// Length of a resident identity card number.
pub const ID_CARD_LEN: usize = 18;

/// Earliest birth year accepted: a number claiming an earlier one is a typo.
pub const EARLIEST_BIRTH_YEAR: u32 = 1900;

/// Why a value is not a resident identity card number. Messages never repeat the whole number
/// (they may reach logs); they say which part is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    /// Nothing was given.
    #[error("no ID card number given")]
    Empty,
    /// Not 18 characters.
    #[error(
        "an ID card number has 18 characters (17 digits and a check digit 0-9 or X); this one has {found}"
    )]
    Length {
        /// Characters after normalisation.
        found: usize,
    },
    /// A character that is not a digit (or X in the last place).
    #[error(
        "an ID card number has only digits (the last may be X); character {position} is {found:?}"
    )]
    NotDigit {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Characters 7 to 14 are not a calendar date.
    #[error("the birth date in the ID card number, {date}, is not a calendar date")]
    BirthDate {
        /// The eight digits, YYYYMMDD.
        date: String,
    },
    /// The birth date is after today or implausibly early.
    #[error("the birth date in the ID card number, {date}, is {why}")]
    BirthDateOutOfRange {
        /// The eight digits, YYYYMMDD.
        date: String,
        /// "in the future" or "before 1900".
        why: &'static str,
    },
    /// The check character does not match the first 17 digits.
    #[error(
        "the ID card number's check digit is {found} but its first 17 digits give {expected}: a digit is mistyped"
    )]
    CheckDigit {
        /// What the first 17 digits give.
        expected: char,
        /// What was typed.
        found: char,
    },
}

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ymd {
    /// Year.
    pub year: u32,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
}

impl Ymd {
    /// A date if it exists on the calendar.
    pub fn new(year: u32, month: u32, day: u32) -> Option<Ymd> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Ymd { year, month, day })
    }

    /// The date of a Unix-millisecond instant at a fixed offset from UTC (in hours).
    pub fn of_unix_ms(at_ms: i64, offset_hours: i64) -> Ymd {
        let days = (at_ms + offset_hours * 3_600_000).div_euclid(86_400_000);
        ymd_of_days(days)
    }

    /// Today in China Standard Time (UTC+8), the calendar ID card birth dates are written in.
    pub fn today_china() -> Ymd {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Ymd::of_unix_ms(now, 8)
    }
}

impl fmt::Display for Ymd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm); the
/// hub's clock uses it too.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The [`Ymd`] of a day count since 1970-01-01.
fn ymd_of_days(days: i64) -> Ymd {
    let (y, m, d) = civil_from_days(days);
    let u = |v: i64| u32::try_from(v).unwrap_or(0);
    Ymd {
        year: u(y),
        month: u(m),
        day: u(d),
    }
}

/// The canonical form of a typed identifier: whitespace (including the ideographic space) and
/// dashes dropped, full-width ASCII (Ｕ+FF01..FF5E, what a Chinese input method types) folded to
/// ASCII, letters upper-cased. "１１０１０５ 1949-1231 002ｘ" → "11010519491231002X".
pub fn normalise(raw: &str) -> String {
    raw.chars()
        .map(|c| match u32::from(c) {
            0xFF01..=0xFF5E => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The masked display form of a normalised identifier, as the hub's index stores it and the ECG
/// page prints it: the first four and last four characters of long identifiers (12 or more),
/// the first and last two of medium ones (6 to 11), the rest masked; shorter ones masked whole.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    let keep = match n {
        12.. => 4,
        6..=11 => 2,
        _ => return "*".repeat(n.max(1)),
    };
    let mut out: String = chars[..keep].iter().collect();
    out.push_str(&"*".repeat(n - 2 * keep));
    out.extend(&chars[n - keep..]);
    out
}

/// ISO 7064 MOD 11-2 check character of 17 ASCII digits, or `None` if they are not 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let digits = first17.as_bytes();
    if digits.len() != 17 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(char::from(CHECK[(sum % 11) as usize]))
}

/// A valid resident identity card number, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdCard(String);

impl IdCard {
    /// Normalises `raw` and checks it: 18 characters, digits (X allowed last), a birth date on
    /// the calendar between [`EARLIEST_BIRTH_YEAR`] and `today`, and the check character. The
    /// first failure found is returned, in that order.
    pub fn parse(raw: &str, today: Ymd) -> Result<IdCard, IdCardError> {
        let id = normalise(raw);
        if id.is_empty() {
            return Err(IdCardError::Empty);
        }
        let chars: Vec<char> = id.chars().collect();
        if chars.len() != ID_CARD_LEN {
            return Err(IdCardError::Length { found: chars.len() });
        }
        let bad = chars
            .iter()
            .enumerate()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == ID_CARD_LEN - 1 && *c == 'X')));
        if let Some((i, &c)) = bad {
            return Err(IdCardError::NotDigit {
                position: i + 1,
                found: c,
            });
        }
        let card = IdCard(id);
        card.check_birth_date(today)?;
        let expected = check_char(&card.0[..17]).unwrap_or('?');
        let found = chars[17];
        if expected != found {
            return Err(IdCardError::CheckDigit { expected, found });
        }
        Ok(card)
    }

    fn check_birth_date(&self, today: Ymd) -> Result<Ymd, IdCardError> {
        let date = self.0[6..14].to_owned();
        let num = |r: std::ops::Range<usize>| date[r].parse::<u32>().unwrap_or(0);
        let birth = Ymd::new(num(0..4), num(4..6), num(6..8))
            .ok_or_else(|| IdCardError::BirthDate { date: date.clone() })?;
        let why = if birth > today {
            "in the future"
        } else if birth.year < EARLIEST_BIRTH_YEAR {
            "before 1900"
        } else {
            return Ok(birth);
        };
        Err(IdCardError::BirthDateOutOfRange { date, why })
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date it encodes.
    pub fn birth_date(&self) -> Ymd {
        let num = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().unwrap_or(0);
        Ymd {
            year: num(6..10),
            month: num(10..12),
            day: num(12..14),
        }
    }
}

impl fmt::Display for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True if `value` (as typed) is a valid resident identity card number today.
pub fn is_id_card(value: &str) -> bool {
    IdCard::parse(value, Ymd::today_china()).is_ok()
}

#[cfg(test)]
mod tests;
