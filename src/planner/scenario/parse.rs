//! From JSON text to a [`ScenarioFile`], with the place of every error.

use super::{Problem, ScenarioErrors, ScenarioFile};

/// syntax or type error.
pub fn parse_file(
    text: &str,
    warn: &mut dyn FnMut(String),
) -> Result<ScenarioFile, ScenarioErrors> {
    // serde reads a struct from an array too (by position); a scenario is
    // an object with named fields, so anything else is refused up front.
    let first = text.trim_start().chars().next();
    if first.is_some_and(|c| c != '{') && serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return Err(ScenarioErrors(vec![Problem {
            at: String::new(),
            message: "the scenario must be a JSON object".into(),
        }]));
    }
    let json = &mut serde_json::Deserializer::from_str(text);
    let mut ignored = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| ignored.push(path.to_string());
    let tracked = serde_ignored::Deserializer::new(json, &mut note);
    let parsed: Result<ScenarioFile, _> = serde_path_to_error::deserialize(tracked);
    match parsed {
        Ok(file) => {
            for path in ignored {
                warn(format!("{}: unknown field, ignored", json_path(&path)));
            }
            Ok(file)
        }
        Err(err) => {
            let at = json_path(&err.path().to_string());
            let inner = err.into_inner();
            let message = match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    format!("not valid JSON: {inner}")
                }
                _ => inner.to_string(),
            };
            Err(ScenarioErrors(vec![Problem {
                at: if at == "." { String::new() } else { at },
                message,
            }]))
        }
    }
}

/// serde_path_to_error writes `referrals[3].region`; serde_ignored writes
/// `referrals.3.region`. Both become the former.
fn json_path(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.') {
        if part.is_empty() {
            continue;
        }
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out
    }
}
