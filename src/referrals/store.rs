//! SQL for referrals and outcomes. Runs on SQLite and PostgreSQL alike
//! (sqlx `Any`: `$n` placeholders, integers as i64, booleans as bool).
//!
//! Status changes are guarded in SQL (`WHERE id = $1 AND status = $2`) and
//! report whether they happened, so of two concurrent requests only one can
//! pass; the caller turns `false` into a 409. Writers take a
//! `&mut AnyConnection` that is a write transaction (`state.store.write()`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::access::Scope;
use super::domain::{minutes_needed, missing, CaseRef, OutcomeKind, ReferrerKind};
use super::lifecycle::{Event, Status};
use crate::config::{CbsCode, Email, ReferralKind, RegionId};
use crate::store::flag;
use crate::store::time::{from_date_text, from_millis, to_date_text, to_millis};

/// A slot a referral is planned or booked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    pub id: String,
    pub region: String,
    /// Local date.
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub minutes: u32,
}

/// A stored referral, with its slots.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    pub id: i64,
    pub case_ref: CaseRef,
    pub municipality: CbsCode,
    /// Home region (from the municipality at registration).
    pub region: RegionId,
    pub kind: ReferralKind,
    pub referrer_kind: ReferrerKind,
    pub referrer_org: String,
    pub referrer_email: Email,
    pub safety_plan: bool,
    pub parents_informed: bool,
    pub child_12_plus: bool,
    pub minutes: u32,
    pub unavailable: Vec<NaiveDate>,
    pub earliest: Option<NaiveDate>,
    pub cross_region: bool,
    pub status: Status,
    pub registered_at: DateTime<Utc>,
    pub due: NaiveDate,
    pub planned_slot: Option<SlotInfo>,
    pub booked_slot: Option<SlotInfo>,
    /// The planner's explanation, JSON text.
    pub plan_explanation: Option<String>,
    pub parent_referral_id: Option<i64>,
    /// Why it was withdrawn or cancelled, in the words of who did it: case
    /// content, so kept here, scoped like the referral, never in the audit
    /// log, logs or mails.
    pub close_reason: Option<String>,
    pub version: i64,
}

impl Referral {
    pub fn missing(&self) -> Vec<&'static str> {
        missing(self.safety_plan, self.parents_informed)
    }

    /// The booked slot, else the planned one.
    pub fn slot(&self) -> Option<&SlotInfo> {
        self.booked_slot.as_ref().or(self.planned_slot.as_ref())
    }
}

/// A referral to register; every field already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReferral {
    pub case_ref: CaseRef,
    pub municipality: CbsCode,
    pub region: RegionId,
    pub kind: ReferralKind,
    pub referrer_kind: ReferrerKind,
    pub referrer_org: String,
    pub referrer_email: Email,
    pub safety_plan: bool,
    pub parents_informed: bool,
    pub child_12_plus: bool,
    pub unavailable: Vec<NaiveDate>,
    pub earliest: Option<NaiveDate>,
    pub cross_region: bool,
    pub due: NaiveDate,
    pub parent_referral_id: Option<i64>,
}

impl NewReferral {
    /// Incomplete until it has a safety plan and the parents are informed.
    pub fn initial_status(&self) -> Status {
        if missing(self.safety_plan, self.parents_informed).is_empty() {
            Status::Registered
        } else {
            Status::Incomplete
        }
    }
}

/// Changes to a referral's editable fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patch {
    pub referrer_email: Option<Email>,
    pub safety_plan: Option<bool>,
    pub parents_informed: Option<bool>,
    pub child_12_plus: Option<bool>,
    pub unavailable: Option<Vec<NaiveDate>>,
    /// `Some(None)` clears it.
    pub earliest: Option<Option<NaiveDate>>,
    pub cross_region: Option<bool>,
}

impl Patch {
    pub fn is_empty(&self) -> bool {
        *self == Patch::default()
    }

    /// Whether the change can move the referral in the plan.
    pub fn affects_plan(&self) -> bool {
        self.safety_plan.is_some()
            || self.parents_informed.is_some()
            || self.child_12_plus.is_some()
            || self.unavailable.is_some()
            || self.earliest.is_some()
            || self.cross_region.is_some()
    }

