//! HTTP plumbing every handler uses: the error type and its mapping, the
//! JSON extractor, the middleware every request passes, idempotent POSTs.
//! The handlers themselves are in `api` and `ui`; the router is assembled
//! at the top, in `routes`.

pub mod client;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod serve;

pub use error::{AppError, AppJson, FieldError, Refusal, Result};
