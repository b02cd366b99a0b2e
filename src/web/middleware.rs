//! The middleware every request passes: security headers, the cross-site
//! write check, the request id, request counting.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{self, AppError};

/// The header that carries the request id, in requests and responses.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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

/// Adds the `SECURITY_HEADERS` a response does not set itself.
pub async fn security_headers(req: Request, next: Next) -> Response {
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
pub async fn same_origin(req: Request, next: Next) -> Response {
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
pub async fn request_id_scope(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    error::REQUEST_ID.scope(id, next.run(req)).await
}

/// Counts requests by route template and status for `/metrics`.
pub async fn count_requests(req: Request, next: Next) -> Response {
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
