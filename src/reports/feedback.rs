//! Feedback after a conversation (issue 15, section 12 of the working
//! agreement): with the report the referring professional gets two
//! one-time links to a short form, one for themselves and one to pass on
//! to the parents. The form needs no login; its answers are stored with
//! the region of the table and the half-year only, never with the
//! referral, so they cannot be traced to a family. The open remark is
//! sealed at rest like other free text.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};

use crate::auth::secrets::{new_password, token_hash};
use crate::error::{Error, FieldError, Result};
use crate::referrals::norm::local_date;
use crate::state::AppState;
use crate::store::time::to_millis;

/// The questions on a 1 (not at all) to 5 (fully) scale, in Dutch.
pub const QUESTIONS: [(&str, &str); 4] = [
    (
        "prepared",
        "Ik wist vooraf waarom het gesprek er was en wat ik kon verwachten.",
    ),
    ("heard", "Ik voelde me gehoord aan tafel."),
    (
        "clear",
        "Het was duidelijk wat er is besloten en afgesproken.",
    ),
    (
        "useful",
        "Het gesprek heeft geholpen om de veiligheid te vergroten.",
    ),
];

/// The longest open remark, in characters.
pub const MAX_REMARK: usize = 2000;

/// `2026-H2`: the half-year a date falls in.
pub fn half_year(date: NaiveDate) -> String {
    format!("{}-H{}", date.year(), if date.month() <= 6 { 1 } else { 2 })
}

/// Makes the two one-time links' tokens (professional, parents) for a
/// conversation at the table of `region` on `held`.
///
/// # Errors
/// No randomness; storage errors.
pub async fn issue(
    conn: &mut AnyConnection,
    state: &AppState,
    region: &str,
    held: DateTime<Utc>,
) -> Result<(String, String)> {
    let half = half_year(local_date(held, state.regions.timezone));
    let mut made = Vec::new();
    for respondent in ["professional", "parents"] {
        let token = new_password().map_err(Error::Internal)?;
        sqlx::query(
            "INSERT INTO feedback_tokens (token_hash, region_id, half_year, respondent, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(region)
        .bind(&half)
        .bind(respondent)
        .bind(to_millis(state.now()))
        .execute(&mut *conn)
        .await?;
        made.push(token);
    }
    Ok((made.remove(0), made.remove(0)))
}

/// What a link leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// No such link.
    Unknown,
    /// Already used.
    Used,
    /// Open, for `professional` or `parents`.
    Open(String),
}

/// The state of the link with `token`.
///
/// # Errors
/// Storage errors.
pub async fn link(state: &AppState, token: &str) -> Result<Link> {
    let row = sqlx::query("SELECT respondent, used_at FROM feedback_tokens WHERE token_hash = $1")
        .bind(token_hash(token))
        .fetch_optional(&state.store.pool)
        .await?;
    Ok(match row {
        None => Link::Unknown,
        Some(row) if row.try_get::<Option<i64>, _>("used_at")?.is_some() => Link::Used,
        Some(row) => Link::Open(row.try_get("respondent")?),
    })
}

/// The form's answers as sent: each question 1 to 5, a remark optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Answers {
    /// Knew beforehand why and what to expect (1 to 5).
    #[serde(default)]
    pub prepared: String,
    /// Felt heard (1 to 5).
    #[serde(default)]
    pub heard: String,
    /// Clear what was decided and agreed (1 to 5).
    #[serde(default)]
    pub clear: String,
    /// Helped to make things safer (1 to 5).
    #[serde(default)]
    pub useful: String,
    /// An open remark (optional, at most 2000 characters, no names).
    #[serde(default)]
    pub remark: String,
}

impl Answers {
    /// The value given for question `id`.
    pub fn given(&self, id: &str) -> &str {
        match id {
            "prepared" => &self.prepared,
            "heard" => &self.heard,
            "clear" => &self.clear,
            _ => &self.useful,
        }
    }

    fn scores(&self) -> Result<[i64; 4]> {
        let mut problems = Vec::new();
        let mut scores = [0; 4];
        for (i, (id, _)) in QUESTIONS.iter().enumerate() {
            match self.given(id).trim().parse::<i64>() {
                Ok(n) if (1..=5).contains(&n) => scores[i] = n,
                _ => problems.push(FieldError::both(
                    *id,
                    "must be 1 to 5",
                    "Kies een antwoord van 1 tot 5.",
                )),
            }
        }
        if let Err(problem) =
            crate::referrals::input::free_text("remark", &self.remark, MAX_REMARK, false)
        {
            problems.push(problem);
        }
        if problems.is_empty() {
            Ok(scores)
        } else {
            Err(Error::Invalid(problems))
        }
    }
}

/// Stores the answers given through the link with `token` and closes the
/// link; the answers carry only the region and the half-year.
///
/// # Errors
/// No such link (not found); used already (refused); invalid answers, each
/// named; no key for a remark (refused); storage errors.
pub async fn answer(state: &AppState, token: &str, answers: &Answers) -> Result<()> {
    let scores = answers.scores()?;
    let remark = answers.remark.trim();
    let mut tx = state.store.write().await?;
    let row = sqlx::query(
        "UPDATE feedback_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL
         RETURNING region_id, half_year, respondent",
    )
    .bind(to_millis(state.now()))
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return match link(state, token).await? {
            Link::Unknown => Err(Error::NotFound),
            _ => Err(Error::refused(
                "this form was filled in already",
                "Dit formulier is al ingevuld. Dank u wel.",
            )),
        };
    };
    let answer = Answer {
        region: row.try_get("region_id")?,
        half_year: row.try_get("half_year")?,
        respondent: row.try_get("respondent")?,
        scores,
        remark: Some(remark).filter(|r| !r.is_empty()),
    };
    store_answer(&mut tx, state, &answer).await?;
    tx.commit().await?;
    Ok(())
}

/// One filled-in form as stored: no link to a referral.
#[derive(Debug, Clone)]
pub struct Answer<'a> {
    /// The region id of the table.
    pub region: String,
    /// `2026-H2`.
    pub half_year: String,
    /// `professional` or `parents`.
    pub respondent: String,
    /// The four scores (1 to 5), in the order of [`QUESTIONS`].
    pub scores: [i64; 4],
    /// The open remark, if any (sealed when stored).
    pub remark: Option<&'a str>,
}

/// Stores `answer`, the remark sealed and bound to region and half-year.
///
/// # Errors
/// No key for a remark (refused); storage errors.
pub async fn store_answer(
    conn: &mut AnyConnection,
    state: &AppState,
    answer: &Answer<'_>,
) -> Result<()> {
    let sealed = match answer.remark {
        None => None,
        Some(remark) => {
            let aad = format!("feedback:{}:{}", answer.region, answer.half_year);
            Some(
                state
                    .cipher()?
                    .seal(remark, &aad)
                    .map_err(|e| Error::Internal(e.into()))?,
            )
        }
    };
    sqlx::query(
        "INSERT INTO feedback_answers (region_id, half_year, respondent, prepared, heard, clear, useful, remark, answered_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&answer.region)
    .bind(&answer.half_year)
    .bind(&answer.respondent)
    .bind(answer.scores[0])
    .bind(answer.scores[1])
    .bind(answer.scores[2])
    .bind(answer.scores[3])
    .bind(sealed)
    .bind(crate::store::time::to_date_text(local_date(state.now(), state.regions.timezone)))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
