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
    /// The referral's id (the bulk confirmation's checkbox).
    pub id: i64,
    /// Planned at a table whose bookings the viewer confirms: a checkbox.
    pub confirmable: bool,
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
            let confirmable = r.status == crate::referrals::lifecycle::Status::Planned
                && r.planned_slot.as_ref().is_some_and(|s| {
                    crate::referrals::access::may_at(
                        &viewer.user,
                        crate::referrals::access::Action::Confirm,
                        &s.region,
                    )
                });
            QueueEntry {
                id: r.id,
                confirmable,
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
                        state.regions.region_name(&s.region)
                    )
                }),
            }
        })
        .collect())
}

/// Whether the viewer confirms bookings at `region`'s table: a coordinator
/// anywhere, a chair at the own table (the service checks it again).
/// The bulk confirmation's form: a checkbox `confirm_<id>` per referral.
#[derive(Debug, serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    boxes: std::collections::BTreeMap<String, String>,
}

/// `POST /board/bevestigen`: confirms the tentative slot of every referral
/// ticked in the queue, each through the same service as the referral
/// page (role, scope, lifecycle and placement rules checked per referral).
/// Back to the board with how many were confirmed and how many not (those
/// stay in the queue, their page says why).
///
/// # Errors
/// 403 page for a wrong form token; a box that names no referral (422).
pub async fn confirm(
    axum::extract::State(state): axum::extract::State<AppState>,
    viewer: Viewer,
    super::form::PageForm(form): super::form::PageForm<ConfirmForm>,
) -> Result<axum::response::Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let mut ids = Vec::new();
    for key in form.boxes.keys() {
        let id = key
            .strip_prefix("confirm_")
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| PageError::Invalid(super::Said::nl(format!("onbekend veld {key:?}"))))?;
        ids.push(id);
    }
    let (mut done, mut refused) = (0, 0);
    for id in ids {
        match referrals::book(&state, &viewer.user, id, None).await {
            Ok(_) => done += 1,
            Err(crate::error::Error::Store(err)) => return Err(err.into()),
            Err(_) => refused += 1,
        }
    }
    Ok(axum::response::Redirect::to(&format!(
        "/board?bevestigd={done}&niet={refused}"
    )))
}
