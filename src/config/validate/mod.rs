//! Turns the raw file into a [`RegionsConfig`], collecting every problem.
//!
//! Each check reports under the key of the value it is about, so the messages
//! point at the line to fix. When a value is bad, later checks that need it
//! are skipped rather than reporting follow-on noise.

mod holidays;
mod values;

use std::collections::HashMap;

use crate::config::error::Problems;
use crate::config::holidays::HolidayRules;
use crate::config::raw::{self, RawClosure, RawConfig, RawMunicipality, RawRegion, RawSession};
use crate::config::{
    parse_weekday, weekday_name, CbsCode, Closure, ConfigErrors, Email, Municipality, ReferralKind,
    RegionConfig, RegionId, RegionsConfig, SessionTemplate, SoftHolidayPolicy,
};
use holidays::holidays;
use values::{date_value, non_empty, positive_u32, time_value};

pub(crate) fn from_toml_str(text: &str, file: &str) -> Result<RegionsConfig, ConfigErrors> {
    let mut p = Problems::new(file);
    let (raw, unknown) = match raw::parse(text) {
        Ok(parsed) => parsed,
        Err(failure) => {
            p.push(failure.key, format!("invalid TOML: {}", failure.message));
            return Err(p.into_errors());
        }
    };
    for key in unknown {
        p.push(key, "unknown key");
    }
    let config = convert(raw, &mut p);
    match config {
        Some(config) if p.is_empty() => Ok(config),
        _ => {
            if p.is_empty() {
                // Unreachable in practice: every `None` above comes with a problem.
                p.push("", "the configuration is incomplete");
            }
            Err(p.into_errors())
        }
    }
}

fn convert(raw: RawConfig, p: &mut Problems) -> Option<RegionsConfig> {
    let timezone = p.required(&raw.timezone, "timezone").and_then(|tz| {
        let parsed = tz.parse::<chrono_tz::Tz>().ok();
        if parsed.is_none() {
            p.push(
                "timezone",
                format!("unknown time zone \"{tz}\" (expected an IANA name such as \"Europe/Amsterdam\")"),
            );
        }
        parsed
    });
    let norm_days = p
        .required(&raw.norm_days, "norm_days")
        .and_then(|&n| positive_u32(p, n, "norm_days", "must be at least 1 day"));
    let soft_holidays = p
        .required(&raw.soft_holidays, "soft_holidays")
        .and_then(|s| {
            let parsed = SoftHolidayPolicy::parse(s);
            if parsed.is_none() {
                p.push(
                    "soft_holidays",
                    format!("unknown policy \"{s}\" (expected \"avoid\" or \"allow\")"),
                );
            }
            parsed
        });

    let raw_regions = raw.regions.unwrap_or_else(|| {
        p.push(
            "regions",
            "missing (required): at least one [[regions]] table",
        );
        Vec::new()
    });
    let regions = regions(&raw_regions, p);
    let closures = closures(raw.closure.as_deref().unwrap_or_default(), &regions, p);
    let holidays = match &raw.holidays {
        Some(h) => holidays(h, p),
        None => {
            p.push(
                "holidays",
                "missing (required): a [holidays] table with the holiday rules",
            );
            HolidayRules::default()
        }
    };

    Some(RegionsConfig {
        timezone: timezone?,
        norm_days: norm_days?,
        soft_holidays: soft_holidays?,
        regions,
        closures,
        holidays,
    })
}

