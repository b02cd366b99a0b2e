//! The referral service: every path that reads or changes referrals (the
//! JSON API, the pages) calls these functions, so the rules are the same
//! on every path.
//!
//! Each one authorizes the action for the user's role ([`Error::NotAllowed`]
//! for a role that may never do it), loads the referral within the user's
//! scope ([`Error::NotFound`] otherwise, as if it did not exist), asks the
//! lifecycle whether the event is allowed ([`Error::Refused`] with the
//! reason), stores the change with its audit row in one transaction, and
//! asks for a re-plan. Every refusal is audited too.

use std::future::Future;

use chrono::{Datelike, Days, NaiveDate};
use sqlx::AnyConnection;

use super::access::{authorize, Action, Scope};
use super::audit;
use super::bookings::{self, changed_meanwhile, stored, Confirmed};
use super::input::{self, CreateReferral, ListParams, RecordOutcome, UpdateReferral};
use super::lifecycle::{self, Event, Status};
use super::norm;
use super::store::{self, ListFilter, NewReferral, Referral};
use crate::auth::{CurrentUser, Role};
use crate::config::{Email, ReferralKind};
use crate::error::{Error, FieldError, Result};
use crate::state::{AppState, ReferralChange};
use crate::store::is_unique_violation;

/// Longest reason kept with a withdrawal or cancellation, in characters.
pub const MAX_REASON: usize = 500;

/// Days between an evaluation's earliest date, its date, and its due date.
const EVALUATION_MARGIN_DAYS: u64 = 7;

/// Runs `work`; a refusal it returns is audited before it goes out.
pub(crate) async fn audited<T>(
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: Option<i64>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match work.await {
        Ok(value) => Ok(value),
        Err(err) => Err(audit::refused(state, user, action, referral_id, err).await),
    }
}

/// The referral, if the user may see it; [`Error::NotFound`] otherwise.
pub(crate) async fn load(conn: &mut AnyConnection, id: i64, scope: &Scope) -> Result<Referral> {
    store::get(conn, id, scope)
        .await
        .map_err(stored)?
        .ok_or(Error::NotFound)
}

/// Re-reads a referral after a change the user just made (whatever their
/// scope is now).
pub(crate) async fn reload(conn: &mut AnyConnection, id: i64) -> Result<Referral> {
    load(conn, id, &Scope::All).await
}

fn today(state: &AppState) -> NaiveDate {
    norm::local_date(state.now(), state.regions.timezone)
}

/// A reason as given: trimmed, at most [`MAX_REASON`] characters;
/// `required` refuses an empty one.
fn reason(field: &str, text: Option<&str>, required: bool) -> Result<Option<String>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        None if required => Err(Error::invalid(field, "is required")),
        Some(t) if t.chars().count() > MAX_REASON => Err(Error::invalid(
            field,
            format!("at most {MAX_REASON} characters"),
        )),
        other => Ok(other.map(str::to_string)),
    }
}

/// Registers a referral. Without a safety plan or informed parents it is
/// `incomplete` and `missing` says what to supply.
///
/// # Errors
/// Not allowed for the role; invalid fields, each named; a case reference
/// already registered (refused); storage errors.
pub async fn register(
    state: &AppState,
    user: &CurrentUser,
    body: &CreateReferral,
) -> Result<Referral> {
    let action = Action::Create;
    let referral = audited(state, user, action, None, async {
        let scope = authorize(user, action)?;
        let now = state.now();
        let due = norm::due_date(now, state.regions.timezone, state.regions.norm_days);
        // A referrer registers as themself: the address may be left out.
        let own;
        let body = if user.is(Role::Referrer) && body.referrer_email.is_none() {
            own = CreateReferral {
                referrer_email: Some(user.email.clone()),
                ..body.clone()
            };
            &own
        } else {
            body
        };
        let mut new = input::parse_create(body, &scope, &state.regions, today(state), due)?;
        let remarks = super::remarks::parse(body.remarks.as_deref())?;
        if remarks.is_some() {
            // Refused before anything is stored: no key, no case text.
            state.cipher()?;
        }
        let on_behalf = referrer_address(user, &new.referrer_email)?;
        let mut tx = state.store.write().await?;
        let typed = body
            .case_ref
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
        if !typed {
            let year = today(state).year();
            new.case_ref = store::issue_case_ref(&mut tx, year).await.map_err(stored)?;
        }
        let id = insert(&mut tx, &new, user, state).await?;
        if let Some(text) = &remarks {
            super::remarks::insert(&mut tx, state, id, text).await?;
        }
        audit::ok(&mut tx, state, user, action, id, on_behalf).await?;
        let referral = reload(&mut tx, id).await?;
        tx.commit().await.map_err(stored)?;
        Ok(referral)
    })
    .await?;
    state.replan.request("referral registered");
    Ok(referral)
}

