//! Loading and validating `config/regions.toml`.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{NaiveDate, NaiveTime, Weekday};
use jbt::config::{
    ConfigErrors, ReferralKind, RegionId, RegionsConfig, SoftHolidayPolicy, DEFAULT_REGIONS_TOML,
};

const FILE: &str = "config/regions.toml";

fn shipped() -> RegionsConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/regions.toml");
    match RegionsConfig::load(&path) {
        Ok(config) => config,
        Err(errors) => panic!("shipped config does not load:\n{errors}"),
    }
}

fn id(s: &str) -> RegionId {
    RegionId::parse(s).expect("valid region id in test")
}

fn errors_of(text: &str) -> ConfigErrors {
    match RegionsConfig::from_toml_str(text, FILE) {
        Ok(_) => panic!("expected the configuration to be rejected"),
        Err(errors) => errors,
    }
}

/// Asserts that some problem is at `key` and mentions `needle`.
fn assert_problem(errors: &ConfigErrors, key: &str, needle: &str) {
    assert!(
        errors
            .iter()
            .any(|p| p.file == FILE && p.key == key && p.message.contains(needle)),
        "no problem at {key:?} mentioning {needle:?}; got:\n{errors}"
    );
}

const HOLIDAYS: &str = r#"
[holidays]
[[holidays.rule]]
id = "eerste-kerstdag"
name = "1e Kerstdag"
kind = "fixed"
month = 12
day = 25
blocking = "hard"
"#;

/// A small valid configuration with three regions; tests break one thing at
/// a time (or several at once).
fn minimal() -> String {
    format!(
        r#"
timezone = "Europe/Amsterdam"
norm_days = 14
soft_holidays = "avoid"

[[regions]]
id = "north"
name = "North"
neighbours = ["south"]
arrivals_per_week = 2.0
kinds = ["vtb", "ots_end", "evaluation"]
municipalities = [
  {{ name = "Alpha", cbs = "GM0001", contact = "info@alpha.example.org" }},
  {{ name = "Beta",  cbs = "GM0002", contact = "info@beta.example.org" }},
]
sessions = [
  {{ weekday = "tuesday", start = "09:00", slots = 2, slot_minutes = 90 }},
  {{ weekday = "tuesday", start = "13:00", slots = 1, slot_minutes = 120 }},
]

[[regions]]
id = "south"
name = "South"
neighbours = ["north"]
arrivals_per_week = 1.5
kinds = ["vtb"]
municipalities = [
  {{ name = "Gamma", cbs = "GM0003", contact = "jb@gamma.example.net" }},
]
sessions = [
  {{ weekday = "thursday", start = "09:30", slots = 2, slot_minutes = 60 }},
]

[[regions]]
id = "west"
name = "West"
neighbours = []
arrivals_per_week = 1
kinds = ["evaluation"]
municipalities = [
  {{ name = "Delta", cbs = "GM0004", contact = "jb@delta.example.org" }},
]
sessions = []

[[closure]]
region = "south"
date = "2026-12-10"
reason = "Team day"
{HOLIDAYS}"#
    )
}

// --- the shipped file -----------------------------------------------------------

#[test]
fn shipped_config_has_the_seven_regions() {
    let config = shipped();
    let ids: Vec<&str> = config.regions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "achterhoek",
            "centraal-gelderland",
            "food-valley",
            "midden-ijssel-oost-veluwe",
            "noord-veluwe",
            "rijk-van-nijmegen",
            "rivierenland"
        ]
    );
    assert_eq!(config.timezone, chrono_tz::Europe::Amsterdam);
    assert_eq!(config.norm_days, 14);
    assert_eq!(config.soft_holidays, SoftHolidayPolicy::Avoid);
}

#[test]
fn shipped_config_covers_all_municipalities_including_those_outside_gelderland() {
    let config = shipped();
    let count: usize = config.regions.iter().map(|r| r.municipalities.len()).sum();
    assert!(count >= 51, "only {count} municipalities");

    for (name, region) in [
        ("Mook en Middelaar", "rijk-van-nijmegen"),
        ("Renswoude", "food-valley"),
        ("Rhenen", "food-valley"),
        ("Veenendaal", "food-valley"),
        ("Wageningen", "centraal-gelderland"),
    ] {
        let found = config.municipality(name).map(|(r, _)| r.id.as_str());
        assert_eq!(found, Some(region), "{name}");
    }
    let cbs_codes: BTreeSet<&str> = config
        .regions
        .iter()
        .flat_map(|r| r.municipalities.iter().map(|m| m.cbs.as_str()))
        .collect();
    assert_eq!(cbs_codes.len(), count, "CBS codes are unique");
}

