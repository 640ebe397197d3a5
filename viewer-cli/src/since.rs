//! `--since` values: a date, a timestamp or an age, as Unix milliseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `2026-05-12` (midnight UTC), `2026-05-12T08:00:00Z` / `2026-05-12 08:00:00` (UTC), or an
/// age such as `90min`, `2h`, `3d` (that long before now).
pub fn parse_since(s: &str) -> Result<i64, String> {
    parse_since_at(s, SystemTime::now())
}

/// [`parse_since`] with an explicit "now", for tests.
pub fn parse_since_at(s: &str, now: SystemTime) -> Result<i64, String> {
    let s = s.trim();
    let at = if let Ok(age) = humantime::parse_duration(s) {
        now.checked_sub(age)
            .ok_or_else(|| format!("{s:?} reaches before 1970"))?
    } else if s.len() == 10 {
        humantime::parse_rfc3339_weak(&format!("{s} 00:00:00")).map_err(|_| bad(s))?
    } else {
        humantime::parse_rfc3339_weak(s).map_err(|_| bad(s))?
    };
    Ok(millis(at))
}

fn bad(s: &str) -> String {
    format!(
        "{s:?} is not a date (2026-05-12), a UTC time (2026-05-12T08:00:00Z) or an age (2h, 3d)"
    )
}

/// Unix milliseconds of a time (0 before 1970).
pub fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    millis(SystemTime::now())
}

/// The time at Unix milliseconds `ms`.
pub fn at_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_and_ages() {
        let now = at_ms(1_778_572_800_000); // 2026-05-12T08:00:00Z
        assert_eq!(parse_since_at("2026-05-12", now), Ok(1_778_544_000_000));
        assert_eq!(
            parse_since_at("2026-05-12T08:00:00Z", now),
            Ok(1_778_572_800_000)
        );
        assert_eq!(parse_since_at("2h", now), Ok(1_778_572_800_000 - 7_200_000));
        assert_eq!(
            parse_since_at("3d", now),
            Ok(1_778_572_800_000 - 3 * 86_400_000)
        );
        assert!(parse_since_at("yesterday", now).is_err());
        assert!(parse_since_at("2026-13-01", now).is_err());
    }
}
