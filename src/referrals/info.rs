//! Information requests (working agreement, section 3): the chair (or a
//! coordinator) asks the referring professional for what is missing in a
//! short message; the professional answers on the referral page; the chair
//! sees the answer and its time. An open request shows on both worklists.
//!
//! Question and answer are case content. They are scoped like the referral
//! (a request of a referral outside the user's scope does not exist for
//! them), every read of them is a read of the referral (audited), and they
//! never reach a log, a mail or the audit log: they are stored sealed with
//! the at-rest key ([`crate::crypto::Cipher`]), bound to their referral. Mails
//! say only that there is a question or an answer, with a link.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::access::{authorize, Action};
use super::input::case_text;
use super::{audit, service};
use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::time::{from_millis, to_millis};

/// A question or an answer as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoText {
    /// 1 to 2000 characters of plain text (line breaks allowed).
    pub text: String,
}

/// A request with its answer, as those who may see the referral see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InfoRequest {
    /// For answering it.
    pub id: i64,
    /// The referral it is about.
    pub referral_id: i64,
    /// When it was asked (UTC).
    pub asked_at: DateTime<Utc>,
    /// The asker's role (`chair`, `coordinator`).
    pub asked_by_role: String,
    /// The question.
    pub question: String,
    /// When it was answered, if it was.
    pub answered_at: Option<DateTime<Utc>>,
    /// The answer, if any.
    pub answer: Option<String>,
}

fn aad(kind: &str, referral_id: i64) -> String {
    format!("info_requests.{kind}:{referral_id}")
}

/// Asks the referring professional of referral `referral_id` a question;
/// they get a mail (without the question) with a link.
///
/// # Errors
/// Not allowed for the role, or the referral outside the user's scope (not
/// found); an empty or too long text (invalid); no encryption key
/// (refused); storage errors. Refusals are audited.
pub async fn ask(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    body: &InfoText,
) -> Result<InfoRequest> {
    let action = Action::AskInfo;
    let result = async {
        authorize(user, action)?;
        let referral = service::get(state, user, referral_id).await?;
        let question = case_text("text", &body.text)?;
        let sealed = state
            .cipher()?
            .seal(&question, &aad("question", referral_id))
            .map_err(|e| Error::Internal(e.into()))?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO info_requests (referral_id, asked_by, asked_at, question)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(referral_id)
        .bind(user.id)
        .bind(to_millis(now))
        .bind(sealed)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        audit::ok(&mut tx, state, user, action, referral_id, Some(format!("request {id}"))).await?;
        let mail = crate::mail::compose(
            "info_request",
            referral.referrer_email.as_str(),
            &format!("Vraag van de tafel over {}", referral.case_ref),
            &[format!(
                "De voorzitter van de Jeugdbeschermingstafel vraagt om aanvullende informatie over aanmelding {}. U leest en beantwoordt de vraag op de pagina van de aanmelding.",
                referral.case_ref
            )],
            Some(("De aanmelding", format!("{}/referrals/{referral_id}", state.settings.public_url))),
            format!("info-request-{id}"),
            Some(referral_id),
        );
        crate::mail::enqueue(&mut tx, &mail, now).await?;
        tx.commit().await?;
        Ok(InfoRequest {
            id,
            referral_id,
            asked_at: now,
            asked_by_role: user.role.as_str().into(),
            question,
            answered_at: None,
            answer: None,
        })
    }
    .await;
    refused_audited(state, user, action, referral_id, result).await
}

async fn refused_audited<T>(
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: i64,
    result: Result<T>,
) -> Result<T> {
    match result {
        Ok(value) => Ok(value),
        Err(err) => Err(audit::refused(state, user, action, Some(referral_id), err).await),
    }
}