#[test]
fn shipped_neighbours_are_symmetric_and_known() {
    let config = shipped();
    for region in &config.regions {
        assert!(
            !region.neighbours.is_empty(),
            "{} has neighbours",
            region.id
        );
        for n in &region.neighbours {
            let other = config.region(n).expect("neighbour exists");
            assert!(other.is_neighbour(&region.id), "{} <-> {}", region.id, n);
            assert_ne!(n, &region.id);
        }
    }
}

#[test]
fn shipped_contacts_are_demo_addresses_under_example_org() {
    let config = shipped();
    for m in config.regions.iter().flat_map(|r| &r.municipalities) {
        assert!(m.contact.domain().ends_with("example.org"), "{}", m.contact);
    }
}

#[test]
fn shipped_capacity_follows_the_arrival_estimates() {
    let config = shipped();
    let mut slots_total = 0u32;
    let mut long_total = 0u32;
    for region in &config.regions {
        let ratio = f64::from(region.weekly_slots()) / region.arrivals_per_week;
        if region.id.as_str() == "centraal-gelderland" {
            assert!(
                ratio < 0.9,
                "centraal-gelderland should be under pressure: {ratio}"
            );
        } else {
            assert!(
                (1.05..=1.4).contains(&ratio),
                "{}: ratio {ratio}",
                region.id
            );
        }
        slots_total += region.weekly_slots();
        long_total += region
            .sessions
            .iter()
            .filter(|s| s.slot_minutes == 120)
            .map(|s| s.slots)
            .sum::<u32>();
    }
    let long_share = f64::from(long_total) / f64::from(slots_total);
    assert!(
        (0.2..=0.3).contains(&long_share),
        "long slots share {long_share}"
    );
}

#[test]
fn rijk_van_nijmegen_does_not_handle_ots_end_yet() {
    // The working agreement's footnote 3: reviews of an intended end of a
    // supervision order do not yet take place at the Rijk van Nijmegen table.
    let config = shipped();
    let nijmegen = config.region(&id("rijk-van-nijmegen")).expect("region");
    assert!(!nijmegen.handles(ReferralKind::OtsEnd));
    assert!(nijmegen.handles(ReferralKind::Vtb));
    let others_all = config
        .regions
        .iter()
        .filter(|r| r.id.as_str() != "rijk-van-nijmegen")
        .all(|r| ReferralKind::ALL.iter().all(|k| r.handles(*k)));
    assert!(others_all);
}

#[test]
fn shipped_config_has_a_demo_closure_in_december_2026() {
    let config = shipped();
    assert!(config
        .closures
        .iter()
        .any(|c| c.date.format("%Y-%m").to_string() == "2026-12" && !c.reason.is_empty()));
}

#[test]
fn builtin_copy_equals_the_file_on_disk() {
    let builtin = RegionsConfig::builtin().expect("builtin loads");
    assert_eq!(builtin, shipped());
    assert!(DEFAULT_REGIONS_TOML.contains("[[regions]]"));
}

#[test]
fn municipality_lookup_is_case_insensitive_and_accepts_cbs_codes() {
    let config = shipped();
    let by_name = config
        .municipality("  mook EN middelaar ")
        .map(|(_, m)| m.cbs.as_str());
    assert_eq!(by_name, Some("GM0944"));
    let by_code = config
        .municipality("gm0228")
        .map(|(r, m)| (r.id.as_str(), m.name.as_str()));
    assert_eq!(by_code, Some(("food-valley", "Ede")));
    assert!(config.municipality("Zeewolde").is_none());
    assert!(config.municipality("GM9999").is_none());
}

// --- a small valid file -----------------------------------------------------------

#[test]
fn minimal_config_loads_with_typed_values() {
    let config = RegionsConfig::from_toml_str(&minimal(), FILE).expect("valid");
    assert_eq!(config.regions.len(), 3);
    let north = &config.regions[0];
    assert_eq!(north.sessions[1].weekday, Weekday::Tue);
    assert_eq!(
        north.sessions[1].start,
        NaiveTime::from_hms_opt(13, 0, 0).expect("time")
    );
    assert_eq!(north.weekly_slots(), 3);
    assert_eq!(north.weekly_minutes(), 300);
    assert_eq!(config.regions[2].arrivals_per_week, 1.0);
    assert_eq!(
        config.closures[0].date,
        NaiveDate::from_ymd_opt(2026, 12, 10).expect("date")
    );
    // Contacts outside example.org are fine in general.
    assert_eq!(
        config.regions[1].municipalities[0].contact.as_str(),
        "jb@gamma.example.net"
    );
}

