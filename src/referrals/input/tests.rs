//! Parsing of registrations, changes, outcomes and list filters.

use chrono::NaiveDate;

use super::*;
use crate::config::{ReferralKind, RegionId, RegionsConfig};
use crate::error::Error;
use crate::referrals::access::Scope;
use crate::referrals::lifecycle::Status;

fn regions() -> RegionsConfig {
    RegionsConfig::builtin().expect("built-in regions")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).expect("date")
}

fn body() -> CreateReferral {
    CreateReferral {
        case_ref: Some("ST-EDE-0042".into()),
        municipality: Some("Ede".into()),
        kind: Some("vtb".into()),
        referrer_kind: Some("local_team".into()),
        referrer_org: Some("Sociaal Team Ede".into()),
        referrer_email: Some("j.jansen@example.org".into()),
        safety_plan: Some(true),
        parents_informed: Some(true),
        child_12_plus: Some(false),
        unavailable: vec![
            "2026-12-04".into(),
            "2026-12-02".into(),
            "2026-12-04".into(),
        ],
        earliest: None,
        cross_region: None,
        remarks: None,
    }
}

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Invalid(fields) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn a_good_registration_parses_with_its_home_region() {
    let new = parse_create(&body(), &Scope::All, &regions(), today(), today()).expect("valid");
    assert_eq!(new.region.as_str(), "food-valley");
    assert_eq!(new.municipality.as_str(), "GM0228");
    assert!(new.cross_region);
    assert_eq!(new.unavailable.len(), 2, "sorted and deduplicated");
}

#[test]
fn every_problem_is_reported_at_once() {
    let bad = CreateReferral {
        case_ref: Some("2014-03-05".into()),
        municipality: Some("Amsterdam".into()),
        kind: Some("ots".into()),
        referrer_kind: Some("police".into()),
        referrer_email: Some("not-an-email".into()),
        unavailable: vec!["04-12-2026".into()],
        earliest: Some("2026-11-01".into()),
        ..CreateReferral::default()
    };
    let got =
        fields(parse_create(&bad, &Scope::All, &regions(), today(), today()).expect_err("invalid"));
    for field in [
        "case_ref",
        "municipality",
        "kind",
        "referrer_kind",
        "referrer_org",
        "referrer_email",
        "child_12_plus",
        "unavailable[0]",
        "earliest",
    ] {
        assert!(
            got.iter().any(|f| f == field),
            "{field} missing from {got:?}"
        );
    }
}

#[test]
fn a_referrer_always_registers_for_the_own_organisation() {
    let mut b = body();
    b.referrer_org = Some("Someone Else".into());
    let scope = Scope::Organisation("Sociaal Team Ede".into());
    let new = parse_create(&b, &scope, &regions(), today(), today()).expect("valid");
    assert_eq!(new.referrer_org, "Sociaal Team Ede");
}

#[test]
fn a_table_without_the_kind_needs_a_neighbour() {
    // The Rijk van Nijmegen table does not hold ots_end conversations.
    let mut b = body();
    b.municipality = Some("Nijmegen".into());
    b.kind = Some("ots_end".into());
    b.cross_region = Some(false);
    let got =
        fields(parse_create(&b, &Scope::All, &regions(), today(), today()).expect_err("invalid"));
    assert_eq!(got, vec!["cross_region"]);
    b.cross_region = None;
    assert!(parse_create(&b, &Scope::All, &regions(), today(), today()).is_ok());
}

#[test]
fn missing_confirmations_parse_as_not_given() {
    let mut b = body();
    b.safety_plan = None;
    b.parents_informed = None;
    let new = parse_create(&b, &Scope::All, &regions(), today(), today()).expect("valid");
    assert_eq!(new.initial_status(), Status::Incomplete);
}

#[test]
fn dates_must_be_written_in_full() {
    assert!(parse_date("2026-12-02").is_ok());
    assert!(parse_date("2026-12-2").is_err());
    assert!(parse_date("02-12-2026").is_err());
    assert!(parse_date("2026-02-30").is_err());
}

#[test]
fn an_empty_update_is_refused() {
    let home = RegionId::parse("food-valley").expect("id");
    let got = fields(
        parse_update(
            &UpdateReferral::default(),
            &regions(),
            &home,
            ReferralKind::Vtb,
            today(),
        )
        .expect_err("empty"),
    );
    assert_eq!(got, vec!["body"]);
}

#[test]
fn earliest_null_clears_the_date() {
    let body: UpdateReferral = serde_json::from_str(r#"{"earliest": null}"#).expect("json");
    assert_eq!(body.earliest, Some(None));
    let body: UpdateReferral = serde_json::from_str("{}").expect("json");
    assert_eq!(body.earliest, None);
}

#[test]
fn unknown_fields_are_refused() {
    let parsed: Result<CreateReferral, _> = serde_json::from_str(r#"{"name": "Jan"}"#);
    assert!(parsed.is_err());
}

#[test]
fn outcome_texts_are_limited_and_evaluation_dates_lie_ahead() {
    let body = RecordOutcome {
        outcome: Some("voluntary_binding".into()),
        route: "x".repeat(MAX_TEXT + 1),
        evaluation_date: Some("2026-11-30".into()),
        ..RecordOutcome::default()
    };
    let got = fields(parse_outcome(&body, today()).expect_err("invalid"));
    assert_eq!(got, vec!["route", "evaluation_date"]);
}

#[test]
fn list_filters_parse_several_statuses() {
    let params = ListParams {
        status: Some("registered, planned".into()),
        municipality: Some("gm0228".into()),
        ..ListParams::default()
    };
    let filter = parse_list(&params, &regions()).expect("valid");
    assert_eq!(filter.statuses, vec![Status::Registered, Status::Planned]);
    assert_eq!(filter.limit, DEFAULT_LIMIT);
    let bad = ListParams {
        status: Some("done".into()),
        limit: Some("0".into()),
        offset: Some("x".into()),
        ..ListParams::default()
    };
    assert_eq!(
        fields(parse_list(&bad, &regions()).expect_err("invalid")),
        vec!["status", "limit", "offset"]
    );
}

#[test]
fn a_written_evaluation_needs_a_coming_date_and_who_delivers_it() {
    let only_date = RecordOutcome {
        outcome: Some("voluntary_binding".into()),
        written_evaluation_date: Some("2026-12-20".into()),
        ..RecordOutcome::default()
    };
    let got = fields(parse_outcome(&only_date, today()).expect_err("invalid"));
    assert_eq!(got, vec!["written_evaluation_by"]);
    let past = RecordOutcome {
        outcome: Some("voluntary_binding".into()),
        written_evaluation_date: Some("2026-11-01".into()),
        written_evaluation_by: Some("lokaal team".into()),
        ..RecordOutcome::default()
    };
    let got = fields(parse_outcome(&past, today()).expect_err("invalid"));
    assert_eq!(got, vec!["written_evaluation_date"]);
    let good = RecordOutcome {
        outcome: Some("voluntary_binding".into()),
        written_evaluation_date: Some("2026-12-20".into()),
        written_evaluation_by: Some(" lokaal team ".into()),
        ..RecordOutcome::default()
    };
    let parsed = parse_outcome(&good, today()).expect("valid");
    assert_eq!(
        parsed.written_evaluation,
        Some((
            NaiveDate::from_ymd_opt(2026, 12, 20).expect("date"),
            "lokaal team".to_string()
        ))
    );
}
