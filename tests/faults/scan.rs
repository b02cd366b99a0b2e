//! Looks for personal data in text (log lines, mails): numbers that pass
//! the BSN eleven-test, dates that could be birth dates, and given words.

/// A finding: what was found, and the line it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub what: String,
    pub line: String,
}

/// Does a 9-digit number pass the BSN eleven-test (`elfproef`)?
pub fn is_bsn(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum: i64 = (0..8)
        .map(|i| i64::from(d[i]) * (9 - i as i64))
        .sum::<i64>()
        - i64::from(d[8]);
    sum % 11 == 0
}

/// Runs of exactly nine digits standing alone (not part of a longer
/// number, a decimal fraction such as `1.143460225` s, or a word) that
/// pass the eleven-test.
pub fn bsn_like(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == ',')) {
        let token = token.trim_matches(['.', ',']);
        if token.len() == 9 && token.bytes().all(|b| b.is_ascii_digit()) && is_bsn(token) {
            found.push(token.to_string());
        }
    }
    found
}

/// Dates from before 2020 (`dd-mm-yyyy`, `yyyy-mm-dd`, with `-`, `/` or
/// `.`): the service only deals in dates around now, so an old one is
/// most likely somebody's birth date.
pub fn old_dates(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '/' | '.'))) {
        let parts: Vec<&str> = token
            .split(['-', '/', '.'])
            .filter(|p| !p.is_empty())
            .collect();
        for window in parts.windows(3) {
            let numbers: Vec<Option<u32>> = window.iter().map(|p| p.parse().ok()).collect();
            let (year, month, day) = match (window[0].len(), window[2].len()) {
                (4, 1..=2) => (numbers[0], numbers[1], numbers[2]),
                (1..=2, 4) => (numbers[2], numbers[1], numbers[0]),
                _ => continue,
            };
            if let (Some(year), Some(month), Some(day)) = (year, month, day) {
                if (1900..2020).contains(&year)
                    && (1..=12).contains(&month)
                    && (1..=31).contains(&day)
                {
                    found.push(window.join("-"));
                }
            }
        }
    }
    found
}

/// Every occurrence of personal data in `lines`: BSN-like numbers, old
/// dates, and any of `words` (case-insensitive).
pub fn personal_data<'a>(lines: impl IntoIterator<Item = &'a str>, words: &[&str]) -> Vec<Finding> {
    let lowered: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let mut findings = Vec::new();
    for line in lines {
        let short = line.chars().take(300).collect::<String>();
        for bsn in bsn_like(line) {
            findings.push(Finding {
                what: format!("BSN-like number {bsn}"),
                line: short.clone(),
            });
        }
        for date in old_dates(line) {
            findings.push(Finding {
                what: format!("possible birth date {date}"),
                line: short.clone(),
            });
        }
        let lower = line.to_lowercase();
        for word in &lowered {
            if lower.contains(word.as_str()) {
                findings.push(Finding {
                    what: format!("{word:?}"),
                    line: short.clone(),
                });
            }
        }
    }
    findings
}

#[test]
fn the_scanners_find_what_they_should_and_leave_the_rest() {
    assert!(is_bsn("111222333") && is_bsn("123456782"));
    assert!(!is_bsn("123456789"));
    assert_eq!(
        bsn_like("bsn=111222333, ref ST-EDE-0042"),
        vec!["111222333"]
    );
    assert!(bsn_like("1111222333 a111222333 1764486000000").is_empty());
    assert!(bsn_like("elapsed_secs=1.143460225 took 0,111222333").is_empty());
    assert_eq!(bsn_like("BSN: 111222333."), vec!["111222333"]);
    assert_eq!(old_dates("geboren 05-03-2014"), vec!["05-03-2014"]);
    assert_eq!(old_dates("born 1961/3/5."), vec!["1961-3-5"]);
    assert!(old_dates("2026-11-30T07:00:00Z op 14-12-2026, fv-1202-a, 127.0.0.1").is_empty());
    let found = personal_data(["x", "Moeder Fatima belt"], &["fatima"]);
    assert_eq!(found.len(), 1);
}
