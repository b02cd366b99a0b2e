//! A receiving chair's answers to offers, and the offers each user may
//! see: accepting books the referral through the one booking procedure
//! (`referrals::bookings::confirm`); declining excludes the table and asks
//! for a re-plan. Answers are idempotent.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::store::{self, Offer};
use super::{audit, notify, release, OfferStatus, OfferView, MAX_REASON};
use crate::auth::audit::AuditEntry;
use crate::auth::{CurrentUser, Role};
use crate::error::{Error, FieldError, Result};
use crate::referrals::access::Scope;
use crate::referrals::bookings::{self, Confirmed};
use crate::state::AppState;
use crate::store::is_retryable_conflict;

/// The region whose offers the user may answer: a chair's own (403 for
/// every other role: only the receiving table decides).
pub(super) fn answering_region(user: &CurrentUser) -> Result<String> {
    user.require(&[Role::Chair])?;
    user.region
        .as_ref()
        .map(|r| r.as_str().to_string())
        .ok_or_else(|| {
            Error::NotAllowed("this chair account has no region; ask an administrator".into())
        })
}

/// The offer if it is to `region`'s table; 404 otherwise, exactly as if it
/// did not exist.
async fn load_for(conn: &mut AnyConnection, id: i64, region: &str) -> Result<Offer> {
    store::get(conn, id)
        .await
        .map_err(db_error)?
        .filter(|o| o.to_region == region)
        .ok_or(Error::NotFound)
}

/// PostgreSQL may abort one of two colliding transactions (deadlock,
/// serialization): a conflict to retry, not a server fault.
fn db_error(err: sqlx::Error) -> Error {
    if is_retryable_conflict(&err) {
        Error::refused(
            "the offer was answered by someone else at the same time; reload it",
            "Iemand anders heeft het aanbod tegelijk beantwoord; laad de pagina opnieuw.",
        )
    } else {
        Error::Store(err)
    }
}

/// Runs `work`; a refusal it returns is audited (in a transaction of its
/// own: the work's was rolled back) before it goes out.
pub(super) async fn audited<T>(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    offer_id: Option<i64>,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let err = match work.await {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    let detail = match (offer_id, err.audit_detail()) {
        (Some(id), Some(why)) => Some(format!("offer {id}: {why}")),
        (Some(id), None) => Some(format!("offer {id}")),
        (None, why) => why,
    };
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action,
        referral_id: None,
        result: "refused",
        detail,
    };
    Err(crate::auth::audit::refusal(&state.store, entry, err).await)
}

/// An offer status filter as given: `None` for all.
///
/// # Errors
/// An unknown status, naming the field `status`.
pub fn parse_status(text: Option<&str>) -> Result<Option<OfferStatus>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => OfferStatus::parse(t).map(Some).ok_or_else(|| {
            Error::Invalid(vec![FieldError::both(
                "status",
                format!(
                    "unknown status {t:?}; one of open, accepted, declined, expired, withdrawn"
                ),
                "onbekende status",
            )])
        }),
    }
}

/// The decline reason: trimmed, 1 to [`MAX_REASON`] characters, plain text.
///
/// # Errors
/// Missing, too long, or with control characters, naming the field `reason`.
pub fn parse_reason(text: Option<&str>) -> Result<String> {
    let reason = text.map(str::trim).unwrap_or_default();
    let problem = if reason.is_empty() {
        Some((
            "is required: say why the table cannot take it".to_string(),
            "Geef een reden op.".to_string(),
        ))
    } else if reason.chars().count() > MAX_REASON {
        Some((
            format!("at most {MAX_REASON} characters"),
            format!("Ten hoogste {MAX_REASON} tekens."),
        ))
    } else if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        Some((
            "must not contain control characters".to_string(),
            "De reden bevat tekens die niet zijn toegestaan.".to_string(),
        ))
    } else {
        None
    };
    match problem {
        Some((message, dutch)) => Err(Error::Invalid(vec![FieldError::both(
            "reason", message, dutch,
        )])),
        None => Ok(reason.to_string()),
    }
}

/// A moment as the pages write it: `30-11-2026 om 10:00`.
fn local_nl(at: DateTime<Utc>, state: &AppState) -> String {
    at.with_timezone(&state.regions.timezone)
        .format("%d-%m-%Y om %H:%M")
        .to_string()
}

