//! Whether a slot can be booked for a referral: the planner's placement
//! rules (see the scenario format), checked again when a person chooses
//! the slot. Pure.

use chrono::{DateTime, Utc};

use super::store::{BookableSlot, Referral};
use crate::config::{RegionId, RegionsConfig};
use crate::error::Refusal;

/// Why `slot` cannot be booked for `referral` at `now`, in plain words
/// (English for the API, Dutch for the pages).
pub fn refusal(
    referral: &Referral,
    slot: &BookableSlot,
    regions: &RegionsConfig,
    now: DateTime<Utc>,
) -> Option<Refusal> {
    let home = regions.region(&referral.region);
    let home_name = home.map_or(referral.region.as_str(), |r| r.name.as_str());
    let slot_region = RegionId::parse(&slot.region)
        .ok()
        .and_then(|id| regions.region(&id));
    let slot_name = slot_region.map_or(slot.region.as_str(), |r| r.name.as_str());
    let says = |message: String, dutch: String| Some(Refusal { message, dutch });
    if slot.cancelled {
        return says(
            "the session of this slot is cancelled".into(),
            "de zitting van deze plek is geannuleerd".into(),
        );
    }
    if slot.start <= now {
        return says(
            "the slot has already started".into(),
            "het gesprek op deze plek is al begonnen".into(),
        );
    }
    if slot.region != referral.region.as_str() {
        let neighbour =
            home.is_some_and(|h| h.neighbours.iter().any(|n| n.as_str() == slot.region));
        if !neighbour {
            return says(
                format!("the {slot_name} table is not {home_name} or one of its neighbours"),
                format!("de tafel van {slot_name} is niet die van {home_name} of een buurregio"),
            );
        }
        if !referral.cross_region {
            return says(
                format!("this referral is to be held at the {home_name} table itself (cross_region is off)"),
                format!("deze aanmelding wordt aan de eigen tafel van {home_name} besproken (bespreking elders staat uit)"),
            );
        }
    }
    if slot_region.is_some_and(|r| !r.handles(referral.kind)) {
        return says(
            format!(
                "the {slot_name} table does not hold {} conversations",
                referral.kind
            ),
            format!(
                "de tafel van {slot_name} voert geen {}",
                referral.kind.conversations_nl()
            ),
        );
    }
    if referral.earliest.is_some_and(|e| slot.date < e) {
        return says(
            "the slot lies before the referral's earliest date".into(),
            "de plek ligt vóór de vroegste datum van de aanmelding".into(),
        );
    }
    if referral.unavailable.contains(&slot.date) {
        return says(
            "the family is not available on the slot's date".into(),
            "het gezin kan niet op de datum van de plek".into(),
        );
    }
    if slot.minutes < referral.minutes {
        return says(
            format!(
                "the slot is {} minutes; this referral needs {}",
                slot.minutes, referral.minutes
            ),
            format!(
                "de plek duurt {} minuten; deze aanmelding heeft er {} nodig",
                slot.minutes, referral.minutes
            ),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::config::{CbsCode, Email, ReferralKind};
    use crate::referrals::domain::{CaseRef, ReferrerKind};
    use crate::referrals::lifecycle::Status;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 0)
            .single()
            .expect("time")
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    fn referral(region: &str) -> Referral {
        Referral {
            id: 1,
            case_ref: CaseRef::parse("ST-EDE-0042").expect("ref"),
            municipality: CbsCode::parse("GM0228").expect("cbs"),
            region: RegionId::parse(region).expect("region"),
            kind: ReferralKind::Vtb,
            referrer_kind: ReferrerKind::LocalTeam,
            referrer_org: "Sociaal Team Ede".into(),
            referrer_email: Email::parse("a@example.org").expect("email"),
            safety_plan: true,
            parents_informed: true,
            child_12_plus: false,
            minutes: 90,
            unavailable: vec![date(3)],
            earliest: Some(date(2)),
            cross_region: true,
            status: Status::Registered,
            registered_at: now(),
            due: date(14),
            planned_slot: None,
            booked_slot: None,
            pinned_slot_id: None,
            plan_explanation: None,
            parent_referral_id: None,
            close_reason: None,
            version: 1,
        }
    }

    fn slot(region: &str, day: u32, minutes: u32) -> BookableSlot {
        BookableSlot {
            id: format!("{region}-{day}"),
            region: region.into(),
            date: date(day),
            start: Utc
                .with_ymd_and_hms(2026, 12, day, 8, 0, 0)
                .single()
                .expect("time"),
            minutes,
            cancelled: false,
        }
    }

    fn regions() -> RegionsConfig {
        RegionsConfig::builtin().expect("regions")
    }

    #[test]
    fn a_fitting_slot_at_home_or_next_door_is_bookable() {
        let r = referral("food-valley");
        assert_eq!(
            refusal(&r, &slot("food-valley", 4, 90), &regions(), now()),
            None
        );
        assert_eq!(
            refusal(&r, &slot("rivierenland", 4, 120), &regions(), now()),
            None
        );
    }

    #[test]
    fn each_placement_rule_refuses_with_a_reason() {
        let r = referral("food-valley");
        let regions = regions();
        let mut cancelled = slot("food-valley", 4, 90);
        cancelled.cancelled = true;
        let mut no_cross = referral("food-valley");
        no_cross.cross_region = false;
        let mut long = referral("food-valley");
        long.minutes = 120;
        let cases = [
            (refusal(&r, &cancelled, &regions, now()), "cancelled"),
            (
                refusal(
                    &r,
                    &slot("food-valley", 4, 90),
                    &regions,
                    date(5).and_hms_opt(0, 0, 0).expect("t").and_utc(),
                ),
                "started",
            ),
            (
                refusal(&r, &slot("achterhoek", 4, 90), &regions, now()),
                "neighbours",
            ),
            (
                refusal(&no_cross, &slot("rivierenland", 4, 90), &regions, now()),
                "cross_region",
            ),
            (
                refusal(&r, &slot("food-valley", 1, 90), &regions, now()),
                "earliest",
            ),
            (
                refusal(&r, &slot("food-valley", 3, 90), &regions, now()),
                "not available",
            ),
            (
                refusal(&long, &slot("food-valley", 4, 90), &regions, now()),
                "needs 120",
            ),
        ];
        for (got, expected) in cases {
            let got = got.map(|r| r.message).unwrap_or_default();
            assert!(
                got.contains(expected),
                "{got:?} should mention {expected:?}"
            );
        }
    }

    #[test]
    fn a_table_without_the_kind_is_refused() {
        let mut r = referral("centraal-gelderland");
        r.kind = ReferralKind::OtsEnd;
        let got =
            refusal(&r, &slot("rijk-van-nijmegen", 4, 90), &regions(), now()).expect("refused");
        assert!(got.message.contains("does not hold ots_end"), "{got:?}");
        assert!(got.dutch.contains("einde van een OTS"), "{got:?}");
    }
}
