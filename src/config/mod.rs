//! Region configuration: which youth-care regions exist, their municipalities,
//! neighbours and weekly table sessions, closures and holiday rules.
//!
//! The configuration lives in `config/regions.toml`. Loading validates the
//! whole file and reports every problem at once ([`ConfigErrors`]), each with
//! the file and key it belongs to. A copy of the shipped file is compiled into
//! the binary ([`DEFAULT_REGIONS_TOML`], [`RegionsConfig::builtin`]) so the
//! program also works when started outside the project directory.

mod error;
pub mod holidays;
mod ids;
pub(crate) mod raw;
mod session;
mod validate;

use std::path::Path;

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize, Serializer};

use holidays::HolidayRules;

pub use error::{ConfigErrors, ConfigProblem};
pub use ids::{CbsCode, Email, InvalidValue, RegionId};
pub use session::{SessionProblem, SessionShape, SLOTS, SLOT_MINUTES};

/// The shipped `config/regions.toml`, compiled in.
pub const DEFAULT_REGIONS_TOML: &str = include_str!("../../config/regions.toml");

/// Where [`RegionsConfig::load_default`] looks, relative to the current
/// directory.
pub const DEFAULT_REGIONS_PATH: &str = "config/regions.toml";

/// The whole region configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionsConfig {
    /// Time zone in which session times and closure dates are meant.
    pub timezone: chrono_tz::Tz,
    /// Days within which a referral should be discussed.
    pub norm_days: u32,
    /// Whether tables sit on soft holidays (`soft_holidays`).
    pub soft_holidays: SoftHolidayPolicy,
    /// In file order.
    pub regions: Vec<RegionConfig>,
    /// Dates on which one region's table does not sit (`[[closure]]`), in
    /// file order.
    pub closures: Vec<Closure>,
    /// The holiday rules and periods (`[holidays]`), shared by all regions.
    pub holidays: HolidayRules,
}

/// One region and its table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionConfig {
    /// Stable identifier (`achterhoek`).
    pub id: RegionId,
    /// Display name (`Achterhoek`).
    pub name: String,
    /// Symmetric: if A lists B, B lists A.
    pub neighbours: Vec<RegionId>,
    /// Expected new referrals per week (demo estimate).
    pub arrivals_per_week: f64,
    /// Referral kinds this table handles.
    pub kinds: Vec<ReferralKind>,
    /// The member municipalities.
    pub municipalities: Vec<Municipality>,
    /// Weekly sessions; never overlapping on the same weekday.
    pub sessions: Vec<SessionTemplate>,
    /// Extra sessions the table could hold besides its weekly ones (on the
    /// weekday given), for capacity advice; default none. The weekly
    /// session times on other days are candidates anyway.
    pub extra_options: Vec<SessionTemplate>,
}

impl RegionConfig {
    /// Whether this table handles referrals of `kind`.
    pub fn handles(&self, kind: ReferralKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Whether `other` is listed as a neighbour of this region.
    pub fn is_neighbour(&self, other: &RegionId) -> bool {
        self.neighbours.contains(other)
    }

    /// Slots per ordinary week (no holidays or closures).
    pub fn weekly_slots(&self) -> u32 {
        self.sessions
            .iter()
            .fold(0u32, |acc, s| acc.saturating_add(s.slots))
    }

    /// Table minutes per ordinary week.
    pub fn weekly_minutes(&self) -> u64 {
        self.sessions
            .iter()
            .map(SessionTemplate::total_minutes)
            .sum()
    }
}

/// A municipality taking part in a region's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Municipality {
    /// Display name (`Doetinchem`).
    pub name: String,
    /// CBS municipality code (`GM0222`).
    pub cbs: CbsCode,
    /// Where mail about this municipality's referrals goes.
    pub contact: Email,
}