fn local(at: DateTime<Utc>, state: &AppState) -> String {
    at.with_timezone(&state.regions.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Why an offer in `offer.status` cannot be answered with `answer`.
fn not_open(offer: &Offer, answer: &str, state: &AppState) -> Error {
    let answered = offer.answered_at.map(|t| local(t, state));
    let answered_nl = offer.answered_at.map(|t| local_nl(t, state));
    let when = answered
        .as_ref()
        .map_or_else(String::new, |t| format!(" on {t}"));
    let op = answered_nl.map_or_else(String::new, |t| format!(" op {t}"));
    let expired = local(offer.expires_at, state);
    let verlopen = local_nl(offer.expires_at, state);
    let (why, dutch) = match offer.status {
        OfferStatus::Accepted => (
            format!("it was already accepted{when}; the referral is booked at this table"),
            format!("Het aanbod is al aangenomen{op}; de aanmelding is aan deze tafel geboekt."),
        ),
        OfferStatus::Declined => (
            format!("it was already declined{when}"),
            format!("Het aanbod is al afgewezen{op}."),
        ),
        OfferStatus::Expired => (
            format!("it expired unanswered at {expired}; the referral is planned elsewhere"),
            format!("Het aanbod is op {verlopen} onbeantwoord verlopen; de aanmelding wordt elders ingepland."),
        ),
        OfferStatus::Withdrawn => (
            format!("it was withdrawn{when}: the referral no longer needs this table"),
            format!("Het aanbod is ingetrokken{op}: de aanmelding heeft deze tafel niet meer nodig."),
        ),
        OfferStatus::Open => (
            "it was changed by someone else at the same time; reload it".to_string(),
            "Iemand anders heeft het aanbod tegelijk gewijzigd; laad de pagina opnieuw.".to_string(),
        ),
    };
    Error::refused(format!("cannot {answer} the offer: {why}"), dutch)
}

/// An open offer whose deadline has passed waits for the minute job to
/// expire it; it cannot be answered any more.
fn check_deadline(offer: &Offer, answer: &str, state: &AppState, now: DateTime<Utc>) -> Result<()> {
    if offer.status == OfferStatus::Open && offer.expires_at <= now {
        let deadline = local(offer.expires_at, state);
        let termijn = local_nl(offer.expires_at, state);
        return Err(Error::refused(
            format!("cannot {answer} the offer: its deadline passed at {deadline}; the referral is planned elsewhere"),
            format!("De termijn van het aanbod is op {termijn} verstreken; de aanmelding wordt elders ingepland."),
        ));
    }
    Ok(())
}

async fn view_of(conn: &mut AnyConnection, state: &AppState, id: i64) -> Result<OfferView> {
    let offer = store::get(conn, id)
        .await
        .map_err(db_error)?
        .ok_or(Error::NotFound)?;
    Ok(OfferView::new(&offer, &state.regions))
}

/// Accepts an offer to the chair's table: the referral is booked in the
/// offered slot. Accepting again gives the same result. Refusals are
/// audited.
///
/// # Errors
/// Not a chair of the receiving region; no such offer to the chair's table;
/// answered otherwise, expired, withdrawn, the slot taken meanwhile or the
/// referral no longer bookable there (refused); storage errors.
#[tracing::instrument(skip(state, user), fields(user = user.id))]
pub async fn accept(state: &AppState, user: &CurrentUser, offer_id: i64) -> Result<OfferView> {
    audited(
        state,
        user,
        "offer.accept",
        Some(offer_id),
        accept_unaudited(state, user, offer_id),
    )
    .await
}

async fn accept_unaudited(
    state: &AppState,
    user: &CurrentUser,
    offer_id: i64,
) -> Result<OfferView> {
    let region = answering_region(user)?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let offer = load_for(&mut tx, offer_id, &region).await?;
    check_deadline(&offer, "accept", state, now)?;
    if offer.status == OfferStatus::Open {
        // A savepoint: should another referral's booking hold the slot, the
        // answer and the failed booking are undone and the offer withdrawn
        // in the same transaction (on PostgreSQL the failed statement would
        // otherwise spoil it).
        let mut attempt = sqlx::Connection::begin(&mut *tx).await.map_err(db_error)?;
        if store::answer(
            &mut attempt,
            offer.id,
            OfferStatus::Accepted,
            user.id,
            None,
            now,
        )
        .await
        .map_err(db_error)?
        {
            if !book(&mut attempt, state, &offer, now).await? {
                attempt.rollback().await.map_err(db_error)?;
                withdraw_taken(&mut tx, &offer, now)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                state
                    .replan
                    .request("offered slot booked for another referral");
                return Err(Error::refused(
                    "cannot accept the offer: the slot was booked for another referral at the same time; \
                     the offer is withdrawn and the referral is planned again",
                    "De plek werd op hetzelfde moment voor een andere aanmelding geboekt; het aanbod is \
                     ingetrokken en de aanmelding wordt opnieuw ingepland.",
                ));
            }
            attempt.commit().await.map_err(db_error)?;
            let detail = format!("offer {}: booked in slot {}", offer.id, offer.slot_id);
            audit(
                &mut tx,
                Some(user),
                "offer.accept",
                offer.referral_id,
                detail,
                now,
            )
            .await?;
            let mut to = notify::chairs(&mut tx, &offer.to_region).await?;
            to.extend(notify::chairs(&mut tx, &offer.from_region).await?);
            if let Some(referral) =
                crate::referrals::store::get(&mut tx, offer.referral_id, &Scope::All).await?
            {
                to.push(referral.referrer_email.as_str().to_string());
            }
            notify::send(
                &mut tx,
                state,
                to,
                &notify::accepted(&state.regions, &offer),
                now,
            )
            .await?;
            let view = view_of(&mut tx, state, offer.id).await?;
            tx.commit().await.map_err(db_error)?;
            state.replan.request("offer accepted");
            return Ok(view);
        }
        attempt.rollback().await.map_err(db_error)?;
    }
    // Not open (any more): answered before, or by someone else just now.
    let current = store::get(&mut tx, offer.id)
        .await
        .map_err(db_error)?
        .ok_or(Error::NotFound)?;
    if current.status != OfferStatus::Accepted {
        return Err(not_open(&current, "accept", state));
    }
    audit(
        &mut tx,
        Some(user),
        "offer.accept",
        current.referral_id,
        format!("offer {}: already accepted", current.id),
        now,
    )
    .await?;
    let view = OfferView::new(&current, &state.regions);
    tx.commit().await.map_err(db_error)?;
    Ok(view)
}

/// Books the offer's referral in the offered slot through the one booking
/// procedure, with the same checks as any booking. `false`: another
/// referral's booking holds the slot (the unique index decided).
async fn book(
    conn: &mut AnyConnection,
    state: &AppState,
    offer: &Offer,
    now: DateTime<Utc>,
) -> Result<bool> {
    let referral = crate::referrals::store::get(conn, offer.referral_id, &Scope::All)
        .await
        .map_err(db_error)?
        .ok_or(Error::NotFound)?;
    let slot = crate::referrals::store::slot(conn, &offer.slot_id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "slot {} of offer {} is missing",
                offer.slot_id,
                offer.id
            ))
        })?;
    match bookings::confirm(conn, state, &referral, &slot, now).await? {
        Confirmed::Booked => Ok(true),
        Confirmed::SlotTaken => Ok(false),
    }
}

