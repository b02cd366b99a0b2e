//! The whole application as one router (API, pages, static files, the
//! OpenAPI document), with the middleware stack: the top of the HTTP side,
//! so no handler module needs to know the others.

use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::state::AppState;
use crate::web::middleware::{
    count_requests, request_id_scope, same_origin, security_headers, REQUEST_ID,
};
use crate::web::{error, idempotency};

/// The whole application as one router, so tests can drive it without a socket.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(api::users::router())
        .merge(api::referrals::router())
        .merge(api::moves::router())
        .merge(api::reports::router())
        .merge(api::info::router())
        .merge(api::slots::router())
        .merge(api::plan::router())
        .merge(api::advice::router())
        .merge(api::offers::router())
        .merge(api::mail::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::ui::router())
        .route("/api/openapi.json", get(openapi_document))
        .route("/healthz", get(api::health::healthz))
        .route("/metrics", get(api::health::metrics))
        .with_state(state)
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::from_fn(count_requests))
        .layer(middleware::from_fn(request_id_scope))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        // gzip when asked (pages, JSON, the board's fragments; not tiny or
        // image bodies). BREACH needs an attacker's request to carry the
        // session: the cookie is SameSite=Strict and the API's token is never
        // echoed, so secrets and attacker text do not meet in one answer.
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(middleware::from_fn(security_headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "jbt-planner API", description = "Planning of the Jeugdbeschermingstafels (youth-protection tables) of the Gelderland regions."),
    paths(api::health::healthz),
    components(schemas(api::health::Health, error::ErrorBody, error::FieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct Base;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document: the base plus every API module's paths, which are
/// served under `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for mut part in [
        api::users::Api::openapi(),
        api::referrals::Api::openapi(),
        api::moves::Api::openapi(),
        api::reports::Api::openapi(),
        api::info::Api::openapi(),
        api::slots::Api::openapi(),
        api::plan::Api::openapi(),
        api::advice::Api::openapi(),
        api::offers::Api::openapi(),
        api::mail::Api::openapi(),
    ] {
        let paths = std::mem::take(&mut part.paths.paths);
        for (path, item) in paths {
            part.paths.paths.insert(format!("/api/v1{path}"), item);
        }
        doc.merge(part);
    }
    doc
}

/// `GET /api/openapi.json`.
async fn openapi_document() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
