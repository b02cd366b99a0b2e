//! The filters of a referral list, parsed.

use super::{parse_date, ListParams, Problems, DEFAULT_LIMIT, MAX_LIMIT};
use crate::config::{CbsCode, ReferralKind, RegionId, RegionsConfig};
use crate::error::Error;
use crate::referrals::lifecycle::Status;
use crate::referrals::store::ListFilter;

/// Parses the list filters.
pub fn parse_list(params: &ListParams, regions: &RegionsConfig) -> Result<ListFilter, Error> {
    let mut p = Problems::default();
    let statuses = params
        .status
        .as_deref()
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .filter_map(|s| {
                    let status = Status::parse(s);
                    if status.is_none() {
                        p.add("status", format!("unknown status {s:?}"));
                    }
                    status
                })
                .collect()
        })
        .unwrap_or_default();
    let region = params.region.as_deref().and_then(|text| {
        let id = RegionId::parse(text.trim())
            .ok()
            .filter(|id| regions.region(id).is_some());
        if id.is_none() {
            p.add("region", format!("unknown region {text:?}"));
        }
        id
    });
    let municipality: Option<CbsCode> = params.municipality.as_deref().and_then(|text| {
        let found = regions.municipality(text).map(|(_, m)| m.cbs.clone());
        if found.is_none() {
            p.add("municipality", format!("unknown municipality {text:?}"));
        }
        found
    });
    let kind = params.kind.as_deref().and_then(|text| {
        let kind = ReferralKind::parse(text.trim());
        if kind.is_none() {
            p.add("kind", "must be one of vtb, ots_end, evaluation");
        }
        kind
    });
    let due_before = params.due_before.as_deref().and_then(|text| {
        parse_date(text.trim())
            .map_err(|m| p.add("due_before", m))
            .ok()
    });
    let case_ref = params
        .case_ref
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .and_then(|text| {
            let ok =
                text.len() <= 40 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                p.add("case_ref", "letters, digits and '-' only, at most 40");
            }
            ok.then(|| text.to_ascii_uppercase())
        });
    let number = |text: Option<&str>, default: i64| {
        text.map_or(Some(default), |t| t.trim().parse::<i64>().ok())
    };
    let limit =
        number(params.limit.as_deref(), DEFAULT_LIMIT).filter(|n| (1..=MAX_LIMIT).contains(n));
    if limit.is_none() {
        p.add("limit", format!("must be a number from 1 to {MAX_LIMIT}"));
    }
    let offset = number(params.offset.as_deref(), 0).filter(|n| *n >= 0);
    if offset.is_none() {
        p.add("offset", "must be a number, 0 or more");
    }
    p.finish()?;
    Ok(ListFilter {
        statuses,
        region,
        municipality,
        kind,
        due_before,
        case_ref,
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        offset: offset.unwrap_or(0),
    })
}
