//! Written evaluations (issue 15, section 2 of the working agreement): an
//! outcome may plan one, by a date, delivered by someone named by role or
//! organisation. From that date it is on the table's worklist until the
//! chair (or a coordinator) records it as received or not.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::access::{authorize, Action, Scope};
use super::service::audited;
use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::time::{from_date_text, to_millis};

/// A planned written evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WrittenEvaluation {
    /// Due by this local date.
    pub due: NaiveDate,
    /// Who delivers it (role or organisation).
    pub by: String,
    /// `expected`, `received` or `not_received`.
    pub status: String,
}

/// Received or not, as recorded.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordWritten {
    /// Whether the written evaluation came in.
    pub received: bool,
}

/// The written evaluation of a referral the user has just read (through
/// the referral service), if one was planned.
///
/// # Errors
/// Storage errors.
pub async fn of(state: &AppState, referral_id: i64) -> Result<Option<WrittenEvaluation>> {
    let row = sqlx::query(
        "SELECT due_date, deliverer, status FROM written_evaluations WHERE referral_id = $1",
    )
    .bind(referral_id)
    .fetch_optional(&state.store.pool)
    .await?;
    row.map(|row| {
        Ok(WrittenEvaluation {
            due: from_date_text(&row.try_get::<String, _>("due_date")?)?,
            by: row.try_get("deliverer")?,
            status: row.try_get("status")?,
        })
    })
    .transpose()
}

/// Records the expected written evaluation of `referral_id` as received or
/// not (the chair of the table where it was held, or a coordinator).
///
/// # Errors
/// Not allowed (role); not found (scope, or none planned); already
/// recorded (refused); storage errors.
pub async fn record(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    body: &RecordWritten,
) -> Result<WrittenEvaluation> {
    let action = Action::RecordOutcome;
    audited(state, user, action, Some(referral_id), async {
        authorize(user, action)?;
        let referral = super::service::get(state, user, referral_id).await?;
        if let Scope::Region(own) = authorize(user, action)? {
            let table = referral.booked_slot.as_ref().map(|s| s.region.as_str());
            if table != Some(own.as_str()) {
                return Err(Error::NotAllowed(
                    "the chair of the table where it was held records the written evaluation"
                        .into(),
                ));
            }
        }
        let status = if body.received {
            "received"
        } else {
            "not_received"
        };
        let mut tx = state.store.write().await?;
        let done = sqlx::query(
            "UPDATE written_evaluations SET status = $1, recorded_at = $2, recorded_by = $3
             WHERE referral_id = $4 AND status = 'expected'",
        )
        .bind(status)
        .bind(to_millis(state.now()))
        .bind(user.id)
        .bind(referral_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return match of(state, referral_id).await? {
                None => Err(Error::NotFound),
                Some(_) => Err(Error::refused(
                    "the written evaluation was already recorded",
                    "De schriftelijke evaluatie is al vastgelegd.",
                )),
            };
        }
        super::audit::ok(
            &mut tx,
            state,
            user,
            action,
            referral_id,
            Some(format!("written evaluation {status}")),
        )
        .await?;
        tx.commit().await?;
        of(state, referral_id).await?.ok_or(Error::NotFound)
    })
    .await
}

/// A written evaluation due now, for the worklist.
#[derive(Debug, Clone)]
pub struct WrittenDue {
    /// The referral.
    pub referral_id: i64,
    /// Its case reference.
    pub case_ref: String,
    /// The region id of the table where it was held.
    pub table: String,
    /// Due by.
    pub due: NaiveDate,
    /// Who delivers it.
    pub by: String,
}

/// Expected written evaluations due by `today` at the user's table (a
/// coordinator: every table); nothing for other roles.
///
/// # Errors
/// Storage errors.
pub async fn due(
    state: &AppState,
    user: &CurrentUser,
    today: NaiveDate,
) -> Result<Vec<WrittenDue>> {
    let region = match authorize(user, Action::Read) {
        Ok(Scope::All) => None,
        Ok(Scope::Region(own)) => Some(own.as_str().to_string()),
        _ => return Ok(Vec::new()),
    };
    let rows = sqlx::query(
        "SELECT w.referral_id, r.case_ref, s.region_id, w.due_date, w.deliverer
         FROM written_evaluations w
         JOIN referrals r ON r.id = w.referral_id
         JOIN slots s ON s.id = r.booked_slot_id
         WHERE w.status = 'expected' AND w.due_date <= $1 AND ($2 IS NULL OR s.region_id = $2)
         ORDER BY w.due_date, w.referral_id",
    )
    .bind(crate::store::time::to_date_text(today))
    .bind(region)
    .fetch_all(&state.store.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(WrittenDue {
                referral_id: row.try_get("referral_id")?,
                case_ref: row.try_get("case_ref")?,
                table: row.try_get("region_id")?,
                due: from_date_text(&row.try_get::<String, _>("due_date")?)?,
                by: row.try_get("deliverer")?,
            })
        })
        .collect()
}
