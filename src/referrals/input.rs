//! Request bodies and query parameters, and their parsing into the
//! domain types of [`super::store`]. Parsing collects every field problem
//! at once, so a form shows all its mistakes in one round trip.
//!
//! Bodies refuse unknown fields: a stray `name` or `bsn` field must fail
//! loudly rather than be dropped silently, since it means a client is
//! sending personal data the service must not receive.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use super::access::Scope;
use super::domain::{CaseRef, OutcomeKind, ReferrerKind};
use super::lifecycle::Status;
use super::store::{ListFilter, NewOutcome, NewReferral, Patch};
use crate::config::{CbsCode, Email, ReferralKind, RegionConfig, RegionId, RegionsConfig};
use crate::error::{Error, FieldError};

/// Free texts of an outcome are short notes, not reports.
pub const MAX_TEXT: usize = 2000;
const MAX_ORG: usize = 200;
const MAX_UNAVAILABLE: usize = 100;
/// How far ahead dates may lie; further is a typo (2062 for 2026).
const MAX_DAYS_AHEAD: u64 = 366;
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// Registration of a referral (*verzoek tot bespreking*).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    /// Pseudonymous case reference: 3-40 characters A-Z, a-z, 0-9 and '-',
    /// at least one letter; never a name, BSN or birth date.
    #[schema(required = true, example = "ST-EDE-0042")]
    pub case_ref: Option<String>,
    /// CBS code (`GM0228`) or name (`Ede`) of the child's municipality; it
    /// decides the home region.
    #[schema(required = true, example = "GM0228")]
    pub municipality: Option<String>,
    /// `vtb`, `ots_end` or `evaluation`.
    #[schema(required = true, example = "vtb")]
    pub kind: Option<String>,
    /// `local_team`, `veilig_thuis`, `certified_institution`,
    /// `attendance_officer` or `care_provider`.
    #[schema(required = true, example = "local_team")]
    pub referrer_kind: Option<String>,
    /// Referring organisation; for referrers always their own.
    pub referrer_org: Option<String>,
    /// Work e-mail address of the referring professional.
    #[schema(required = true, example = "j.jansen@sociaalteam-ede.example.org")]
    pub referrer_email: Option<String>,
    /// A safety plan is in place. Without it the referral is `incomplete`.
    pub safety_plan: Option<bool>,
    /// The parents know about the referral. Without it the referral is `incomplete`.
    pub parents_informed: Option<bool>,
    /// The child is 12 or older and is heard separately (120 instead of 90 minutes).
    #[schema(required = true)]
    pub child_12_plus: Option<bool>,
    /// Local dates (`YYYY-MM-DD`) on which the conversation cannot be held.
    #[serde(default)]
    pub unavailable: Vec<String>,
    /// Local date before which it cannot be held.
    pub earliest: Option<String>,
    /// May be held at a neighbouring region's table (default true).
    pub cross_region: Option<bool>,
}

/// Changes to a referral; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReferral {
    pub referrer_email: Option<String>,
    pub safety_plan: Option<bool>,
    pub parents_informed: Option<bool>,
    pub child_12_plus: Option<bool>,
    pub unavailable: Option<Vec<String>>,
    /// `null` removes the earliest date.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub earliest: Option<Option<String>>,
    pub cross_region: Option<bool>,
    /// When given, the change is refused (409) if the referral's version differs.
    pub version: Option<i64>,
}

/// Distinguishes an absent field (`None`) from `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Why the table cancels a referral.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelReferral {
    #[schema(example = "the family moved out of Gelderland")]
    pub reason: String,
}

/// Optional note with a withdrawal.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawReferral {
    pub reason: Option<String>,
}

/// Confirms a booking; without `slot_id` the planned slot is booked.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBooking {
    pub referral_id: i64,
    pub slot_id: Option<String>,
}

