//! `/referrals/{id}/report`: the report of a held conversation (see
//! `reports`): read, write the draft, send it, record a reaction.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use super::referrals::path_id;
use crate::auth::CurrentUser;
use crate::referrals::written::{self, RecordWritten, WrittenEvaluation};
use crate::reports::evaluation::{
    evaluate, Evaluation, HalfYear, OpenAnswer, OutcomeCount, Scores,
};
use crate::reports::{
    self, Agreement, DraftInput, Reaction, ReactionInput, ReportContent, ReportView, SentVersion,
};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

/// The OpenAPI description of the report.
#[derive(OpenApi)]
#[openapi(
    paths(get_report, put_draft, send_report, add_reaction, get_evaluation),
    components(schemas(
        Evaluation,
        OutcomeCount,
        Scores,
        OpenAnswer,
        ReportView,
        SentVersion,
        ReportContent,
        Agreement,
        Reaction,
        DraftInput,
        ReactionInput
    ))
)]
pub struct Api;

/// The routes, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/referrals/{id}/report", get(get_report).put(put_draft))
        .route("/referrals/{id}/report/send", post(send_report))
        .route("/referrals/{id}/report/reactions", post(add_reaction))
        .route("/referrals/{id}/written-evaluation", post(record_written))
        .route("/evaluation", get(get_evaluation))
}

/// The report as the user may see it: content for the chair and secretary
/// of the table where the conversation was held and for the referring
/// organisation (audited); for coordinators only whether it was sent and
/// whether it is late.
#[utoipa::path(
    get,
    path = "/referrals/{id}/report",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    responses(
        (status = 200, body = ReportView),
        (status = 403, description = "Role without referrals", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "GET /referrals/{id}/report", skip_all, fields(user = user.id))]
pub async fn get_report(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
) -> Result<AppJson<ReportView>> {
    let id = path_id(id)?;
    Ok(AppJson(reports::show(&state, &user, id).await?))
}

/// Write (or rewrite) the draft: the chair or secretary of the table where
/// the conversation was held, once it was held.
#[utoipa::path(
    put,
    path = "/referrals/{id}/report",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = DraftInput,
    responses(
        (status = 200, body = ReportView),
        (status = 403, description = "Not the chair or secretary of that table", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Not held yet, or no encryption key", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "PUT /referrals/{id}/report", skip_all, fields(user = user.id))]
pub async fn put_draft(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    body: std::result::Result<AppJson<DraftInput>, AppError>,
) -> Result<AppJson<ReportView>> {
    let id = path_id(id)?;
    let AppJson(body) = body?;
    reports::save_draft(&state, &user, id, &body).await?;
    Ok(AppJson(reports::show(&state, &user, id).await?))
}

/// Send the draft (*vaststellen en versturen*): the referring professional
/// and the professionals present get a mail without content, with a link.
#[utoipa::path(
    post,
    path = "/referrals/{id}/report/send",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    responses(
        (status = 200, body = ReportView),
        (status = 403, description = "Not the chair or secretary of that table", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "No draft, or not held yet", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/report/send", skip_all, fields(user = user.id))]
pub async fn send_report(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
) -> Result<AppJson<ReportView>> {
    let id = path_id(id)?;
    reports::send(&state, &user, id).await?;
    Ok(AppJson(reports::show(&state, &user, id).await?))
}

/// Record the parents' or the professional's reaction (the referring
/// organisation, within the reaction window): a new version.
#[utoipa::path(
    post,
    path = "/referrals/{id}/report/reactions",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = ReactionInput,
    responses(
        (status = 201, body = ReportView),
        (status = 403, description = "Not the referring professional", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Not sent yet, or the window closed", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/report/reactions", skip_all, fields(user = user.id))]
pub async fn add_reaction(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    body: std::result::Result<AppJson<ReactionInput>, AppError>,
) -> Result<(StatusCode, AppJson<ReportView>)> {
    let id = path_id(id)?;
    let AppJson(body) = body?;
    reports::react(&state, &user, id, &body).await?;
    Ok((
        StatusCode::CREATED,
        AppJson(reports::show(&state, &user, id).await?),
    ))
}

/// Record a planned written evaluation as received or not (the chair of
/// the table where the conversation was held, or a coordinator).
#[utoipa::path(
    post,
    path = "/referrals/{id}/written-evaluation",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = RecordWritten,
    responses(
        (status = 200, body = WrittenEvaluation),
        (status = 403, description = "Role may not record outcomes, or another table's chair", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope, or none planned", body = ErrorBody),
        (status = 409, description = "Already recorded", body = ErrorBody),
        (status = 422, description = "Unreadable body", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/written-evaluation", skip_all, fields(user = user.id))]
pub async fn record_written(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    body: std::result::Result<AppJson<RecordWritten>, AppError>,
) -> Result<AppJson<WrittenEvaluation>> {
    let id = path_id(id)?;
    let AppJson(body) = body?;
    Ok(AppJson(written::record(&state, &user, id, &body).await?))
}

/// `?region=&half_year=`: the table (empty or absent: all of Gelderland)
/// and the half-year (`2026-H2`; absent: the current one).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct EvaluationQuery {
    /// A region id, e.g. `food-valley`.
    region: Option<String>,
    /// `2026-H1` or `2026-H2`.
    half_year: Option<String>,
}

/// The half-yearly evaluation of a table or of all of them: figures, the
/// feedback scores and open answers. The coordinator for any table or all,
/// a chair for the own table; audited (`evaluation.read`).
#[utoipa::path(
    get,
    path = "/evaluation",
    tag = "referrals",
    params(EvaluationQuery),
    responses(
        (status = 200, body = Evaluation),
        (status = 403, description = "Not the coordinator, or another table's chair", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
        (status = 422, description = "A half-year not like 2026-H2", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "GET /evaluation", skip_all, fields(user = user.id))]
pub async fn get_evaluation(
    State(state): State<AppState>,
    user: CurrentUser,
    query: std::result::Result<
        axum::extract::Query<EvaluationQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<AppJson<Evaluation>> {
    let axum::extract::Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let today = crate::referrals::norm::local_date(state.now(), state.regions.timezone);
    let half = match query.half_year.as_deref().map(str::trim) {
        None | Some("") => HalfYear::of(today),
        Some(text) => HalfYear::parse(text)?,
    };
    Ok(AppJson(
        evaluate(&state, &user, query.region.as_deref(), half).await?,
    ))
}
