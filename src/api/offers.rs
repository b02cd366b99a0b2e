//! `/offers`: the receiving chair's inbox and answers.
//!
//! Handlers are thin: parse, call the domain function in [`super`], and
//! audit a refusal before it goes out.

use std::future::Future;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::audit::AuditEntry;
use crate::auth::CurrentUser;
use crate::offers::{self as offers, OfferList, OfferStatus, OfferView, MAX_REASON};
use crate::referrals::view::{MunicipalityView, RegionView, SlotView};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

#[derive(OpenApi)]
#[openapi(
    paths(list_offers, accept_offer, decline_offer),
    components(schemas(OfferView, OfferList, OfferStatus, DeclineOffer, RegionView, MunicipalityView, SlotView)),
    tags((name = "offers", description = "Offers of a referral to a neighbouring region's table"))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/offers", get(list_offers))
        .route("/offers/{id}/accept", post(accept_offer))
        .route("/offers/{id}/decline", post(decline_offer))
}

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

/// Runs `work`; a refusal it returns is audited (in a transaction of its
/// own: the work's rolled back) before it goes out.
async fn audited<T>(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    offer_id: Option<i64>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let err = match work.await {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    let detail = match (offer_id, err.reason()) {
        (Some(id), Some(why)) => Some(format!("offer {id}: {why}")),
        (Some(id), None) => Some(format!("offer {id}")),
        (None, why) => why.map(str::to_string),
    };
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action,
        referral_id: None,
        result: "refused",
        detail,
    };
    Err(crate::auth::audit::refusal(&state.store, entry, err).await)
}

/// A path id that is not a number names no offer.
fn path_id(id: Result<Path<i64>, PathRejection>) -> Result<i64> {
    id.map(|Path(id)| id).map_err(|_| AppError::NotFound)
}

fn parse_status(text: Option<&str>) -> Result<Option<OfferStatus>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => OfferStatus::parse(t).map(Some).ok_or_else(|| {
            AppError::validation(
                "status",
                format!(
                    "unknown status {t:?}; one of open, accepted, declined, expired, withdrawn"
                ),
            )
        }),
    }
}

/// The decline reason: trimmed, 1 to [`MAX_REASON`] characters.
fn parse_reason(body: &DeclineOffer) -> Result<String> {
    let reason = body.reason.as_deref().map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        return Err(AppError::validation(
            "reason",
            "is required: say why the table cannot take it",
        ));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::validation(
            "reason",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    Ok(reason.to_string())
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
    audited(&state, &user, "offer.read", None, async {
        let Query(params) = params.map_err(|e| AppError::BadRequest(e.body_text()))?;
        let status = parse_status(params.status.as_deref())?;
        let items = offers::list(&state, &user, status).await?;
        Ok(AppJson(OfferList { items }))
    })
    .await
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
    let id = id.as_ref().ok().map(|Path(id)| *id);
    audited(&state, &user, "offer.accept", id, async {
        let id = id.ok_or(AppError::NotFound)?;
        offers::accept(&state, &user, id).await.map(AppJson)
    })
    .await
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
    audited(&state, &user, "offer.decline", Some(id), async {
        user.require(&[crate::auth::Role::Chair])?;
        let AppJson(body) = body?;
        let reason = parse_reason(&body)?;
        offers::decline(&state, &user, id, &reason)
            .await
            .map(AppJson)
    })
    .await
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

    #[test]
    fn a_reason_is_required_and_bounded() {
        let reason = |text: Option<&str>| {
            parse_reason(&DeclineOffer {
                reason: text.map(str::to_string),
            })
        };
        assert!(matches!(reason(None), Err(AppError::Validation(_))));
        assert!(matches!(reason(Some("   ")), Err(AppError::Validation(_))));
        assert!(matches!(
            reason(Some(&"x".repeat(501))),
            Err(AppError::Validation(_))
        ));
        assert_eq!(reason(Some(" vol ")).ok().as_deref(), Some("vol"));
        assert_eq!(
            reason(Some(&"é".repeat(500)))
                .ok()
                .map(|r| r.chars().count()),
            Some(500)
        );
    }

    #[test]
    fn statuses_parse_or_name_the_field() {
        assert_eq!(
            parse_status(Some("open")).ok(),
            Some(Some(OfferStatus::Open))
        );
        assert_eq!(parse_status(None).ok(), Some(None));
        match parse_status(Some("pending")) {
            Err(AppError::Validation(fields)) => assert_eq!(fields[0].field, "status"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}
