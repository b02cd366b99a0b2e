//! The shared `SELECT` of a referral with its slots, query arguments,
//! and how a row becomes a [`Referral`].

use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Referral, SlotInfo};
use crate::config::{CbsCode, Email, ReferralKind, RegionId};
use crate::referrals::access::Scope;
use crate::referrals::domain::{CaseRef, ReferrerKind};
use crate::referrals::lifecycle::Status;
use crate::store::flag;
use crate::store::time::{from_date_text, from_millis, to_date_text};

/// Boolean columns are read as integers (`crate::store::flag`): sqlx's `Any`
/// driver cannot map a SQLite `BOOLEAN` column at all (the whole fetch
/// fails), while a `CAST` expression arrives as an integer on both backends.
pub(super) const SELECT: &str = "SELECT r.id, r.case_ref, r.municipality_cbs, r.region_id, r.kind, r.referrer_kind,
        r.referrer_org, r.referrer_email, CAST(r.safety_plan AS INTEGER) AS safety_plan,
        CAST(r.parents_informed AS INTEGER) AS parents_informed,
        CAST(r.child_12_plus AS INTEGER) AS child_12_plus, r.minutes,
        r.unavailable, r.earliest_date, CAST(r.cross_region AS INTEGER) AS cross_region, r.status, r.registered_at, r.due_date,
        r.planned_slot_id, r.booked_slot_id, r.pinned_slot_id, r.plan_explanation, r.parent_referral_id, r.close_reason, r.version,
        ps.region_id AS planned_region, ps.local_date AS planned_date, ps.start_at AS planned_start,
        ps.minutes AS planned_minutes,
        bs.region_id AS booked_region, bs.local_date AS booked_date, bs.start_at AS booked_start,
        bs.minutes AS booked_minutes
    FROM referrals r
    LEFT JOIN slots ps ON ps.id = r.planned_slot_id
    LEFT JOIN slots bs ON bs.id = r.booked_slot_id";

/// Bind values of a query assembled at run time, numbered as they are added.
#[derive(Default)]
pub(super) struct Args(Vec<Arg>);

pub(super) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
}

impl Args {
    /// Adds a value; returns its placeholder.
    pub(super) fn push(&mut self, arg: Arg) -> String {
        self.0.push(arg);
        format!("${}", self.0.len())
    }

    pub(super) fn text(&mut self, value: impl Into<String>) -> String {
        self.push(Arg::Text(value.into()))
    }

    pub(super) fn int(&mut self, value: i64) -> String {
        self.push(Arg::Int(value))
    }

    pub(super) fn bind<'q>(
        self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for arg in self.0 {
            query = match arg {
                Arg::Text(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
            };
        }
        query
    }
}

/// The scope as a SQL condition on `r` and its slots.
pub(super) fn scope_condition(scope: &Scope, args: &mut Args) -> String {
    match scope {
        Scope::All => "TRUE".into(),
        Scope::Region(region) => {
            let p = args.text(region.as_str());
            // A neighbouring table sees the file once it has accepted (the
            // booking); before that, only the offer's minimal view.
            format!("(r.region_id = {p} OR bs.region_id = {p})")
        }
        Scope::Organisation(org) => format!("r.referrer_org = {}", args.text(org.as_str())),
    }
}

/// `'a', 'b'` for `IN (...)`; `NULL` (matching nothing) when empty.
pub(super) fn status_list(statuses: &[Status]) -> String {
    if statuses.is_empty() {
        return "NULL".into();
    }
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn decode<T>(what: &str, value: &str, parsed: Option<T>) -> Result<T, sqlx::Error> {
    parsed
        .ok_or_else(|| sqlx::Error::Decode(format!("bad {what} {value:?} in the database").into()))
}

pub(super) fn to_u32(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

pub(super) fn dates_from_json(text: &str) -> Result<Vec<NaiveDate>, sqlx::Error> {
    let texts: Vec<String> = serde_json::from_str(text)
        .map_err(|e| sqlx::Error::Decode(format!("bad date list in the database: {e}").into()))?;
    texts.iter().map(|t| from_date_text(t)).collect()
}

pub(super) fn dates_to_json(dates: &[NaiveDate]) -> String {
    let texts: Vec<String> = dates.iter().copied().map(to_date_text).collect();
    serde_json::Value::from(texts).to_string()
}

pub(super) fn slot_from_row(
    row: &AnyRow,
    id_column: &str,
    prefix: &str,
) -> Result<Option<SlotInfo>, sqlx::Error> {
    let Some(id) = row.try_get::<Option<String>, _>(id_column)? else {
        return Ok(None);
    };
    let region: Option<String> = row.try_get(format!("{prefix}_region").as_str())?;
    let date: Option<String> = row.try_get(format!("{prefix}_date").as_str())?;
    let start: Option<i64> = row.try_get(format!("{prefix}_start").as_str())?;
    let minutes: Option<i64> = row.try_get(format!("{prefix}_minutes").as_str())?;
    match (region, date, start, minutes) {
        (Some(region), Some(date), Some(start), Some(minutes)) => Ok(Some(SlotInfo {
            id,
            region,
            date: from_date_text(&date)?,
            start: from_millis(start),
            minutes: to_u32(minutes),
        })),
        _ => Err(sqlx::Error::Decode(
            format!("slot {id:?} of a referral is missing").into(),
        )),
    }
}

pub(super) fn referral_from_row(row: &AnyRow) -> Result<Referral, sqlx::Error> {
    let text = |column: &str| row.try_get::<String, _>(column);
    let flag = |column: &str| flag(row, column);
    let case_ref = text("case_ref")?;
    let cbs = text("municipality_cbs")?;
    let region = text("region_id")?;
    let kind = text("kind")?;
    let referrer_kind = text("referrer_kind")?;
    let email = text("referrer_email")?;
    let status = text("status")?;
    Ok(Referral {
        id: row.try_get("id")?,
        case_ref: CaseRef::from_stored(case_ref),
        municipality: decode("CBS code", &cbs, CbsCode::parse(&cbs).ok())?,
        region: decode("region", &region, RegionId::parse(&region).ok())?,
        kind: decode("kind", &kind, ReferralKind::parse(&kind))?,
        referrer_kind: decode(
            "referrer kind",
            &referrer_kind,
            ReferrerKind::parse(&referrer_kind),
        )?,
        referrer_org: text("referrer_org")?,
        referrer_email: decode("e-mail address", &email, Email::parse(&email).ok())?,
        safety_plan: flag("safety_plan")?,
        parents_informed: flag("parents_informed")?,
        child_12_plus: flag("child_12_plus")?,
        minutes: to_u32(row.try_get("minutes")?),
        unavailable: dates_from_json(&text("unavailable")?)?,
        earliest: row
            .try_get::<Option<String>, _>("earliest_date")?
            .map(|d| from_date_text(&d))
            .transpose()?,
        cross_region: flag("cross_region")?,
        status: decode("status", &status, Status::parse(&status))?,
        registered_at: from_millis(row.try_get("registered_at")?),
        due: from_date_text(&text("due_date")?)?,
        planned_slot: slot_from_row(row, "planned_slot_id", "planned")?,
        booked_slot: slot_from_row(row, "booked_slot_id", "booked")?,
        pinned_slot_id: row.try_get("pinned_slot_id")?,
        plan_explanation: row.try_get("plan_explanation")?,
        parent_referral_id: row.try_get("parent_referral_id")?,
        close_reason: row.try_get("close_reason")?,
        version: row.try_get("version")?,
    })
}
