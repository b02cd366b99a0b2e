//! `/referrals/{id}/verslag`: the report of a held conversation in the
//! browser (issue 15): the sent versions with their safety agreements and
//! reactions, the draft form for the chair or secretary of the table (its
//! input kept after a refusal, each problem at its field), *vaststellen en
//! versturen*, and the reaction form for the referring professional. All
//! through the same service as `/api/v1/referrals/{id}/report`.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::{path_id, PageForm as Form};
use super::{format, render, Chrome, PageError, Viewer};
use crate::error::Error;
use crate::reports::{self, Agreement, DraftInput, ReactionInput, ReportView, PARTICIPANTS};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/report.html")]
struct ReportPage {
    chrome: Chrome,
    csrf: String,
    id: i64,
    case_ref: String,
    done: Option<&'static str>,
    view: ReportView,
    versions: Vec<VersionShown>,
    form: DraftForm,
    participants: Vec<(&'static str, &'static str, bool)>,
    /// (field id, Dutch message) of a refused form.
    problems: Vec<(String, String)>,
    due: Option<String>,
    reactions_until: Option<String>,
    /// When the content was deleted after the retention period.
    purged_on: Option<String>,
    retention_months: u32,
}

impl ReportPage {
    fn problem(&self, id: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, m)| m.as_str())
    }
}

/// A sent version in Dutch.
pub(super) struct VersionShown {
    pub(super) version: i64,
    /// When it was sent, local.
    pub(super) sent: String,
    pub(super) text: String,
    /// (what, who, by when)
    pub(super) agreements: Vec<(String, String, String)>,
    /// Who was present, by role, in Dutch.
    pub(super) participants: String,
    /// (who, received, text)
    pub(super) reactions: Vec<(String, String, String)>,
}

/// The draft form as typed: `text`, `afspraken` (one per line, `wat | wie
/// | datum`), `aanwezig_<rol>` boxes, `professionals` (one address per
/// line).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct DraftForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    afspraken: String,
    #[serde(default)]
    professionals: String,
    #[serde(flatten)]
    boxes: std::collections::BTreeMap<String, String>,
}

/// The reaction form.
#[derive(Debug, Deserialize)]
pub struct ReactionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    text: String,
}

/// `?gedaan=` after an action.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    gedaan: Option<String>,
}

/// `GET /referrals/{id}/verslag`.
///
/// # Errors
/// As reading the referral (403, 404); storage errors.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let id = path_id(id)?;
    let done = match query.gedaan.as_deref() {
        Some("concept") => Some("Het concept is bewaard."),
        Some("verstuurd") => Some("Het verslag is vastgesteld en verstuurd; de ontvangers krijgen een bericht zonder inhoud, met een link."),
        Some("reactie") => Some("De reactie is toegevoegd als nieuwe versie; de tafel krijgt bericht."),
        _ => None,
    };
    show(&state, &viewer, id, done, None, Vec::new()).await
}

async fn show(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    done: Option<&'static str>,
    form: Option<DraftForm>,
    problems: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let referral = crate::referrals::service::get(state, &viewer.user, id).await?;
    let view = reports::show_for(state, &viewer.user, &referral).await?;
    let form = match form {
        Some(form) => form,
        None => first_form(state, &view).await?,
    };
    let tz = state.regions.timezone;
    let versions = view.versions.iter().map(|v| shown(v, tz)).collect();
    let participants = PARTICIPANTS
        .iter()
        .map(|(id, words)| {
            (
                *id,
                *words,
                form.boxes.contains_key(&format!("aanwezig_{id}")),
            )
        })
        .collect();
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ReportPage {
        chrome: viewer.chrome_counted(state, "").await,
        csrf: viewer.csrf.clone(),
        id,
        case_ref: referral.case_ref.as_str().to_string(),
        done,
        due: view.due.map(format::date),
        reactions_until: view.reactions_until.map(format::date),
        purged_on: view.purged_on.map(format::date),
        retention_months: state.settings.reports.retention_months,
        view,
        versions,
        form,
        participants,
        problems,
    };
    Ok((status, render(&page)?).into_response())
}

/// A sent version in Dutch, for the page and the PDF.
pub(super) fn shown(v: &reports::SentVersion, tz: chrono_tz::Tz) -> VersionShown {
    VersionShown {
        version: v.version,
        sent: format::moment(v.sent_at, tz),
        text: v.content.text.clone(),
        agreements: v
            .content
            .agreements
            .iter()
            .map(|a| {
                (
                    a.what.clone(),
                    a.who.clone(),
                    a.by.map(format::date).unwrap_or_default(),
                )
            })
            .collect(),
        participants: v
            .content
            .participants
            .iter()
            .filter_map(|p| {
                PARTICIPANTS
                    .iter()
                    .find(|(id, _)| id == p)
                    .map(|(_, words)| *words)
            })
            .collect::<Vec<_>>()
            .join(", "),
        reactions: v
            .content
            .reactions
            .iter()
            .map(|r| {
                let who = if r.from == "parents" {
                    "Reactie van de ouders"
                } else {
                    "Reactie van de verwijzende professional"
                };
                (who.to_string(), format::date(r.received), r.text.clone())
            })
            .collect(),
    }
}

