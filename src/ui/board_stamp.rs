//! The board's fingerprint (`GET /board/stamp`): per region a short text
//! that changes when anything the board shows of that region changes (its
//! slots, the referrals in them, offers to its table), and one for the
//! queue. No case data. `static/app.js` compares it with the one the page
//! was built with and fetches only the rows of the regions that changed.

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::{Html, IntoResponse, Response};
use sqlx::Row;

use super::{PageError, Viewer};
use crate::auth::Role;
use crate::state::AppState;

/// `GET /board/stamp`: `queue=...;achterhoek=...;food-valley=...`.
///
/// # Errors
/// 403 for roles without a board; storage errors.
pub async fn stamp(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(&[Role::Coordinator, Role::Chair, Role::Secretary])?;
    let text = fingerprint(&state).await?;
    Ok((
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(text),
    )
        .into_response())
}

/// The fingerprint: `queue=<referrals, plan runs>` and, per region id in
/// configuration order, `<id>=<slots, cancelled, referrals in its slots,
/// their last change, offers to its table>`.
///
/// # Errors
/// Storage errors.
pub async fn fingerprint(state: &AppState) -> Result<String, sqlx::Error> {
    let queue = sqlx::query(
        "SELECT (SELECT COALESCE(MAX(updated_at), 0) FROM referrals) AS changed,
                (SELECT COUNT(*) FROM referrals) AS referrals,
                (SELECT COALESCE(MAX(id), 0) FROM plan_runs) AS runs,
                (SELECT COUNT(*) FROM offers WHERE status = 'open') AS open_offers",
    )
    .fetch_one(&state.store.pool)
    .await?;
    let mut parts = vec![format!(
        "queue={}.{}.{}.{}",
        queue.try_get::<i64, _>("changed")?,
        queue.try_get::<i64, _>("referrals")?,
        queue.try_get::<i64, _>("runs")?,
        queue.try_get::<i64, _>("open_offers")?
    )];
    let slots = sqlx::query(
        "SELECT s.region_id,
                COUNT(*) AS slots,
                CAST(SUM(CASE WHEN s.cancelled_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS cancelled,
                CAST(COALESCE(SUM(p.id), 0) + 3 * COALESCE(SUM(b.id), 0) AS BIGINT) AS holders,
                COALESCE(MAX(p.updated_at), 0) + COALESCE(MAX(b.updated_at), 0) AS changed
         FROM slots s
         LEFT JOIN referrals p ON p.planned_slot_id = s.id
         LEFT JOIN referrals b ON b.booked_slot_id = s.id
         GROUP BY s.region_id",
    )
    .fetch_all(&state.store.pool)
    .await?;
    let offers = sqlx::query(
        "SELECT to_region, COUNT(*) AS offers, COALESCE(MAX(id), 0) AS last,
                CAST(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open
         FROM offers GROUP BY to_region",
    )
    .fetch_all(&state.store.pool)
    .await?;
    for region in &state.regions.regions {
        let id = region.id.as_str();
        let mut part = format!("{id}=");
        if let Some(row) = slots
            .iter()
            .find(|r| r.try_get::<String, _>("region_id").is_ok_and(|r| r == id))
        {
            for column in ["slots", "cancelled", "holders", "changed"] {
                part.push_str(&format!("{}.", row.try_get::<i64, _>(column)?));
            }
        }
        if let Some(row) = offers
            .iter()
            .find(|r| r.try_get::<String, _>("to_region").is_ok_and(|r| r == id))
        {
            for column in ["offers", "last", "open"] {
                part.push_str(&format!("{}.", row.try_get::<i64, _>(column)?));
            }
        }
        parts.push(part);
    }
    Ok(parts.join(";"))
}