#[test]
fn toml_native_dates_and_times_are_accepted_too() {
    let text = minimal()
        .replace(r#"date = "2026-12-10""#, "date = 2026-12-10")
        .replace(r#"start = "09:30""#, "start = 09:30:00");
    let config = RegionsConfig::from_toml_str(&text, FILE).expect("valid");
    assert_eq!(
        config.regions[1].sessions[0].start,
        NaiveTime::from_hms_opt(9, 30, 0).expect("time")
    );
}

// --- broken files -------------------------------------------------------------------

#[test]
fn several_problems_are_all_reported_with_file_and_key() {
    let text = minimal()
        // unknown timezone
        .replace("Europe/Amsterdam", "Europe/Amsterdm")
        // unknown neighbour (north lists "sout")
        .replace(r#"neighbours = ["south"]"#, r#"neighbours = ["sout"]"#)
        // asymmetric: west lists north, north does not list west
        .replace("neighbours = []", r#"neighbours = ["north"]"#)
        // municipality in two regions: Delta reuses Alpha's CBS code
        .replace(r#"cbs = "GM0004""#, r#"cbs = "GM0001""#)
        // overlapping sessions: 13:00 session moved into the 09:00-12:00 one
        .replace(r#"start = "13:00""#, r#"start = "11:00""#);
    let errors = errors_of(&text);

    assert_problem(&errors, "timezone", "unknown time zone \"Europe/Amsterdm\"");
    assert_problem(
        &errors,
        "regions[0].neighbours[0]",
        "unknown region \"sout\"",
    );
    assert_problem(
        &errors,
        "regions[2].neighbours[0]",
        "\"north\" does not list \"west\"",
    );
    assert_problem(
        &errors,
        "regions[2].municipalities[0]",
        "municipality in two regions",
    );
    assert_problem(
        &errors,
        "regions[0].sessions[1]",
        "overlaps regions[0].sessions[0]",
    );
    // South still lists north although north no longer lists south.
    assert_problem(
        &errors,
        "regions[1].neighbours[0]",
        "\"north\" does not list \"south\"",
    );
    assert_eq!(errors.len(), 6, "exactly these problems:\n{errors}");

    let shown = errors.to_string();
    assert_eq!(shown.lines().count(), 6);
    assert!(shown
        .lines()
        .any(|l| l == r#"config/regions.toml: regions[0].neighbours[0]: unknown region "sout""#));
}

#[test]
fn region_and_municipality_problems_are_reported() {
    let text = minimal()
        .replace(r#"id = "west""#, r#"id = "north""#)
        .replace(
            r#"neighbours = ["north"]"#,
            r#"neighbours = ["north", "south"]"#,
        )
        .replace(r#"cbs = "GM0002""#, r#"cbs = "0002""#)
        .replace("info@beta.example.org", "info.beta.example.org")
        .replace(r#"name = "Gamma""#, r#"name = "alpha""#)
        .replace(r#"kinds = ["vtb"]"#, r#"kinds = ["vtb", "ots-end"]"#);
    let errors = errors_of(&text);
    assert_problem(
        &errors,
        "regions[2].id",
        "duplicate region id \"north\" (also regions[0])",
    );
    assert_problem(
        &errors,
        "regions[1].neighbours[1]",
        "cannot be its own neighbour",
    );
    assert_problem(
        &errors,
        "regions[0].municipalities[1].cbs",
        "GM followed by four digits",
    );
    assert_problem(
        &errors,
        "regions[0].municipalities[1].contact",
        "exactly one @",
    );
    assert_problem(&errors, "regions[1].municipalities[0]", "name \"alpha\"");
    assert_problem(
        &errors,
        "regions[1].kinds[1]",
        "unknown referral kind \"ots-end\"",
    );
}

#[test]
fn duplicate_municipality_within_one_region_is_reported() {
    let text = minimal().replace(
        r#"{ name = "Beta",  cbs = "GM0002""#,
        r#"{ name = "Beta",  cbs = "GM0001""#,
    );
    let errors = errors_of(&text);
    assert_problem(
        &errors,
        "regions[0].municipalities[1]",
        "duplicate municipality: CBS code GM0001",
    );
}

#[test]
fn session_problems_are_reported() {
    let text = minimal()
        .replace(
            r#"{ weekday = "tuesday", start = "09:00", slots = 2, slot_minutes = 90 }"#,
            r#"{ weekday = "tuesdag", start = "9 uur", slots = 0, slot_minutes = 0 }"#,
        )
        .replace(
            r#"{ weekday = "thursday", start = "09:30", slots = 2, slot_minutes = 60 }"#,
            r#"{ weekday = "thursday", start = "22:00", slots = 2, slot_minutes = 90 }"#,
        );
    let errors = errors_of(&text);
    assert_problem(
        &errors,
        "regions[0].sessions[0].weekday",
        "unknown weekday \"tuesdag\"",
    );
    assert_problem(
        &errors,
        "regions[0].sessions[0].start",
        "malformed time \"9 uur\"",
    );
    assert_problem(&errors, "regions[0].sessions[0].slots", "at least 1 slot");
    assert_problem(
        &errors,
        "regions[0].sessions[0].slot_minutes",
        "at least 1 minute",
    );
    assert_problem(&errors, "regions[1].sessions[0]", "past midnight");
}

#[test]
fn top_level_and_closure_problems_are_reported() {
    let text = minimal()
        .replace("norm_days = 14", "norm_days = 0")
        .replace(r#"soft_holidays = "avoid""#, r#"soft_holidays = "skip""#)
        .replace(r#"region = "south""#, r#"region = "east""#)
        .replace(r#"date = "2026-12-10""#, r#"date = "10-12-2026""#);
    let errors = errors_of(&text);
    assert_problem(&errors, "norm_days", "at least 1 day");
    assert_problem(&errors, "soft_holidays", "unknown policy \"skip\"");
    assert_problem(&errors, "closure[0].region", "unknown region \"east\"");
    assert_problem(&errors, "closure[0].date", "malformed date \"10-12-2026\"");
}

#[test]
fn holiday_rule_problems_are_reported() {
    let text = minimal().replace(HOLIDAYS, "")
        + r#"
[holidays]
[[holidays.rule]]
id = "a"
name = "A"
kind = "fixed"
month = 4
day = 31
blocking = "hard"

[[holidays.rule]]
id = "a"
name = "B"
kind = "easter_offset"
offset_days = 1
blocking = "sometimes"

[[holidays.rule]]
id = "c"
name = "C"
kind = "lunar"
blocking = "soft"

[[holidays.period]]
id = "p"
name = "P"
start = { month = 13, day = 1 }
end = { month = 12, day = 31 }
blocking = "soft"
"#;
    let errors = errors_of(&text);
    assert_problem(&errors, "holidays.rule[0].day", "month 4 has no day 31");
    assert_problem(
        &errors,
        "holidays.rule[1].blocking",
        "unknown blocking \"sometimes\"",
    );
    assert_problem(
        &errors,
        "holidays.rule[2].kind",
        "unknown holiday rule kind \"lunar\"",
    );
    assert_problem(&errors, "holidays.period[0].start.month", "from 1 to 12");
}

#[test]
fn missing_keys_and_unknown_keys_are_reported() {
    let text = minimal()
        .replace(r#"name = "South""#, r#"nmae = "South""#)
        .replace("norm_days = 14\n", "");
    let errors = errors_of(&text);
    assert_problem(&errors, "norm_days", "missing");
    assert_problem(&errors, "regions[1].name", "missing");
    assert_problem(&errors, "regions[1].nmae", "unknown key");
}

#[test]
fn a_toml_syntax_error_is_one_problem_with_its_line() {
    let text = minimal().replace("norm_days = 14", "norm_days = ");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors}");
    let problem = &errors.problems()[0];
    assert_eq!(problem.file, FILE);
    assert!(problem.message.contains("line 3"), "{}", problem.message);
}

#[test]
fn a_type_error_names_its_key() {
    let text = minimal().replace("slots = 1,", r#"slots = "one","#);
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors}");
    assert_eq!(errors.problems()[0].key, "regions[0].sessions[1].slots");
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nope.toml");
    let errors = RegionsConfig::load(&path).expect_err("missing file");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.problems()[0].file, path.display().to_string());
    assert!(errors.problems()[0].message.contains("cannot read"));
}

#[test]
fn load_reads_a_file_and_labels_problems_with_its_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("regions.toml");
    std::fs::write(&path, minimal().replace("norm_days = 14", "norm_days = -3")).expect("write");
    let errors = RegionsConfig::load(&path).expect_err("invalid");
    assert!(errors
        .to_string()
        .starts_with(&format!("{}: norm_days: ", path.display())));
}
