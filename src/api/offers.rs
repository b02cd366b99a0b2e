//! `/offers`: the receiving chair's inbox and answers.
//!
//! Thin: read the request, call `offers` (which checks, audits and
//! answers in Dutch and English), write the answer.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::CurrentUser;
use crate::offers::{self as offers, OfferList, OfferStatus, OfferView};
use crate::referrals::view::{MunicipalityView, RegionView, SlotView};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

/// The OpenAPI description of `/offers`.
#[derive(OpenApi)]
#[openapi(
    paths(list_offers, accept_offer, decline_offer),
    components(schemas(OfferView, OfferList, OfferStatus, DeclineOffer, RegionView, MunicipalityView, SlotView)),
    tags((name = "offers", description = "Offers of a referral to a neighbouring region's table"))
)]
pub struct Api;

/// The routes of this module (the inbox, accept, decline), relative to
/// `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/offers", get(list_offers))
        .route("/offers/{id}/accept", post(accept_offer))
        .route("/offers/{id}/decline", post(decline_offer))
}

/// The query string of `GET /offers`: an optional status filter.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OfferListParams {
    /// Only offers in this status: `open` (the inbox), `accepted`,
    /// `declined`, `expired` or `withdrawn`.
    pub status: Option<String>,
}

/// Why the receiving table declines.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DeclineOffer {
    /// 1 to 500 characters.
    #[serde(default)]
    #[schema(example = "Geen voorzitter beschikbaar die dag")]
    pub reason: Option<String>,
}

/// A path id that is not a number names no offer.
fn path_id(id: Result<Path<i64>, PathRejection>) -> Result<i64> {
    id.map(|Path(id)| id).map_err(|_| AppError::NotFound)
}

/// Offers to the chair's own table (a coordinator sees all), newest first.
/// Each shows only what is needed to decide. Every offer returned is
/// audited as read.
#[utoipa::path(
    get,
    path = "/offers",
    tag = "offers",
    params(OfferListParams),
    responses(
        (status = 200, body = OfferList),
        (status = 403, description = "Only chairs and coordinators see offers", body = ErrorBody),
        (status = 422, description = "Unknown status", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "GET /offers", skip_all, fields(user = user.id))]
pub async fn list_offers(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Query<OfferListParams>, QueryRejection>,
) -> Result<AppJson<OfferList>> {
    let Query(params) = params.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let items = offers::list(&state, &user, params.status.as_deref()).await?;
    Ok(AppJson(OfferList { items }))
}

/// Accept an offer to the own table: the referral is booked in the offered
/// slot; both regions and the referring professional are told. Accepting
/// again gives the same answer. Only a chair of the receiving region.
#[utoipa::path(
    post,
    path = "/offers/{id}/accept",
    tag = "offers",
    params(("id" = i64, Path, description = "Offer id")),
    responses(
        (status = 200, description = "Accepted; the referral is booked", body = OfferView),
        (status = 403, description = "Only chairs answer offers", body = ErrorBody),
        (status = 404, description = "No such offer to the chair's table", body = ErrorBody),
        (status = 409, description = "Declined, expired or withdrawn already, the slot went to another referral, or the referral can no longer be booked there", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /offers/{id}/accept", skip_all, fields(user = user.id))]
pub async fn accept_offer(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
) -> Result<AppJson<OfferView>> {
    let id = path_id(id)?;
    Ok(AppJson(offers::accept(&state, &user, id).await?))
}

/// Decline an offer to the own table, with a reason: the table is excluded
/// for this referral and the planner falls through to the next best table.
/// Declining again gives the same answer. Only a chair of the receiving
/// region.
#[utoipa::path(
    post,
    path = "/offers/{id}/decline",
    tag = "offers",
    params(("id" = i64, Path, description = "Offer id")),
    request_body = DeclineOffer,
    responses(
        (status = 200, description = "Declined", body = OfferView),
        (status = 403, description = "Only chairs answer offers", body = ErrorBody),
        (status = 404, description = "No such offer to the chair's table", body = ErrorBody),
        (status = 409, description = "Accepted, expired or withdrawn already", body = ErrorBody),
        (status = 422, description = "Reason missing or longer than 500 characters", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /offers/{id}/decline", skip_all, fields(user = user.id))]
pub async fn decline_offer(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    body: Result<AppJson<DeclineOffer>, AppError>,
) -> Result<AppJson<OfferView>> {
    let id = path_id(id)?;
    let AppJson(body) = body?;
    let view = offers::decline(&state, &user, id, body.reason.as_deref()).await?;
    Ok(AppJson(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_lists_the_routes_without_the_prefix() {
        let doc = Api::openapi();
        let mut paths: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            vec!["/offers", "/offers/{id}/accept", "/offers/{id}/decline"]
        );
        let schemas = doc.components.map(|c| c.schemas).unwrap_or_default();
        for name in [
            "OfferView",
            "OfferList",
            "OfferStatus",
            "DeclineOffer",
            "SlotView",
        ] {
            assert!(schemas.contains_key(name), "schema {name} missing");
        }
    }
}
