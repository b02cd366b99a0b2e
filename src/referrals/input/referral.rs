//! A registration and a change of a referral, parsed.

use chrono::NaiveDate;

use super::{coming_date, dates, email, CreateReferral, Problems, UpdateReferral, MAX_ORG};
use crate::config::{ReferralKind, RegionConfig, RegionId, RegionsConfig};
use crate::error::{Error, FieldError};
use crate::referrals::access::Scope;
use crate::referrals::domain::{CaseRef, ReferrerKind};
use crate::referrals::store::{NewReferral, Patch};

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
    // Left out (or blank): jbt issues one when it stores the referral; a
    // valid stand-in keeps the parsing in one piece until then.
    let case_ref = match body
        .case_ref
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => Some(CaseRef::issued(0, 0)),
        Some(text) => CaseRef::parse_typed(text)
            .map_err(|e| p.add("case_ref", e.to_string()))
            .ok(),
    };
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
    if let (Scope::Region(own), Some((home, _))) = (scope, home) {
        // A secretary registers for the own table's families (requests
        // that reach it by secure mail); others go to their own table.
        if home.id != *own {
            p.0.push(FieldError::both(
                "municipality",
                format!("this municipality belongs to {}; a table's secretary registers families of its own region only", home.name),
                format!("Deze gemeente hoort bij de tafel {}. Als secretaris meldt u alleen gezinnen uit de eigen regio aan.", home.name),
            ));
        }
    }
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