fn regions(raw: &[RawRegion], p: &mut Problems) -> Vec<RegionConfig> {
    if raw.is_empty() {
        p.push("regions", "at least one region is needed");
    }

    // Pass 1: ids, so neighbours can refer to regions later in the file.
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let mut ids: Vec<Option<RegionId>> = Vec::with_capacity(raw.len());
    for (i, region) in raw.iter().enumerate() {
        let key = format!("regions[{i}].id");
        let id = p
            .required(&region.id, &key)
            .and_then(|s| match RegionId::parse(s) {
                Ok(id) => Some(id),
                Err(e) => {
                    p.push(&key, e.to_string());
                    None
                }
            });
        if let (Some(id), Some(s)) = (&id, &region.id) {
            if let Some(first) = index_of.get(s.as_str()) {
                p.push(
                    &key,
                    format!("duplicate region id \"{id}\" (also regions[{first}])"),
                );
            } else {
                index_of.insert(s.as_str(), i);
            }
        }
        ids.push(id);
    }

    // Pass 2: everything else. Municipalities are checked across regions.
    let mut seen = MunicipalityIndex::default();
    let mut out = Vec::with_capacity(raw.len());
    for (i, region) in raw.iter().enumerate() {
        let ctx = RegionCtx {
            index: i,
            id: ids.get(i).cloned().flatten(),
            all: raw,
            index_of: &index_of,
        };
        let built = region_config(region, &ctx, &mut seen, p);
        if let Some(built) = built {
            out.push(built);
        }
    }
    out
}

struct RegionCtx<'a> {
    index: usize,
    id: Option<RegionId>,
    all: &'a [RawRegion],
    index_of: &'a HashMap<&'a str, usize>,
}

fn region_config(
    raw: &RawRegion,
    ctx: &RegionCtx<'_>,
    seen: &mut MunicipalityIndex,
    p: &mut Problems,
) -> Option<RegionConfig> {
    let base = format!("regions[{}]", ctx.index);

    let name = p
        .required(&raw.name, &format!("{base}.name"))
        .and_then(|n| non_empty(p, n, &format!("{base}.name")));
    let neighbours = neighbours(raw, ctx, &base, p);
    let arrivals_per_week = p
        .required(&raw.arrivals_per_week, &format!("{base}.arrivals_per_week"))
        .and_then(|&a| {
            if a.is_finite() && a >= 0.0 {
                Some(a)
            } else {
                p.push(
                    format!("{base}.arrivals_per_week"),
                    format!("must be a number of referrals per week, zero or more (got {a})"),
                );
                None
            }
        });
    let kinds = p
        .required(&raw.kinds, &format!("{base}.kinds"))
        .map(|kinds| referral_kinds(kinds, &base, p));
    let municipalities = p
        .required(&raw.municipalities, &format!("{base}.municipalities"))
        .map(|list| municipalities(list, ctx.index, &base, seen, p));
    let weekly = p
        .required(&raw.sessions, &format!("{base}.sessions"))
        .map(|list| sessions(list, &base, "sessions", p));
    let extra_options = raw
        .extra_options
        .as_deref()
        .map(|list| sessions(list, &base, "extra_options", p))
        .unwrap_or_default();

    Some(RegionConfig {
        id: ctx.id.clone()?,
        name: name?,
        neighbours,
        arrivals_per_week: arrivals_per_week?,
        kinds: kinds?,
        municipalities: municipalities?,
        sessions: weekly?,
        extra_options,
    })
}

fn neighbours(raw: &RawRegion, ctx: &RegionCtx<'_>, base: &str, p: &mut Problems) -> Vec<RegionId> {
    let mut out: Vec<RegionId> = Vec::new();
    for (j, name) in raw.neighbours.iter().flatten().enumerate() {
        let key = format!("{base}.neighbours[{j}]");
        let id = match RegionId::parse(name) {
            Ok(id) => id,
            Err(e) => {
                p.push(key, e.to_string());
                continue;
            }
        };
        let Some(&other) = ctx.index_of.get(name.as_str()) else {
            p.push(key, format!("unknown region \"{id}\""));
            continue;
        };
        if other == ctx.index {
            p.push(key, "a region cannot be its own neighbour");
            continue;
        }
        if out.contains(&id) {
            p.push(key, format!("\"{id}\" is listed twice"));
            continue;
        }
        if let Some(me) = &ctx.id {
            let listed_back = ctx
                .all
                .get(other)
                .and_then(|r| r.neighbours.as_ref())
                .is_some_and(|list| list.iter().any(|n| n == me.as_str()));
            if !listed_back {
                p.push(
                    key,
                    format!(
                        "\"{id}\" does not list \"{me}\" as a neighbour (neighbours must be symmetric; see regions[{other}].neighbours)"
                    ),
                );
            }
        }
        out.push(id);
    }
    out
}

