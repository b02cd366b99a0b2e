//! The JSON a client sees of a referral.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::domain::ReferrerKind;
use super::lifecycle::Status;
use super::norm::{self, Norm, NormInput};
use super::store::{Referral, SlotInfo};
use crate::config::RegionsConfig;

/// A municipality: its CBS code and its name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MunicipalityView {
    /// The CBS code.
    #[schema(example = "GM0228")]
    pub cbs: String,
    /// The name, from the region configuration.
    #[schema(example = "Ede")]
    pub name: String,
}

/// A region (and so its table): its id and its name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionView {
    /// The region id.
    #[schema(example = "food-valley")]
    pub id: String,
    /// The name, from the region configuration.
    #[schema(example = "FoodValley")]
    pub name: String,
}

/// A slot a referral is planned or booked in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotView {
    /// The slot's id.
    pub id: String,
    /// The id of the region whose table holds it.
    pub region: String,
    /// Local date.
    pub date: NaiveDate,
    /// Start, RFC 3339 with the local offset.
    #[schema(example = "2026-12-02T09:00:00+01:00")]
    pub start: String,
    /// Its length in minutes.
    pub minutes: u32,
}

/// A referral as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralView {
    /// The referral's id.
    pub id: i64,
    /// The pseudonymous case reference (capitals).
    #[schema(example = "ST-EDE-0042")]
    pub case_ref: String,
    /// The child's municipality.
    pub municipality: MunicipalityView,
    /// Home region.
    pub region: RegionView,
    /// `vtb`, `ots_end` or `evaluation`.
    #[schema(value_type = String, example = "vtb")]
    pub kind: crate::config::ReferralKind,
    /// Who refers the case.
    pub referrer_kind: ReferrerKind,
    /// The referring organisation.
    pub referrer_org: String,
    /// Work e-mail address of the referring professional.
    pub referrer_email: String,
    /// A safety plan is in place.
    pub safety_plan: bool,
    /// The parents know about the referral.
    pub parents_informed: bool,
    /// The child is 12 or older and is heard separately.
    pub child_12_plus: bool,
    /// Slot length needed: 90, or 120 when the child is heard separately.
    pub minutes: u32,
    /// Local dates on which the conversation cannot be held.
    pub unavailable: Vec<NaiveDate>,
    /// Local date before which it cannot be held.
    pub earliest: Option<NaiveDate>,
    /// May be held at a neighbouring region's table.
    pub cross_region: bool,
    /// Where it is in its lifecycle.
    pub status: Status,
    /// What is missing before it can be planned (`safety_plan`, `parents_informed`).
    pub missing: Vec<String>,
    /// RFC 3339 with the local offset.
    pub registered_at: String,
    /// The norm clock today: due date, days waiting, on track / at risk / late.
    pub norm: Norm,
    /// The slot the planner tentatively gave it.
    pub planned_slot: Option<SlotView>,
    /// The slot a booking confirmed.
    pub booked_slot: Option<SlotView>,
    /// Why the planner placed it where it is (or could not place it).
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<serde_json::Value>,
    /// The referral whose outcome asked for this evaluation.
    pub parent_referral_id: Option<i64>,
    /// Why it was withdrawn or cancelled (free text, case content: shown
    /// only to those who may see the referral).
    pub close_reason: Option<String>,
    /// Raised by every change; send it back with a change to have the change
    /// refused (409) if someone else changed the referral meanwhile.
    pub version: i64,
}

fn slot_view(slot: &SlotInfo, tz: Tz) -> SlotView {
    SlotView {
        id: slot.id.clone(),
        region: slot.region.clone(),
        date: slot.date,
        start: slot.start.with_timezone(&tz).to_rfc3339(),
        minutes: slot.minutes,
    }
}

impl ReferralView {
    /// Whether the booked conversation has begun at `now` (so it can be
    /// marked held or not held); `false` without a booking.
    pub fn booked_slot_started(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.booked_slot.as_ref().is_some_and(|s| {
            chrono::DateTime::parse_from_rfc3339(&s.start).is_ok_and(|start| start <= now)
        })
    }

