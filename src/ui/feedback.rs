//! `/feedback/{token}`: the anonymous feedback form after a conversation
//! (issue 15). No login: the one-time link is the key. The answers carry
//! only the region and the half-year (see `reports::feedback`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::form::PageForm as Form;
use super::{render, PageError};
use crate::error::Error;
use crate::reports::feedback::{self, Answers, Link, QUESTIONS};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/feedback.html")]
struct FeedbackPage {
    /// `None`: the thanks or the closed link; then `message` says which.
    form: Option<FormShown>,
    message: Option<&'static str>,
}

struct FormShown {
    parents: bool,
    /// (id, question, chosen value, problem).
    questions: Vec<(&'static str, &'static str, String, Option<String>)>,
    remark: String,
    remark_problem: Option<String>,
    problems: Vec<(String, String)>,
}

fn shown(parents: bool, answers: &Answers, problems: Vec<(String, String)>) -> FormShown {
    let problem = |id: &str| {
        problems
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, m)| m.clone())
    };
    FormShown {
        parents,
        questions: QUESTIONS
            .iter()
            .map(|(id, text)| {
                (
                    *id,
                    *text,
                    answers.given(id).trim().to_string(),
                    problem(id),
                )
            })
            .collect(),
        remark: answers.remark.clone(),
        remark_problem: problem("remark"),
        problems,
    }
}

fn closed(message: &'static str, status: StatusCode) -> Result<Response, PageError> {
    let page = FeedbackPage {
        form: None,
        message: Some(message),
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /feedback/{token}`: the form, or why there is none.
///
/// # Errors
/// Storage errors.
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match feedback::link(&state, &token).await? {
        Link::Unknown => closed("Deze link is niet (meer) geldig.", StatusCode::NOT_FOUND),
        Link::Used => closed("Dit formulier is al ingevuld. Dank u wel.", StatusCode::OK),
        Link::Open(respondent) => {
            let page = FeedbackPage {
                form: Some(shown(
                    respondent == "parents",
                    &Answers::default(),
                    Vec::new(),
                )),
                message: None,
            };
            render(&page)
        }
    }
}

/// `POST /feedback/{token}`: stores the answers; a problem shows the form
/// again with the answers kept.
///
/// # Errors
/// Storage errors.
pub async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(answers): Form<Answers>,
) -> Result<Response, PageError> {
    match feedback::answer(&state, &token, &answers).await {
        Ok(()) => closed(
            "Dank u wel. Uw antwoorden zijn ontvangen, zonder uw naam of het gezin.",
            StatusCode::OK,
        ),
        Err(Error::NotFound) => closed("Deze link is niet (meer) geldig.", StatusCode::NOT_FOUND),
        Err(Error::Invalid(found)) => {
            let parents =
                matches!(feedback::link(&state, &token).await?, Link::Open(r) if r == "parents");
            let problems = found
                .into_iter()
                .map(|p| (p.field, p.dutch.unwrap_or(p.message)))
                .collect();
            let page = FeedbackPage {
                form: Some(shown(parents, &answers, problems)),
                message: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(Error::Refused(_)) => closed(
            "Dit formulier is al ingevuld. Dank u wel.",
            StatusCode::CONFLICT,
        ),
        Err(other) => Err(other.into()),
    }
}
