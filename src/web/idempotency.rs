//! `Idempotency-Key` on POST: a retry gets the first response, never a
//! second effect. Keys are scoped to the credential that sent them, kept
//! for a day, and bound to the request body: the same key with another
//! body is refused.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::error::AppError;
use crate::state::AppState;
use crate::store::time::to_millis;

/// The request header that carries the key (1 to 200 characters).
pub const HEADER: &str = "idempotency-key";
/// Longer than any request may run (the router times out at 30 s).
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(120);
/// Bodies larger than this are refused anyway by the API.
const MAX_BODY: usize = 1024 * 1024;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The middleware. A POST with an `Idempotency-Key` runs once per key and
/// credential (a SHA-256 of its `Authorization` and `Cookie` headers); a
/// retry gets the stored status and JSON body back, marked
/// `Idempotent-Replayed: true`. The same key with another method, path or
/// body is answered 422, and a key whose first request is still running
/// 409. Server errors, 401s and `no-store` responses are not kept, so a
/// retry of those runs for real. Other methods, and POSTs without the
/// header, pass through untouched.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return next.run(req).await;
    };
    if key.is_empty() || key.len() > 200 {
        return AppError::validation("Idempotency-Key", "must be 1 to 200 characters")
            .into_response();
    }
    match run(state, key, req, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run(state: AppState, key: String, req: Request, next: Next) -> Result<Response, Response> {
    let credential = [
        axum::http::header::AUTHORIZATION,
        axum::http::header::COOKIE,
    ]
    .iter()
    .filter_map(|h| req.headers().get(h))
    .map(|v| v.as_bytes().to_vec())
    .collect::<Vec<_>>()
    .concat();
    let scope = hex(&Sha256::digest(&credential));
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        AppError::BadRequest("request body too large or unreadable".into()).into_response()
    })?;
    let path = parts.uri.path().to_string();
    let request_hash = {
        let mut h = Sha256::new();
        h.update(parts.method.as_str());
        h.update(b" ");
        h.update(&path);
        h.update(b"\n");
        h.update(&bytes);
        hex(&h.finalize())
    };
    let db = |e: sqlx::Error| AppError::from(e).into_response();
    let mut tx = state.store.write().await.map_err(db)?;
    // A key left without a response for longer than any request may run
    // (the server died while handling it; the transaction rolled back) is
    // taken over by the retry instead of answering 409 forever.
    let now = state.now();
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, idem_key, method, path, request_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope, idem_key) DO UPDATE SET created_at = excluded.created_at
         WHERE idempotency_keys.status IS NULL AND idempotency_keys.created_at < $7
           AND idempotency_keys.request_hash = excluded.request_hash",
    )
    .bind(&scope)
    .bind(&key)
    .bind(parts.method.as_str())
    .bind(&path)
    .bind(&request_hash)
    .bind(to_millis(now))
    .bind(to_millis(now - ABANDONED_AFTER))
    .execute(&mut *tx)
    .await
    .map_err(db)?
    .rows_affected()
        == 1;
    if !inserted {
        let row = sqlx::query(
            "SELECT request_hash, status, response_body, location FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
        )
        .bind(&scope)
        .bind(&key)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let stored_hash: String = row.try_get("request_hash").map_err(db)?;
        let status: Option<i64> = row.try_get("status").map_err(db)?;
        let body: Option<String> = row.try_get("response_body").map_err(db)?;
        let location: Option<String> = row.try_get("location").map_err(db)?;
        if stored_hash != request_hash {
            return Err(AppError::validation(
                "Idempotency-Key",
                "this key was used for a different request; use a new key",
            )
            .into_response());
        }
        let (Some(status), Some(body)) = (status, body) else {
            return Err(AppError::Conflict(
                "a request with this Idempotency-Key is still being handled".into(),
            )
            .into_response());
        };
        let status =
            StatusCode::from_u16(u16::try_from(status).unwrap_or(500)).unwrap_or(StatusCode::OK);
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(axum::http::header::LOCATION, value);
        }
        return Ok(response);
    }
    tx.commit().await.map_err(db)?;

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    let (resp_parts, resp_body) = response.into_parts();
    let resp_bytes = to_bytes(resp_body, 16 * MAX_BODY).await.map_err(|_| {
        AppError::Internal(anyhow::anyhow!("response body unreadable")).into_response()
    })?;
    // Errors that did not change anything (server errors roll back, a
    // missing credential never started) must not be frozen: the retry
    // should run for real. Responses marked no-store (one-time passwords,
    // tokens) are never written to the database.
    let no_store = resp_parts
        .headers
        .get(axum::http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    let keep = !(status.is_server_error() || status == StatusCode::UNAUTHORIZED || no_store);
    let mut tx = state.store.write().await.map_err(db)?;
    if keep {
        let location = resp_parts
            .headers
            .get(axum::http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        sqlx::query("UPDATE idempotency_keys SET status = $1, response_body = $2, location = $5 WHERE scope = $3 AND idem_key = $4")
            .bind(i64::from(status.as_u16()))
            .bind(String::from_utf8_lossy(&resp_bytes).into_owned())
            .bind(&scope)
            .bind(&key)
            .bind(location)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    } else {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2")
            .bind(&scope)
            .bind(&key)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(Response::from_parts(resp_parts, Body::from(resp_bytes)))
}

/// Forgets keys older than a day (daily job).
pub async fn purge(state: &AppState) -> Result<u64, sqlx::Error> {
    let cutoff = to_millis(state.now() - chrono::Duration::days(1));
    let mut tx = state.store.write().await?;
    let n = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}