/// The draft form as the writer finds it: the stored draft; else the last
/// sent version (a new version starts from it); else, for a first report,
/// the recorded outcome (the outcome and its route, help and safety
/// texts).
async fn first_form(state: &AppState, view: &ReportView) -> Result<DraftForm, PageError> {
    if !view.may_write {
        return Ok(DraftForm::default());
    }
    if let Some(content) = view
        .draft
        .as_ref()
        .or(view.versions.first().map(|v| &v.content))
    {
        return Ok(DraftForm::from_draft(Some(content)));
    }
    let Some(outcome) = crate::referrals::view::outcome(state, view.referral_id).await? else {
        return Ok(DraftForm::default());
    };
    let mut text = vec![format!("Uitkomst: {}.", format::outcome(&outcome.outcome))];
    for (label, value) in [
        ("Route", &outcome.route),
        ("Hulp", &outcome.help),
        ("Veiligheid", &outcome.safety_agreements),
    ] {
        if !value.trim().is_empty() {
            text.push(format!("{label}: {}", value.trim()));
        }
    }
    Ok(DraftForm {
        text: text.join("\n"),
        ..DraftForm::default()
    })
}

impl DraftForm {
    /// The form filled from the stored draft (or empty).
    fn from_draft(draft: Option<&reports::ReportContent>) -> DraftForm {
        let Some(draft) = draft else {
            return DraftForm::default();
        };
        DraftForm {
            text: draft.text.clone(),
            afspraken: draft
                .agreements
                .iter()
                .map(|a| {
                    let by =
                        a.by.map(|d| d.format("%Y-%m-%d").to_string())
                            .unwrap_or_default();
                    format!("{} | {} | {by}", a.what, a.who)
                })
                .collect::<Vec<_>>()
                .join("\n"),
            professionals: draft.professionals.join("\n"),
            boxes: draft
                .participants
                .iter()
                .map(|p| (format!("aanwezig_{p}"), "on".to_string()))
                .collect(),
            ..DraftForm::default()
        }
    }

    /// The service's input; a line of agreements that cannot be read is a
    /// problem of its own (field `afspraken`).
    fn input(&self) -> Result<DraftInput, (String, String)> {
        let mut agreements = Vec::new();
        for (n, line) in self
            .afspraken
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            let by = match parts.get(2).filter(|d| !d.is_empty()) {
                None => None,
                Some(date) => Some(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(
                    |_| {
                        (
                            "afspraken".to_string(),
                            format!("Regel {}: de datum moet jjjj-mm-dd zijn.", n + 1),
                        )
                    },
                )?),
            };
            agreements.push(Agreement {
                what: parts.first().copied().unwrap_or_default().to_string(),
                who: parts.get(1).copied().unwrap_or_default().to_string(),
                by,
            });
        }
        Ok(DraftInput {
            text: self.text.clone(),
            agreements,
            participants: PARTICIPANTS
                .iter()
                .filter(|(id, _)| self.boxes.contains_key(&format!("aanwezig_{id}")))
                .map(|(id, _)| (*id).to_string())
                .collect(),
            professionals: self
                .professionals
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

/// The form field a service problem belongs to.
fn field_of(field: &str) -> &'static str {
    match field {
        "text" => "verslag-tekst",
        f if f.starts_with("agreements") => "verslag-afspraken",
        f if f.starts_with("professionals") => "verslag-professionals",
        _ => "verslag-aanwezig",
    }
}

/// `POST /referrals/{id}/verslag`: saves the draft; a refusal shows the
/// form again with the input kept.
///
/// # Errors
/// 403 for a wrong form token or a viewer who may not write it; 404; the
/// service's refusals.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<DraftForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = path_id(id)?;
    let input = match form.input() {
        Ok(input) => input,
        Err((field, message)) => {
            let problems = vec![(format!("verslag-{field}"), message)];
            return show(&state, &viewer, id, None, Some(form), problems).await;
        }
    };
    match reports::save_draft(&state, &viewer.user, id, &input).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/referrals/{id}/verslag?gedaan=concept")).into_response())
        }
        Err(Error::Invalid(found)) => {
            let problems = found
                .into_iter()
                .map(|p| (field_of(&p.field).to_string(), p.dutch.unwrap_or(p.message)))
                .collect();
            show(&state, &viewer, id, None, Some(form), problems).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /referrals/{id}/verslag/versturen`: *vaststellen en versturen*.
///
/// # Errors
/// 403 for a wrong form token; the service's refusals as error pages.
pub async fn send(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<super::referral::TokenForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = path_id(id)?;
    reports::send(&state, &viewer.user, id).await?;
    Ok(Redirect::to(&format!(
        "/referrals/{id}/verslag?gedaan=verstuurd"
    )))
}

/// `POST /referrals/{id}/verslag/reactie`: the parents' or the
/// professional's reaction, as a new version.
///
/// # Errors
/// 403 for a wrong form token; the service's refusals as error pages.
pub async fn react(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<ReactionForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = path_id(id)?;
    let input = ReactionInput {
        from: form.from,
        text: form.text,
    };
    reports::react(&state, &viewer.user, id, &input).await?;
    Ok(Redirect::to(&format!(
        "/referrals/{id}/verslag?gedaan=reactie"
    )))
}

/// The written evaluation's form: `ontvangen` = `ja` or `nee`.
#[derive(Debug, Deserialize)]
pub struct WrittenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ontvangen: String,
}

/// `POST /referrals/{id}/schriftelijke-evaluatie`: records the written
/// evaluation as received or not.
///
/// # Errors
/// 403 for a wrong form token; 422 for another value; the service's
/// refusals as error pages.
pub async fn written(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<WrittenForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = path_id(id)?;
    let received = match form.ontvangen.as_str() {
        "ja" => true,
        "nee" => false,
        _ => {
            return Err(PageError::Invalid(super::Said::nl(
                "kies ontvangen of niet ontvangen",
            )))
        }
    };
    let body = crate::referrals::written::RecordWritten { received };
    crate::referrals::written::record(&state, &viewer.user, id, &body).await?;
    Ok(super::form::back(id, "schriftelijk"))
}
