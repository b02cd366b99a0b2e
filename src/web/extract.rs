//! `CurrentUser` as an axum extractor: a handler that takes one only runs
//! for an authenticated request.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::{AppError, Result};
use crate::auth::session::{self, Session};
use crate::auth::{users, CurrentUser};
use crate::state::AppState;

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<CurrentUser> {
        // A handler (or a middleware before it) may already have asked.
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let user = resolve(parts, &AppState::from_ref(state)).await?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// Who sent this request: the owner of the bearer token or of the browser
/// session, or 401.
///
/// The one place credentials are read. The session is a second source,
/// tried only when there is no `Authorization` header: a request that names
/// a token stands or falls by that token. (Cross-site use of the session
/// cookie is stopped before this: see `web::middleware::same_origin`.)
pub async fn resolve(parts: &Parts, state: &AppState) -> Result<CurrentUser> {
    if let Some(token) = bearer_token(&parts.headers)? {
        return users::user_by_token(&state.store, token, state.now())
            .await?
            .ok_or(AppError::Unauthenticated);
    }
    match browser_session(parts, state).await? {
        // A session with a step left (second factor, password change) is
        // not signed in yet, for the API as for the pages.
        Some(found) if found.stage.is_none() => Ok(found.user),
        _ => Err(AppError::Unauthenticated),
    }
}

/// The live browser session named by this request's cookie, if any, at
/// whatever stage (callers check [`Session::stage`]).
/// (Callers keep the user in the request's extensions: `CurrentUser` and
/// the pages' `Viewer` both do, so one request looks it up once.)
pub async fn browser_session(parts: &Parts, state: &AppState) -> Result<Option<Session>> {
    let Some(value) = session::cookie_value(&parts.headers) else {
        return Ok(None);
    };
    Ok(session::lookup(&state.store, value, state.now(), &state.settings.web).await?)
}

/// The token of `Authorization: Bearer <token>`; `None` without the header,
/// 401 when the header is there but is not a bearer token.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| AppError::Unauthenticated)?;
    // The scheme name is case-insensitive (RFC 9110, section 11.1).
    let (scheme, token) = text.split_once(' ').ok_or(AppError::Unauthenticated)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AppError::Unauthenticated);
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(value).expect("header value"),
        );
        headers
    }

    #[test]
    fn reads_a_bearer_token_in_any_case_of_the_scheme() {
        let headers = with_authorization("bearer jbt_abc");
        assert_eq!(bearer_token(&headers).ok().flatten(), Some("jbt_abc"));
    }

    #[test]
    fn no_header_is_no_token_and_another_scheme_is_refused() {
        assert!(matches!(bearer_token(&HeaderMap::new()), Ok(None)));
        for bad in ["Basic YTpi", "Bearer", "Bearer  ", "jbt_abc"] {
            assert!(
                matches!(
                    bearer_token(&with_authorization(bad)),
                    Err(AppError::Unauthenticated)
                ),
                "{bad:?}"
            );
        }
    }
}
