//! Problems found while loading a configuration file.

use std::fmt;

/// One problem in a configuration file, located by file and key.
///
/// `key` is the path of the offending value as written in the file, for
/// example `regions[2].neighbours[1]`. It is empty when the problem has no
/// single key (an unreadable file, or a TOML syntax error, whose message then
/// carries the line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file, as given to the loader (`config/regions.toml`).
    pub file: String,
    /// The path of the offending value; empty when there is none.
    pub key: String,
    /// What is wrong, in English.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    /// `config/regions.toml: regions[2].neighbours[1]: unknown region "food-valey"`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.message)
        }
    }
}

/// Every problem found in a configuration file; never empty when returned as
/// an error. `Display` prints one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl ConfigErrors {
    /// The problems, in the order found.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.0
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in the order found.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigProblem> {
        self.0.iter()
    }

    /// True if some problem is at exactly `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.0.iter().any(|p| p.key == key)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigProblem;
    type IntoIter = std::slice::Iter<'a, ConfigProblem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Collects problems for one file while a configuration is converted.
#[derive(Debug)]
pub(crate) struct Problems {
    file: String,
    list: Vec<ConfigProblem>,
}

impl Problems {
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            list: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.list.push(ConfigProblem {
            file: self.file.clone(),
            key: key.into(),
            message: message.into(),
        });
    }

    /// Reports a missing required key and passes the value through.
    pub(crate) fn required<'v, T>(&mut self, value: &'v Option<T>, key: &str) -> Option<&'v T> {
        if value.is_none() {
            self.push(key, "missing (required)");
        }
        value.as_ref()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn into_errors(self) -> ConfigErrors {
        ConfigErrors(self.list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_and_key_one_problem_per_line() {
        let mut problems = Problems::new("config/regions.toml");
        problems.push("regions[2].neighbours[1]", "unknown region \"food-valey\"");
        problems.push("", "TOML syntax error (line 3, column 1)");
        let errors = problems.into_errors();
        assert_eq!(
            errors.to_string(),
            "config/regions.toml: regions[2].neighbours[1]: unknown region \"food-valey\"\n\
             config/regions.toml: TOML syntax error (line 3, column 1)"
        );
    }
}
