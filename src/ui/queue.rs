//! The board's queue: referrals not yet booked, most urgent first, with
//! the norm clock, the tentative slot and open questions of the table;
//! searchable by case reference.

use super::{format, PageError, Viewer};
use crate::config::RegionId;
use crate::referrals::input::ListParams;
use crate::referrals::service as referrals;
use crate::state::AppState;

/// The queue shows at most this many referrals (the most urgent).
const QUEUE_LIMIT: &str = "500";

/// One referral in the queue.
pub struct QueueEntry {
    /// The referral's page.
    pub href: String,
    /// The case reference.
    pub case_ref: String,
    /// The home region's name.
    pub region: String,
    /// The kind in Dutch.
    pub kind: &'static str,
    /// The status in Dutch.
    pub status: &'static str,
    /// The due date, `30-11-2026`.
    pub due: String,
    /// Calendar days since the local date of registration.
    pub days_waiting: i64,
    /// On track / at risk / late, in Dutch.
    pub norm_label: &'static str,
    /// CSS class of the norm: `ok`, `risk` or `late`.
    pub norm_class: &'static str,
    /// The planned slot's start and region, when planned.
    pub planned: Option<String>,
    /// Questions of the table the professional has not answered yet.
    pub open_questions: i64,
}

/// Referrals not yet booked, most urgent first, through the same handler
/// (scope and audit) as `GET /api/v1/referrals`; `case_ref` narrows them
/// to case references containing it.
///
/// # Errors
/// An invalid search text (422 page); storage errors.
pub async fn queue(
    state: &AppState,
    viewer: &Viewer,
    region: Option<&RegionId>,
    case_ref: Option<&str>,
) -> Result<Vec<QueueEntry>, PageError> {
    let params = ListParams {
        status: Some("registered,incomplete,planned".into()),
        region: region.map(|r| r.as_str().to_string()),
        limit: Some(QUEUE_LIMIT.into()),
        case_ref: case_ref.map(str::to_string),
        ..ListParams::default()
    };
    let (list, _) = referrals::list(state, &viewer.user, &params).await?;
    let ids: Vec<i64> = list.iter().map(|r| r.id).collect();
    let questions = crate::referrals::info::open_counts(state, &ids).await?;
    let tz = state.regions.timezone;
    Ok(list
        .iter()
        .map(|r| crate::referrals::view::of(state, r))
        .map(|r| {
            let (norm_label, norm_class) = format::norm(r.norm.status);
            QueueEntry {
                open_questions: questions.get(&r.id).copied().unwrap_or(0),
                href: format!("/referrals/{}", r.id),
                case_ref: r.case_ref,
                region: r.region.name,
                kind: format::kind(r.kind.as_str()),
                status: format::referral_status(r.status.as_str()),
                due: format::date(r.norm.due),
                days_waiting: r.norm.days_waiting,
                norm_label,
                norm_class,
                planned: r.planned_slot.map(|s| {
                    format!(
                        "{} {}",
                        format::moment_text(&s.start, tz),
                        format::region_name(&state.regions, &s.region)
                    )
                }),
            }
        })
        .collect())
}
