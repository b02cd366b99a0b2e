//! SQL for offers. Runs on SQLite and PostgreSQL alike (sqlx `Any`).
//!
//! Status changes are guarded in SQL (`WHERE id = $1 AND status = 'open'`)
//! and report whether they happened, so of two answers at the same time
//! only one passes; the caller reads the offer again to say what won.
//! Writers take a `&mut AnyConnection` that is a write transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::OfferStatus;
use crate::store::time::{from_date_text, from_millis, to_millis};

/// An offer with what its receiving chair needs to decide on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The offer's id.
    pub id: i64,
    /// The referral offered.
    pub referral_id: i64,
    /// The slot held for it at the receiving table.
    pub slot_id: String,
    /// The referral's home region.
    pub from_region: String,
    /// The region whose table is asked.
    pub to_region: String,
    /// Where the offer is in its life.
    pub status: OfferStatus,
    /// When the offer was made.
    pub created_at: DateTime<Utc>,
    /// The answer deadline; an open offer expires at this instant.
    pub expires_at: DateTime<Utc>,
    /// When it was answered, expired or withdrawn; `None` while open.
    pub answered_at: Option<DateTime<Utc>>,
    /// The user id of the chair who answered; `None` unless answered.
    pub answered_by: Option<i64>,
    /// Why the table declined; only for a declined offer.
    pub decline_reason: Option<String>,
    /// The referral's case reference.
    pub case_ref: String,
    /// The referral's kind: `vtb`, `ots_end` or `evaluation`.
    pub kind: String,
    /// CBS code of the referral's municipality (`GM0202`).
    pub municipality_cbs: String,
    /// Local dates the family cannot come.
    pub unavailable: Vec<NaiveDate>,
    /// Local date before which the referral cannot be discussed, if any.
    pub earliest: Option<NaiveDate>,
    /// Local due date under the norm.
    pub due: NaiveDate,
    /// Slot length the referral needs.
    pub minutes: u32,
    /// The offered slot's local date.
    pub slot_date: NaiveDate,
    /// The instant the offered slot starts.
    pub slot_start: DateTime<Utc>,
    /// The offered slot's length in minutes.
    pub slot_minutes: u32,
}

/// Who may see which offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferScope {
    /// Every offer (coordinators).
    All,
    /// Offers to this region's table.
    ToRegion(String),
}

/// The columns [`offer_from_row`] reads. Only what the chair needs: no
/// referrer, no outcome, nothing of the family's file.
const SELECT: &str = "SELECT o.id, o.referral_id, o.slot_id, o.from_region, o.to_region, o.status,
        o.created_at, o.expires_at, o.answered_at, o.answered_by, o.decline_reason,
        r.case_ref, r.kind, r.municipality_cbs, r.unavailable, r.earliest_date, r.due_date, r.minutes,
        s.local_date, s.start_at, s.minutes AS slot_minutes
    FROM offers o
    JOIN referrals r ON r.id = o.referral_id
    JOIN slots s ON s.id = o.slot_id";

fn to_u32(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn offer_from_row(row: &AnyRow) -> Result<Offer, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let unavailable: String = row.try_get("unavailable")?;
    let unavailable: Vec<String> = serde_json::from_str(&unavailable)
        .map_err(|e| sqlx::Error::Decode(format!("bad date list in the database: {e}").into()))?;
    Ok(Offer {
        id: row.try_get("id")?,
        referral_id: row.try_get("referral_id")?,
        slot_id: row.try_get("slot_id")?,
        from_region: row.try_get("from_region")?,
        to_region: row.try_get("to_region")?,
        status: OfferStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("bad offer status {status:?} in the database").into())
        })?,
        created_at: from_millis(row.try_get("created_at")?),
        expires_at: from_millis(row.try_get("expires_at")?),
        answered_at: row
            .try_get::<Option<i64>, _>("answered_at")?
            .map(from_millis),
        answered_by: row.try_get("answered_by")?,
        decline_reason: row.try_get("decline_reason")?,
        case_ref: row.try_get("case_ref")?,
        kind: row.try_get("kind")?,
        municipality_cbs: row.try_get("municipality_cbs")?,
        unavailable: unavailable
            .iter()
            .map(|d| from_date_text(d))
            .collect::<Result<_, _>>()?,
        earliest: row
            .try_get::<Option<String>, _>("earliest_date")?
            .map(|d| from_date_text(&d))
            .transpose()?,
        due: from_date_text(&row.try_get::<String, _>("due_date")?)?,
        minutes: to_u32(row.try_get("minutes")?),
        slot_date: from_date_text(&row.try_get::<String, _>("local_date")?)?,
        slot_start: from_millis(row.try_get("start_at")?),
        slot_minutes: to_u32(row.try_get("slot_minutes")?),
    })
}

