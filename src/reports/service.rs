//! The report's life: read (scoped, audited), draft, send, react. Every
//! refusal is audited; content never goes into a log, a mail or the audit
//! log.

use chrono::{DateTime, NaiveDate, Utc};

use super::store::{self, Stored};
use super::{DraftInput, Reaction, ReactionInput, ReportContent, ReportView, SentVersion};
use crate::auth::audit::{record, refusal, AuditEntry};
use crate::auth::{CurrentUser, Role};
use crate::error::{Error, Result};
use crate::referrals::lifecycle::Status;
use crate::referrals::norm::local_date;
use crate::referrals::store::Referral;
use crate::state::AppState;

/// Binds a sealed body to its referral and version: moved elsewhere, it
/// does not open.
fn aad(referral_id: i64, version: i64) -> String {
    format!("reports:{referral_id}:{version}")
}

/// The region id of the table where the conversation was held.
fn table(referral: &Referral) -> Option<&str> {
    referral.booked_slot.as_ref().map(|s| s.region.as_str())
}

/// The chair or secretary of the table where it was held.
fn may_write(user: &CurrentUser, referral: &Referral) -> bool {
    matches!(user.role, Role::Chair | Role::Secretary)
        && user
            .region
            .as_ref()
            .is_some_and(|r| Some(r.as_str()) == table(referral))
}

/// Writers, and referrers of the referring organisation (the referral
/// service only hands a referrer their own organisation's referrals).
fn may_read(user: &CurrentUser, referral: &Referral) -> bool {
    may_write(user, referral) || user.role == Role::Referrer
}

fn open(state: &AppState, referral_id: i64, stored: &Stored) -> Result<ReportContent> {
    let text = state
        .cipher()?
        .open(&stored.body, &aad(referral_id, stored.version))
        .map_err(|e| Error::Internal(e.into()))?;
    serde_json::from_str(&text).map_err(|e| Error::Internal(e.into()))
}

/// `content` sealed as version `version` of the report of `referral_id`
/// (bound to both), as stored.
///
/// # Errors
/// No key (refused); sealing failed.
pub fn seal(
    state: &AppState,
    referral_id: i64,
    version: i64,
    content: &ReportContent,
) -> Result<String> {
    let json = serde_json::to_string(content).map_err(|e| Error::Internal(e.into()))?;
    state
        .cipher()?
        .seal(&json, &aad(referral_id, version))
        .map_err(|e| Error::Internal(e.into()))
}

/// Runs `work` for `action`; a refusal is audited on the way out.
async fn audited<T>(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    referral_id: i64,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match work.await {
        Ok(value) => Ok(value),
        Err(err) => {
            let entry = entry(state, user, action, referral_id, None);
            Err(refusal(&state.store, entry, err).await)
        }
    }
}

/// An audit row about the report of `referral_id` (`refusal` sets the
/// result of a refused one).
fn entry<'a>(
    state: &AppState,
    user: &'a CurrentUser,
    action: &'a str,
    referral_id: i64,
    detail: Option<String>,
) -> AuditEntry<'a> {
    AuditEntry {
        at: state.now(),
        user: Some(user),
        action,
        referral_id: Some(referral_id),
        result: "ok",
        detail,
    }
}

async fn audit_ok(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    referral_id: i64,
    detail: String,
) -> Result<()> {
    Ok(record(conn, entry(state, user, action, referral_id, Some(detail))).await?)
}

/// The local date `days` working days after `from`.
pub(crate) fn working_days_after(state: &AppState, from: DateTime<Utc>, days: u32) -> NaiveDate {
    let at = crate::calendar::add_working_days(&state.regions, from, days);
    local_date(at, state.regions.timezone)
}

/// The report of referral `referral_id` as `user` may see it: content for
/// the chair and secretary of the table where it was held and for the
/// referring organisation (that read audited as `report.read`); for others
/// who may see the referral (coordinators, other chairs) only whether it
/// was sent and whether it is late.
///
/// # Errors
/// As reading the referral (403 for roles without referrals, 404 outside
/// the scope); no key for sealed content (refused); storage errors.
pub async fn show(state: &AppState, user: &CurrentUser, referral_id: i64) -> Result<ReportView> {
    let referral = crate::referrals::service::get(state, user, referral_id).await?;
    show_for(state, user, &referral).await
}