    /// The view on local date `today`.
    pub fn new(
        r: &Referral,
        regions: &RegionsConfig,
        today: NaiveDate,
        at_risk_days: i64,
    ) -> ReferralView {
        let tz = regions.timezone;
        let municipality_name = regions
            .municipality(r.municipality.as_str())
            .map_or_else(|| r.municipality.to_string(), |(_, m)| m.name.clone());
        let region_name = regions
            .region(&r.region)
            .map_or_else(|| r.region.to_string(), |g| g.name.clone());
        let norm = norm::assess(
            &NormInput {
                registered_at: r.registered_at,
                due: r.due,
                status: r.status,
                slot_date: r.slot().map(|s| s.date),
            },
            tz,
            today,
            at_risk_days,
        );
        ReferralView {
            id: r.id,
            case_ref: r.case_ref.to_string(),
            municipality: MunicipalityView {
                cbs: r.municipality.to_string(),
                name: municipality_name,
            },
            region: RegionView {
                id: r.region.to_string(),
                name: region_name,
            },
            kind: r.kind,
            referrer_kind: r.referrer_kind,
            referrer_org: r.referrer_org.clone(),
            referrer_email: r.referrer_email.to_string(),
            safety_plan: r.safety_plan,
            parents_informed: r.parents_informed,
            child_12_plus: r.child_12_plus,
            minutes: r.minutes,
            unavailable: r.unavailable.clone(),
            earliest: r.earliest,
            cross_region: r.cross_region,
            status: r.status,
            missing: r.missing().into_iter().map(String::from).collect(),
            registered_at: r.registered_at.with_timezone(&tz).to_rfc3339(),
            norm,
            planned_slot: r.planned_slot.as_ref().map(|s| slot_view(s, tz)),
            booked_slot: r.booked_slot.as_ref().map(|s| slot_view(s, tz)),
            // Written by the planner as JSON; text that is not JSON is shown as text.
            explanation: r.plan_explanation.as_deref().map(|text| {
                serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
            }),
            parent_referral_id: r.parent_referral_id,
            close_reason: r.close_reason.clone(),
            version: r.version,
        }
    }
}

/// A page of `GET /referrals`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralList {
    /// The referrals of this page, earliest due date first.
    pub items: Vec<ReferralView>,
    /// The page size used.
    pub limit: i64,
    /// How many were skipped.
    pub offset: i64,
}

/// The answer to `POST /referrals/{id}/outcome`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeRecorded {
    /// The referral, now `outcome_recorded`.
    pub referral: ReferralView,
    /// The evaluation referral registered for `evaluation_date`, if any.
    pub evaluation: Option<ReferralView>,
}
/// The view of `referral` as of now, in the state's regions and settings.
pub fn of(state: &crate::state::AppState, referral: &Referral) -> ReferralView {
    let today = super::norm::local_date(state.now(), state.regions.timezone);
    ReferralView::new(referral, &state.regions, today, state.settings.at_risk_days)
}

/// The recorded outcome of a referral the caller has just read through
/// `service::get` (scope checked, read audited), for its page.
///
/// # Errors
/// Storage errors.
pub async fn outcome(
    state: &crate::state::AppState,
    referral_id: i64,
) -> crate::error::Result<Option<super::store::OutcomeRecord>> {
    let mut conn = state.store.pool.acquire().await?;
    let Some(mut record) = super::store::outcome(&mut conn, referral_id).await? else {
        return Ok(None);
    };
    for (field, text) in outcome_texts(
        &mut record.route,
        &mut record.help,
        &mut record.safety_agreements,
    ) {
        // Outcomes recorded before sealing stay readable as they are.
        if crate::crypto::is_sealed(text) {
            let opened = state
                .cipher()?
                .open(text, &outcome_aad(field, referral_id))
                .map_err(|e| {
                    crate::error::Error::Internal(anyhow::anyhow!(
                        "an outcome text does not open: {e}"
                    ))
                })?;
            *text = opened.to_string();
        }
    }
    Ok(Some(record))
}

/// Seals the free texts of an outcome (route, help, safety agreements: case
/// content) with the at-rest key, bound to the referral and the field; an
/// empty text stays empty.
///
/// # Errors
/// No encryption key while there is text to store (refused: nothing is
/// stored).
pub fn seal_outcome(
    state: &crate::state::AppState,
    referral_id: i64,
    outcome: &mut super::store::NewOutcome,
) -> crate::error::Result<()> {
    for (field, text) in outcome_texts(
        &mut outcome.route,
        &mut outcome.help,
        &mut outcome.safety_agreements,
    ) {
        if !text.is_empty() {
            *text = state
                .cipher()?
                .seal(text, &outcome_aad(field, referral_id))
                .map_err(|e| crate::error::Error::Internal(e.into()))?;
        }
    }
    Ok(())
}

fn outcome_texts<'a>(
    route: &'a mut String,
    help: &'a mut String,
    safety: &'a mut String,
) -> [(&'static str, &'a mut String); 3] {
    [
        ("route", route),
        ("help", help),
        ("safety_agreements", safety),
    ]
}

fn outcome_aad(field: &str, referral_id: i64) -> String {
    format!("outcomes.{field}:{referral_id}")
}