/// One offer, whoever it is for (the caller checks the scope).
///
/// # Errors
/// Storage errors, or a row that cannot be decoded (an unknown status, a
/// bad date).
#[tracing::instrument(skip(conn))]
pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Offer>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE o.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(offer_from_row).transpose()
}

/// The open offer of referral `referral_id`, if any (at most one is open).
///
/// # Errors
/// Storage errors, or a row that cannot be decoded.
pub async fn open_for_referral(
    conn: &mut AnyConnection,
    referral_id: i64,
) -> Result<Option<Offer>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE o.referral_id = $1 AND o.status = 'open'");
    let row = sqlx::query(&sql)
        .bind(referral_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(offer_from_row).transpose()
}

/// The most offers a list returns.
pub const LIST_LIMIT: i64 = 500;

/// Offers in `scope`, newest first, optionally of one status.
///
/// # Errors
/// Storage errors, or a row that cannot be decoded.
#[tracing::instrument(skip(conn))]
pub async fn list(
    conn: &mut AnyConnection,
    scope: &OfferScope,
    status: Option<OfferStatus>,
) -> Result<Vec<Offer>, sqlx::Error> {
    let mut sql = format!("{SELECT} WHERE TRUE");
    let mut values: Vec<String> = Vec::new();
    if let OfferScope::ToRegion(region) = scope {
        values.push(region.clone());
        sql.push_str(&format!(" AND o.to_region = ${}", values.len()));
    }
    if let Some(status) = status {
        values.push(status.as_str().to_string());
        sql.push_str(&format!(" AND o.status = ${}", values.len()));
    }
    sql.push_str(&format!(
        " ORDER BY o.created_at DESC, o.id DESC LIMIT {LIST_LIMIT}"
    ));
    let query = values.into_iter().fold(sqlx::query(&sql), |q, v| q.bind(v));
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(offer_from_row).collect()
}

/// An offer to create.
#[derive(Debug, Clone)]
pub struct NewOffer<'a> {
    /// The referral offered.
    pub referral_id: i64,
    /// The slot to hold at the receiving table.
    pub slot_id: &'a str,
    /// The referral's home region.
    pub from_region: &'a str,
    /// The region whose table is asked.
    pub to_region: &'a str,
    /// The answer deadline.
    pub expires_at: DateTime<Utc>,
}

/// Creates an open offer unless the referral or the slot already has one
/// (the partial unique indexes); returns the new id.
///
/// # Errors
/// Storage errors; a conflict with an open offer is `Ok(None)`.
#[tracing::instrument(skip(conn))]
pub async fn insert_open(
    conn: &mut AnyConnection,
    new: &NewOffer<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    // Without a conflict target DO NOTHING covers both partial unique
    // indexes, on both backends, and keeps a PostgreSQL transaction usable.
    let row = sqlx::query(
        "INSERT INTO offers (referral_id, slot_id, from_region, to_region, status, created_at, expires_at)
         VALUES ($1, $2, $3, $4, 'open', $5, $6)
         ON CONFLICT DO NOTHING
         RETURNING id",
    )
    .bind(new.referral_id)
    .bind(new.slot_id)
    .bind(new.from_region)
    .bind(new.to_region)
    .bind(to_millis(now))
    .bind(to_millis(new.expires_at))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| r.try_get("id")).transpose()
}

/// Records the answer to an open offer; `false` if it was not open (any
/// more): someone else answered, or it expired or was withdrawn.
///
/// # Errors
/// Storage errors.
#[tracing::instrument(skip(conn, reason))]
pub async fn answer(
    conn: &mut AnyConnection,
    id: i64,
    to: OfferStatus,
    user_id: i64,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE offers SET status = $1, answered_at = $2, answered_by = $3, decline_reason = $4
         WHERE id = $5 AND status = 'open'",
    )
    .bind(to.as_str())
    .bind(to_millis(now))
    .bind(user_id)
    .bind(reason)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An offer that was closed without an answer (expired or withdrawn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The offer's id.
    pub id: i64,
    /// The referral it offered.
    pub referral_id: i64,
    /// The slot it held.
    pub slot_id: String,
    /// The referral's home region.
    pub from_region: String,
    /// The region whose table was asked.
    pub to_region: String,
}

