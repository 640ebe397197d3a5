//! The region's time zone: which local day an instant falls on, and when a local day begins.
//! Statistics group by local months and validity windows end at local midnight, so a result read
//! at 01:00 on the 1st of December in a UTC+8 region counts to December, not November.

use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

use super::rules::Day;

/// The region the hub serves, as far as dates go.
#[derive(Debug, Clone)]
pub struct Region {
    time_zone: TimeZone,
}

impl Region {
    /// The region of an IANA time zone name, e.g. "Asia/Shanghai".
    pub fn new(time_zone: &str) -> Result<Region, String> {
        TimeZone::get(time_zone)
            .map(|time_zone| Region { time_zone })
            .map_err(|e| format!("time zone {time_zone:?}: {e}"))
    }

    /// A region that keeps UTC (a fallback, and tests).
    pub fn utc() -> Region {
        Region {
            time_zone: TimeZone::UTC,
        }
    }

    /// The local day containing a Unix-millisecond instant.
    pub fn day_of(&self, at_ms: i64) -> Day {
        let offset_s = Timestamp::from_millisecond(at_ms)
            .map_or(0, |at| self.time_zone.to_offset(at).seconds());
        Day::of_ms(at_ms.saturating_add(i64::from(offset_s) * 1000))
    }

    /// The first instant of a local day, in Unix milliseconds (the day's UTC midnight for dates
    /// outside the years -9999 to 9999).
    pub fn start_ms(&self, day: Day) -> i64 {
        let (y, m, d) = day.ymd();
        let start = || -> Option<i64> {
            let date = civil::Date::new(
                i16::try_from(y).ok()?,
                i8::try_from(m).ok()?,
                i8::try_from(d).ok()?,
            )
            .ok()?;
            let zoned = date.to_zoned(self.time_zone.clone()).ok()?;
            Some(zoned.timestamp().as_millisecond())
        };
        start().unwrap_or_else(|| day.start_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> Region {
        Region::new("Asia/Shanghai").unwrap()
    }

    fn instant(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn one_in_the_morning_on_the_first_is_the_new_month_in_shanghai() {
        let at = instant("2026-12-01T01:00:00+08:00");
        assert_eq!(shanghai().day_of(at).to_string(), "2026-12-01");
        assert_eq!(shanghai().day_of(at).month(), "2026-12");
        assert_eq!(Region::utc().day_of(at).month(), "2026-11");
    }

    #[test]
    fn a_local_day_starts_at_local_midnight() {
        let day = Day::parse("2026-12-01").unwrap();
        assert_eq!(
            shanghai().start_ms(day),
            instant("2026-11-30T16:00:00Z"),
            "00:00 in Shanghai is 16:00 UTC the day before"
        );
        assert_eq!(Region::utc().start_ms(day), day.start_ms());
        let last = instant("2026-11-30T15:59:59.999Z");
        assert_eq!(shanghai().day_of(last).to_string(), "2026-11-30");
    }

    #[test]
    fn unknown_zones_are_named() {
        assert!(
            Region::new("Mars/Olympus")
                .unwrap_err()
                .contains("Mars/Olympus")
        );
    }
}
