//! How instants and dates are stored (the same on both backends).

use chrono::{DateTime, NaiveDate, Utc};

/// Milliseconds since the Unix epoch, UTC.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The instant `ms` milliseconds after the Unix epoch; out of range gives
/// the earliest representable instant.
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A local date as stored: `YYYY-MM-DD`.
pub fn to_date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Dates in the database were written by `to_date_text`; anything else is
/// corrupt data and reported as such.
///
/// # Errors
/// [`sqlx::Error::Decode`] when `s` is not `YYYY-MM-DD`.
pub fn from_date_text(s: &str) -> Result<NaiveDate, sqlx::Error> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| sqlx::Error::Decode(format!("bad date {s:?} in the database: {e}").into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_dates_round_trip() {
        let t = DateTime::parse_from_rfc3339("2026-03-29T01:30:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(from_millis(to_millis(t)), t);
        let d = NaiveDate::from_ymd_opt(2026, 12, 2).expect("d");
        assert_eq!(from_date_text(&to_date_text(d)).expect("parse"), d);
        assert!(from_date_text("02-12-2026").is_err());
    }
}
