//! Wall-clock time as Unix milliseconds, the unit every stored timestamp uses.

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A duration in milliseconds, saturating.
pub fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A Unix-millisecond time as "YYYY-MM-DD HH:MM UTC", for messages.
pub fn describe_ms(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The date of a Unix-millisecond time as "YYYY-MM-DD" (UTC).
pub fn date_of_ms(at_ms: i64) -> String {
    let (y, m, d) = civil_from_days(at_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Gregorian (year, month, day) of a day count since 1970-01-01 (the one routine, in
/// `patient-id`).
pub(crate) use patient_id::civil_from_days;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(describe_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(describe_ms(1_795_000_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(date_of_ms(951_782_400_000), "2000-02-29");
    }
}