/// The offered slot was booked for another referral: the offer is
/// withdrawn (the table did not refuse, so it is not excluded) and the
/// referral released, to be planned again.
async fn withdraw_taken(
    conn: &mut AnyConnection,
    offer: &Offer,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    if store::withdraw(conn, offer.id, now).await? {
        release(conn, offer.referral_id, now).await?;
        let detail = format!(
            "offer {} withdrawn: slot {} was booked for another referral",
            offer.id, offer.slot_id
        );
        audit(conn, None, "offer.withdraw", offer.referral_id, detail, now).await?;
    }
    Ok(())
}

/// Declines an offer to the chair's table, with a reason (1 to
/// [`MAX_REASON`] characters, plain text): the table is excluded for this
/// referral and the planner runs again. Declining again gives the same
/// result. Refusals are audited.
///
/// # Errors
/// Not a chair of the receiving region; no such offer to the chair's table;
/// answered otherwise, expired or withdrawn already (refused); a missing or
/// bad reason; storage errors.
#[tracing::instrument(skip(state, user, reason), fields(user = user.id))]
pub async fn decline(
    state: &AppState,
    user: &CurrentUser,
    offer_id: i64,
    reason: Option<&str>,
) -> Result<OfferView> {
    audited(state, user, "offer.decline", Some(offer_id), async {
        user.require(&[Role::Chair])?;
        let reason = parse_reason(reason)?;
        decline_unaudited(state, user, offer_id, &reason).await
    })
    .await
}