    /// The API names of the fields it changes (for the audit log).
    pub fn field_names(&self) -> Vec<&'static str> {
        [
            ("referrer_email", self.referrer_email.is_some()),
            ("safety_plan", self.safety_plan.is_some()),
            ("parents_informed", self.parents_informed.is_some()),
            ("child_12_plus", self.child_12_plus.is_some()),
            ("unavailable", self.unavailable.is_some()),
            ("earliest", self.earliest.is_some()),
            ("cross_region", self.cross_region.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }

    /// Whether it takes away the safety plan or the parents' information.
    pub fn makes_incomplete(&self) -> bool {
        self.safety_plan == Some(false) || self.parents_informed == Some(false)
    }
}

/// The outcome of a conversation, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutcome {
    pub outcome: OutcomeKind,
    pub route: String,
    pub help: String,
    pub safety_agreements: String,
    pub evaluation_date: Option<NaiveDate>,
}

/// Filters of the list; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// Any of these.
    pub statuses: Vec<Status>,
    /// Home region.
    pub region: Option<RegionId>,
    pub municipality: Option<CbsCode>,
    pub kind: Option<ReferralKind>,
    /// Due strictly before this date.
    pub due_before: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

/// A slot as a booking needs to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookableSlot {
    pub id: String,
    pub region: String,
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub minutes: u32,
    pub cancelled: bool,
}

/// Boolean columns are read as integers (`crate::store::flag`): sqlx's `Any`
/// driver cannot map a SQLite `BOOLEAN` column at all (the whole fetch
/// fails), while a `CAST` expression arrives as an integer on both backends.
const SELECT: &str = "SELECT r.id, r.case_ref, r.municipality_cbs, r.region_id, r.kind, r.referrer_kind,
        r.referrer_org, r.referrer_email, CAST(r.safety_plan AS INTEGER) AS safety_plan,
        CAST(r.parents_informed AS INTEGER) AS parents_informed,
        CAST(r.child_12_plus AS INTEGER) AS child_12_plus, r.minutes,
        r.unavailable, r.earliest_date, CAST(r.cross_region AS INTEGER) AS cross_region, r.status, r.registered_at, r.due_date,
        r.planned_slot_id, r.booked_slot_id, r.plan_explanation, r.parent_referral_id, r.close_reason, r.version,
        ps.region_id AS planned_region, ps.local_date AS planned_date, ps.start_at AS planned_start,
        ps.minutes AS planned_minutes,
        bs.region_id AS booked_region, bs.local_date AS booked_date, bs.start_at AS booked_start,
        bs.minutes AS booked_minutes
    FROM referrals r
    LEFT JOIN slots ps ON ps.id = r.planned_slot_id
    LEFT JOIN slots bs ON bs.id = r.booked_slot_id";

/// Bind values of a query assembled at run time, numbered as they are added.
#[derive(Default)]
struct Args(Vec<Arg>);

enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
}

impl Args {
    /// Adds a value; returns its placeholder.
    fn push(&mut self, arg: Arg) -> String {
        self.0.push(arg);
        format!("${}", self.0.len())
    }

    fn text(&mut self, value: impl Into<String>) -> String {
        self.push(Arg::Text(value.into()))
    }

    fn int(&mut self, value: i64) -> String {
        self.push(Arg::Int(value))
    }

