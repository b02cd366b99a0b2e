//! The referral page: the norm clock, what happened, why the planner put
//! it where it is, and the actions the viewer's role allows.
//!
//! Reads and actions go through the referral service, as the JSON API's
//! do, so scope (a chair of another region gets 404), lifecycle,
//! validation and audit are the same.

use std::future::Future;

use super::form::{path_id, PageForm as Form};
use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::back;
use super::{format, render, Chrome, PageError, Viewer};
use crate::auth::audit::{self, AuditFilter};
use crate::auth::Role;
use crate::referrals::input::RecordOutcome;
use crate::referrals::service;
use crate::referrals::view::{self as referral_view, ReferralView};
use crate::state::AppState;

/// Timeline entries shown (newest first).
const TIMELINE_LIMIT: u32 = 100;

#[derive(Template)]
#[template(path = "pages/referral.html")]
struct ReferralPage {
    chrome: Chrome,
    csrf: String,
    done: Option<&'static str>,
    r: Facts,
    timeline: Vec<Event>,
    summary: Option<String>,
    alternatives: Vec<String>,
    /// Slots to move to by hand (empty: no move form).
    moves: Vec<super::referral_move::MoveGroup>,
    actions: Actions,
    info: Vec<InfoRow>,
    /// The professional's remarks for the chair (case content).
    remarks: Option<String>,
    /// A planned written evaluation, and whether the viewer records it.
    written: Option<(crate::referrals::written::WrittenEvaluation, bool)>,
    outcome: Option<OutcomeShown>,
    /// The outcome form's input (kept after a refusal).
    outcome_form: OutcomeForm,
    /// (field id, Dutch message) of a refused outcome form.
    problems: Vec<(String, String)>,
}

impl ReferralPage {
    /// The message for field `id` of the outcome form, if refused there.
    fn problem(&self, id: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, m)| m.as_str())
    }
}

/// The recorded outcome, in Dutch.
struct OutcomeShown {
    outcome: &'static str,
    route: String,
    help: String,
    safety_agreements: String,
    evaluation: Option<String>,
    evaluation_referral: Option<(i64, String)>,
    recorded: String,
}

/// A question of the table and its answer, for the page.
struct InfoRow {
    id: i64,
    asked: String,
    by: &'static str,
    question: String,
    answered: Option<String>,
    answer: Option<String>,
}

/// What the page says about the referral, already in Dutch.
struct Facts {
    id: i64,
    case_ref: String,
    kind: &'static str,
    municipality: String,
    region: String,
    status: &'static str,
    registered: String,
    due: String,
    days_waiting: i64,
    norm_label: &'static str,
    norm_class: &'static str,
    minutes: u32,
    child_12_plus: bool,
    cross_region: bool,
    missing: Vec<&'static str>,
    unavailable: Vec<String>,
    /// The same dates as `YYYY-MM-DD`, padded to the change form's four fields.
    unavailable_iso: Vec<String>,
    earliest_iso: String,
    missing_safety_plan: bool,
    missing_parents: bool,
    planned: Option<String>,
    booked: Option<String>,
}

struct Event {
    at: String,
    what: String,
    by: String,
}

/// Which forms the page offers; the handlers check again.
struct Actions {
    /// Ask the professional for information (chair, coordinator).
    ask: bool,
    /// Answer the table's open questions (referrer, coordinator).
    answer: bool,
    confirm: bool,
    cancel: bool,
    held: bool,
    outcome: bool,
    /// The professional (or a coordinator) changes dates or completes it.
    change: bool,
    /// The professional (or a coordinator) withdraws it.
    withdraw: bool,
}

/// The referral page's query string: `gedaan` names the action just done
/// (`bevestigd`, `geannuleerd`, `gehouden`, `uitkomst`), to confirm it.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    gedaan: Option<String>,
}

fn done_message(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "bevestigd" => {
            Some("De afspraak is bevestigd. De tafel en de verwijzer krijgen een uitnodiging.")
        }
        "geannuleerd" => Some("De aanmelding is geannuleerd; de plek is vrijgegeven."),
        "gehouden" => Some("Het gesprek is als gehouden vastgelegd."),
        "niet-doorgegaan" => Some(
            "Vastgelegd dat het gesprek niet doorging; de planner zoekt een nieuwe plek.",
        ),
        "uitkomst" => Some("De uitkomst is vastgelegd."),
        "schriftelijk" => Some("De schriftelijke evaluatie is vastgelegd."),
        "vastgezet" => Some("De aanmelding staat op de gekozen plek; de planner houdt haar daar."),
        "verplaatst" => Some("De afspraak is verplaatst; de tafel en de verwijzer krijgen de gewijzigde uitnodiging."),
        "aangeboden" => Some("De plek is aangeboden aan de andere tafel; de voorzitter daar beslist."),
        "aangemeld" => Some(
            "De aanmelding is ontvangen. De planner zoekt een plek; die staat hieronder zodra er een is.",
        ),
        "gewijzigd" => Some("De wijziging is opgeslagen; de planner kijkt opnieuw naar de plek."),
        "ingetrokken" => Some("De aanmelding is ingetrokken."),
        "gevraagd" => Some("De vraag is verstuurd; de verwijzer krijgt een bericht zonder de inhoud."),
        "beantwoord" => Some("Het antwoord is verstuurd; de tafel krijgt een bericht zonder de inhoud."),
        _ => None,
    }
}