/// The outcome of a held conversation.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOutcome {
    /// `voluntary_local_team`, `voluntary_binding`, `voluntary_binding_raad`
    /// or `raad_investigation`.
    #[schema(required = true, example = "voluntary_binding")]
    pub outcome: Option<String>,
    /// The agreed route (max 2000 characters).
    #[serde(default)]
    pub route: String,
    /// The help that is started or continued (max 2000 characters).
    #[serde(default)]
    pub help: String,
    /// Safety agreements (max 2000 characters).
    #[serde(default)]
    pub safety_agreements: String,
    /// Date of an evaluation; registers an `evaluation` referral for it.
    pub evaluation_date: Option<String>,
}

/// Filters of `GET /referrals`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// One status or several separated by commas (`registered,planned`).
    pub status: Option<String>,
    /// Home region id.
    pub region: Option<String>,
    /// CBS code or name.
    pub municipality: Option<String>,
    pub kind: Option<String>,
    /// Only referrals due before this local date.
    pub due_before: Option<String>,
    /// At most this many (default 50, at most 500).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Skip this many.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// Collects field problems.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.add(field, "is required");
        }
        value
    }

    fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// A local date written `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 10);
    parsed.ok_or_else(|| format!("{text:?} is not a date written as YYYY-MM-DD"))
}

/// A date from today up to a year ahead.
fn coming_date(
    problems: &mut Problems,
    field: &str,
    text: &str,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let date = match parse_date(text) {
        Ok(date) => date,
        Err(message) => {
            problems.add(field, message);
            return None;
        }
    };
    let last = today
        .checked_add_days(Days::new(MAX_DAYS_AHEAD))
        .unwrap_or(NaiveDate::MAX);
    if date < today {
        problems.add(field, "lies in the past");
        None
    } else if date > last {
        problems.add(field, "lies more than a year ahead");
        None
    } else {
        Some(date)
    }
}

fn dates(
    problems: &mut Problems,
    field: &str,
    texts: &[String],
    today: NaiveDate,
) -> Vec<NaiveDate> {
    if texts.len() > MAX_UNAVAILABLE {
        problems.add(field, format!("at most {MAX_UNAVAILABLE} dates"));
        return Vec::new();
    }
    let mut dates: Vec<NaiveDate> = texts
        .iter()
        .enumerate()
        .filter_map(|(i, text)| coming_date(problems, &format!("{field}[{i}]"), text, today))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    dates
}

fn email(problems: &mut Problems, text: &str) -> Option<Email> {
    Email::parse(text.trim())
        .map_err(|e| problems.add("referrer_email", e.reason))
        .ok()
}

/// Can a referral of `kind` from `home` be held anywhere? Tables hold only
/// the kinds they are configured for; a neighbour may take over when
/// `cross_region` allows it.
fn placement_problem(
    regions: &RegionsConfig,
    home: &RegionConfig,
    kind: ReferralKind,
    cross_region: bool,
) -> Option<FieldError> {
    if home.handles(kind) {
        return None;
    }
    let neighbour_handles = home
        .neighbours
        .iter()
        .filter_map(|n| regions.region(n))
        .any(|n| n.handles(kind));
    Some(if !neighbour_handles {
        FieldError::new(
            "kind",
            format!(
                "no table in or next to {} holds {kind} conversations",
                home.name
            ),
        )
    } else if !cross_region {
        FieldError::new(
            "cross_region",
            format!(
                "the {} table does not hold {kind} conversations; allow a neighbouring table",
                home.name
            ),
        )
    } else {
        return None;
    })
}

