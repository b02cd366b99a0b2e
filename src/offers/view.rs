//! The JSON a chair sees of an offer: what is needed to decide, nothing of
//! the family's file (no referrer, no contact details, no outcomes).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::notify::municipality_name;
use super::store::Offer;
use super::OfferStatus;
use crate::config::RegionsConfig;
use crate::referrals::view::{MunicipalityView, RegionView, SlotView};

/// An offer as its receiving chair (or a coordinator) sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferView {
    /// The offer's id.
    pub id: i64,
    /// Where the offer is in its life.
    pub status: OfferStatus,
    /// The referral offered.
    pub referral_id: i64,
    /// The referral's case reference.
    #[schema(example = "ST-ARN-0042")]
    pub case_ref: String,
    /// `vtb`, `ots_end` or `evaluation`.
    #[schema(example = "vtb")]
    pub kind: String,
    /// The referral's own region.
    pub home_region: RegionView,
    /// The municipality the referral comes from.
    pub municipality: MunicipalityView,
    /// The table that is asked.
    pub to_region: RegionView,
    /// Dates the family cannot come.
    pub unavailable: Vec<NaiveDate>,
    /// Not before this date.
    pub earliest: Option<NaiveDate>,
    /// Due date under the norm.
    pub due: NaiveDate,
    /// Slot length needed: 90, or 120 when the child is heard separately.
    pub minutes: u32,
    /// The slot held for this referral while the offer is open.
    pub slot: SlotView,
    /// RFC 3339 with the local offset.
    pub offered_at: String,
    /// Answer before this (RFC 3339, local offset); unanswered, the offer
    /// expires and counts as declined.
    #[schema(example = "2026-12-02T08:00:00+01:00")]
    pub deadline: String,
    /// When it was answered, expired or withdrawn (RFC 3339, local offset);
    /// `None` while open.
    pub answered_at: Option<String>,
    /// Why the table declined; only for a declined offer.
    pub decline_reason: Option<String>,
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).to_rfc3339()
}

impl OfferView {
    /// The view of `offer`, with region and municipality names from
    /// `regions` and times in its time zone.
    pub fn new(offer: &Offer, regions: &RegionsConfig) -> OfferView {
        let tz = regions.timezone;
        let region = |id: &str| RegionView {
            id: id.to_string(),
            name: regions.region_name(id),
        };
        OfferView {
            id: offer.id,
            status: offer.status,
            referral_id: offer.referral_id,
            case_ref: offer.case_ref.clone(),
            kind: offer.kind.clone(),
            home_region: region(&offer.from_region),
            municipality: MunicipalityView {
                cbs: offer.municipality_cbs.clone(),
                name: municipality_name(regions, &offer.municipality_cbs),
            },
            to_region: region(&offer.to_region),
            unavailable: offer.unavailable.clone(),
            earliest: offer.earliest,
            due: offer.due,
            minutes: offer.minutes,
            slot: SlotView {
                id: offer.slot_id.clone(),
                region: offer.to_region.clone(),
                date: offer.slot_date,
                start: local(offer.slot_start, tz),
                minutes: offer.slot_minutes,
            },
            offered_at: local(offer.created_at, tz),
            deadline: local(offer.expires_at, tz),
            answered_at: offer.answered_at.map(|t| local(t, tz)),
            decline_reason: offer.decline_reason.clone(),
        }
    }
}

/// `GET /offers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferList {
    /// The offers listed.
    pub items: Vec<OfferView>,
}