fn referral_kinds(raw: &[String], base: &str, p: &mut Problems) -> Vec<ReferralKind> {
    if raw.is_empty() {
        p.push(
            format!("{base}.kinds"),
            "at least one referral kind is needed",
        );
    }
    let mut out = Vec::new();
    for (j, s) in raw.iter().enumerate() {
        let key = format!("{base}.kinds[{j}]");
        match ReferralKind::parse(s) {
            Some(kind) if out.contains(&kind) => p.push(key, format!("\"{s}\" is listed twice")),
            Some(kind) => out.push(kind),
            None => p.push(
                key,
                format!("unknown referral kind \"{s}\" (expected one of \"vtb\", \"ots_end\", \"evaluation\")"),
            ),
        }
    }
    out
}

/// Where each municipality (by CBS code and by lowercase name) was first seen:
/// (region index, municipality index).
#[derive(Default)]
struct MunicipalityIndex {
    by_code: HashMap<CbsCode, (usize, usize)>,
    by_name: HashMap<String, (usize, usize)>,
}

fn municipalities(
    raw: &[RawMunicipality],
    region: usize,
    base: &str,
    seen: &mut MunicipalityIndex,
    p: &mut Problems,
) -> Vec<Municipality> {
    if raw.is_empty() {
        p.push(
            format!("{base}.municipalities"),
            "at least one municipality is needed",
        );
    }
    let mut out = Vec::new();
    for (j, m) in raw.iter().enumerate() {
        let key = format!("{base}.municipalities[{j}]");
        let name = p
            .required(&m.name, &format!("{key}.name"))
            .and_then(|n| non_empty(p, n, &format!("{key}.name")));
        let cbs = p
            .required(&m.cbs, &format!("{key}.cbs"))
            .and_then(|c| match CbsCode::parse(c) {
                Ok(code) => Some(code),
                Err(e) => {
                    p.push(format!("{key}.cbs"), e.to_string());
                    None
                }
            });
        let contact = p
            .required(&m.contact, &format!("{key}.contact"))
            .and_then(|c| match Email::parse(c) {
                Ok(email) => Some(email),
                Err(e) => {
                    p.push(format!("{key}.contact"), e.to_string());
                    None
                }
            });

        // One problem per entry, even if both code and name clash.
        let earlier = cbs
            .as_ref()
            .and_then(|c| seen.by_code.get(c).map(|at| (*at, format!("CBS code {c}"))))
            .or_else(|| {
                name.as_ref().and_then(|n| {
                    seen.by_name
                        .get(&n.to_lowercase())
                        .map(|at| (*at, format!("name \"{n}\"")))
                })
            });
        match earlier {
            Some(((r, k), what)) if r == region => p.push(
                key,
                format!("duplicate municipality: {what} is already at {base}.municipalities[{k}]"),
            ),
            Some(((r, k), what)) => p.push(
                key,
                format!(
                    "municipality in two regions: {what} is already at regions[{r}].municipalities[{k}]"
                ),
            ),
            None => {
                if let Some(c) = &cbs {
                    seen.by_code.insert(c.clone(), (region, j));
                }
                if let Some(n) = &name {
                    seen.by_name.insert(n.to_lowercase(), (region, j));
                }
            }
        }

        if let (Some(name), Some(cbs), Some(contact)) = (name, cbs, contact) {
            out.push(Municipality { name, cbs, contact });
        }
    }
    out
}

