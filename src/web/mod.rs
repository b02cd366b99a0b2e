//! HTTP: the router, the middleware every request passes, and the small
//! endpoints that belong to no domain (`/healthz`, `/metrics`, OpenAPI).
//! Domain handlers live next to their domain (`referrals::api`, ...).

pub mod error;
pub mod idempotency;
pub mod openapi;

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
pub use error::{AppError, AppJson, FieldError, Refusal, Result};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as one router, so tests can drive it without a socket.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(crate::auth::api::router())
        .merge(crate::referrals::api::router())
        .merge(crate::slots::api::router())
        .merge(crate::planning::api::router())
        .merge(crate::offers::api::router())
        .merge(crate::mail::api::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::ui::router())
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::from_fn(count_requests))
        .layer(middleware::from_fn(request_id_scope))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(middleware::from_fn(security_headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// What every response carries. The CSP allows no inline script or style
/// and no other origin: the pages need only `/static/app.css` and
/// `/static/app.js`. Responses that set no `Cache-Control` are `no-store`:
/// nearly everything here carries case data.
const SECURITY_HEADERS: [(axum::http::HeaderName, &str); 6] = [
    (
        axum::http::header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (axum::http::header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"),
    (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (axum::http::header::REFERRER_POLICY, "no-referrer"),
    (axum::http::header::X_FRAME_OPTIONS, "DENY"),
    (axum::http::header::CACHE_CONTROL, "no-store"),
];

/// Adds the [`SECURITY_HEADERS`] a response does not set itself.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// Refuses a cross-site write that would ride on the session cookie.
///
/// Requests with an `Authorization` header carry their own credential and
/// pass. For the rest, a browser says where a request comes from:
/// `Sec-Fetch-Site` (all current browsers) or `Origin`; either one naming
/// another site is refused. Forms also carry a per-session token (see
/// `ui`), and the cookie is `SameSite=Strict`: three locks, one door.
async fn same_origin(req: Request, next: Next) -> Response {
    let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    let headers = req.headers();
    if safe || headers.contains_key(axum::http::header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let cross_site = match site {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (
            headers
                .get(axum::http::header::ORIGIN)
                .and_then(|v| v.to_str().ok()),
            headers
                .get(axum::http::header::HOST)
                .and_then(|v| v.to_str().ok()),
        ) {
            (Some(origin), Some(host)) => origin_host(origin) != Some(host),
            (Some(_), None) => true,
            (None, _) => false,
        },
    };
    if cross_site {
        tracing::warn!("cross-site write refused");
        return AppError::Forbidden("cross-site request refused".into()).into_response();
    }
    next.run(req).await
}

/// `host:port` of an `Origin` value (`null` and junk give `None`).
fn origin_host(origin: &str) -> Option<&str> {
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// Makes the request id available to `AppError` (for the 500 body).
async fn request_id_scope(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    error::REQUEST_ID.scope(id, next.run(req)).await
}

/// Counts requests by route template and status for `/metrics`.
async fn count_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("jbt_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("jbt_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    if state.store.ping().await {
        Json(Health {
            status: "ok",
            database: "ok",
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "degraded",
                database: "unreachable",
            }),
        )
            .into_response()
    }
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            )],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}
