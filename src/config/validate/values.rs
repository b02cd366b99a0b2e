//! Single values of the file, checked: non-empty texts, positive numbers,
//! times and dates (as TOML values or text).

use chrono::{NaiveDate, NaiveTime};

use crate::config::error::Problems;

pub(super) fn non_empty(p: &mut Problems, s: &str, key: &str) -> Option<String> {
    if s.trim().is_empty() {
        p.push(key, "must not be empty");
        None
    } else {
        Some(s.trim().to_owned())
    }
}

pub(super) fn positive_u32(p: &mut Problems, n: i64, key: &str, zero_message: &str) -> Option<u32> {
    match u32::try_from(n) {
        Ok(0) => {
            p.push(key, zero_message);
            None
        }
        Ok(v) => Some(v),
        Err(_) => {
            p.push(
                key,
                format!("must be a whole number from 1 to {} (got {n})", u32::MAX),
            );
            None
        }
    }
}

/// A time of day: `"09:00"` (or `"09:00:00"`), or a TOML local time.
pub(super) fn time_value(v: &toml::Value, key: &str, p: &mut Problems) -> Option<NaiveTime> {
    let parsed = match v {
        toml::Value::String(s) => NaiveTime::parse_from_str(s, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
            .ok(),
        toml::Value::Datetime(dt) if dt.date.is_none() && dt.offset.is_none() => dt
            .time
            .and_then(|t| NaiveTime::from_hms_opt(t.hour.into(), t.minute.into(), t.second.into())),
        _ => None,
    };
    if parsed.is_none() {
        p.push(
            key,
            format!("malformed time {v} (expected \"HH:MM\", e.g. \"09:00\")"),
        );
    }
    parsed
}

/// A calendar date: `"2026-12-08"`, or a TOML local date.
pub(super) fn date_value(v: &toml::Value, key: &str, p: &mut Problems) -> Option<NaiveDate> {
    let parsed = match v {
        toml::Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            dt.date.and_then(|d| {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            })
        }
        _ => None,
    };
    if parsed.is_none() {
        p.push(
            key,
            format!("malformed date {v} (expected \"YYYY-MM-DD\", e.g. \"2026-12-08\")"),
        );
    }
    parsed
}
