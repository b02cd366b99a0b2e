//! Unknown settings keys are an error at start-up, with the nearest known
//! key: a misspelt `JBT__SMTP__URL` must not quietly leave mail going to
//! files (the key is `mail.smtp_url`).

use config::{Value, ValueKind};

use crate::config::ConfigProblem;

/// Keys that have no value in `config/default.toml` (they are commented
/// out there) but are known. Every other known key has a default; a test
/// checks both lists against the settings structs.
pub(super) const OPTIONAL_KEYS: &[&str] = &[
    "database.url",
    "regions.file",
    "mail.smtp_url",
    "mail.username",
    "mail.password",
    "security.encryption_key",
];

/// One problem per unknown leaf key among `ignored` (the paths serde left
/// unused, as `section.key`; a whole unknown section stands for its leaves).
/// `defaults` is the built-in configuration, whose leaves are known keys;
/// `file` names the one configuration file (`--config`) as the operator gave it.
pub(super) fn problems(
    root: &Value,
    defaults: &Value,
    ignored: &[String],
    file: &str,
) -> Vec<ConfigProblem> {
    let mut known: Vec<String> = Vec::new();
    leaves(defaults, "", &mut known);
    known.extend(OPTIONAL_KEYS.iter().map(|k| k.to_string()));
    let mut unknown: Vec<(String, Option<String>)> = Vec::new();
    for path in ignored {
        match lookup(root, path) {
            Some(value) => {
                let mut found = Vec::new();
                leaves(value, path, &mut found);
                for key in found {
                    let origin = lookup(root, &key).and_then(|v| v.origin().map(String::from));
                    unknown.push((key, origin));
                }
            }
            None => unknown.push((path.clone(), None)),
        }
    }
    unknown.sort();
    unknown.dedup();
    unknown
        .into_iter()
        .map(|(key, origin)| {
            let message = match nearest(&key, &known) {
                Some(near) => format!("unknown key; did you mean {near}?"),
                None => "unknown key".to_string(),
            };
            ConfigProblem {
                file: source_name(origin.as_deref(), &key, file),
                key,
                message,
            }
        })
        .collect()
}

/// Where a key came from, as the operator wrote it: the environment
/// variable's name, the file, or "configuration" for built-in overrides.
fn source_name(origin: Option<&str>, key: &str, file: &str) -> String {
    match origin {
        Some("the environment") => {
            format!("environment JBT__{}", key.to_uppercase().replace('.', "__"))
        }
        Some(_) => file.to_string(),
        None => "configuration".to_string(),
    }
}

/// Every leaf key under `value`, as `prefix.key.subkey`.
fn leaves(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match &value.kind {
        ValueKind::Table(table) => {
            for (key, child) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(child, &path, out);
            }
        }
        _ if !prefix.is_empty() => out.push(prefix.to_string()),
        _ => {}
    }
}

fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(root, |value, key| match &value.kind {
            ValueKind::Table(table) => table.get(key),
            _ => None,
        })
}

/// The known key closest to `key`, when it is close enough to be a likely
/// misspelling. Separators are ignored (`smtp.url`, `smtp_url`, `smtpurl`
/// are one word), and a key may also match a known key without its section
/// (`smtp.url` is `mail.smtp_url` without `mail.`).
fn nearest<'a>(key: &str, known: &'a [String]) -> Option<&'a str> {
    let word = |s: &str| s.replace(['.', '_', '-'], "");
    let wanted = word(key);
    let (distance, best) = known
        .iter()
        .map(|k| {
            let whole = strsim::levenshtein(&wanted, &word(k));
            let leaf = k.split_once('.').map_or(usize::MAX, |(_, rest)| {
                strsim::levenshtein(&wanted, &word(rest)) + 1
            });
            (whole.min(leaf), k.as_str())
        })
        .min()?;
    (distance <= (wanted.len() / 3).max(2)).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        [
            "mail.smtp_url",
            "database.url",
            "server.listen",
            "web.session_idle_minutes",
        ]
        .iter()
        .map(|k| k.to_string())
        .collect()
    }

    #[test]
    fn a_section_mixed_up_with_its_key_finds_the_key() {
        assert_eq!(nearest("smtp.url", &known()), Some("mail.smtp_url"));
        assert_eq!(nearest("mail.smtpurl", &known()), Some("mail.smtp_url"));
        assert_eq!(
            nearest("web.session_idle_minute", &known()),
            Some("web.session_idle_minutes")
        );
    }

    #[test]
    fn a_key_like_nothing_known_gets_no_guess() {
        assert_eq!(nearest("colour.scheme", &known()), None);
    }

    #[test]
    fn environment_keys_are_named_as_variables() {
        assert_eq!(
            source_name(Some("the environment"), "smtp.url", "site.toml"),
            "environment JBT__SMTP__URL"
        );
        assert_eq!(
            source_name(Some("../site.toml"), "smtp.url", "site.toml"),
            "site.toml"
        );
    }
}