/// The sessions of `base.field` (`sessions` or `extra_options`): each
/// complete and meeting the rules of every session, none overlapping
/// another of the same list on its weekday.
fn sessions(raw: &[RawSession], base: &str, field: &str, p: &mut Problems) -> Vec<SessionTemplate> {
    let mut out: Vec<(usize, SessionTemplate)> = Vec::new();
    for (j, s) in raw.iter().enumerate() {
        let key = format!("{base}.{field}[{j}]");
        let weekday = p
            .required(&s.weekday, &format!("{key}.weekday"))
            .and_then(|w| {
                let day = parse_weekday(w);
                if day.is_none() {
                    p.push(
                        format!("{key}.weekday"),
                        format!("unknown weekday \"{w}\" (expected a lowercase English name such as \"tuesday\")"),
                    );
                }
                day
            });
        let start = p
            .required(&s.start, &format!("{key}.start"))
            .and_then(|v| time_value(v, &format!("{key}.start"), p));
        let slots = p
            .required(&s.slots, &format!("{key}.slots"))
            .and_then(|&n| {
                positive_u32(
                    p,
                    n,
                    &format!("{key}.slots"),
                    "a session needs at least 1 slot",
                )
            });
        let slot_minutes = p
            .required(&s.slot_minutes, &format!("{key}.slot_minutes"))
            .and_then(|&n| {
                positive_u32(
                    p,
                    n,
                    &format!("{key}.slot_minutes"),
                    "a slot must last at least 1 minute",
                )
            });
        let (Some(weekday), Some(start), Some(slots), Some(slot_minutes)) =
            (weekday, start, slots, slot_minutes)
        else {
            continue;
        };
        let session = SessionTemplate {
            weekday,
            start,
            slots,
            slot_minutes,
        };
        // The rules every session meets, weekly or extra (the API checks
        // extra sessions with the same function).
        let problems = session.shape().problems();
        for problem in &problems {
            let at = match problem.field {
                "slots" => format!("{key}.slots"),
                "minutes" => format!("{key}.slot_minutes"),
                _ => key.clone(),
            };
            p.push(at, problem.message.clone());
        }
        if !problems.is_empty() {
            continue;
        }
        let (from, to) = session.shape().minute_range();
        for (k, other) in &out {
            let (other_from, other_to) = other.shape().minute_range();
            if other.weekday == weekday && from < other_to && other_from < to {
                p.push(
                    &key,
                    format!(
                        "overlaps {base}.{field}[{k}] on {} ({}-{} and {}-{})",
                        weekday_name(weekday),
                        hhmm(from),
                        hhmm(to),
                        hhmm(other_from),
                        hhmm(other_to)
                    ),
                );
            }
        }
        out.push((j, session));
    }
    out.into_iter().map(|(_, s)| s).collect()
}

fn hhmm(minutes: u64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn closures(raw: &[RawClosure], regions: &[RegionConfig], p: &mut Problems) -> Vec<Closure> {
    let mut out: Vec<Closure> = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let key = format!("closure[{i}]");
        let region = p
            .required(&c.region, &format!("{key}.region"))
            .and_then(|r| match RegionId::parse(r) {
                Ok(id) if regions.iter().any(|reg| reg.id == id) => Some(id),
                Ok(id) => {
                    p.push(format!("{key}.region"), format!("unknown region \"{id}\""));
                    None
                }
                Err(e) => {
                    p.push(format!("{key}.region"), e.to_string());
                    None
                }
            });
        let date = p
            .required(&c.date, &format!("{key}.date"))
            .and_then(|v| date_value(v, &format!("{key}.date"), p));
        let reason = p
            .required(&c.reason, &format!("{key}.reason"))
            .and_then(|r| non_empty(p, r, &format!("{key}.reason")));
        let (Some(region), Some(date), Some(reason)) = (region, date, reason) else {
            continue;
        };
        if let Some(k) = out
            .iter()
            .position(|o| o.region == region && o.date == date)
        {
            p.push(
                key,
                format!("duplicate closure of \"{region}\" on {date} (also closure[{k}])"),
            );
            continue;
        }
        out.push(Closure {
            region,
            date,
            reason,
        });
    }
    out
}
