//! Fuzzing the scenario parser (`jbt plan --scenario`): arbitrary bytes,
//! arbitrary JSON, and mutations of the example scenarios. Whatever comes
//! in, the parser answers with a scenario or with problems that each name
//! where they are; it never panics. A mutated scenario that still parses
//! is planned too, so the planner gets edge cases (far dates, huge
//! lengths, odd neighbours) that no hand-written test thought of.

#[path = "support/arbitrary_json.rs"]
#[allow(dead_code)] // shared with the API fuzz, which uses all of it
mod arbitrary_json;

use jbt::planner::{self, Scenario, ScenarioErrors};
use proptest::prelude::*;
use serde_json::Value;

use arbitrary_json::{json, mutated};

/// Field names of the scenario format, for the generated objects' keys.
const SCENARIO_KEYS: &[&str] = &[
    "version",
    "now",
    "timezone",
    "norm_days",
    "regions",
    "slots",
    "referrals",
    "pinned",
    "id",
    "neighbours",
    "name",
    "region",
    "start",
    "minutes",
    "registered",
    "due",
    "earliest",
    "unavailable",
    "cross_region",
    "excluded_regions",
    "referral",
    "slot",
];

/// Top-level fields: every located problem starts with one of them.
const TOP_LEVEL: &[&str] = &[
    "version",
    "now",
    "timezone",
    "norm_days",
    "regions",
    "slots",
    "referrals",
    "pinned",
];

fn example(name: &str) -> Value {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses `text`; a rejection must be clear: at least one problem, each
/// with a message, each located at a field of the format (or at the whole
/// document, for JSON that is not an object at all).
fn parse_clearly(text: &str) -> Result<Scenario, TestCaseError> {
    let mut warnings = Vec::new();
    match Scenario::parse_json(text, &mut |w| warnings.push(w)) {
        Ok(scenario) => Ok(scenario),
        Err(ScenarioErrors(problems)) => {
            prop_assert!(!problems.is_empty(), "a rejection without a problem");
            // Known quirk, reported (src/planner/scenario.rs, not changed
            // here): serde also reads a struct from a JSON array, field by
            // position, so an array document is not refused as such and
            // its problems are located by position ("[0]: ...").
            let array_document = text.trim_start().starts_with('[');
            for p in &problems {
                prop_assert!(!p.message.trim().is_empty(), "empty message at {:?}", p.at);
                let field = p.at.split(['.', '[']).next().unwrap_or_default();
                // A syntax error is located by line and column instead.
                let syntax = p.message.starts_with("not valid JSON")
                    && p.message.contains(" line ")
                    && p.message.contains(" column ");
                prop_assert!(
                    p.at.is_empty() || TOP_LEVEL.contains(&field) || syntax || array_document,
                    "problem located outside the format: {p}"
                );
            }
            Err(TestCaseError::reject("invalid scenario (clearly reported)"))
        }
    }
}

/// A scenario that parsed is planned, with explanations: no panic, and no
/// plan that breaks a rule (the planner checks its own plan).
fn plans(scenario: &Scenario) -> Result<(), TestCaseError> {
    let outcome = planner::plan(
        scenario,
        planner::Options {
            explain: true,
            ..planner::Options::default()
        },
    );
    prop_assert!(
        outcome.is_ok(),
        "a valid scenario did not plan: {:?}",
        outcome.err()
    );
    Ok(())
}

/// `Err(reject)` from [`parse_clearly`] means a clear rejection: a pass.
fn accept_rejection(result: Result<(), TestCaseError>) -> Result<(), TestCaseError> {
    match result {
        Err(TestCaseError::Reject(_)) => Ok(()),
        other => other,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        // Rejections are the expected outcome here, not a sign of a weak strategy.
        max_global_rejects: u32::MAX,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_are_refused_clearly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // The command reads UTF-8 text; invalid sequences become U+FFFD.
        let text = String::from_utf8_lossy(&bytes);
        accept_rejection(parse_clearly(&text).map(|_| ()))?;
    }

    #[test]
    fn arbitrary_json_is_refused_clearly(value in json(SCENARIO_KEYS)) {
        accept_rejection(parse_clearly(&value.to_string()).map(|_| ()))?;
    }

    #[test]
    fn a_truncated_scenario_is_refused_clearly(cut in any::<prop::sample::Index>()) {
        let text = serde_json::to_string_pretty(&example("week49.json")).expect("serializes");
        let mut end = cut.index(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        accept_rejection(parse_clearly(&text[..end]).map(|_| ()))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        max_global_rejects: u32::MAX,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_mutated_small_scenario_parses_and_plans_or_is_refused_clearly(
        value in mutated(example("example-scenario.json"), SCENARIO_KEYS)
    ) {
        accept_rejection(parse_clearly(&value.to_string()).and_then(|s| plans(&s)))?;
    }

    #[test]
    fn a_mutated_week_parses_and_plans_or_is_refused_clearly(
        value in mutated(example("week49.json"), SCENARIO_KEYS)
    ) {
        accept_rejection(parse_clearly(&value.to_string()).and_then(|s| plans(&s)))?;
    }
}

#[test]
fn the_examples_themselves_parse() {
    for name in ["example-scenario.json", "week49.json"] {
        let text = example(name).to_string();
        let parsed = Scenario::parse_json(&text, &mut |w| panic!("{name}: warning {w}"));
        assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
    }
}