/// A weekly table session: `slots` consecutive slots of `slot_minutes` each,
/// the first starting at `start` (local time) on `weekday`. Slot `i` starts at
/// `start + i * slot_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionTemplate {
    /// The day of the week the session is held.
    #[serde(serialize_with = "serialize_weekday")]
    pub weekday: Weekday,
    /// Local start time of the first slot (Europe/Amsterdam wall clock).
    #[serde(serialize_with = "serialize_hhmm")]
    pub start: NaiveTime,
    /// Number of consecutive slots.
    pub slots: u32,
    /// Length of each slot in minutes.
    pub slot_minutes: u32,
}

impl SessionTemplate {
    /// Length of the whole session in minutes.
    pub fn total_minutes(&self) -> u64 {
        u64::from(self.slots) * u64::from(self.slot_minutes)
    }

    /// The session apart from its weekday.
    pub fn shape(&self) -> SessionShape {
        SessionShape {
            start: self.start,
            slots: self.slots,
            slot_minutes: self.slot_minutes,
        }
    }
}

/// A date on which a region's table does not sit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closure {
    /// The region whose table is closed.
    pub region: RegionId,
    /// Local date.
    pub date: NaiveDate,
    /// Why, as written in the configuration.
    pub reason: String,
}

/// The kind of a referral to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralKind {
    /// Request for a child-protection investigation (verzoek tot beschermingsonderzoek).
    Vtb,
    /// Review of ending (or extending) a supervision order (OTS).
    OtsEnd,
    /// Follow-up of an earlier table decision.
    Evaluation,
}

impl ReferralKind {
    /// Every kind, in configuration order.
    pub const ALL: [ReferralKind; 3] = [Self::Vtb, Self::OtsEnd, Self::Evaluation];

    /// Parses the configuration name (`vtb`, `ots_end`, `evaluation`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The configuration name (`vtb`, `ots_end`, `evaluation`), also used in
    /// the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vtb => "vtb",
            Self::OtsEnd => "ots_end",
            Self::Evaluation => "evaluation",
        }
    }

    /// The conversations of this kind in Dutch, plural, as the object of a
    /// sentence ("de tafel voert geen ... "): "VTB-gesprekken".
    pub fn conversations_nl(self) -> &'static str {
        match self {
            Self::Vtb => "VTB-gesprekken",
            Self::OtsEnd => "gesprekken over het einde van een OTS",
            Self::Evaluation => "evaluatiegesprekken",
        }
    }
}

impl std::fmt::Display for ReferralKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do on soft holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoftHolidayPolicy {
    /// No slots on soft holidays.
    Avoid,
    /// Soft holidays are ordinary working days.
    Allow,
}

impl SoftHolidayPolicy {
    /// Parses the configuration value (`avoid`, `allow`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "avoid" => Some(Self::Avoid),
            "allow" => Some(Self::Allow),
            _ => None,
        }
    }
}

/// Parses an English weekday name in lowercase (`monday` ... `sunday`).
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    WEEKDAYS
        .into_iter()
        .find(|(_, name)| *name == s)
        .map(|(day, _)| day)
}

/// The lowercase English name used in the configuration (`tuesday`).
pub fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAYS
        .into_iter()
        .find(|(d, _)| *d == day)
        .map_or("", |(_, name)| name)
}

const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "monday"),
    (Weekday::Tue, "tuesday"),
    (Weekday::Wed, "wednesday"),
    (Weekday::Thu, "thursday"),
    (Weekday::Fri, "friday"),
    (Weekday::Sat, "saturday"),
    (Weekday::Sun, "sunday"),
];

fn serialize_weekday<S: Serializer>(day: &Weekday, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(weekday_name(*day))
}

fn serialize_hhmm<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&time.format("%H:%M"))
}

