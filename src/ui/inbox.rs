//! The chair's inbox: offers from neighbouring tables with only what is
//! needed to decide, and the answer buttons. A coordinator sees all offers
//! (read only: only the receiving table's chair answers).

use super::form::PageForm as Form;
use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use serde::Deserialize;

use super::{format, render, Chrome, PageError, Viewer};
use crate::auth::Role;
use crate::offers::view::OfferView;
use crate::offers::{self, OfferStatus};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    csrf: String,
    may_answer: bool,
    done: Option<&'static str>,
    open: Vec<OfferCard>,
    answered: Vec<OfferCard>,
}

struct OfferCard {
    id: i64,
    case_ref: String,
    kind: &'static str,
    home_region: String,
    municipality: String,
    to_region: String,
    slot: String,
    minutes: u32,
    due: String,
    late_days: i64,
    unavailable: Vec<String>,
    deadline: String,
    status: &'static str,
    decline_reason: Option<String>,
    /// The referral's page, for an offer this table accepted (then the
    /// referral is in the viewer's scope).
    referral_href: Option<String>,
}

/// The inbox's query string: `gedaan=geaccepteerd` or `gedaan=afgewezen`
/// after an answer, to confirm it.
#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    gedaan: Option<String>,
}

/// Answered offers shown under the open ones.
const ANSWERED_SHOWN: usize = 20;

/// `GET /inbox`: the offers to the chair's table (a coordinator sees all),
/// open ones first, then the last 20 answered. Only chairs may answer.
///
/// # Errors
/// 403 page for other roles; database errors.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<InboxQuery>,
) -> Result<Response, PageError> {
    viewer.require(&[Role::Chair, Role::Coordinator])?;
    let list = offers::list(&state, &viewer.user, None).await?;
    let tz = state.regions.timezone;
    let (open, answered): (Vec<OfferView>, Vec<OfferView>) = list
        .into_iter()
        .partition(|o| o.status == OfferStatus::Open);
    let card = |o: OfferView| OfferCard {
        id: o.id,
        case_ref: o.case_ref,
        kind: format::kind(&o.kind),
        home_region: o.home_region.name,
        municipality: o.municipality.name,
        to_region: o.to_region.name,
        slot: format::moment_text(&o.slot.start, tz),
        minutes: o.slot.minutes,
        due: format::date(o.due),
        late_days: (o.slot.date - o.due).num_days().max(0),
        unavailable: o.unavailable.iter().map(|d| format::date(*d)).collect(),
        deadline: format::moment_text(&o.deadline, tz),
        status: match o.status {
            OfferStatus::Open => "open",
            OfferStatus::Accepted => "geaccepteerd",
            OfferStatus::Declined => "afgewezen",
            OfferStatus::Expired => "verlopen",
            OfferStatus::Withdrawn => "ingetrokken",
        },
        decline_reason: o.decline_reason,
        referral_href: (o.status == OfferStatus::Accepted)
            .then(|| format!("/referrals/{}", o.referral_id)),
    };
    render(&InboxPage {
        chrome: viewer.chrome_counted(&state, "/inbox").await,
        csrf: viewer.csrf.clone(),
        may_answer: viewer.user.role == Role::Chair,
        done: match query.gedaan.as_deref() {
            Some("geaccepteerd") => {
                Some("Aanbieding geaccepteerd: de aanmelding staat geboekt op uw tafel.")
            }
            Some("afgewezen") => Some("Aanbieding afgewezen: de planner zoekt een andere plek."),
            _ => None,
        },
        open: open.into_iter().map(card).collect(),
        answered: answered
            .into_iter()
            .take(ANSWERED_SHOWN)
            .map(card)
            .collect(),
    })
}

/// The form of an answer: the session's form token, for an accept the
/// confirmation box (`zeker`), for a decline the reason.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    zeker: Option<String>,
}

/// `POST /inbox/{id}/accept`: accepts the offer (see
/// [`crate::offers::accept`]) and goes back to the inbox.
///
/// # Errors
/// 403 page for a wrong form token; the offer service's refusals (only a
/// chair of the receiving region; 404 outside it; 409 when no longer open).
pub async fn accept(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<AnswerForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = id.map(|Path(id)| id).map_err(|_| PageError::NotFound)?;
    // A booking at this table is not undone by a click: the box says so.
    if form.zeker.is_none() {
        return Err(PageError::Invalid(super::Said::nl(
            "Vink aan dat uw tafel dit gesprek voert; dan pas wordt het aanbod aangenomen.",
        )));
    }
    offers::accept(&state, &viewer.user, id).await?;
    Ok(Redirect::to("/inbox?gedaan=geaccepteerd"))
}

/// `POST /inbox/{id}/decline`: declines the offer with the form's reason
/// (see [`crate::offers::decline`]) and goes back to the inbox.
///
/// # Errors
/// As [`accept`]; 422 page when the reason is missing or too long.
pub async fn decline(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<AnswerForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = id.map(|Path(id)| id).map_err(|_| PageError::NotFound)?;
    offers::decline(&state, &viewer.user, id, Some(&form.reason)).await?;
    Ok(Redirect::to("/inbox?gedaan=afgewezen"))
}
