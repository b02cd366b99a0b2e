//! Foreseen delays: after every plan run, tell the municipal contact person
//! when a referral will (probably) be discussed later than the norm allows.
//!
//! One `delay_alerts` row per referral keeps the current *episode*: it
//! opens with the first foreseen delay (one mail), stays quiet while the
//! forecast wobbles, mails again only when it gets `mail.worsen_days` or
//! more days worse than last told, and closes with a short all-clear when
//! the referral is back within the norm, booked within it, withdrawn,
//! cancelled or held. The next delay of the same referral opens episode + 1.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use crate::mail::{compose, dagen, dutch_date, enqueue};
use crate::placement::{Placement, PlanContext};
use crate::state::AppState;
use crate::store::time::to_millis;
use crate::store::{flag, WriteTx};

/// The stored state of one referral's alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Episode {
    number: i64,
    open: bool,
    /// The delay (days over the norm) the contact was last told.
    notified: i64,
}

/// What to tell, given the stored episode and this run's forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// A new episode with a delay of `days`.
    Open {
        episode: i64,
        days: i64,
    },
    /// The open episode got at least `worsen_days` worse.
    Worse {
        episode: i64,
        days: i64,
        before: i64,
    },
    /// The open episode ends: back within the norm.
    AllClear {
        episode: i64,
    },
    Nothing,
}

/// `delay`: days over the norm this run foresees, `None` when within it.
fn decide(current: Option<Episode>, delay: Option<i64>, worsen_days: i64) -> Decision {
    match (current, delay) {
        (None, Some(days)) => Decision::Open { episode: 1, days },
        (Some(e), Some(days)) if !e.open => Decision::Open {
            episode: e.number + 1,
            days,
        },
        (Some(e), Some(days)) if days >= e.notified.saturating_add(worsen_days) => {
            Decision::Worse {
                episode: e.number,
                days,
                before: e.notified,
            }
        }
        (Some(e), None) if e.open => Decision::AllClear { episode: e.number },
        _ => Decision::Nothing,
    }
}

/// The foreseen delay of a placement: planned after its due date, or not
/// planned at all (then at least a day, however far the horizon reaches).
fn foreseen_delay(p: &Placement) -> Option<i64> {
    match &p.slot_id {
        None => Some(p.late_days.max(1)),
        Some(_) if p.late_days > 0 => Some(p.late_days),
        Some(_) => None,
    }
}