impl RegionsConfig {
    /// Reads and validates a configuration file.
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML, or breaks any rule of the
    /// configuration; every problem is listed.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let file = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_toml_str(&text, &file),
            Err(e) => Err(ConfigErrors(vec![ConfigProblem {
                file,
                key: String::new(),
                message: format!("cannot read the file: {e}"),
            }])),
        }
    }

    /// Loads [`DEFAULT_REGIONS_PATH`] relative to the current directory.
    ///
    /// # Errors
    /// As [`RegionsConfig::load`].
    pub fn load_default() -> Result<Self, ConfigErrors> {
        Self::load(Path::new(DEFAULT_REGIONS_PATH))
    }

    /// The compiled-in copy of the shipped `config/regions.toml`.
    ///
    /// # Errors
    /// Only if the shipped file is invalid (a test checks it is not).
    pub fn builtin() -> Result<Self, ConfigErrors> {
        Self::from_toml_str(DEFAULT_REGIONS_TOML, "config/regions.toml (built in)")
    }

    /// Parses and validates configuration text; `file` is only used to label
    /// problems.
    ///
    /// # Errors
    /// The text is not valid TOML or breaks any rule of the configuration;
    /// every problem is listed, each with its key.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, ConfigErrors> {
        validate::from_toml_str(text, file)
    }

    /// The region with this id, if configured.
    pub fn region(&self, id: &RegionId) -> Option<&RegionConfig> {
        self.regions.iter().find(|r| &r.id == id)
    }

    /// The display name of the region with id `id` ("FoodValley" for
    /// `food-valley`); the id itself when no such region is configured.
    pub fn region_name(&self, id: &str) -> String {
        RegionId::parse(id)
            .ok()
            .and_then(|id| self.region(&id))
            .map_or_else(|| id.to_string(), |r| r.name.clone())
    }

    /// Looks a municipality up by CBS code (`GM0228`, any case) or by name
    /// (case-insensitive, surrounding whitespace ignored).
    pub fn municipality(&self, code_or_name: &str) -> Option<(&RegionConfig, &Municipality)> {
        let wanted = code_or_name.trim();
        let code = CbsCode::parse(wanted).ok();
        let name = wanted.to_lowercase();
        self.regions.iter().find_map(|region| {
            region
                .municipalities
                .iter()
                .find(|m| match &code {
                    Some(code) => &m.cbs == code,
                    None => m.name.to_lowercase() == name,
                })
                .map(|m| (region, m))
        })
    }

    /// The closure of `region`'s table on `date`, if any.
    pub fn closure_on(&self, region: &RegionId, date: NaiveDate) -> Option<&Closure> {
        self.closures
            .iter()
            .find(|c| &c.region == region && c.date == date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_config_is_valid() {
        let config = RegionsConfig::builtin();
        assert!(
            config.is_ok(),
            "{}",
            config.err().map(|e| e.to_string()).unwrap_or_default()
        );
    }

    #[test]
    fn weekday_names_round_trip() {
        for (day, name) in WEEKDAYS {
            assert_eq!(parse_weekday(name), Some(day));
            assert_eq!(weekday_name(day), name);
        }
        assert_eq!(parse_weekday("Tuesday"), None);
        assert_eq!(parse_weekday("tue"), None);
    }

    #[test]
    fn referral_kinds_use_snake_case_names() {
        assert_eq!(ReferralKind::parse("ots_end"), Some(ReferralKind::OtsEnd));
        assert_eq!(ReferralKind::parse("ots-end"), None);
        let json = serde_json::to_string(&ReferralKind::ALL).ok();
        assert_eq!(json.as_deref(), Some(r#"["vtb","ots_end","evaluation"]"#));
    }

    #[test]
    fn sessions_serialize_with_names_and_hh_mm() {
        let session = SessionTemplate {
            weekday: Weekday::Tue,
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            slots: 3,
            slot_minutes: 90,
        };
        let json = serde_json::to_string(&session).ok();
        assert_eq!(
            json.as_deref(),
            Some(r#"{"weekday":"tuesday","start":"09:00","slots":3,"slot_minutes":90}"#)
        );
    }
}
