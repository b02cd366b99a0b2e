//! The scenario of a plan run, read from the database: the same format a
//! file would have, so `jbt plan --scenario` and the service plan alike.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use crate::config::{ReferralKind, RegionsConfig};
use crate::offers::deadline::answer_deadline;
use crate::planner::scenario::{PinFile, ReferralFile, RegionFile, SlotFile};
use crate::planner::{Scenario, ScenarioFile};
use crate::settings::OfferSettings;
use crate::store::time::{from_millis, to_millis};

/// A referral the run may move, with its current tentative slot.
#[derive(Debug, Clone)]
pub struct FreeReferral {
    /// The referral's database id.
    pub id: i64,
    /// The slot id the last run planned it in (tentative); `None` when unplanned.
    pub planned_slot: Option<String>,
    /// The slot held for its open offer to a neighbouring table: pinned in
    /// the scenario, but not a confirmed booking.
    pub offered_slot: Option<String>,
    /// The local date of its tentative slot when that slot has started
    /// without a booking (the run moves it; the explanation says why).
    pub passed_slot: Option<String>,
    /// The note of an earlier run that a tentative slot passed, kept while
    /// the referral stays where that run moved it.
    pub passed_note: Option<String>,
    /// Placed in its planned slot by hand (see `offers::moves`): pinned in
    /// the scenario while the slot is usable.
    pub pinned_by_hand: bool,
    /// Why the referral's own table is not an option, in Dutch, when that
    /// is a rule of the configuration the planner does not know the reason
    /// of (the table does not hold this kind of conversation).
    pub own_table_note: Option<String>,
}

/// A scenario read from the database, in both forms, with the referrals the
/// run may move.
pub struct Built {
    /// The scenario in file form, as `jbt plan --scenario` would read it.
    pub file: ScenarioFile,
    /// The same, checked and indexed for the planner.
    pub scenario: Scenario,
    /// The referrals the run may move (registered or planned, including
    /// those holding an offered slot), in registration order.
    pub free: Vec<FreeReferral>,
}

/// Scenario ids of referrals are `r<database id>`: the case reference is
/// not needed by the planner, so it does not go in.
pub fn scenario_id(id: i64) -> String {
    format!("r{id}")
}

/// The database id in a scenario id (`r42` gives 42); `None` for any other
/// shape.
pub fn referral_id(scenario_id: &str) -> Option<i64> {
    scenario_id.strip_prefix('r')?.parse().ok()
}

