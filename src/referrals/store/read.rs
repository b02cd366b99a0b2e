//! Reading referrals, within a scope.

use sqlx::{AnyConnection, Row};

use super::rows::{referral_from_row, scope_condition, status_list, to_u32, Args, SELECT};
use super::{BookableSlot, ListFilter, Referral};
use crate::referrals::access::Scope;
use crate::referrals::domain::CaseRef;
use crate::store::time::{from_date_text, from_millis, to_date_text};

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
    if let Some(part) = &filter.case_ref {
        // Checked to hold letters, digits and '-' only: no LIKE wildcards.
        conditions.push(format!(
            "r.case_ref LIKE {}",
            args.text(format!("%{part}%"))
        ));
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

/// A recorded outcome as the referral page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRecord {
    /// `voluntary_local_team`, `voluntary_binding`, `voluntary_binding_raad`
    /// or `raad_investigation`.
    pub outcome: String,
    /// The agreed route.
    pub route: String,
    /// The help agreed.
    pub help: String,
    /// The safety agreements.
    pub safety_agreements: String,
    /// The evaluation date, if one was set.
    pub evaluation_date: Option<chrono::NaiveDate>,
    /// When it was recorded (UTC).
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// The evaluation referral made from it: (id, case reference).
    pub evaluation: Option<(i64, String)>,
}

/// The outcome of referral `id`, if one was recorded (the caller has
/// checked the scope by reading the referral).
///
/// # Errors
/// Storage errors; a stored date that is not `YYYY-MM-DD`.
pub async fn outcome(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<OutcomeRecord>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT o.outcome, o.route, o.help, o.safety_agreements, o.evaluation_date, o.recorded_at,
                e.id AS evaluation_id, e.case_ref AS evaluation_ref
         FROM outcomes o LEFT JOIN referrals e ON e.parent_referral_id = o.referral_id
         WHERE o.referral_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let evaluation_date: Option<String> = row.try_get("evaluation_date")?;
    let evaluation_id: Option<i64> = row.try_get("evaluation_id")?;
    let evaluation_ref: Option<String> = row.try_get("evaluation_ref")?;
    Ok(Some(OutcomeRecord {
        outcome: row.try_get("outcome")?,
        route: row.try_get("route")?,
        help: row.try_get("help")?,
        safety_agreements: row.try_get("safety_agreements")?,
        evaluation_date: evaluation_date.map(|d| from_date_text(&d)).transpose()?,
        recorded_at: from_millis(row.try_get("recorded_at")?),
        evaluation: evaluation_id.zip(evaluation_ref),
    }))
}

/// The case references of referrals `ids` (those that exist), by id, in no
/// scope: for the audit log, which names cases by reference only.
///
/// # Errors
/// Storage errors.
pub async fn case_refs(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    let mut found = std::collections::HashMap::new();
    // Ids are numbers from our own rows, so they are written in, not bound:
    // one query for a page of up to 1,000 rows.
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    if list.is_empty() {
        return Ok(found);
    }
    let sql = format!(
        "SELECT id, case_ref FROM referrals WHERE id IN ({})",
        list.join(",")
    );
    for row in sqlx::query(&sql).fetch_all(&mut *conn).await? {
        found.insert(row.try_get("id")?, row.try_get("case_ref")?);
    }
    Ok(found)
}

/// The id of the referral with case reference `case_ref`, in no scope (for
/// the audit log's filter).
///
/// # Errors
/// Storage errors.
pub async fn id_by_case_ref(
    conn: &mut AnyConnection,
    case_ref: &CaseRef,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM referrals WHERE case_ref = $1 ORDER BY id LIMIT 1")
        .bind(case_ref.as_str())
        .fetch_optional(&mut *conn)
        .await
}