/// Parses a registration. `scope` forces a referrer's own organisation;
/// `due` is the norm date computed by the caller.
pub fn parse_create(
    body: &CreateReferral,
    scope: &Scope,
    regions: &RegionsConfig,
    today: NaiveDate,
    due: NaiveDate,
) -> Result<NewReferral, Error> {
    let mut p = Problems::default();
    let case_ref = p
        .required("case_ref", body.case_ref.as_deref())
        .and_then(|text| {
            CaseRef::parse(text.trim())
                .map_err(|e| p.add("case_ref", e.to_string()))
                .ok()
        });
    let home = p.required("municipality", body.municipality.as_deref()).and_then(|text| {
        let found = regions.municipality(text);
        if found.is_none() {
            p.add("municipality", format!("unknown municipality {text:?}; give a CBS code (GM0228) or a name in Gelderland"));
        }
        found
    });
    let kind = p.required("kind", body.kind.as_deref()).and_then(|text| {
        let kind = ReferralKind::parse(text.trim());
        if kind.is_none() {
            p.add("kind", "must be one of vtb, ots_end, evaluation");
        }
        kind
    });
    let referrer_kind = p.required("referrer_kind", body.referrer_kind.as_deref()).and_then(|text| {
        let kind = ReferrerKind::parse(text.trim());
        if kind.is_none() {
            p.add(
                "referrer_kind",
                "must be one of local_team, veilig_thuis, certified_institution, attendance_officer, care_provider",
            );
        }
        kind
    });
    let referrer_org = match scope {
        // A referrer registers for their own organisation, whatever the body says.
        Scope::Organisation(own) => Some(own.clone()),
        _ => p
            .required("referrer_org", body.referrer_org.as_deref())
            .and_then(|text| {
                let text = text.trim();
                if text.is_empty() || text.chars().count() > MAX_ORG {
                    p.add("referrer_org", format!("must be 1 to {MAX_ORG} characters"));
                    None
                } else {
                    Some(text.to_string())
                }
            }),
    };
    let referrer_email = p
        .required("referrer_email", body.referrer_email.as_deref())
        .and_then(|t| email(&mut p, t));
    let child_12_plus = p.required("child_12_plus", body.child_12_plus);
    let unavailable = dates(&mut p, "unavailable", &body.unavailable, today);
    let earliest = body
        .earliest
        .as_deref()
        .and_then(|t| coming_date(&mut p, "earliest", t, today));
    let cross_region = body.cross_region.unwrap_or(true);
    if let (Some((home, _)), Some(kind)) = (home, kind) {
        if let Some(problem) = placement_problem(regions, home, kind, cross_region) {
            p.0.push(problem);
        }
    }
    p.finish()?;
    match (
        case_ref,
        home,
        kind,
        referrer_kind,
        referrer_org,
        referrer_email,
        child_12_plus,
    ) {
        (
            Some(case_ref),
            Some((region, municipality)),
            Some(kind),
            Some(referrer_kind),
            Some(referrer_org),
            Some(referrer_email),
            Some(child_12_plus),
        ) => Ok(NewReferral {
            case_ref,
            municipality: municipality.cbs.clone(),
            region: region.id.clone(),
            kind,
            referrer_kind,
            referrer_org,
            referrer_email,
            safety_plan: body.safety_plan.unwrap_or(false),
            parents_informed: body.parents_informed.unwrap_or(false),
            child_12_plus,
            unavailable,
            earliest,
            cross_region,
            due,
            parent_referral_id: None,
        }),
        // Every None above added a problem, so finish() returned already.
        _ => Err(Error::Internal(anyhow::anyhow!(
            "referral parsing lost a field problem"
        ))),
    }
}

/// Parses a change. `kind` and `home` are the referral's, to check that
/// switching off `cross_region` leaves a table that can hold it.
pub fn parse_update(
    body: &UpdateReferral,
    regions: &RegionsConfig,
    home: &RegionId,
    kind: ReferralKind,
    today: NaiveDate,
) -> Result<Patch, Error> {
    let mut p = Problems::default();
    let patch = Patch {
        referrer_email: body
            .referrer_email
            .as_deref()
            .and_then(|t| email(&mut p, t)),
        safety_plan: body.safety_plan,
        parents_informed: body.parents_informed,
        child_12_plus: body.child_12_plus,
        unavailable: body
            .unavailable
            .as_ref()
            .map(|texts| dates(&mut p, "unavailable", texts, today)),
        earliest: body.earliest.as_ref().map(|e| {
            e.as_deref()
                .and_then(|t| coming_date(&mut p, "earliest", t, today))
        }),
        cross_region: body.cross_region,
    };
    if let (Some(false), Some(home)) = (body.cross_region, regions.region(home)) {
        if let Some(problem) = placement_problem(regions, home, kind, false) {
            p.0.push(problem);
        }
    }
    if patch.is_empty() {
        p.add("body", "nothing to change");
    }
    p.finish()?;
    Ok(patch)
}