/// Reads the scenario of a plan run at `now` from the database: the regions
/// and norm from `regions`, the open slots starting from `now` on, the
/// referrals waiting for a conversation (registered, planned) and the
/// bookings still to come (pinned). Slots held for open offers are pinned
/// too. A slot too close for a neighbouring table to answer an offer in time
/// (see `offers`) is its own region's only.
///
/// # Errors
/// A query fails or a row cannot be read, or the rows make an invalid
/// scenario (the message lists the problems).
pub async fn scenario_from_db(
    conn: &mut AnyConnection,
    regions: &RegionsConfig,
    offers: &OfferSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Built> {
    let slots = read_slots(conn, regions, offers, now).await?;
    let (referrals, pinned, free) = read_referrals(conn, regions, now).await?;
    let file = ScenarioFile {
        version: 1,
        now: now.to_rfc3339(),
        timezone: regions.timezone.name().to_string(),
        norm_days: regions.norm_days,
        regions: regions
            .regions
            .iter()
            .map(|r| RegionFile {
                id: r.id.as_str().to_string(),
                neighbours: r
                    .neighbours
                    .iter()
                    .map(|n| n.as_str().to_string())
                    .collect(),
                name: Some(r.name.clone()),
            })
            .collect(),
        slots,
        referrals,
        pinned,
    };
    let scenario = Scenario::from_file(&file)
        .map_err(|errors| anyhow::anyhow!("the database gives an invalid scenario:\n{errors}"))?;
    Ok(Built {
        file,
        scenario,
        free,
    })
}

/// Open slots from now on; booked ones stay in as the pins' slots.
/// A slot starting too soon for a neighbouring table to answer an offer
/// in time is its own region's only ([`answer_deadline`]).
async fn read_slots(
    conn: &mut AnyConnection,
    regions: &RegionsConfig,
    offers: &OfferSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<SlotFile>> {
    let rows = sqlx::query(
        "SELECT id, region_id, start_at, minutes FROM slots
         WHERE cancelled_at IS NULL AND start_at > $1 ORDER BY start_at, id",
    )
    .bind(to_millis(now))
    .fetch_all(&mut *conn)
    .await
    .context("reading slots")?;
    rows.iter()
        .map(|row| {
            let start = from_millis(row.try_get("start_at")?);
            Ok(SlotFile {
                id: row.try_get("id")?,
                region: row.try_get("region_id")?,
                start: start.to_rfc3339(),
                minutes: u32::try_from(row.try_get::<i64, _>("minutes")?).unwrap_or(u32::MAX),
                own_region_only: answer_deadline(regions, offers, now, start).is_none(),
            })
        })
        .collect()
}

type Referrals = (Vec<ReferralFile>, Vec<PinFile>, Vec<FreeReferral>);

/// Referrals waiting for a conversation (registered, planned) and the
/// bookings still to come (pinned).
async fn read_referrals(
    conn: &mut AnyConnection,
    regions: &RegionsConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<Referrals> {
    let rows = sqlx::query(
        "SELECT r.id, r.region_id, r.kind, r.registered_at, r.due_date, r.earliest_date, r.unavailable,
                r.minutes, CAST(r.cross_region AS INTEGER) AS cross_region, r.status, r.planned_slot_id, r.booked_slot_id,
                r.excluded_regions, os.id AS offer_slot, pn.id AS pin_slot,
                CASE WHEN ps.start_at < $1 THEN ps.local_date END AS passed_slot, r.plan_explanation
         FROM referrals r
         LEFT JOIN slots ps ON ps.id = r.planned_slot_id
         LEFT JOIN slots s ON s.id = r.booked_slot_id
         LEFT JOIN offers o ON o.referral_id = r.id AND o.status = 'open'
         LEFT JOIN slots os ON os.id = o.slot_id AND os.cancelled_at IS NULL AND os.start_at > $1
             AND NOT EXISTS (SELECT 1 FROM referrals b WHERE b.booked_slot_id = o.slot_id AND b.id <> r.id)
         LEFT JOIN slots pn ON pn.id = r.pinned_slot_id
             AND pn.cancelled_at IS NULL AND pn.start_at > $1
             AND NOT EXISTS (SELECT 1 FROM referrals pb WHERE pb.booked_slot_id = r.pinned_slot_id)
         WHERE r.status IN ('registered', 'planned')
            OR (r.status = 'booked' AND s.cancelled_at IS NULL AND s.start_at > $1)
         ORDER BY r.registered_at, r.id",
    )
    .bind(to_millis(now))
    .fetch_all(&mut *conn)
    .await
    .context("reading referrals")?;
    let mut referrals = Vec::with_capacity(rows.len());
    let mut pinned = Vec::new();
    let mut free = Vec::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let region: String = row.try_get("region_id")?;
        let status: String = row.try_get("status")?;
        let booked: Option<String> = row.try_get("booked_slot_id")?;
        let offered: Option<String> = row.try_get("offer_slot")?;
        let by_hand: Option<String> = row.try_get("pin_slot")?;
        let kind = ReferralKind::parse(&row.try_get::<String, _>("kind")?);
        let own_table_note = kind.and_then(|kind| {
            let home = regions.regions.iter().find(|r| r.id.as_str() == region)?;
            (!home.handles(kind)).then(|| {
                format!(
                    "De tafel van {} voert (nog) geen {}; daarom is een tafel in de buurt gezocht.",
                    home.name,
                    kind.conversations_nl()
                )
            })
        });
        let mut referral = ReferralFile {
            id: scenario_id(id),
            region,
            registered: from_millis(row.try_get("registered_at")?).to_rfc3339(),
            due: Some(row.try_get("due_date")?),
            earliest: None,
            unavailable: Vec::new(),
            minutes: None,
            cross_region: None,
            excluded_regions: Vec::new(),
        };
        match (status.as_str(), booked, offered.or(by_hand.clone())) {
            // A booking is kept as it is, whatever changed since: the planner
            // only needs its date to count it in the score.
            ("booked", Some(slot), _) => pinned.push(PinFile {
                referral: scenario_id(id),
                slot,
            }),
            // A slot offered to a neighbouring table is held until the chair
            // answers or the offer expires; one chosen by hand while usable.
            (_, _, Some(slot)) => {
                let offered = by_hand.as_deref() != Some(slot.as_str());
                free.push(FreeReferral {
                    id,
                    planned_slot: row.try_get("planned_slot_id")?,
                    passed_slot: row.try_get("passed_slot")?,
                    passed_note: passed_note(row)?,
                    offered_slot: offered.then(|| slot.clone()),
                    pinned_by_hand: !offered,
                    own_table_note: own_table_note.clone(),
                });
                pinned.push(PinFile {
                    referral: scenario_id(id),
                    slot,
                });
            }
            _ => {
                free.push(FreeReferral {
                    id,
                    planned_slot: row.try_get("planned_slot_id")?,
                    passed_slot: row.try_get("passed_slot")?,
                    passed_note: passed_note(row)?,
                    offered_slot: None,
                    pinned_by_hand: false,
                    own_table_note,
                });
                let mut excluded: Vec<String> =
                    serde_json::from_str(&row.try_get::<String, _>("excluded_regions")?)
                        .unwrap_or_default();
                // A table that does not (yet) hold this kind of conversation
                // is never an option; a neighbour that does can take it.
                if let Some(kind) = kind {
                    for r in regions.regions.iter().filter(|r| !r.handles(kind)) {
                        excluded.push(r.id.as_str().to_string());
                    }
                }
                excluded.sort();
                excluded.dedup();
                referral.earliest = row.try_get("earliest_date")?;
                referral.unavailable =
                    serde_json::from_str(&row.try_get::<String, _>("unavailable")?)
                        .unwrap_or_default();
                referral.minutes =
                    Some(u32::try_from(row.try_get::<i64, _>("minutes")?).unwrap_or(u32::MAX));
                referral.cross_region = Some(crate::store::flag(row, "cross_region")?);
                referral.excluded_regions = excluded;
            }
        }
        referrals.push(referral);
    }
    Ok((referrals, pinned, free))
}

/// The `passed_note` an earlier plan run left in the explanation, if any.
fn passed_note(row: &sqlx::any::AnyRow) -> anyhow::Result<Option<String>> {
    let text: Option<String> = row.try_get("plan_explanation")?;
    Ok(text
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v.get("passed_note")
                .and_then(|n| n.as_str())
                .map(str::to_string)
        }))
}