async fn decline_unaudited(
    state: &AppState,
    user: &CurrentUser,
    offer_id: i64,
    reason: &str,
) -> Result<OfferView> {
    let region = answering_region(user)?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let offer = load_for(&mut tx, offer_id, &region).await?;
    check_deadline(&offer, "decline", state, now)?;
    if offer.status == OfferStatus::Open
        && store::answer(
            &mut tx,
            offer.id,
            OfferStatus::Declined,
            user.id,
            Some(reason),
            now,
        )
        .await
        .map_err(db_error)?
    {
        crate::referrals::store::exclude_region(&mut tx, offer.referral_id, &offer.to_region, now)
            .await
            .map_err(db_error)?;
        release(&mut tx, offer.referral_id, now)
            .await
            .map_err(db_error)?;
        let detail = format!(
            "offer {}: {} declined slot {}",
            offer.id, offer.to_region, offer.slot_id
        );
        audit(
            &mut tx,
            Some(user),
            "offer.decline",
            offer.referral_id,
            detail,
            now,
        )
        .await?;
        let to = notify::home(&mut tx, &offer).await?;
        notify::send(
            &mut tx,
            state,
            to,
            &notify::declined(&state.regions, &offer),
            now,
        )
        .await?;
        let view = view_of(&mut tx, state, offer.id).await?;
        tx.commit().await.map_err(db_error)?;
        state.replan.request("offer declined");
        return Ok(view);
    }
    let current = store::get(&mut tx, offer.id)
        .await
        .map_err(db_error)?
        .ok_or(Error::NotFound)?;
    if current.status != OfferStatus::Declined {
        return Err(not_open(&current, "decline", state));
    }
    audit(
        &mut tx,
        Some(user),
        "offer.decline",
        current.referral_id,
        format!("offer {}: already declined", current.id),
        now,
    )
    .await?;
    let view = OfferView::new(&current, &state.regions);
    tx.commit().await.map_err(db_error)?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_chairs_with_a_region_answer() {
        let mut user = CurrentUser {
            id: 1,
            email: "a@example.org".into(),
            role: Role::Coordinator,
            region: None,
            organisation: None,
            municipality: None,
        };
        assert!(matches!(answering_region(&user), Err(Error::NotAllowed(_))));
        user.role = Role::Chair;
        assert!(matches!(answering_region(&user), Err(Error::NotAllowed(_))));
        user.region = crate::config::RegionId::parse("food-valley").ok();
        assert_eq!(answering_region(&user).ok().as_deref(), Some("food-valley"));
    }

    #[test]
    fn a_reason_is_required_bounded_and_plain_text() {
        let invalid =
            |r: Result<String>| matches!(r, Err(Error::Invalid(f)) if f[0].field == "reason");
        assert!(invalid(parse_reason(None)));
        assert!(invalid(parse_reason(Some("   "))));
        assert!(invalid(parse_reason(Some(&"x".repeat(501)))));
        assert!(invalid(parse_reason(Some("a\u{0}b"))));
        assert_eq!(parse_reason(Some(" vol ")).ok().as_deref(), Some("vol"));
        assert_eq!(
            parse_reason(Some(&"é".repeat(500)))
                .ok()
                .map(|r| r.chars().count()),
            Some(500)
        );
    }

    #[test]
    fn statuses_parse_or_name_the_field() {
        assert_eq!(
            parse_status(Some("open")).ok(),
            Some(Some(OfferStatus::Open))
        );
        assert_eq!(parse_status(None).ok(), Some(None));
        match parse_status(Some("pending")) {
            Err(Error::Invalid(fields)) => assert_eq!(fields[0].field, "status"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}