/// Parses an outcome; an evaluation date must lie ahead.
pub fn parse_outcome(body: &RecordOutcome, today: NaiveDate) -> Result<NewOutcome, Error> {
    let mut p = Problems::default();
    let outcome = p.required("outcome", body.outcome.as_deref()).and_then(|text| {
        let kind = OutcomeKind::parse(text.trim());
        if kind.is_none() {
            p.add(
                "outcome",
                "must be one of voluntary_local_team, voluntary_binding, voluntary_binding_raad, raad_investigation",
            );
        }
        kind
    });
    for (field, text) in [
        ("route", &body.route),
        ("help", &body.help),
        ("safety_agreements", &body.safety_agreements),
    ] {
        if text.chars().count() > MAX_TEXT {
            p.add(field, format!("at most {MAX_TEXT} characters"));
        }
    }
    let evaluation_date = body.evaluation_date.as_deref().and_then(|text| {
        let date = coming_date(&mut p, "evaluation_date", text, today)?;
        if date == today {
            p.add("evaluation_date", "must lie after today");
            return None;
        }
        Some(date)
    });
    p.finish()?;
    let outcome = outcome
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("outcome parsing lost a field problem")))?;
    Ok(NewOutcome {
        outcome,
        route: body.route.trim().to_string(),
        help: body.help.trim().to_string(),
        safety_agreements: body.safety_agreements.trim().to_string(),
        evaluation_date,
    })
}

/// Parses the list filters.
pub fn parse_list(params: &ListParams, regions: &RegionsConfig) -> Result<ListFilter, Error> {
    let mut p = Problems::default();
    let statuses = params
        .status
        .as_deref()
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .filter_map(|s| {
                    let status = Status::parse(s);
                    if status.is_none() {
                        p.add("status", format!("unknown status {s:?}"));
                    }
                    status
                })
                .collect()
        })
        .unwrap_or_default();
    let region = params.region.as_deref().and_then(|text| {
        let id = RegionId::parse(text.trim())
            .ok()
            .filter(|id| regions.region(id).is_some());
        if id.is_none() {
            p.add("region", format!("unknown region {text:?}"));
        }
        id
    });
    let municipality: Option<CbsCode> = params.municipality.as_deref().and_then(|text| {
        let found = regions.municipality(text).map(|(_, m)| m.cbs.clone());
        if found.is_none() {
            p.add("municipality", format!("unknown municipality {text:?}"));
        }
        found
    });
    let kind = params.kind.as_deref().and_then(|text| {
        let kind = ReferralKind::parse(text.trim());
        if kind.is_none() {
            p.add("kind", "must be one of vtb, ots_end, evaluation");
        }
        kind
    });
    let due_before = params.due_before.as_deref().and_then(|text| {
        parse_date(text.trim())
            .map_err(|m| p.add("due_before", m))
            .ok()
    });
    let number = |text: Option<&str>, default: i64| {
        text.map_or(Some(default), |t| t.trim().parse::<i64>().ok())
    };
    let limit =
        number(params.limit.as_deref(), DEFAULT_LIMIT).filter(|n| (1..=MAX_LIMIT).contains(n));
    if limit.is_none() {
        p.add("limit", format!("must be a number from 1 to {MAX_LIMIT}"));
    }
    let offset = number(params.offset.as_deref(), 0).filter(|n| *n >= 0);
    if offset.is_none() {
        p.add("offset", "must be a number, 0 or more");
    }
    p.finish()?;
    Ok(ListFilter {
        statuses,
        region,
        municipality,
        kind,
        due_before,
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        offset: offset.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let got = fields(
            parse_create(&bad, &Scope::All, &regions(), today(), today()).expect_err("invalid"),
        );
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
        let got = fields(
            parse_create(&b, &Scope::All, &regions(), today(), today()).expect_err("invalid"),
        );
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
}
