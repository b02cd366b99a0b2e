//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "jbt-planner API", description = "Planning of the Jeugdbeschermingstafels (youth-protection tables) of the Gelderland regions."),
    paths(super::healthz),
    components(schemas(super::Health, super::error::ErrorBody, super::error::FieldError)),
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

/// Base plus every domain's paths; domain paths are served under `/api/v1`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for mut part in [
        crate::auth::api::Api::openapi(),
        crate::referrals::api::Api::openapi(),
        crate::slots::api::Api::openapi(),
        crate::planning::api::Api::openapi(),
        crate::offers::api::Api::openapi(),
        crate::mail::api::Api::openapi(),
    ] {
        let paths = std::mem::take(&mut part.paths.paths);
        for (path, item) in paths {
            part.paths.paths.insert(format!("/api/v1{path}"), item);
        }
        doc.merge(part);
    }
    doc
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}