/// Calendar invitations and offers go to the referrer's address, so a
/// referrer may only name their own (no outside address receives case
/// dates). Coordinators and chairs registering for a professional may name
/// another work address: the audit row says so (without the address).
///
/// # Errors
/// A referrer naming another address (invalid, on `referrer_email`).
fn referrer_address(user: &CurrentUser, email: &Email) -> Result<Option<String>> {
    let own = email.as_str().eq_ignore_ascii_case(&user.email);
    match (user.role, own) {
        (_, true) => Ok(None),
        (Role::Referrer, false) => Err(Error::Invalid(vec![FieldError::both(
            "referrer_email",
            "a referrer can only give their own address",
            "U kunt alleen uw eigen e-mailadres opgeven.",
        )])),
        (_, false) => Ok(Some("on behalf of another professional".into())),
    }
}

async fn insert(
    conn: &mut AnyConnection,
    new: &NewReferral,
    user: &CurrentUser,
    state: &AppState,
) -> Result<i64> {
    store::insert(conn, new, user.id, state.now())
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                // Says nothing about the other referral, which may lie
                // outside the caller's scope: no probing of references.
                Error::Invalid(vec![FieldError::both(
                    "case_ref",
                    "this case reference cannot be used; leave it empty and jbt issues one",
                    "Dit kenmerk kan niet worden gebruikt. Laat het leeg, dan geeft jbt een kenmerk.",
                )])
            } else {
                stored(err)
            }
        })
}

/// The referrals the user may see that match `params`, by due date; each
/// one returned is audited as read. Returns the filter as applied too.
///
/// # Errors
/// Not allowed for the role; invalid filters; storage errors.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    params: &ListParams,
) -> Result<(Vec<Referral>, ListFilter)> {
    let action = Action::Read;
    audited(state, user, action, None, async {
        let scope = authorize(user, action)?;
        let filter = input::parse_list(params, &state.regions)?;
        let mut conn = state.store.pool.acquire().await?;
        let referrals = store::list(&mut conn, &scope, &filter).await?;
        drop(conn);
        // No referral leaves without its audit row.
        let ids: Vec<i64> = referrals.iter().map(|r| r.id).collect();
        crate::auth::audit::record_reads(
            &state.store,
            state.now(),
            user,
            action.audit_name(),
            &ids,
            Some("list"),
        )
        .await?;
        Ok((referrals, filter))
    })
    .await
}

/// The referrals the user may see that match `params`, for a count only
/// (the menu's worklist count): nothing of them may be shown, so they are
/// not audited as read. Everything shown goes through [`list`].
///
/// # Errors
/// Not allowed for the role; invalid filters; storage errors.
pub async fn list_for_count(
    state: &AppState,
    user: &CurrentUser,
    params: &ListParams,
) -> Result<Vec<Referral>> {
    let scope = authorize(user, Action::Read)?;
    let filter = input::parse_list(params, &state.regions)?;
    let mut conn = state.store.pool.acquire().await?;
    Ok(store::list(&mut conn, &scope, &filter).await?)
}

/// One referral, audited as read.
///
/// # Errors
/// Not allowed for the role; not found in the user's scope; storage errors.
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<Referral> {
    let action = Action::Read;
    audited(state, user, action, Some(id), async {
        let scope = authorize(user, action)?;
        let mut conn = state.store.pool.acquire().await?;
        let referral = load(&mut conn, id, &scope).await?;
        drop(conn);
        audit::ok_now(state, user, action, id).await?;
        Ok(referral)
    })
    .await
}

/// Changes dates, length, cross-region permission, the referrer's e-mail,
/// or supplies the safety plan / parents' information (which completes an
/// incomplete referral). Possible until a slot is booked. A slot held for
/// an offer that the change makes impossible is given up at once, and the
/// receiving table told, in the same transaction.
///
/// # Errors
/// Not allowed; not found; not changeable in its status, changed meanwhile
/// or another version (refused); invalid fields; storage errors.
pub async fn update(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    body: &UpdateReferral,
) -> Result<Referral> {
    let action = Action::Update;
    let (referral, replan) = audited(state, user, action, Some(id), async {
        let scope = authorize(user, action)?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let current = load(&mut tx, id, &scope).await?;
        if let Some(version) = body.version.filter(|v| *v != current.version) {
            return Err(Error::refused(
                format!(
                    "the referral is at version {}, not {version}; reload it and try again",
                    current.version
                ),
                "Iemand anders heeft de aanmelding intussen gewijzigd; laad de pagina opnieuw.",
            ));
        }
        lifecycle::check_editable(current.status)?;
        let patch = input::parse_update(body, &state.regions, &current.region, current.kind, today(state))?;
        if let Some(email) = &patch.referrer_email {
            referrer_address(user, email)?;
        }
        // Once registered, the conditions for planning cannot be taken back
        // by an edit: that is what withdrawing is for.
        let allowed = if patch.makes_incomplete() {
            if current.status != Status::Incomplete {
                return Err(Error::refused(
                    "a registered referral keeps its safety plan and informed parents; withdraw it instead",
                    "Een geregistreerde aanmelding houdt haar veiligheidsplan en geïnformeerde ouders; trek haar anders in.",
                ));
            }
            vec![Status::Incomplete]
        } else {
            lifecycle::EDITABLE.to_vec()
        };
        if !store::update(&mut tx, id, &patch, &allowed, now).await.map_err(stored)? {
            return Err(changed_meanwhile());
        }
        let completed = store::complete_if_ready(&mut tx, id, now).await.map_err(stored)?;
        let detail = format!("changed: {}", patch.field_names().join(", "));
        audit::ok(&mut tx, state, user, action, id, Some(detail)).await?;
        let withdrawn = state
            .holds
            .after_change(&mut tx, state, id, ReferralChange::Edited)
            .await?;
        let referral = reload(&mut tx, id).await?;
        tx.commit().await.map_err(stored)?;
        Ok((referral, completed || withdrawn || patch.affects_plan()))
    })
    .await?;
    if replan {
        state.replan.request("referral changed");
    }
    Ok(referral)
}