fn closed_from_rows(rows: &[AnyRow]) -> Result<Vec<Closed>, sqlx::Error> {
    let mut closed = rows
        .iter()
        .map(|row| {
            Ok(Closed {
                id: row.try_get("id")?,
                referral_id: row.try_get("referral_id")?,
                slot_id: row.try_get("slot_id")?,
                from_region: row.try_get("from_region")?,
                to_region: row.try_get("to_region")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    closed.sort_by_key(|c| c.id);
    Ok(closed)
}

/// Open offers whose time is up become `expired`; returns them.
///
/// # Errors
/// Storage errors.
#[tracing::instrument(skip(conn))]
pub async fn expire_due(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Closed>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE offers SET status = 'expired', answered_at = $1
         WHERE status = 'open' AND expires_at <= $1
         RETURNING id, referral_id, slot_id, from_region, to_region",
    )
    .bind(to_millis(now))
    .fetch_all(&mut *conn)
    .await?;
    closed_from_rows(&rows)
}

/// Open offers whose referral is no longer tentatively planned in the
/// offered slot (moved by the planner, booked elsewhere or there, withdrawn,
/// cancelled) become `withdrawn`; returns them.
///
/// # Errors
/// Storage errors.
#[tracing::instrument(skip(conn))]
pub async fn withdraw_stale(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Closed>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE offers SET status = 'withdrawn', answered_at = $1
         WHERE status = 'open'
           AND NOT EXISTS (SELECT 1 FROM referrals r
                           WHERE r.id = offers.referral_id AND r.status = 'planned'
                             AND r.planned_slot_id = offers.slot_id)
         RETURNING id, referral_id, slot_id, from_region, to_region",
    )
    .bind(to_millis(now))
    .fetch_all(&mut *conn)
    .await?;
    closed_from_rows(&rows)
}

/// Open offers whose slot another referral's booking took (a booking made
/// directly, not through the offer) become `withdrawn`; returns them. Such
/// an offer would pin two referrals to one slot in the next plan run.
///
/// # Errors
/// Storage errors.
#[tracing::instrument(skip(conn))]
pub async fn withdraw_taken(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Closed>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE offers SET status = 'withdrawn', answered_at = $1
         WHERE status = 'open'
           AND EXISTS (SELECT 1 FROM referrals b
                       WHERE b.booked_slot_id = offers.slot_id AND b.id <> offers.referral_id)
         RETURNING id, referral_id, slot_id, from_region, to_region",
    )
    .bind(to_millis(now))
    .fetch_all(&mut *conn)
    .await?;
    closed_from_rows(&rows)
}

/// Withdraws one offer if it is still open (its slot was booked for
/// another referral); `false` if it was not open.
///
/// # Errors
/// Storage errors.
#[tracing::instrument(skip(conn))]
pub async fn withdraw(
    conn: &mut AnyConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE offers SET status = 'withdrawn', answered_at = $1 WHERE id = $2 AND status = 'open'")
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Per referral, how many of its offers were declined or expired.
///
/// # Errors
/// Storage errors.
#[tracing::instrument(skip(conn))]
pub async fn refused_counts(conn: &mut AnyConnection) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT referral_id, COUNT(*) AS n FROM offers
         WHERE status IN ('declined', 'expired') GROUP BY referral_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("referral_id")?, row.try_get("n")?)))
        .collect()
}

/// E-mail addresses of the active users with `role`, optionally of one region.
///
/// # Errors
/// Storage errors.
#[tracing::instrument(skip(conn))]
pub async fn user_emails(
    conn: &mut AnyConnection,
    role: &str,
    region: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let rows =
        match region {
            Some(region) => sqlx::query(
                "SELECT email FROM users WHERE role = $1 AND region_id = $2 AND active ORDER BY id",
            )
            .bind(role)
            .bind(region)
            .fetch_all(&mut *conn)
            .await?,
            None => {
                sqlx::query("SELECT email FROM users WHERE role = $1 AND active ORDER BY id")
                    .bind(role)
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
    rows.iter().map(|row| row.try_get("email")).collect()
}
