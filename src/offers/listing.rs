//! Reading offers: the list a chair or coordinator sees (every offer shown
//! audited as read) and the count of open ones for the menu.

use super::answer::{answering_region, audited, parse_status};
use super::store;
use super::{audit, OfferStatus, OfferView};
use crate::auth::{CurrentUser, Role};
use crate::error::Result;
use crate::state::AppState;

/// Offers the user may see: a chair those to the own table, a coordinator
/// all. Optionally of one `status` (as given, e.g. `open`), newest first.
/// Every offer returned is audited as read.
///
/// # Errors
/// Another role; an unknown status; storage errors.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    status: Option<&str>,
) -> Result<Vec<OfferView>> {
    audited(state, user, "offer.read", None, async {
        let status = parse_status(status)?;
        list_unaudited(state, user, status).await
    })
    .await
}

/// How many open offers wait for the user's answer (a chair: to the own
/// table; a coordinator: all), for the menu's count: no offer is shown, so
/// none is audited as read. `0` for other roles.
///
/// # Errors
/// A chair without a region; storage errors.
pub async fn open_count(state: &AppState, user: &CurrentUser) -> Result<usize> {
    let scope = match user.role {
        Role::Chair => store::OfferScope::ToRegion(answering_region(user)?),
        Role::Coordinator => store::OfferScope::All,
        _ => return Ok(0),
    };
    let mut conn = state.store.pool.acquire().await?;
    Ok(store::list(&mut conn, &scope, Some(OfferStatus::Open))
        .await?
        .len())
}

async fn list_unaudited(
    state: &AppState,
    user: &CurrentUser,
    status: Option<OfferStatus>,
) -> Result<Vec<OfferView>> {
    user.require(&[Role::Chair, Role::Coordinator])?;
    let scope = match user.role {
        Role::Chair => store::OfferScope::ToRegion(answering_region(user)?),
        _ => store::OfferScope::All,
    };
    let mut conn = state.store.pool.acquire().await?;
    let offers = store::list(&mut conn, &scope, status).await?;
    drop(conn);
    // No case reference leaves without its audit row.
    if offers.is_empty() {
        return Ok(Vec::new());
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    for offer in &offers {
        audit(
            &mut tx,
            Some(user),
            "offer.read",
            offer.referral_id,
            format!("offer {}", offer.id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(offers
        .iter()
        .map(|o| OfferView::new(o, &state.regions))
        .collect())
}
