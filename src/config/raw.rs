//! The file as written: loose types (mostly strings and plain integers) so
//! that one bad value does not stop the rest of the file from being checked.
//! `validate.rs` turns this into the typed configuration.
//!
//! Every field is optional here; missing required keys are reported by the
//! validation, together with all other problems.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub norm_days: Option<i64>,
    #[serde(default)]
    pub soft_holidays: Option<String>,
    #[serde(default)]
    pub regions: Option<Vec<RawRegion>>,
    #[serde(default)]
    pub closure: Option<Vec<RawClosure>>,
    #[serde(default)]
    pub holidays: Option<RawHolidays>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawRegion {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub neighbours: Option<Vec<String>>,
    #[serde(default)]
    pub arrivals_per_week: Option<f64>,
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    #[serde(default)]
    pub municipalities: Option<Vec<RawMunicipality>>,
    #[serde(default)]
    pub sessions: Option<Vec<RawSession>>,
    #[serde(default)]
    pub extra_options: Option<Vec<RawSession>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawMunicipality {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub cbs: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawSession {
    #[serde(default)]
    pub weekday: Option<String>,
    /// `"09:00"`, or a TOML local time `09:00:00`.
    #[serde(default)]
    pub start: Option<toml::Value>,
    #[serde(default)]
    pub slots: Option<i64>,
    #[serde(default)]
    pub slot_minutes: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawClosure {
    #[serde(default)]
    pub region: Option<String>,
    /// `"2026-12-08"`, or a TOML local date `2026-12-08`.
    #[serde(default)]
    pub date: Option<toml::Value>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawHolidays {
    #[serde(default)]
    pub rule: Option<Vec<RawHolidayRule>>,
    #[serde(default)]
    pub period: Option<Vec<RawHolidayPeriod>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawHolidayRule {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub month: Option<i64>,
    #[serde(default)]
    pub day: Option<i64>,
    #[serde(default)]
    pub offset_days: Option<i64>,
    #[serde(default)]
    pub if_sunday_offset_days: Option<i64>,
    #[serde(default)]
    pub blocking: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawHolidayPeriod {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub start: Option<RawMonthDay>,
    #[serde(default)]
    pub end: Option<RawMonthDay>,
    #[serde(default)]
    pub blocking: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawMonthDay {
    #[serde(default)]
    pub month: Option<i64>,
    #[serde(default)]
    pub day: Option<i64>,
}

/// Deserializes the text, collecting unknown keys (reported as problems, so a
/// typo such as `neighbors` is not silently ignored) and, on a syntax or type
/// error, the key path where it happened.
pub(crate) fn parse(text: &str) -> Result<(RawConfig, Vec<String>), TomlFailure> {
    let mut unknown = Vec::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(&path));
    let de = toml::Deserializer::new(text);
    let de = serde_ignored::Deserializer::new(de, &mut on_ignored);
    match serde_path_to_error::deserialize::<_, RawConfig>(de) {
        Ok(raw) => Ok((raw, unknown)),
        Err(err) => {
            let path = err.path().to_string();
            let key = if path == "." { String::new() } else { path };
            let inner = err.into_inner();
            let mut message = inner.message().lines().collect::<Vec<_>>().join(", ");
            if let Some(span) = inner.span() {
                let (line, column) = line_column(text, span.start);
                message.push_str(&format!(" (line {line}, column {column})"));
            }
            Err(TomlFailure { key, message })
        }
    }
}

/// A TOML syntax or type error: the file could not be read into `RawConfig`.
#[derive(Debug)]
pub(crate) struct TomlFailure {
    pub key: String,
    pub message: String,
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Formats a serde_ignored path the same way as the other keys:
/// `regions[0].sessions[1].weekdays`.
pub(crate) fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    #[test]
    fn unknown_keys_are_collected_with_their_path() {
        let text = "timezone = \"Europe/Amsterdam\"\nextra = 1\n\
                    [[regions]]\nid = \"a\"\nneighbors = []\n";
        let (_, unknown) = parse(text).expect("parses");
        assert_eq!(
            unknown,
            vec!["extra".to_owned(), "regions[0].neighbors".to_owned()]
        );
    }

    #[test]
    fn type_errors_name_the_key_and_the_line() {
        let text = "[[regions]]\nid = \"a\"\n[[regions]]\narrivals_per_week = \"many\"\n";
        let failure = parse(text).expect_err("type error");
        assert_eq!(failure.key, "regions[1].arrivals_per_week");
        assert!(failure.message.contains("line 4"), "{}", failure.message);
    }
}
