//! Turns the raw file into a [`RegionsConfig`], collecting every problem.
//!
//! Each check reports under the key of the value it is about, so the messages
//! point at the line to fix. When a value is bad, later checks that need it
//! are skipped rather than reporting follow-on noise.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime};

use super::error::Problems;
use super::holidays::{Blocking, HolidayDate, HolidayPeriod, HolidayRule, HolidayRules, MonthDay};
use super::raw::{
    self, RawClosure, RawConfig, RawHolidayPeriod, RawHolidayRule, RawHolidays, RawMonthDay,
    RawMunicipality, RawRegion, RawSession,
};
use super::{
    parse_weekday, weekday_name, CbsCode, Closure, ConfigErrors, Email, Municipality, ReferralKind,
    RegionConfig, RegionId, RegionsConfig, SessionTemplate, SoftHolidayPolicy,
};

/// Largest Easter or Sunday offset accepted, in days; keeps every rule's date
/// within a year of the year it is computed for.
const MAX_OFFSET_DAYS: i64 = 200;

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

// --- regions ---------------------------------------------------------------

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
    let sessions = p
        .required(&raw.sessions, &format!("{base}.sessions"))
        .map(|list| sessions(list, &base, p));

    Some(RegionConfig {
        id: ctx.id.clone()?,
        name: name?,
        neighbours,
        arrivals_per_week: arrivals_per_week?,
        kinds: kinds?,
        municipalities: municipalities?,
        sessions: sessions?,
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

fn sessions(raw: &[RawSession], base: &str, p: &mut Problems) -> Vec<SessionTemplate> {
    let mut out: Vec<(usize, SessionTemplate)> = Vec::new();
    for (j, s) in raw.iter().enumerate() {
        let key = format!("{base}.sessions[{j}]");
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
                        "overlaps {base}.sessions[{k}] on {} ({}-{} and {}-{})",
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

// --- closures ----------------------------------------------------------------

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

// --- holidays ----------------------------------------------------------------

fn holidays(raw: &RawHolidays, p: &mut Problems) -> HolidayRules {
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut note_id = |p: &mut Problems, id: &str, key: String| {
        if let Some(first) = ids.get(id) {
            p.push(key, format!("duplicate holiday id \"{id}\" (also {first})"));
        } else {
            ids.insert(id.to_owned(), key);
        }
    };

    let mut rules = Vec::new();
    for (i, r) in raw.rule.iter().flatten().enumerate() {
        let key = format!("holidays.rule[{i}]");
        if let Some(rule) = holiday_rule(r, &key, p) {
            note_id(p, &rule.id, format!("{key}.id"));
            rules.push(rule);
        }
    }
    let mut periods = Vec::new();
    for (i, r) in raw.period.iter().flatten().enumerate() {
        let key = format!("holidays.period[{i}]");
        if let Some(period) = holiday_period(r, &key, p) {
            note_id(p, &period.id, format!("{key}.id"));
            periods.push(period);
        }
    }
    HolidayRules { rules, periods }
}

fn holiday_rule(r: &RawHolidayRule, key: &str, p: &mut Problems) -> Option<HolidayRule> {
    let id = p
        .required(&r.id, &format!("{key}.id"))
        .and_then(|s| non_empty(p, s, &format!("{key}.id")));
    let name = p
        .required(&r.name, &format!("{key}.name"))
        .and_then(|s| non_empty(p, s, &format!("{key}.name")));
    let blocking = blocking(&r.blocking, key, p);

    let unused = |p: &mut Problems, present: bool, field: &str, kind: &str| {
        if present {
            p.push(
                format!("{key}.{field}"),
                format!("not used by kind = \"{kind}\""),
            );
        }
    };
    let date = match p
        .required(&r.kind, &format!("{key}.kind"))
        .map(String::as_str)
    {
        None => None,
        Some(kind @ "fixed") => {
            unused(p, r.offset_days.is_some(), "offset_days", kind);
            unused(
                p,
                r.if_sunday_offset_days.is_some(),
                "if_sunday_offset_days",
                kind,
            );
            month_day(r.month, r.day, key, p).map(|md| HolidayDate::Fixed {
                month: md.month,
                day: md.day,
            })
        }
        Some(kind @ "easter_offset") => {
            unused(p, r.month.is_some(), "month", kind);
            unused(p, r.day.is_some(), "day", kind);
            unused(
                p,
                r.if_sunday_offset_days.is_some(),
                "if_sunday_offset_days",
                kind,
            );
            offset(&r.offset_days, &format!("{key}.offset_days"), p)
                .map(|offset_days| HolidayDate::EasterOffset { offset_days })
        }
        Some(kind @ "fixed_unless_sunday") => {
            unused(p, r.offset_days.is_some(), "offset_days", kind);
            let md = month_day(r.month, r.day, key, p);
            let shift = offset(
                &r.if_sunday_offset_days,
                &format!("{key}.if_sunday_offset_days"),
                p,
            );
            match (md, shift) {
                (Some(md), Some(if_sunday_offset_days)) => Some(HolidayDate::FixedUnlessSunday {
                    month: md.month,
                    day: md.day,
                    if_sunday_offset_days,
                }),
                _ => None,
            }
        }
        Some(other) => {
            p.push(
                format!("{key}.kind"),
                format!(
                    "unknown holiday rule kind \"{other}\" (expected \"fixed\", \"easter_offset\" or \"fixed_unless_sunday\")"
                ),
            );
            None
        }
    };
    Some(HolidayRule {
        id: id?,
        name: name?,
        date: date?,
        blocking: blocking?,
    })
}

fn holiday_period(r: &RawHolidayPeriod, key: &str, p: &mut Problems) -> Option<HolidayPeriod> {
    let id = p
        .required(&r.id, &format!("{key}.id"))
        .and_then(|s| non_empty(p, s, &format!("{key}.id")));
    let name = p
        .required(&r.name, &format!("{key}.name"))
        .and_then(|s| non_empty(p, s, &format!("{key}.name")));
    let start = p
        .required(&r.start, &format!("{key}.start"))
        .and_then(|md: &RawMonthDay| month_day(md.month, md.day, &format!("{key}.start"), p));
    let end = p
        .required(&r.end, &format!("{key}.end"))
        .and_then(|md: &RawMonthDay| month_day(md.month, md.day, &format!("{key}.end"), p));
    let blocking = blocking(&r.blocking, key, p);
    Some(HolidayPeriod {
        id: id?,
        name: name?,
        start: start?,
        end: end?,
        blocking: blocking?,
    })
}

fn blocking(raw: &Option<String>, key: &str, p: &mut Problems) -> Option<Blocking> {
    let key = format!("{key}.blocking");
    p.required(raw, &key).and_then(|s| {
        let parsed = Blocking::parse(s);
        if parsed.is_none() {
            p.push(
                key,
                format!("unknown blocking \"{s}\" (expected \"hard\" or \"soft\")"),
            );
        }
        parsed
    })
}

/// `month` and `day` under `key`; the day must exist in that month in some
/// year (29 February is accepted).
fn month_day(
    month: Option<i64>,
    day: Option<i64>,
    key: &str,
    p: &mut Problems,
) -> Option<MonthDay> {
    let month_key = format!("{key}.month");
    let day_key = format!("{key}.day");
    let month = p
        .required(&month, &month_key)
        .and_then(|&m| match u32::try_from(m) {
            Ok(m) if (1..=12).contains(&m) => Some(m),
            _ => {
                p.push(
                    &month_key,
                    format!("must be a month from 1 to 12 (got {m})"),
                );
                None
            }
        });
    let day = p
        .required(&day, &day_key)
        .and_then(|&d| match u32::try_from(d) {
            Ok(d) if (1..=31).contains(&d) => Some(d),
            _ => {
                p.push(&day_key, format!("must be a day from 1 to 31 (got {d})"));
                None
            }
        });
    let (month, day) = (month?, day?);
    // 2000 is a leap year, so this accepts exactly the days that exist.
    if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
        p.push(day_key, format!("month {month} has no day {day}"));
        return None;
    }
    Some(MonthDay { month, day })
}

fn offset(raw: &Option<i64>, key: &str, p: &mut Problems) -> Option<i32> {
    p.required(raw, key).and_then(|&days| {
        if (-MAX_OFFSET_DAYS..=MAX_OFFSET_DAYS).contains(&days) {
            i32::try_from(days).ok()
        } else {
            p.push(
                key,
                format!(
                    "offset of {days} days is too large (at most {MAX_OFFSET_DAYS} either way)"
                ),
            );
            None
        }
    })
}

// --- small value parsers -------------------------------------------------------

fn non_empty(p: &mut Problems, s: &str, key: &str) -> Option<String> {
    if s.trim().is_empty() {
        p.push(key, "must not be empty");
        None
    } else {
        Some(s.trim().to_owned())
    }
}

fn positive_u32(p: &mut Problems, n: i64, key: &str, zero_message: &str) -> Option<u32> {
    match u32::try_from(n) {
        Ok(0) => {
            p.push(key, zero_message);
            None
        }
        Ok(v) => Some(v),
        Err(_) => {
            p.push(
                key,
                format!("must be a whole number from 1 to {} (got {n})", u32::MAX),
            );
            None
        }
    }
}

/// A time of day: `"09:00"` (or `"09:00:00"`), or a TOML local time.
fn time_value(v: &toml::Value, key: &str, p: &mut Problems) -> Option<NaiveTime> {
    let parsed = match v {
        toml::Value::String(s) => NaiveTime::parse_from_str(s, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
            .ok(),
        toml::Value::Datetime(dt) if dt.date.is_none() && dt.offset.is_none() => dt
            .time
            .and_then(|t| NaiveTime::from_hms_opt(t.hour.into(), t.minute.into(), t.second.into())),
        _ => None,
    };
    if parsed.is_none() {
        p.push(
            key,
            format!("malformed time {v} (expected \"HH:MM\", e.g. \"09:00\")"),
        );
    }
    parsed
}

/// A calendar date: `"2026-12-08"`, or a TOML local date.
fn date_value(v: &toml::Value, key: &str, p: &mut Problems) -> Option<NaiveDate> {
    let parsed = match v {
        toml::Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            dt.date.and_then(|d| {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            })
        }
        _ => None,
    };
    if parsed.is_none() {
        p.push(
            key,
            format!("malformed date {v} (expected \"YYYY-MM-DD\", e.g. \"2026-12-08\")"),
        );
    }
    parsed
}