    fn bind<'q>(
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
fn scope_condition(scope: &Scope, args: &mut Args) -> String {
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
fn status_list(statuses: &[Status]) -> String {
    if statuses.is_empty() {
        return "NULL".into();
    }
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn decode<T>(what: &str, value: &str, parsed: Option<T>) -> Result<T, sqlx::Error> {
    parsed
        .ok_or_else(|| sqlx::Error::Decode(format!("bad {what} {value:?} in the database").into()))
}

fn to_u32(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn dates_from_json(text: &str) -> Result<Vec<NaiveDate>, sqlx::Error> {
    let texts: Vec<String> = serde_json::from_str(text)
        .map_err(|e| sqlx::Error::Decode(format!("bad date list in the database: {e}").into()))?;
    texts.iter().map(|t| from_date_text(t)).collect()
}

fn dates_to_json(dates: &[NaiveDate]) -> String {
    let texts: Vec<String> = dates.iter().copied().map(to_date_text).collect();
    serde_json::Value::from(texts).to_string()
}

fn slot_from_row(
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

fn referral_from_row(row: &AnyRow) -> Result<Referral, sqlx::Error> {
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
        plan_explanation: row.try_get("plan_explanation")?,
        parent_referral_id: row.try_get("parent_referral_id")?,
        close_reason: row.try_get("close_reason")?,
        version: row.try_get("version")?,
    })
}

/// Registers a referral; returns its id. A taken `case_ref` is a unique
/// violation (`crate::store::is_unique_violation`).
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewReferral,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let at = to_millis(now);
    let row = sqlx::query(
        "INSERT INTO referrals (case_ref, municipality_cbs, region_id, kind, referrer_kind, referrer_org,
             referrer_email, safety_plan, parents_informed, child_12_plus, minutes, unavailable,
             earliest_date, cross_region, status, registered_at, due_date, parent_referral_id,
             created_by, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 1, $16, $16)
         RETURNING id",
    )
    .bind(new.case_ref.as_str())
    .bind(new.municipality.as_str())
    .bind(new.region.as_str())
    .bind(new.kind.as_str())
    .bind(new.referrer_kind.as_str())
    .bind(new.referrer_org.as_str())
    .bind(new.referrer_email.as_str())
    .bind(new.safety_plan)
    .bind(new.parents_informed)
    .bind(new.child_12_plus)
    .bind(i64::from(minutes_needed(new.child_12_plus)))
    .bind(dates_to_json(&new.unavailable))
    .bind(new.earliest.map(to_date_text))
    .bind(new.cross_region)
    .bind(new.initial_status().as_str())
    .bind(at)
    .bind(to_date_text(new.due))
    .bind(new.parent_referral_id)
    .bind(created_by)
    .fetch_one(&mut *conn)
    .await?;
    row.try_get("id")
}

/// One referral, if it exists and is in `scope`.
#[tracing::instrument(skip(conn))]
pub async fn get(
    conn: &mut AnyConnection,
    id: i64,
    scope: &Scope,
) -> Result<Option<Referral>, sqlx::Error> {
    let mut args = Args::default();
    let id_param = args.int(id);
    let condition = scope_condition(scope, &mut args);
    let sql = format!("{SELECT} WHERE r.id = {id_param} AND {condition}");
    let row = args
        .bind(sqlx::query(&sql))
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(referral_from_row).transpose()
}

/// Referrals in `scope` matching `filter`, by due date.
#[tracing::instrument(skip(conn))]
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &ListFilter,
) -> Result<Vec<Referral>, sqlx::Error> {
    let mut args = Args::default();
    let mut conditions = vec![scope_condition(scope, &mut args)];
    if !filter.statuses.is_empty() {
        // Status names come from the enum, not from the request.
        conditions.push(format!("r.status IN ({})", status_list(&filter.statuses)));
    }
    if let Some(region) = &filter.region {
        conditions.push(format!("r.region_id = {}", args.text(region.as_str())));
    }
    if let Some(cbs) = &filter.municipality {
        conditions.push(format!("r.municipality_cbs = {}", args.text(cbs.as_str())));
    }
    if let Some(kind) = filter.kind {
        conditions.push(format!("r.kind = {}", args.text(kind.as_str())));
    }
    if let Some(date) = filter.due_before {
        // 'YYYY-MM-DD' text sorts as the dates do.
        conditions.push(format!("r.due_date < {}", args.text(to_date_text(date))));
    }
    let limit = args.int(filter.limit);
    let offset = args.int(filter.offset);
    let sql = format!(
        "{SELECT} WHERE {} ORDER BY r.due_date, r.registered_at, r.id LIMIT {limit} OFFSET {offset}",
        conditions.join(" AND ")
    );
    let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter().map(referral_from_row).collect()
}

/// Applies `patch` if the referral is still in one of `allowed` statuses.
#[tracing::instrument(skip(conn, patch))]
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    patch: &Patch,
    allowed: &[Status],
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    // Only the fields in the patch are written, so two edits of different
    // fields at the same time both survive.
    let mut args = Args::default();
    let mut sets = Vec::new();
    if let Some(email) = &patch.referrer_email {
        sets.push(format!("referrer_email = {}", args.text(email.as_str())));
    }
    for (column, value) in [
        ("safety_plan", patch.safety_plan),
        ("parents_informed", patch.parents_informed),
        ("child_12_plus", patch.child_12_plus),
        ("cross_region", patch.cross_region),
    ] {
        if let Some(value) = value {
            sets.push(format!("{column} = {}", args.push(Arg::Bool(value))));
        }
    }
    if let Some(child) = patch.child_12_plus {
        sets.push(format!(
            "minutes = {}",
            args.int(i64::from(minutes_needed(child)))
        ));
    }
    if let Some(dates) = &patch.unavailable {
        sets.push(format!("unavailable = {}", args.text(dates_to_json(dates))));
    }
    if let Some(earliest) = patch.earliest {
        sets.push(format!(
            "earliest_date = {}",
            args.push(Arg::OptText(earliest.map(to_date_text)))
        ));
    }
    sets.push("version = version + 1".into());
    sets.push(format!("updated_at = {}", args.int(to_millis(now))));
    let sql = format!(
        "UPDATE referrals SET {} WHERE id = {} AND status IN ({})",
        sets.join(", "),
        args.int(id),
        status_list(allowed),
    );
    let done = args.bind(sqlx::query(&sql)).execute(&mut *conn).await?;
    Ok(done.rows_affected() == 1)
}

