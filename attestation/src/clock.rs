//! Unix seconds <-> UTC calendar times. Verification always happens at an explicit time;
//! these helpers only convert for policy files and human output.

use std::time::Duration;

use x509_cert::der::DateTime;

/// `YYYY-MM-DDTHH:MM:SSZ`, or the raw number when it is outside 1970..=9999.
pub fn utc(unix_seconds: u64) -> String {
    DateTime::from_unix_duration(Duration::from_secs(unix_seconds))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| format!("unix:{unix_seconds}"))
}

/// Seconds since the epoch of a proleptic Gregorian UTC time, `None` before 1970.
pub fn unix_seconds(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<u64> {
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    u64::try_from(seconds).ok()
}

/// The current time, from the system clock.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_epochs() {
        assert_eq!(unix_seconds(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(unix_seconds(2000, 3, 1, 0, 0, 0), Some(951_868_800));
        assert_eq!(unix_seconds(2022, 10, 13, 8, 58, 2), Some(1_665_651_482));
        assert_eq!(unix_seconds(1969, 12, 31, 23, 59, 59), None);
        assert_eq!(utc(1_665_651_482), "2022-10-13T08:58:02Z");
    }
}