/// Applies a status `event` to a referral in the user's scope, with the
/// audit row in the same transaction. `check` may refuse on the loaded
/// referral (after the lifecycle allowed the event). A withdrawal or
/// cancellation keeps its reason with the referral (never in the audit
/// log), cancels the invitations of a booking and withdraws an open offer.
#[allow(clippy::too_many_arguments)] // one change: who, which, what, why, and its check
pub(super) async fn apply_event(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    action: Action,
    event: Event,
    close_reason: Option<String>,
    audit_detail: Option<&'static str>,
    check: impl FnOnce(&Referral) -> Result<()>,
) -> Result<Referral> {
    let scope = authorize(user, action)?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let current = load(&mut tx, id, &scope).await?;
    let to = lifecycle::transition(current.status, event)?;
    check(&current)?;
    let closes = matches!(event, Event::Withdraw | Event::Cancel);
    if closes {
        // Before the transition: it clears the booked slot the cancellation names.
        bookings::cancel_invitations(&mut tx, state, id, now).await?;
    }
    if !store::transition(&mut tx, id, to, event, now)
        .await
        .map_err(stored)?
    {
        return Err(changed_meanwhile());
    }
    if let Some(reason) = &close_reason {
        store::set_close_reason(&mut tx, id, reason)
            .await
            .map_err(stored)?;
    }
    if closes {
        state
            .holds
            .after_change(&mut tx, state, id, ReferralChange::Closed)
            .await?;
    }
    // Who did what to which referral; a free-text reason stays with the
    // referral, only a fixed code may go in the audit log.
    audit::ok(
        &mut tx,
        state,
        user,
        action,
        id,
        audit_detail.map(str::to_string),
    )
    .await?;
    let referral = reload(&mut tx, id).await?;
    tx.commit().await.map_err(stored)?;
    Ok(referral)
}

/// Withdraws a referral (the referrer's decision), with an optional reason;
/// possible until the conversation is held. Frees its slot.
///
/// # Errors
/// Not allowed; not found; already held or closed (refused); a reason over
/// [`MAX_REASON`] characters; storage errors.
pub async fn withdraw(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    why: Option<&str>,
) -> Result<Referral> {
    let action = Action::Withdraw;
    let referral = audited(state, user, action, Some(id), async {
        let why = reason("reason", why, false)?;
        apply_event(state, user, id, action, Event::Withdraw, why, None, |_| {
            Ok(())
        })
        .await
    })
    .await?;
    state.replan.request("referral withdrawn");
    Ok(referral)
}

/// Cancels a referral (the table's decision), with a reason; possible
/// until the conversation is held. Frees its slot.
///
/// # Errors
/// Not allowed; not found; already held or closed (refused); a missing or
/// too long reason; storage errors.
pub async fn cancel(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    why: Option<&str>,
) -> Result<Referral> {
    let action = Action::Cancel;
    let referral = audited(state, user, action, Some(id), async {
        authorize(user, action)?;
        let why = reason("reason", why, true)?;
        apply_event(
            state,
            user,
            id,
            action,
            Event::Cancel,
            why,
            None,
            |_| Ok(()),
        )
        .await
    })
    .await?;
    state.replan.request("referral cancelled");
    Ok(referral)
}