/// `GET /referrals/{id}`: one referral with its slot, the planner's
/// explanation, its timeline from the audit log, and the buttons the
/// viewer's role and the referral's status allow.
///
/// # Errors
/// 404 page for a referral outside the viewer's scope (or no number);
/// 403 page for a role without access to referrals; database errors.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    let id = path_id(id)?;
    let done = done_message(query.gedaan.as_deref());
    build(
        &state,
        &viewer,
        id,
        done,
        OutcomeForm::default(),
        Vec::new(),
    )
    .await
}

/// The page of referral `id`, with `outcome_form` (the input of a refused
/// outcome form, kept) and its `problems` (field id, Dutch message).
async fn build(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    done: Option<&'static str>,
    outcome_form: OutcomeForm,
    problems: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let state = state.clone();
    let referral = service::get(&state, &viewer.user, id).await?;
    let view = referral_view::of(&state, &referral);
    let timeline = timeline(&state, id).await?;
    let mut conn = state.store.pool.acquire().await?;
    let offer = crate::offers::store::open_for_referral(&mut conn, id).await?;
    drop(conn);
    let (summary, alternatives) = why(&state, &view, offer.as_ref());
    let actions = actions(viewer, &view, &state);
    let tz = state.regions.timezone;
    let info = crate::referrals::info::of_read_referral(&state, id)
        .await?
        .into_iter()
        .map(|r| InfoRow {
            id: r.id,
            asked: format::moment(r.asked_at, tz),
            by: Role::parse(&r.asked_by_role).map_or("de tafel", format::role),
            question: r.question,
            answered: r.answered_at.map(|at| format::moment(at, tz)),
            answer: r.answer,
        })
        .collect();
    let outcome = referral_view::outcome(&state, id)
        .await?
        .map(|o| OutcomeShown {
            outcome: format::outcome(&o.outcome),
            route: o.route,
            help: o.help,
            safety_agreements: o.safety_agreements,
            evaluation: o.evaluation_date.map(format::date),
            evaluation_referral: o.evaluation,
            recorded: format::moment(o.recorded_at, tz),
        });
    render(&ReferralPage {
        outcome_form,
        problems,
        outcome,
        info,
        remarks: crate::referrals::remarks::of_read_referral(&state, id).await?,
        moves: super::referral_move::choices(&state, viewer, &referral).await?,
        written: crate::referrals::written::of(&state, id).await?.map(|w| {
            (
                w,
                matches!(viewer.user.role, Role::Coordinator | Role::Chair),
            )
        }),
        chrome: viewer.chrome_counted(&state, "").await,
        csrf: viewer.csrf.clone(),
        done,
        r: facts(&state, &view),
        timeline,
        summary,
        alternatives,
        actions,
    })
}

fn facts(state: &AppState, view: &ReferralView) -> Facts {
    let tz = state.regions.timezone;
    let slot_text = |s: &crate::referrals::view::SlotView| {
        format!(
            "{} ({} min) bij de tafel van {}",
            format::moment_text(&s.start, tz),
            s.minutes,
            state.regions.region_name(&s.region)
        )
    };
    let (norm_label, norm_class) = format::norm(view.norm.status);
    Facts {
        id: view.id,
        case_ref: view.case_ref.clone(),
        kind: format::kind(view.kind.as_str()),
        municipality: view.municipality.name.clone(),
        region: view.region.name.clone(),
        status: format::referral_status(view.status.as_str()),
        registered: format::moment_text(&view.registered_at, tz),
        due: format::date(view.norm.due),
        days_waiting: view.norm.days_waiting,
        norm_label,
        norm_class,
        minutes: view.minutes,
        child_12_plus: view.child_12_plus,
        cross_region: view.cross_region,
        missing: view.missing.iter().map(|m| format::missing(m)).collect(),
        unavailable: view.unavailable.iter().map(|d| format::date(*d)).collect(),
        unavailable_iso: {
            let mut dates: Vec<String> = view.unavailable.iter().map(ToString::to_string).collect();
            dates.resize(dates.len().max(4), String::new());
            dates
        },
        earliest_iso: view.earliest.map(|d| d.to_string()).unwrap_or_default(),
        missing_safety_plan: !view.safety_plan,
        missing_parents: !view.parents_informed,
        planned: view.planned_slot.as_ref().map(slot_text),
        booked: view.booked_slot.as_ref().map(slot_text),
    }
}

