//! The id of the request being handled, for rows and messages written on
//! its behalf (the audit log, the body of a 500). Set by the HTTP layer for
//! the duration of each request; absent in background jobs and commands.

tokio::task_local! {
    /// The request id (`X-Request-Id`) of the request being handled.
    pub static REQUEST_ID: String;
}

/// The current request's id; `None` outside a request.
pub fn current() -> Option<String> {
    REQUEST_ID
        .try_with(Clone::clone)
        .ok()
        .filter(|id| !id.is_empty())
}