/// Confirms a booking: the referral gets `slot_id` (default: its planned
/// slot) for certain and the planner keeps it there. Of several bookings of
/// one slot at the same time exactly one succeeds. A chair books only at
/// the own region's table.
///
/// # Errors
/// Not allowed (the role, or a chair and another region's slot); not found;
/// no slot named and none planned, or an unknown slot (invalid); the slot
/// taken, unsuitable, or the referral not bookable (refused); storage errors.
pub async fn book(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    slot_id: Option<&str>,
) -> Result<Referral> {
    let action = Action::Confirm;
    let referral = audited(state, user, action, Some(referral_id), async {
        let scope = authorize(user, action)?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let current = load(&mut tx, referral_id, &scope).await?;
        lifecycle::transition(current.status, Event::Confirm)?;
        let slot_id = slot_id
            .map(str::to_string)
            .or_else(|| current.planned_slot.as_ref().map(|s| s.id.clone()))
            .ok_or_else(|| {
                Error::invalid(
                    "slot_id",
                    "the referral has no planned slot; name the slot to book",
                )
            })?;
        let slot = store::slot(&mut tx, &slot_id)
            .await?
            .ok_or_else(|| Error::invalid("slot_id", format!("no slot {slot_id:?}")))?;
        if let Scope::Region(own) = &scope {
            if slot.region != own.as_str() {
                return Err(Error::NotAllowed(
                    "a chair confirms bookings only for slots at the own region's table".into(),
                ));
            }
        }
        match bookings::confirm(&mut tx, state, &current, &slot, now).await? {
            Confirmed::Booked => {}
            Confirmed::SlotTaken => {
                return Err(Error::refused(
                    "slot already booked for another referral",
                    "Deze plek is al geboekt voor een andere aanmelding.",
                ))
            }
        }
        audit::ok(
            &mut tx,
            state,
            user,
            action,
            current.id,
            Some(format!("slot {}", slot.id)),
        )
        .await?;
        let referral = reload(&mut tx, current.id).await?;
        tx.commit().await.map_err(stored)?;
        Ok(referral)
    })
    .await?;
    state.replan.request("booking confirmed");
    Ok(referral)
}

/// Records the outcome of a held conversation. With an evaluation date an
/// `evaluation` referral is registered for it (earliest a week before, due
/// a week after), in the same transaction; it is returned too.
///
/// # Errors
/// Not allowed; not found; not held (yet) or already recorded (refused);
/// invalid fields; storage errors.
pub async fn record_outcome(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    body: &RecordOutcome,
) -> Result<(Referral, Option<Referral>)> {
    let action = Action::RecordOutcome;
    let (referral, evaluation) = audited(state, user, action, Some(id), async {
        let scope = authorize(user, action)?;
        let mut outcome = input::parse_outcome(body, today(state))?;
        super::view::seal_outcome(state, id, &mut outcome)?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let current = load(&mut tx, id, &scope).await?;
        let to = lifecycle::transition(current.status, Event::RecordOutcome)?;
        if !store::transition(&mut tx, id, to, Event::RecordOutcome, now)
            .await
            .map_err(stored)?
        {
            return Err(changed_meanwhile());
        }
        store::insert_outcome(&mut tx, id, &outcome, user.id, now)
            .await
            .map_err(stored)?;
        let detail = Some(outcome.outcome.as_str().to_string());
        audit::ok(&mut tx, state, user, action, id, detail).await?;
        let evaluation = match outcome.evaluation_date {
            Some(date) => Some(register_evaluation(&mut tx, state, user, &current, date).await?),
            None => None,
        };
        let referral = reload(&mut tx, id).await?;
        tx.commit().await.map_err(stored)?;
        Ok((referral, evaluation))
    })
    .await?;
    if evaluation.is_some() {
        state.replan.request("evaluation registered");
    }
    Ok((referral, evaluation))
}

/// Registers the evaluation of `original` on `date`: same case, municipality
/// and referrer; to be held within a week of `date`.
async fn register_evaluation(
    conn: &mut AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    original: &Referral,
    date: NaiveDate,
) -> Result<Referral> {
    let margin = Days::new(EVALUATION_MARGIN_DAYS);
    let new = NewReferral {
        case_ref: store::next_evaluation_ref(conn, &original.case_ref).await?,
        municipality: original.municipality.clone(),
        region: original.region.clone(),
        kind: ReferralKind::Evaluation,
        referrer_kind: original.referrer_kind,
        referrer_org: original.referrer_org.clone(),
        referrer_email: original.referrer_email.clone(),
        safety_plan: original.safety_plan,
        parents_informed: original.parents_informed,
        child_12_plus: original.child_12_plus,
        unavailable: Vec::new(),
        earliest: date.checked_sub_days(margin),
        cross_region: original.cross_region,
        due: date.checked_add_days(margin).unwrap_or(date),
        parent_referral_id: Some(original.id),
    };
    let id = insert(conn, &new, user, state).await?;
    let detail = format!("evaluation of referral {}", original.id);
    audit::ok(conn, state, user, Action::Create, id, Some(detail)).await?;
    reload(conn, id).await
}
