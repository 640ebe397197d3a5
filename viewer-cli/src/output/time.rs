//! Human times: durations in the largest two units, ages and deadlines.

/// A duration for people: "<1 min", "12 min", "3 h 10 min", "2 d 4 h".
pub fn duration(ms: i64) -> String {
    let minutes = ms.unsigned_abs() / 60_000;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, mins) {
        (0, 0, 0) => "<1 min".to_owned(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// How long ago `at_ms` was at `now_ms`: "just now", "12 min ago", "in 3 min" (clock skew).
pub fn ago(at_ms: i64, now_ms: i64) -> String {
    if at_ms <= 0 {
        return "-".to_owned();
    }
    let elapsed = now_ms - at_ms;
    if elapsed.abs() < 60_000 {
        "just now".to_owned()
    } else if elapsed > 0 {
        format!("{} ago", duration(elapsed))
    } else {
        format!("in {}", duration(elapsed))
    }
}

/// Time left until a deadline: "due in 3 h 10 min", or "OVERDUE 25 min" when negative.
pub fn time_left(left_ms: i64) -> String {
    if left_ms < 0 {
        format!("OVERDUE {}", duration(left_ms))
    } else {
        format!("due in {}", duration(left_ms))
    }
}

/// An absolute time in UTC to the second, e.g. "2026-05-12 08:30:15 UTC"; "-" for 0.
pub fn absolute(at_ms: i64) -> String {
    if at_ms <= 0 {
        return "-".to_owned();
    }
    let text = humantime::format_rfc3339_seconds(crate::since::at_ms(at_ms)).to_string();
    format!("{} UTC", text.trim_end_matches('Z').replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn durations_use_two_units() {
        assert_eq!(duration(30_000), "<1 min");
        assert_eq!(duration(12 * MIN), "12 min");
        assert_eq!(duration(190 * MIN), "3 h 10 min");
        assert_eq!(duration(120 * MIN), "2 h");
        assert_eq!(duration((2 * 24 * 60 + 4 * 60 + 5) * MIN), "2 d 4 h");
        assert_eq!(duration(3 * 24 * 60 * MIN), "3 d");
        assert_eq!(duration(-25 * MIN), "25 min");
    }

    #[test]
    fn ages_and_deadlines() {
        let now = 1_000_000_000_000;
        assert_eq!(ago(now - 12 * MIN, now), "12 min ago");
        assert_eq!(ago(now - 10_000, now), "just now");
        assert_eq!(ago(now + 3 * MIN, now), "in 3 min");
        assert_eq!(ago(0, now), "-");
        assert_eq!(time_left(190 * MIN), "due in 3 h 10 min");
        assert_eq!(time_left(-25 * MIN), "OVERDUE 25 min");
    }

    #[test]
    fn absolute_is_utc() {
        assert_eq!(absolute(1_778_574_615_000), "2026-05-12 08:30:15 UTC");
        assert_eq!(absolute(0), "-");
    }
}
