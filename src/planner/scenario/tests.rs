//! Parsing and validation of scenarios.

use super::*;

const EXAMPLE: &str = include_str!("../../../examples/example-scenario.json");

fn parse(text: &str) -> Result<Scenario, ScenarioErrors> {
    Scenario::parse_json(text, &mut |_| {})
}

fn lines(err: ScenarioErrors) -> Vec<String> {
    err.0.iter().map(|p| p.to_string()).collect()
}

#[test]
fn the_example_scenario_parses_with_local_dates() {
    let s = parse(EXAMPLE).expect("valid");
    assert_eq!(
        s.slots[1].date,
        NaiveDate::from_ymd_opt(2026, 12, 3).expect("date")
    );
    let r1001 = &s.referrals[0];
    assert_eq!(r1001.due.to_string(), "2026-12-08");
    // R-0999 has no due date: registered 2026-11-20 + 14 days.
    assert_eq!(s.referrals[1].due.to_string(), "2026-12-04");
    assert_eq!(s.referrals[2].minutes, 120);
    assert_eq!(s.pinned, vec![(1, 0)]);
    assert_eq!(s.unplanned_date.to_string(), "2026-12-04");
}

#[test]
fn a_late_evening_utc_registration_counts_on_the_next_local_day() {
    let text = EXAMPLE.replace("2026-11-24T14:30:00+01:00", "2026-11-24T23:30:00Z");
    let s = parse(&text).expect("valid");
    assert_eq!(s.referrals[0].registered_date.to_string(), "2026-11-25");
}

#[test]
fn unknown_regions_are_named_with_their_place() {
    let text = EXAMPLE.replace(
        "\"region\": \"centraal-gelderland\"",
        "\"region\": \"food-valey\"",
    );
    let err = parse(&text).expect_err("invalid");
    assert_eq!(
        lines(err),
        vec!["referrals[1].region: unknown region \"food-valey\""]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = EXAMPLE
        .replace("Europe/Amsterdam", "Europe/Amsterdan")
        .replace("\"2026-12-08\"", "\"2026-13-08\"")
        .replace(
            "\"fv-1203-a\",\n      \"region\"",
            "\"fv-1202-a\",\n      \"region\"",
        );
    let got = lines(parse(&text).expect_err("invalid"));
    assert!(
        got.contains(&"timezone: unknown time zone \"Europe/Amsterdan\"".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"referrals[0].due: not a date (YYYY-MM-DD) \"2026-13-08\"".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"slots[1].id: duplicate slot id \"fv-1202-a\"".to_string()),
        "{got:?}"
    );
}

#[test]
fn syntax_errors_give_one_clear_line() {
    let err = parse("{\"version\": 1,").expect_err("invalid");
    assert_eq!(err.0.len(), 1);
    assert!(err.0[0].message.starts_with("not valid JSON"), "{err}");
    let err = parse(&EXAMPLE.replace("\"minutes\": 90,", "\"minutes\": \"ninety\","))
        .expect_err("invalid");
    assert!(
        err.to_string()
            .starts_with("referrals[0].minutes: invalid type"),
        "{err}"
    );
}

#[test]
fn pins_that_break_the_rules_are_rejected() {
    // R-1001 cannot come before 2026-12-02; pin it on a 2026-12-01 slot.
    let text = EXAMPLE
        .replace("2026-12-02T09:00:00+01:00", "2026-12-01T09:00:00+01:00")
        .replace("\"referral\": \"R-0999\"", "\"referral\": \"R-1001\"");
    let got = lines(parse(&text).expect_err("invalid"));
    assert_eq!(
        got,
        vec!["pinned[0]: R-1001 may not be held in slot fv-1202-a: 2026-12-01 is before the earliest date 2026-12-02"]
    );
}

#[test]
fn unknown_fields_are_warned_about_not_fatal() {
    let text = EXAMPLE.replace("\"cross_region\": true", "\"cross_regoin\": true");
    let mut warnings = Vec::new();
    let s = Scenario::parse_json(&text, &mut |w| warnings.push(w)).expect("valid");
    assert!(s.referrals[0].cross_region);
    assert_eq!(
        warnings,
        vec!["referrals[0].cross_regoin: unknown field, ignored"]
    );
}