/// Answers open request `request_id` of referral `referral_id`; the one who
/// asked gets a mail (without the answer) with a link.
///
/// # Errors
/// Not allowed for the role, or the referral outside the user's scope, or
/// no such request (not found); already answered (refused); an empty or
/// too long text (invalid); no encryption key (refused); storage errors.
pub async fn answer(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    request_id: i64,
    body: &InfoText,
) -> Result<()> {
    let action = Action::AnswerInfo;
    let result = async {
        authorize(user, action)?;
        let referral = service::get(state, user, referral_id).await?;
        let answer = case_text("text", &body.text)?;
        let sealed = state
            .cipher()?
            .seal(&answer, &aad("answer", referral_id))
            .map_err(|e| Error::Internal(e.into()))?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let asker: Option<String> = sqlx::query(
            "SELECT u.email FROM info_requests i JOIN users u ON u.id = i.asked_by
             WHERE i.id = $1 AND i.referral_id = $2",
        )
        .bind(request_id)
        .bind(referral_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.try_get("email"))
        .transpose()?;
        let Some(asker) = asker else {
            return Err(Error::NotFound);
        };
        let answered = sqlx::query(
            "UPDATE info_requests SET answer = $1, answered_by = $2, answered_at = $3
             WHERE id = $4 AND referral_id = $5 AND answered_at IS NULL",
        )
        .bind(sealed)
        .bind(user.id)
        .bind(to_millis(now))
        .bind(request_id)
        .bind(referral_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if answered == 0 {
            return Err(Error::refused(
                "this request has already been answered",
                "Deze vraag is al beantwoord.",
            ));
        }
        audit::ok(&mut tx, state, user, action, referral_id, Some(format!("request {request_id}"))).await?;
        let mail = crate::mail::compose(
            "info_answer",
            &asker,
            &format!("Antwoord ontvangen over {}", referral.case_ref),
            &[format!(
                "De verwijzer heeft uw vraag over aanmelding {} beantwoord. U leest het antwoord op de pagina van de aanmelding.",
                referral.case_ref
            )],
            Some(("De aanmelding", format!("{}/referrals/{referral_id}", state.settings.public_url))),
            format!("info-answer-{request_id}"),
            Some(referral_id),
        );
        crate::mail::enqueue(&mut tx, &mail, now).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    refused_audited(state, user, action, referral_id, result).await
}

/// The requests of referral `referral_id`, oldest first, opened for a user
/// who may read the referral (the read is audited as a read of it).
///
/// # Errors
/// Not allowed, or the referral outside the user's scope (not found); no
/// encryption key while requests exist (refused); a sealed text that does
/// not open (internal); storage errors.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
) -> Result<Vec<InfoRequest>> {
    service::get(state, user, referral_id).await?;
    of_read_referral(state, referral_id).await
}

/// The requests of a referral the caller has just read through
/// [`service::get`] (scope checked, read audited): the referral page.
///
/// # Errors
/// As [`list`], without the scope check.
pub async fn of_read_referral(state: &AppState, referral_id: i64) -> Result<Vec<InfoRequest>> {
    let rows = sqlx::query(
        "SELECT i.id, i.asked_at, u.role, i.question, i.answered_at, i.answer
         FROM info_requests i JOIN users u ON u.id = i.asked_by
         WHERE i.referral_id = $1 ORDER BY i.id",
    )
    .bind(referral_id)
    .fetch_all(&state.store.pool)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let cipher = state.cipher()?;
    let open = |sealed: &str, kind: &str| -> Result<String> {
        cipher
            .open(sealed, &aad(kind, referral_id))
            .map(|text| text.to_string())
            .map_err(|e| {
                Error::Internal(anyhow::anyhow!("an information request does not open: {e}"))
            })
    };
    rows.iter()
        .map(|row| {
            let answer: Option<String> = row.try_get("answer")?;
            Ok(InfoRequest {
                id: row.try_get("id")?,
                referral_id,
                asked_at: from_millis(row.try_get("asked_at")?),
                asked_by_role: row.try_get("role")?,
                question: open(&row.try_get::<String, _>("question")?, "question")?,
                answered_at: row
                    .try_get::<Option<i64>, _>("answered_at")?
                    .map(from_millis),
                answer: answer.map(|a| open(&a, "answer")).transpose()?,
            })
        })
        .collect()
}

/// How many requests of each of `referral_ids` are still unanswered (for
/// the worklists; no text is read).
///
/// # Errors
/// Storage errors.
pub async fn open_counts(
    state: &AppState,
    referral_ids: &[i64],
) -> Result<std::collections::HashMap<i64, i64>> {
    let mut counts = std::collections::HashMap::new();
    if referral_ids.is_empty() {
        return Ok(counts);
    }
    let rows = sqlx::query(
        "SELECT referral_id, COUNT(*) AS n FROM info_requests WHERE answered_at IS NULL GROUP BY referral_id",
    )
    .fetch_all(&state.store.pool)
    .await?;
    for row in rows {
        let id: i64 = row.try_get("referral_id")?;
        if referral_ids.contains(&id) {
            counts.insert(id, row.try_get("n")?);
        }
    }
    Ok(counts)
}

/// Whether `user` may ask (chairs, secretaries and coordinators) or answer
/// (referrers and coordinators), for showing the forms.
pub fn may(user: &CurrentUser, asking: bool) -> bool {
    let action = if asking {
        Action::AskInfo
    } else {
        Action::AnswerInfo
    };
    action.allowed(user.role)
}