/// A status change by `event` to `to`, if the referral is still in a status
/// that allows the event. Every event has one target status (see
/// `lifecycle`), so the guard need not be the exact status the caller read:
/// a planner run moving the referral between registered and planned meanwhile
/// does not spoil a withdrawal, while a second withdrawal finds nothing to do.
/// Events that end the referral's claim on a slot (withdraw, cancel, unplan,
/// release) also clear its slot ids, which frees the slot for others.
#[tracing::instrument(skip(conn))]
pub async fn transition(
    conn: &mut AnyConnection,
    id: i64,
    to: Status,
    event: Event,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let clear_slots = if event.frees_slot() {
        "planned_slot_id = NULL, booked_slot_id = NULL, "
    } else {
        ""
    };
    let sql = format!(
        "UPDATE referrals SET {clear_slots}status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND status IN ({})",
        status_list(&event.allowed_from())
    );
    let done = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds `region` to the tables the referral may no longer go to (the
/// planner honours `excluded_regions`).
#[tracing::instrument(skip(conn))]
pub async fn exclude_region(
    conn: &mut AnyConnection,
    referral_id: i64,
    region: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query("SELECT excluded_regions FROM referrals WHERE id = $1")
        .bind(referral_id)
        .fetch_one(&mut *conn)
        .await?;
    let text: String = row.try_get("excluded_regions")?;
    let mut excluded: Vec<String> = serde_json::from_str(&text).map_err(|e| {
        sqlx::Error::Decode(format!("bad excluded_regions in the database: {e}").into())
    })?;
    if excluded.iter().any(|r| r == region) {
        return Ok(());
    }
    excluded.push(region.to_string());
    excluded.sort();
    // Not a change of the referral's details, so no new version: a
    // referrer's edit in flight stays valid.
    sqlx::query("UPDATE referrals SET excluded_regions = $1, updated_at = $2 WHERE id = $3")
        .bind(serde_json::Value::from(excluded).to_string())
        .bind(to_millis(now))
        .bind(referral_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes the tentative slot off the referrals `ids` (still registered or
/// planned): the first half of moving tentative placements, so two
/// referrals may swap slots (the unique index on planned slots is checked
/// per statement). The status follows in [`set_tentative`].
pub async fn clear_tentative(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE referrals SET planned_slot_id = NULL WHERE id = $1 AND status IN ({})",
        status_list(&Event::Plan.allowed_from())
    );
    for id in ids {
        sqlx::query(&sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Places a referral tentatively in `slot` (the planner's [`Event::Plan`])
/// or, with `None`, leaves it without one ([`Event::Unplan`]), if it is
/// still registered or planned. A booking may have committed since the
/// plan run read the slots (bookings do not take the plan lock): a slot
/// booked by now is never planned into; the booking asked for a new run.
/// Returns whether the referral was changed.
pub async fn set_tentative(
    conn: &mut AnyConnection,
    id: i64,
    slot: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let status = match slot {
        Some(_) => Status::Planned,
        None => Status::Registered,
    };
    let sql = format!(
        "UPDATE referrals SET planned_slot_id = $1, status = $2, updated_at = $3
         WHERE id = $4 AND status IN ({})
           AND NOT EXISTS (SELECT 1 FROM referrals b WHERE b.booked_slot_id = $1)",
        status_list(&Event::Plan.allowed_from())
    );
    let done = sqlx::query(&sql)
        .bind(slot)
        .bind(status.as_str())
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the planner's explanation (JSON text) with a referral.
pub async fn set_explanation(
    conn: &mut AnyConnection,
    id: i64,
    text: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE referrals SET plan_explanation = $1 WHERE id = $2")
        .bind(text)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Keeps the reason a referral was withdrawn or cancelled with it.
pub async fn set_close_reason(
    conn: &mut AnyConnection,
    id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE referrals SET close_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Completes an incomplete referral once both conditions hold, judged on the
/// row as it is now (not as the caller last read it).
#[tracing::instrument(skip(conn))]
pub async fn complete_if_ready(
    conn: &mut AnyConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE referrals SET status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND status = $4 AND safety_plan AND parents_informed",
    )
    .bind(Status::Registered.as_str())
    .bind(to_millis(now))
    .bind(id)
    .bind(Status::Incomplete.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The slot a booking would use, as stored.
#[tracing::instrument(skip(conn))]
pub async fn slot(
    conn: &mut AnyConnection,
    slot_id: &str,
) -> Result<Option<BookableSlot>, sqlx::Error> {
    let row = sqlx::query("SELECT id, region_id, local_date, start_at, minutes, cancelled_at FROM slots WHERE id = $1")
        .bind(slot_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(BookableSlot {
        id: row.try_get("id")?,
        region: row.try_get("region_id")?,
        date: from_date_text(&row.try_get::<String, _>("local_date")?)?,
        start: from_millis(row.try_get("start_at")?),
        minutes: to_u32(row.try_get("minutes")?),
        cancelled: row.try_get::<Option<i64>, _>("cancelled_at")?.is_some(),
    }))
}

/// Books `slot_id` for the referral if it is still registered or planned.
///
/// The partial unique index `referrals_booked_slot` decides races: of many
/// concurrent bookings of one slot exactly one succeeds, the others fail
/// with a unique violation. A referral that was only tentatively planned in
/// that slot loses it (back to registered; the planner moves it).
#[tracing::instrument(skip(conn))]
pub async fn confirm(
    conn: &mut AnyConnection,
    id: i64,
    slot_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = to_millis(now);
    // First the tentative holder, then the booking: every booking of this
    // slot locks the holder's row before the unique index entry, so on
    // PostgreSQL concurrent bookings queue up instead of deadlocking.
    sqlx::query(
        "UPDATE referrals SET planned_slot_id = NULL, status = $1, version = version + 1, updated_at = $2
         WHERE planned_slot_id = $3 AND status = $4 AND id <> $5",
    )
    .bind(Status::Registered.as_str())
    .bind(at)
    .bind(slot_id)
    .bind(Status::Planned.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let sql = format!(
        "UPDATE referrals SET booked_slot_id = $1, planned_slot_id = NULL, status = $2,
             version = version + 1, updated_at = $3
         WHERE id = $4 AND status IN ({})",
        status_list(&Event::Confirm.allowed_from())
    );
    let done = sqlx::query(&sql)
        .bind(slot_id)
        .bind(Status::Booked.as_str())
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// For a cancelled session: referrals planned or booked in `slot_id` go
/// back to `registered` with their slot ids cleared, so the planner finds
/// them a new place. Returns their ids.
#[tracing::instrument(skip(conn))]
pub async fn release_slot(
    conn: &mut AnyConnection,
    slot_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "UPDATE referrals SET planned_slot_id = NULL, booked_slot_id = NULL, status = $1,
             version = version + 1, updated_at = $2
         WHERE (planned_slot_id = $3 OR booked_slot_id = $3) AND status IN ({})
         RETURNING id",
        status_list(&Event::Release.allowed_from())
    );
    let rows = sqlx::query(&sql)
        .bind(Status::Registered.as_str())
        .bind(to_millis(now))
        .bind(slot_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut ids = rows
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<Vec<i64>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// Stores the outcome of a held conversation.
#[tracing::instrument(skip(conn, outcome))]
pub async fn insert_outcome(
    conn: &mut AnyConnection,
    referral_id: i64,
    outcome: &NewOutcome,
    recorded_by: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outcomes (referral_id, outcome, route, help, safety_agreements, evaluation_date,
             recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(referral_id)
    .bind(outcome.outcome.as_str())
    .bind(outcome.route.as_str())
    .bind(outcome.help.as_str())
    .bind(outcome.safety_agreements.as_str())
    .bind(outcome.evaluation_date.map(to_date_text))
    .bind(recorded_by)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The first free evaluation reference of a case: `<case_ref>-EVAL<n>`.
#[tracing::instrument(skip(conn))]
pub async fn next_evaluation_ref(
    conn: &mut AnyConnection,
    original: &CaseRef,
) -> Result<CaseRef, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM referrals WHERE case_ref LIKE $1")
        .bind(format!("{}-EVAL%", original.as_str()))
        .fetch_one(&mut *conn)
        .await?;
    let mut n = u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0) + 1;
    loop {
        let candidate = original.evaluation(n);
        let taken = sqlx::query("SELECT id FROM referrals WHERE case_ref = $1")
            .bind(candidate.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
        if !taken {
            return Ok(candidate);
        }
        n += 1;
    }
}
