//! The `reports` table: one row per version, the draft the one without
//! `sent_at`. Bodies arrive and leave sealed; opening them is the
//! service's.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use crate::store::time::{from_millis, to_millis};

/// One stored version.
#[derive(Debug, Clone)]
pub struct Stored {
    /// 1, 2, ...
    pub version: i64,
    /// The sealed content.
    pub body: String,
    /// `None` for the draft.
    pub sent_at: Option<DateTime<Utc>>,
    /// When the content was deleted after the retention period (`body` is
    /// then empty).
    pub purged_at: Option<DateTime<Utc>>,
}

/// Every version of the referral's report, oldest first.
///
/// # Errors
/// Storage errors.
pub async fn versions(
    conn: &mut AnyConnection,
    referral_id: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query(
        "SELECT version, body, sent_at, purged_at FROM reports WHERE referral_id = $1 ORDER BY version",
    )
    .bind(referral_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Stored {
            version: row.try_get("version")?,
            body: row.try_get("body")?,
            sent_at: row.try_get::<Option<i64>, _>("sent_at")?.map(from_millis),
            purged_at: row.try_get::<Option<i64>, _>("purged_at")?.map(from_millis),
        })
    })
    .collect()
}

/// Writes the draft: replaces the unsent version, or adds version
/// `version` when every earlier one was sent.
///
/// # Errors
/// Storage errors; a unique violation when someone else added the same
/// version meanwhile.
pub async fn put_draft(
    conn: &mut AnyConnection,
    referral_id: i64,
    version: i64,
    body: &str,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let replaced = sqlx::query(
        "UPDATE reports SET body = $1, written_by = $2, written_at = $3
         WHERE referral_id = $4 AND version = $5 AND sent_at IS NULL AND purged_at IS NULL",
    )
    .bind(body)
    .bind(user_id)
    .bind(to_millis(now))
    .bind(referral_id)
    .bind(version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if replaced == 0 {
        let version = NewVersion {
            referral_id,
            version,
            body,
            user_id,
            sent_at: None,
            reaction_from: None,
        };
        insert(conn, &version, now).await?;
    }
    Ok(())
}

/// A version to add.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// The referral.
    pub referral_id: i64,
    /// 1, 2, ...
    pub version: i64,
    /// The sealed content.
    pub body: &'a str,
    /// Who wrote it.
    pub user_id: i64,
    /// Set for a version sent at once (a reaction).
    pub sent_at: Option<DateTime<Utc>>,
    /// `parents` or `professional` for a version a reaction added.
    pub reaction_from: Option<&'a str>,
}

/// Adds a version.
///
/// # Errors
/// Storage errors; a unique violation for a version that exists.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewVersion<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO reports (referral_id, version, body, written_by, written_at, sent_at, reaction_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new.referral_id)
    .bind(new.version)
    .bind(new.body)
    .bind(new.user_id)
    .bind(to_millis(now))
    .bind(new.sent_at.map(to_millis))
    .bind(new.reaction_from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the content of every report (all versions, drafts included)
/// of a conversation held before `held_before`: the body is emptied and
/// `purged_at` set; that the report existed, and when it was sent, stays.
/// Returns the number of versions emptied.
///
/// # Errors
/// Storage errors.
pub async fn purge(
    conn: &mut AnyConnection,
    held_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reports SET body = '', purged_at = $1
         WHERE purged_at IS NULL AND referral_id IN (
             SELECT r.id FROM referrals r JOIN slots s ON s.id = r.booked_slot_id
             WHERE s.start_at < $2)",
    )
    .bind(to_millis(now))
    .bind(to_millis(held_before))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Marks the draft `version` sent; `false` when there is no such draft
/// (sent meanwhile).
///
/// # Errors
/// Storage errors.
pub async fn mark_sent(
    conn: &mut AnyConnection,
    referral_id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reports SET sent_at = $1
         WHERE referral_id = $2 AND version = $3 AND sent_at IS NULL AND purged_at IS NULL",
    )
    .bind(to_millis(now))
    .bind(referral_id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A held conversation whose report was never sent.
#[derive(Debug, Clone)]
pub struct Unsent {
    /// The referral.
    pub referral_id: i64,
    /// Its case reference.
    pub case_ref: String,
    /// The region id of the table where it was held.
    pub table: String,
    /// When the conversation began.
    pub held_at: DateTime<Utc>,
}

/// Held conversations whose report was never sent (and whose draft was not
/// deleted after the retention period: nobody can send it any more), at the table of
/// `region` (every table for `None`), oldest first.
///
/// # Errors
/// Storage errors.
pub async fn unsent(
    conn: &mut AnyConnection,
    region: Option<&str>,
) -> Result<Vec<Unsent>, sqlx::Error> {
    sqlx::query(
        "SELECT r.id, r.case_ref, s.region_id, s.start_at FROM referrals r
         JOIN slots s ON s.id = r.booked_slot_id
         WHERE r.status IN ('held', 'outcome_recorded')
           AND ($1 IS NULL OR s.region_id = $1)
           AND NOT EXISTS (SELECT 1 FROM reports p WHERE p.referral_id = r.id
                           AND (p.sent_at IS NOT NULL OR p.purged_at IS NOT NULL))
         ORDER BY s.start_at",
    )
    .bind(region)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Unsent {
            referral_id: row.try_get("id")?,
            case_ref: row.try_get("case_ref")?,
            table: row.try_get("region_id")?,
            held_at: from_millis(row.try_get("start_at")?),
        })
    })
    .collect()
}