/// [`show`] for a referral the user has just read (through the referral
/// service: scope checked, read audited).
///
/// # Errors
/// No key for sealed content (refused); storage errors.
pub async fn show_for(
    state: &AppState,
    user: &CurrentUser,
    referral: &Referral,
) -> Result<ReportView> {
    let referral_id = referral.id;
    let mut conn = state.store.pool.acquire().await?;
    let stored = store::versions(&mut conn, referral_id).await?;
    drop(conn);
    let now = state.now();
    let today = local_date(now, state.regions.timezone);
    let settings = &state.settings.reports;
    let held_at = referral
        .booked_slot
        .as_ref()
        .filter(|_| matches!(referral.status, Status::Held | Status::OutcomeRecorded))
        .map(|s| s.start);
    let due = held_at.map(|t| working_days_after(state, t, settings.norm_working_days));
    let first_sent = stored.iter().find_map(|v| v.sent_at);
    let reactions_until =
        first_sent.map(|t| working_days_after(state, t, settings.reaction_working_days));
    let mut view = ReportView {
        referral_id,
        sent: first_sent.is_some(),
        due,
        late: first_sent.is_none() && due.is_some_and(|d| today > d),
        reactions_until,
        purged_on: None,
        draft: None,
        versions: Vec::new(),
        may_write: may_write(user, referral) && held_at.is_some(),
        may_react: user.role == Role::Referrer && reactions_until.is_some_and(|d| today <= d),
    };
    view.purged_on = stored
        .iter()
        .find_map(|v| v.purged_at)
        .map(|t| local_date(t, state.regions.timezone));
    if view.purged_on.is_some() {
        view.may_write = false;
        view.may_react = false;
        // Nobody can send it any more: not late, just gone.
        view.late = false;
    }
    if !may_read(user, referral) || stored.is_empty() || view.purged_on.is_some() {
        return Ok(view);
    }
    for version in stored.iter().rev() {
        match version.sent_at {
            Some(sent_at) => view.versions.push(SentVersion {
                version: version.version,
                sent_at,
                content: open(state, referral_id, version)?,
            }),
            None if view.may_write => view.draft = Some(open(state, referral_id, version)?),
            None => {}
        }
    }
    if view.draft.is_some() || !view.versions.is_empty() {
        let mut tx = state.store.write().await?;
        audit_ok(
            &mut tx,
            state,
            user,
            "report.read",
            referral_id,
            "report".into(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(view)
}

/// Writes the draft of the report (the chair or secretary of the table
/// where the conversation was held, once held). After a sent version the
/// draft is the next version, and keeps the reactions received.
///
/// # Errors
/// Not the table's chair or secretary (403); not found; not held yet
/// (refused); invalid fields (each named); no key (refused); storage errors.
pub async fn save_draft(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    input: &DraftInput,
) -> Result<()> {
    audited(state, user, "report.write", referral_id, async {
        let referral = writable(state, user, referral_id).await?;
        let mut content = input.parse()?;
        let mut tx = state.store.write().await?;
        let stored = store::versions(&mut tx, referral_id).await?;
        if let Some(last) = stored.last() {
            refuse_purged(last)?;
        }
        let version = match stored.last() {
            Some(last) if last.sent_at.is_none() => last.version,
            Some(last) => {
                content.reactions = open(state, referral_id, last)?.reactions;
                last.version + 1
            }
            None => 1,
        };
        let body = seal(state, referral_id, version, &content)?;
        store::put_draft(&mut tx, referral.id, version, &body, user.id, state.now()).await?;
        audit_ok(
            &mut tx,
            state,
            user,
            "report.write",
            referral_id,
            format!("draft version {version}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// Content deleted after the retention period is not written to again.
fn refuse_purged(stored: &Stored) -> Result<()> {
    match stored.purged_at {
        Some(_) => Err(Error::refused(
            "the report's content was deleted after the retention period",
            "De inhoud van dit verslag is na de bewaartermijn verwijderd.",
        )),
        None => Ok(()),
    }
}

async fn writable(state: &AppState, user: &CurrentUser, referral_id: i64) -> Result<Referral> {
    let referral = crate::referrals::service::get(state, user, referral_id).await?;
    if !may_write(user, &referral) {
        return Err(Error::NotAllowed(
            "only the chair or secretary of the table where the conversation was held writes its report".into(),
        ));
    }
    if !matches!(referral.status, Status::Held | Status::OutcomeRecorded) {
        return Err(Error::refused(
            "the conversation has not been held yet",
            "Het gesprek is nog niet gehouden.",
        ));
    }
    Ok(referral)
}

/// Sends the draft (*vaststellen en versturen*): it becomes a sent version,
/// and the referring professional and the professionals present get a mail
/// without content, with a link. Returns the version sent.
///
/// # Errors
/// As [`save_draft`]; no draft to send (refused).
pub async fn send(state: &AppState, user: &CurrentUser, referral_id: i64) -> Result<i64> {
    audited(state, user, "report.send", referral_id, async {
        let referral = writable(state, user, referral_id).await?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let stored = store::versions(&mut tx, referral_id).await?;
        if let Some(last) = stored.last() {
            refuse_purged(last)?;
        }
        let Some(draft) = stored.last().filter(|v| v.sent_at.is_none()) else {
            return Err(Error::refused(
                "there is no draft to send",
                "Er is geen concept om te versturen; schrijf eerst het verslag.",
            ));
        };
        if !store::mark_sent(&mut tx, referral_id, draft.version, now).await? {
            return Err(crate::referrals::bookings::changed_meanwhile());
        }
        let content = open(state, referral_id, draft)?;
        let table = table(&referral).map(|t| state.regions.region_name(t)).unwrap_or_default();
        let paragraphs = [
            format!(
                "Het verslag van de bespreking van aanmelding {} aan de Jeugdbeschermingstafel {table} is vastgesteld (versie {}).",
                referral.case_ref, draft.version
            ),
            "U leest het via de link. Wie geen account heeft, krijgt het van de verwijzende professional. Reageren kan tot de termijn op de pagina.".to_string(),
        ];
        let mut to = vec![referral.referrer_email.as_str().to_string()];
        to.extend(content.professionals.iter().cloned());
        tell(&mut tx, state, &referral, &to, "report", &paragraphs, draft.version).await?;
        if draft.version == 1 {
            feedback_links(&mut tx, state, &referral).await?;
        }
        audit_ok(&mut tx, state, user, "report.send", referral_id, format!("version {}", draft.version)).await?;
        tx.commit().await?;
        Ok(draft.version)
    })
    .await
}

/// With the first version: the referring professional gets two one-time
/// links to the feedback form, one for themselves and one to pass on to
/// the parents (the answers cannot be traced back to the referral).
async fn feedback_links(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    referral: &Referral,
) -> Result<()> {
    let (Some(table), Some(slot)) = (table(referral), referral.booked_slot.as_ref()) else {
        return Ok(());
    };
    let (own, parents) = super::feedback::issue(conn, state, table, slot.start).await?;
    let base = &state.settings.public_url;
    let paragraphs = [
        "De Jeugdbeschermingstafel hoort graag hoe het gesprek is verlopen. Het formulier is kort en anoniem: de antwoorden worden niet aan de aanmelding gekoppeld.".to_string(),
        format!("Uw eigen formulier: {base}/feedback/{own}"),
        format!("Geef deze link aan de ouders: {base}/feedback/{parents}"),
        "Elke link werkt één keer.".to_string(),
    ];
    let mail = crate::mail::compose(
        "feedback",
        referral.referrer_email.as_str(),
        "Hoe was het gesprek aan de Jeugdbeschermingstafel?",
        &paragraphs,
        None,
        format!("feedback-{}", referral.id),
        None,
    );
    crate::mail::enqueue(conn, &mail, state.now()).await?;
    Ok(())
}

/// Mails `to` (each address once) about the report of `referral`.
async fn tell(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    referral: &Referral,
    to: &[String],
    kind: &'static str,
    paragraphs: &[String],
    version: i64,
) -> Result<()> {
    let mut to: Vec<String> = to.iter().map(|a| a.to_ascii_lowercase()).collect();
    to.sort();
    to.dedup();
    for address in to {
        let mail = crate::mail::compose(
            kind,
            &address,
            &format!("Verslag van de bespreking: {}", referral.case_ref),
            paragraphs,
            Some((
                "Het verslag",
                format!("{}/referrals/{}", state.settings.public_url, referral.id),
            )),
            format!(
                "{kind}-{}-{version}-{}",
                referral.id,
                crate::mail::recipient_tag(&address)
            ),
            Some(referral.id),
        );
        crate::mail::enqueue(conn, &mail, state.now()).await?;
    }
    Ok(())
}

/// Records a reaction of the parents or of the referring professional
/// (the referring organisation, within the reaction window): it is added to
/// the report as a new version, and the table and the recipients are told.
/// Returns the new version.
///
/// # Errors
/// Not a referrer (403); not found; nothing sent yet or the window closed
/// (refused); invalid fields; no key (refused); storage errors.
pub async fn react(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    input: &ReactionInput,
) -> Result<i64> {
    audited(state, user, "report.reaction", referral_id, async {
        let referral = crate::referrals::service::get(state, user, referral_id).await?;
        if user.role != Role::Referrer {
            return Err(Error::NotAllowed(
                "the referring professional records reactions to the report".into(),
            ));
        }
        let (from, text) = input.parse()?;
        let now = state.now();
        let today = local_date(now, state.regions.timezone);
        let mut tx = state.store.write().await?;
        let stored = store::versions(&mut tx, referral_id).await?;
        let Some(first) = stored.iter().find_map(|v| v.sent_at) else {
            return Err(Error::refused(
                "the report has not been sent yet",
                "Het verslag is nog niet verstuurd.",
            ));
        };
        let until = working_days_after(state, first, state.settings.reports.reaction_working_days);
        if today > until {
            return Err(Error::refused(
                format!("reactions were taken until {until}"),
                format!("Reageren kon tot en met {}.", until.format("%d-%m-%Y")),
            ));
        }
        let Some(last) = stored.iter().rev().find(|v| v.sent_at.is_some()) else {
            return Err(Error::NotFound);
        };
        refuse_purged(last)?;
        let mut content = open(state, referral_id, last)?;
        content.reactions.push(Reaction { from: from.clone(), text, received: today });
        let version = stored.last().map_or(1, |v| v.version + 1);
        let body = seal(state, referral_id, version, &content)?;
        let new = store::NewVersion {
            referral_id,
            version,
            body: &body,
            user_id: user.id,
            sent_at: Some(now),
            reaction_from: Some(&from),
        };
        store::insert(&mut tx, &new, now).await?;
        let who = if from == "parents" { "de ouders" } else { "de verwijzende professional" };
        let paragraphs = [format!(
            "Aan het verslag van aanmelding {} is een reactie van {who} toegevoegd (versie {version}, ontvangen {}).",
            referral.case_ref,
            today.format("%d-%m-%Y")
        )];
        let mut to = crate::offers::notify::chairs(&mut tx, table(&referral).unwrap_or_default()).await?;
        to.push(referral.referrer_email.as_str().to_string());
        to.extend(content.professionals.iter().cloned());
        tell(&mut tx, state, &referral, &to, "report_reaction", &paragraphs, version).await?;
        audit_ok(&mut tx, state, user, "report.reaction", referral_id, format!("version {version} ({from})")).await?;
        tx.commit().await?;
        Ok(version)
    })
    .await
}

/// A report still to send, for the worklist: the referral, its case
/// reference, the table's name, the due date and whether it is late.
#[derive(Debug, Clone)]
pub struct Due {
    /// The referral.
    pub referral_id: i64,
    /// Its case reference.
    pub case_ref: String,
    /// The table's name.
    pub table: String,
    /// Due by (the norm: working days after the conversation).
    pub due: NaiveDate,
    /// Past `due`.
    pub late: bool,
}

/// The reports `user` has to send (a chair or secretary: at the own
/// table; a coordinator: every table), oldest conversation first. Only
/// case references: the caller audits showing them.
///
/// # Errors
/// Storage errors.
pub async fn to_send(state: &AppState, user: &CurrentUser) -> Result<Vec<Due>> {
    let region = match user.role {
        Role::Chair | Role::Secretary => match &user.region {
            Some(region) => Some(region.as_str().to_string()),
            None => return Ok(Vec::new()),
        },
        Role::Coordinator => None,
        _ => return Ok(Vec::new()),
    };
    let mut conn = state.store.pool.acquire().await?;
    let unsent = store::unsent(&mut conn, region.as_deref()).await?;
    let today = local_date(state.now(), state.regions.timezone);
    let days = state.settings.reports.norm_working_days;
    Ok(unsent
        .into_iter()
        .map(|u| {
            let due = working_days_after(state, u.held_at, days);
            Due {
                referral_id: u.referral_id,
                case_ref: u.case_ref,
                table: state.regions.region_name(&u.table),
                due,
                late: today > due,
            }
        })
        .collect())
}

/// Per table (region id), how many reports are late: past the norm and
/// not sent. Figures only, for the dashboard.
///
/// # Errors
/// Storage errors.
pub async fn late_by_table(state: &AppState) -> Result<std::collections::HashMap<String, usize>> {
    let mut conn = state.store.pool.acquire().await?;
    let unsent = store::unsent(&mut conn, None).await?;
    let today = local_date(state.now(), state.regions.timezone);
    let days = state.settings.reports.norm_working_days;
    let mut late = std::collections::HashMap::new();
    for u in unsent {
        if today > working_days_after(state, u.held_at, days) {
            *late.entry(u.table).or_insert(0) += 1;
        }
    }
    Ok(late)
}