/// What happened to the referral, in words; reads are left out (they are
/// in the audit log for the administrator).
async fn timeline(state: &AppState, id: i64) -> Result<Vec<Event>, PageError> {
    let rows = audit::list(
        &state.store,
        AuditFilter {
            referral_id: Some(id),
            limit: TIMELINE_LIMIT,
            ..AuditFilter::default()
        },
    )
    .await?;
    let tz = state.regions.timezone;
    Ok(rows
        .into_iter()
        // Reads are for the administrator; a refused form (invalid input)
        // changed nothing and is no event in the referral's life (the
        // audit log keeps both).
        .filter(|row| !row.action.ends_with(".read") && row.result != "invalid")
        .map(|row| Event {
            at: format::moment(row.at, tz),
            what: match (row.action.as_str(), row.detail.as_deref()) {
                ("referral.not_held", Some(code)) if row.result == "ok" => format!(
                    "gesprek niet doorgegaan: {}",
                    crate::referrals::conversation::NotHeldReason::parse(code)
                        .map_or("reden onbekend", |r| r.dutch())
                ),
                _ => format::event(&row.action, &row.result),
            },
            by: row
                .role
                .as_deref()
                .and_then(Role::parse)
                .map_or("het systeem", format::role)
                .to_string(),
        })
        .collect())
}

/// "Waarom deze plek", matching the referral's state: the planner's words
/// only while the planner decides (registered, planned); an open offer, a
/// booking, a held conversation or a closed referral say so instead.
fn why(
    state: &AppState,
    view: &ReferralView,
    offer: Option<&crate::offers::store::Offer>,
) -> (Option<String>, Vec<String>) {
    use crate::referrals::lifecycle::Status;
    let tz = state.regions.timezone;
    let said = |text: String| (Some(text), Vec::new());
    match view.status {
        Status::Withdrawn => said("De aanmelding is ingetrokken; er wordt niet meer voor gepland.".into()),
        Status::Cancelled => said("De aanmelding is geannuleerd; er wordt niet meer voor gepland.".into()),
        Status::Held | Status::OutcomeRecorded => said("Het gesprek is gehouden.".into()),
        Status::Booked => said("De afspraak is bevestigd en blijft staan zoals geboekt.".into()),
        Status::Incomplete => said(format!(
            "De planner deelt deze aanmelding pas in als dit er is: {}.",
            view.missing.iter().map(|m| format::missing(m)).collect::<Vec<_>>().join(", ")
        )),
        Status::Planned | Status::Registered => match offer {
            Some(offer) => said(format!(
                "Aangeboden aan de tafel {}: de voorzitter daar beslist uiterlijk {}. Tot dan is de plek voor dit gezin vastgehouden.",
                state.regions.region_name(&offer.to_region),
                format::moment(offer.expires_at, tz)
            )),
            None => explanation(view),
        },
    }
}

/// The planner's summary and its next best alternatives, as stored with
/// the referral at the last plan run.
fn explanation(view: &ReferralView) -> (Option<String>, Vec<String>) {
    let Some(value) = &view.explanation else {
        return (None, Vec::new());
    };
    if let Some(text) = value.as_str() {
        return (Some(text.to_string()), Vec::new());
    }
    let summary = value
        .get("summary")
        .and_then(|s| s.as_str())
        .map(str::to_string);
    let alternatives = value
        .get("alternatives")
        .and_then(|a| a.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|a| a.get("text").and_then(|t| t.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (summary, alternatives)
}

fn actions(viewer: &Viewer, view: &ReferralView, state: &AppState) -> Actions {
    use crate::referrals::lifecycle::Status;
    let table = matches!(viewer.user.role, Role::Coordinator | Role::Chair);
    let professional = matches!(viewer.user.role, Role::Coordinator | Role::Referrer);
    let own_slot = |slot: &crate::referrals::view::SlotView| {
        crate::referrals::access::may_at(
            &viewer.user,
            crate::referrals::access::Action::Confirm,
            &slot.region,
        )
    };
    let started = view.booked_slot_started(state.now());
    let open = !matches!(
        view.status,
        Status::Withdrawn | Status::Cancelled | Status::OutcomeRecorded
    );
    Actions {
        ask: open && crate::referrals::info::may(&viewer.user, true),
        answer: crate::referrals::info::may(&viewer.user, false),
        confirm: table
            && view.status == Status::Planned
            && view.planned_slot.as_ref().is_some_and(own_slot),
        cancel: table
            && matches!(
                view.status,
                Status::Registered | Status::Incomplete | Status::Planned | Status::Booked
            ),
        held: table && view.status == Status::Booked && started,
        outcome: table && view.status == Status::Held,
        change: professional && crate::referrals::lifecycle::EDITABLE.contains(&view.status),
        withdraw: professional
            && matches!(
                view.status,
                Status::Registered | Status::Incomplete | Status::Planned | Status::Booked
            ),
    }
}

/// A form with only the session's form token (confirm, held).
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// A button on the referral page: checks the form token, has the referral
/// service do the work for referral `id` (same checks, same audit rows as
/// the API), and goes back to the page saying what was `done`.
pub(super) async fn act<T, Work>(
    viewer: &Viewer,
    csrf: &str,
    id: Result<Path<i64>, PathRejection>,
    done: &str,
    work: impl FnOnce(i64) -> Work,
) -> Result<Redirect, PageError>
where
    Work: Future<Output = Result<T, crate::error::Error>>,
{
    viewer.check_csrf(csrf)?;
    let id = path_id(id)?;
    work(id).await?;
    Ok(back(id, done))
}

/// `POST /referrals/{id}/confirm`: books the referral in its planned slot.
///
/// # Errors
/// 403 page for a wrong form token; the referral service's refusals (role,
/// scope, lifecycle), as error pages.
pub async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<TokenForm>,
) -> Result<Redirect, PageError> {
    let user = viewer.user.clone();
    act(&viewer, &form.csrf, id, "bevestigd", |id| async move {
        service::book(&state, &user, id, None).await
    })
    .await
}

/// The cancel form: the session's form token and the reason.
#[derive(Debug, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) reason: String,
}