/// Tells municipal contacts about foreseen delays; runs inside the plan
/// run's transaction, so the mails exist exactly when the plan does.
///
/// # Errors
/// Storage errors reading or writing the alert state or the outbox; the
/// caller then rolls the plan run back.
pub async fn after_plan(tx: &mut WriteTx, context: &PlanContext<'_>) -> anyhow::Result<()> {
    let state = context.state;
    let now = context.now;
    // Zero or less would mail on every run that changes the forecast at all.
    let worsen_days = state.settings.mail.worsen_days.max(1);
    let episodes = load_episodes(tx).await?;
    let mut placed = HashSet::new();
    for placement in &context.placements {
        placed.insert(placement.referral_id);
        let current = episodes.get(&placement.referral_id).copied();
        match decide(current, foreseen_delay(placement), worsen_days) {
            Decision::Nothing => {}
            Decision::Open { episode, days } => {
                store(tx, placement.referral_id, episode, true, days, now).await?;
                let mail = Notice::Delay {
                    placement,
                    days,
                    before: None,
                };
                notify(
                    tx,
                    state,
                    placement.referral_id,
                    episode,
                    mail,
                    worsen_days,
                    now,
                )
                .await?;
            }
            Decision::Worse {
                episode,
                days,
                before,
            } => {
                store(tx, placement.referral_id, episode, true, days, now).await?;
                let mail = Notice::Delay {
                    placement,
                    days,
                    before: Some(before),
                };
                notify(
                    tx,
                    state,
                    placement.referral_id,
                    episode,
                    mail,
                    worsen_days,
                    now,
                )
                .await?;
            }
            Decision::AllClear { episode } => {
                let notified = current.map_or(0, |e| e.notified);
                store(tx, placement.referral_id, episode, false, notified, now).await?;
                notify(
                    tx,
                    state,
                    placement.referral_id,
                    episode,
                    Notice::WithinNorm { placement },
                    worsen_days,
                    now,
                )
                .await?;
            }
        }
    }
    // Open episodes of referrals the run no longer plans: ended (withdrawn,
    // cancelled, held) or only paused (incomplete again, a booking in the
    // past not yet marked held), which keeps its episode open.
    for (&referral_id, episode) in episodes
        .iter()
        .filter(|(id, e)| e.open && !placed.contains(*id))
    {
        let status: Option<String> = sqlx::query("SELECT status FROM referrals WHERE id = $1")
            .bind(referral_id)
            .fetch_optional(&mut **tx)
            .await
            .context("reading a referral's status")?
            .map(|row| row.try_get("status"))
            .transpose()?;
        let Some(status) = status.filter(|s| {
            matches!(
                s.as_str(),
                "withdrawn" | "cancelled" | "held" | "outcome_recorded"
            )
        }) else {
            continue;
        };
        store(
            tx,
            referral_id,
            episode.number,
            false,
            episode.notified,
            now,
        )
        .await?;
        notify(
            tx,
            state,
            referral_id,
            episode.number,
            Notice::Ended { status: &status },
            worsen_days,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Episodes that can matter to this run: every open one, and the closed
/// ones of referrals still waiting (they may open the next episode).
async fn load_episodes(conn: &mut AnyConnection) -> anyhow::Result<HashMap<i64, Episode>> {
    let rows = sqlx::query(
        "SELECT d.referral_id, d.episode, CAST(d.open AS INTEGER) AS open, d.notified_late_days
         FROM delay_alerts d JOIN referrals r ON r.id = d.referral_id
         WHERE d.open = $1 OR r.status IN ('registered', 'planned', 'booked')",
    )
    .bind(true)
    .fetch_all(&mut *conn)
    .await
    .context("reading delay alerts")?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("referral_id")?,
                Episode {
                    number: row.try_get("episode")?,
                    open: flag(row, "open")?,
                    notified: row.try_get("notified_late_days")?,
                },
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading delay alerts")
}

async fn store(
    conn: &mut AnyConnection,
    referral_id: i64,
    episode: i64,
    open: bool,
    notified: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO delay_alerts (referral_id, episode, open, notified_late_days, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (referral_id) DO UPDATE SET episode = excluded.episode, open = excluded.open,
             notified_late_days = excluded.notified_late_days, updated_at = excluded.updated_at",
    )
    .bind(referral_id)
    .bind(episode)
    .bind(open)
    .bind(notified)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await
    .context("storing a delay alert")?;
    Ok(())
}

enum Notice<'a> {
    Delay {
        placement: &'a Placement,
        days: i64,
        before: Option<i64>,
    },
    WithinNorm {
        placement: &'a Placement,
    },
    Ended {
        status: &'a str,
    },
}

/// Writes the mail for `notice` to the municipal contact of the referral's
/// municipality. Only the case reference identifies the case.
async fn notify(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
    episode: i64,
    notice: Notice<'_>,
    worsen_days: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let row =
        sqlx::query("SELECT case_ref, municipality_cbs, region_id FROM referrals WHERE id = $1")
            .bind(referral_id)
            .fetch_one(&mut *conn)
            .await
            .context("reading the referral for a delay alert")?;
    let case_ref: String = row.try_get("case_ref")?;
    let cbs: String = row.try_get("municipality_cbs")?;
    let home = state
        .regions
        .region_name(&row.try_get::<String, _>("region_id")?);
    let Some((_, municipality)) = state.regions.municipality(&cbs) else {
        // The episode is still recorded: a contact added later is not sent
        // a backlog, only what happens from then on.
        tracing::warn!(referral = referral_id, municipality = %cbs, "no municipal contact configured; delay alert not sent");
        return Ok(());
    };
    let norm = state.regions.norm_days;
    let who = format!("Aanmelding {case_ref} (gemeente {})", municipality.name);
    let (kind, subject, key, paragraphs) = match notice {
        Notice::Delay {
            placement,
            days,
            before,
        } => {
            let mut paragraphs = Vec::new();
            let over = if placement.slot_id.is_some() {
                dagen(days)
            } else {
                format!("ten minste {}", dagen(days))
            };
            paragraphs.push(format!("{who} wordt naar verwachting niet binnen de norm van {norm} dagen besproken: de norm wordt met {over} overschreden."));
            if let Some(before) = before {
                paragraphs.push(format!(
                    "Eerder meldden wij een overschrijding van {}; de verwachting is {} slechter geworden.",
                    dagen(before),
                    dagen(days - before)
                ));
            }
            let due = dutch_date(placement.due);
            match &placement.slot_region {
                Some(table) if placement.slot_id.is_some() => paragraphs.push(format!(
                    "De bespreking staat {} aan de Jeugdbeschermingstafel {} op {}; volgens de norm uiterlijk {due}.",
                    if placement.pinned { "vast" } else { "voorlopig gepland" },
                    state.regions.region_name(table),
                    dutch_date(placement.date),
                )),
                _ => paragraphs.push(format!(
                    "Binnen de planningshorizon is nog geen plek gevonden aan de Jeugdbeschermingstafel {home} of een buurtafel; volgens de norm moet de bespreking uiterlijk {due} plaatsvinden."
                )),
            }
            paragraphs.push(what_is_done(conn, state, referral_id, placement).await?);
            paragraphs.push(format!(
                "U krijgt opnieuw bericht als de verwachting {} of meer verslechtert, en zodra de aanmelding weer binnen de norm valt.",
                dagen(worsen_days)
            ));
            let subject = match before {
                None => format!("Verwachte wachttijd boven de norm: {case_ref} ({home})"),
                Some(_) => format!("Verwachte wachttijd verder opgelopen: {case_ref} ({home})"),
            };
            (
                "delay_alert",
                subject,
                format!("delay-{referral_id}-{episode}-{days}"),
                paragraphs,
            )
        }
        Notice::WithinNorm { placement } => {
            let table = placement
                .slot_region
                .as_deref()
                .map_or_else(|| home.clone(), |t| state.regions.region_name(t));
            let paragraphs = vec![
                format!(
                    "{who} valt weer binnen de norm van {norm} dagen: de bespreking staat {} aan de Jeugdbeschermingstafel {table} op {}.",
                    if placement.pinned { "vast" } else { "voorlopig gepland" },
                    dutch_date(placement.date)
                ),
                "Onze eerdere melding over een verwachte overschrijding vervalt hiermee.".to_string(),
            ];
            let subject = format!("Weer binnen de norm: {case_ref} ({home})");
            (
                "delay_all_clear",
                subject,
                format!("allclear-{referral_id}-{episode}"),
                paragraphs,
            )
        }
        Notice::Ended { status } => {
            let what = match status {
                "withdrawn" => format!("{who} is ingetrokken."),
                "cancelled" => format!("{who} is door de tafel geannuleerd."),
                _ => format!("{who} is inmiddels aan de tafel besproken."),
            };
            let paragraphs =
                vec![what, "Onze eerdere melding over een verwachte overschrijding van de norm vervalt hiermee.".to_string()];
            let subject = format!("Melding vervallen: {case_ref} ({home})");
            (
                "delay_all_clear",
                subject,
                format!("allclear-{referral_id}-{episode}"),
                paragraphs,
            )
        }
    };
    let link = format!("{}/referrals/{referral_id}", state.settings.public_url);
    let mail = compose(
        kind,
        municipality.contact.as_ref(),
        &subject,
        &paragraphs,
        Some(("Bekijk de aanmelding in JBT-planner", link)),
        key,
        Some(referral_id),
    );
    enqueue(&mut *conn, &mail, now)
        .await
        .context("enqueueing a delay alert")?;
    Ok(())
}

/// The "what is being done" paragraph: open offers to neighbouring tables,
/// a place at a neighbouring table, or the coordinator's search for room.
async fn what_is_done(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
    placement: &Placement,
) -> anyhow::Result<String> {
    let offers = sqlx::query(
        "SELECT to_region FROM offers WHERE referral_id = $1 AND status = 'open' ORDER BY id",
    )
    .bind(referral_id)
    .fetch_all(&mut *conn)
    .await
    .context("reading open offers")?;
    let tables = offers
        .iter()
        .map(|row| {
            row.try_get::<String, _>("to_region")
                .map(|id| state.regions.region_name(&id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if !tables.is_empty() {
        format!(
            "Wat er gebeurt: de aanmelding is aangeboden aan de Jeugdbeschermingstafel {}. Neemt de voorzitter daar het aanbod aan, dan wordt de aanmelding daar besproken.",
            tables.join(" en ")
        )
    } else if placement.cross_region() {
        "Wat er gebeurt: omdat de eigen tafel vol zit, is de aanmelding voorlopig ingepland aan een buurtafel; de coördinator zoekt daarnaast naar een eerdere plek.".to_string()
    } else {
        "Wat er gebeurt: de coördinator zoekt naar ruimte, zoals een extra zitting of een plek aan een buurtafel. De planning wordt bij elke wijziging opnieuw berekend.".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(notified: i64) -> Option<Episode> {
        Some(Episode {
            number: 1,
            open: true,
            notified,
        })
    }

    #[test]
    fn a_first_delay_opens_episode_one() {
        assert_eq!(
            decide(None, Some(4), 3),
            Decision::Open {
                episode: 1,
                days: 4
            }
        );
        assert_eq!(decide(None, None, 3), Decision::Nothing);
    }

    #[test]
    fn only_a_forecast_worse_by_the_threshold_mails_again() {
        assert_eq!(decide(open(4), Some(6), 3), Decision::Nothing);
        assert_eq!(decide(open(4), Some(2), 3), Decision::Nothing);
        assert_eq!(
            decide(open(4), Some(7), 3),
            Decision::Worse {
                episode: 1,
                days: 7,
                before: 4
            }
        );
    }

    #[test]
    fn back_within_the_norm_closes_and_the_next_delay_opens_a_new_episode() {
        assert_eq!(decide(open(4), None, 3), Decision::AllClear { episode: 1 });
        let closed = Some(Episode {
            number: 1,
            open: false,
            notified: 4,
        });
        assert_eq!(decide(closed, None, 3), Decision::Nothing);
        assert_eq!(
            decide(closed, Some(1), 3),
            Decision::Open {
                episode: 2,
                days: 1
            }
        );
    }
}