/// `POST /referrals/{id}/cancel`: cancels the referral (the table's
/// decision) with the form's reason.
///
/// # Errors
/// As [`confirm`]; 422 page when the reason is missing or too long.
pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<CancelForm>,
) -> Result<Redirect, PageError> {
    let user = viewer.user.clone();
    act(&viewer, &form.csrf, id, "geannuleerd", |id| async move {
        service::cancel(&state, &user, id, Some(&form.reason)).await
    })
    .await
}

/// `POST /referrals/{id}/held`: marks the booked conversation as held.
///
/// # Errors
/// As [`confirm`].
pub async fn held(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<TokenForm>,
) -> Result<Redirect, PageError> {
    let user = viewer.user.clone();
    act(&viewer, &form.csrf, id, "gehouden", |id| async move {
        crate::referrals::conversation::mark_held(&state, &user, id).await
    })
    .await
}

/// The outcome form, as text; an empty outcome or evaluation date counts
/// as not given.
#[derive(Debug, Default, Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    route: String,
    #[serde(default)]
    help: String,
    #[serde(default)]
    safety_agreements: String,
    #[serde(default)]
    evaluation_date: String,
    #[serde(default)]
    written_date: String,
    #[serde(default)]
    written_by: String,
}

/// `POST /referrals/{id}/outcome`: records the outcome of the held
/// conversation, and with an evaluation date registers the evaluation.
///
/// # Errors
/// As [`confirm`]; 422 page for invalid fields.
pub async fn outcome(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<OutcomeForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = path_id(id)?;
    let given = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    let body = RecordOutcome {
        outcome: given(&form.outcome),
        route: form.route.clone(),
        help: form.help.clone(),
        safety_agreements: form.safety_agreements.clone(),
        evaluation_date: given(&form.evaluation_date),
        written_evaluation_date: given(&form.written_date),
        written_evaluation_by: given(&form.written_by),
    };
    match service::record_outcome(&state, &viewer.user, id, &body).await {
        Ok(_) => Ok(back(id, "uitkomst").into_response()),
        // The same form again, the input kept, a Dutch message per field.
        Err(crate::error::Error::Invalid(fields)) => {
            let problems = fields.into_iter().map(outcome_problem).collect();
            let mut page = build(&state, &viewer, id, None, form, problems).await?;
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(other) => Err(other.into()),
    }
}

/// An outcome field's problem as the form shows it: its element id and a
/// Dutch sentence.
fn outcome_problem(problem: crate::error::FieldError) -> (String, String) {
    let (id, label) = match problem.field.as_str() {
        "outcome" => ("o-outcome", "Uitkomst"),
        "route" => ("o-route", "Afgesproken route"),
        "help" => ("o-help", "Hulp"),
        "safety_agreements" => ("o-safety", "Veiligheidsafspraken"),
        "evaluation_date" => ("o-eval", "Evaluatie op"),
        "written_evaluation_date" => ("o-written-date", "Schriftelijke evaluatie uiterlijk"),
        "written_evaluation_by" => ("o-written-by", "Schriftelijke evaluatie door"),
        _ => ("o-outcome", "Invoer"),
    };
    let text = super::format::field_problem(problem, label, "kies of vul dit in.");
    (id.to_string(), text)
}
