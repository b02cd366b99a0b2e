//! Holidays and slot generation.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use jbt::calendar::{
    day_status, easter_sunday, generate_slots, Blocking, CalendarSlot, DayStatus, HolidayRules,
};
use jbt::config::{RegionId, RegionsConfig, SoftHolidayPolicy};
use proptest::prelude::*;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid test instant")
}

fn id(s: &str) -> RegionId {
    RegionId::parse(s).expect("valid region id")
}

fn shipped() -> RegionsConfig {
    RegionsConfig::builtin().expect("shipped config loads")
}

fn rules() -> HolidayRules {
    shipped().holidays
}

/// Two regions; `every` has one 60-minute slot at 09:00 on every day of the
/// week, `tuesday` has a 09:00 session of two 90-minute slots on Tuesdays.
/// Holidays come from the shipped file.
fn test_config(policy: &str, extra: &str) -> RegionsConfig {
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let every: Vec<String> = days
        .iter()
        .map(|d| format!(r#"{{ weekday = "{d}", start = "09:00", slots = 1, slot_minutes = 60 }}"#))
        .collect();
    let holidays = shipped_holidays_section();
    let text = format!(
        r#"
timezone = "Europe/Amsterdam"
norm_days = 14
soft_holidays = "{policy}"

[[regions]]
id = "every"
name = "Every day"
neighbours = ["tuesday"]
arrivals_per_week = 5
kinds = ["vtb"]
municipalities = [{{ name = "A", cbs = "GM0001", contact = "a@a.example.org" }}]
sessions = [{every}]

[[regions]]
id = "tuesday"
name = "Tuesday"
neighbours = ["every"]
arrivals_per_week = 2
kinds = ["vtb"]
municipalities = [{{ name = "B", cbs = "GM0002", contact = "b@b.example.org" }}]
sessions = [{{ weekday = "tuesday", start = "09:00", slots = 2, slot_minutes = 90 }}]
{extra}
{holidays}"#,
        every = every.join(", ")
    );
    match RegionsConfig::from_toml_str(&text, "test.toml") {
        Ok(config) => config,
        Err(errors) => panic!("test config invalid:\n{errors}"),
    }
}

/// The `[holidays]` part of the shipped file (everything from that header on).
fn shipped_holidays_section() -> String {
    let text = jbt::config::DEFAULT_REGIONS_TOML;
    let start = text
        .find("\n[holidays]")
        .expect("shipped file has [holidays]");
    text[start..].to_owned()
}

fn slots_on(slots: &[CalendarSlot], date: NaiveDate) -> Vec<&CalendarSlot> {
    slots.iter().filter(|s| s.date == date).collect()
}

// --- holidays ----------------------------------------------------------------------

/// Reference dates (year, Easter, Goede Vrijdag, Koningsdag, Hemelvaartsdag,
/// 2e Pinksterdag), copied from the reference data.
const CHECKS: [(i32, &str, &str, &str, &str, &str); 5] = [
    (
        2025,
        "2025-04-20",
        "2025-04-18",
        "2025-04-26",
        "2025-05-29",
        "2025-06-09",
    ),
    (
        2026,
        "2026-04-05",
        "2026-04-03",
        "2026-04-27",
        "2026-05-14",
        "2026-05-25",
    ),
    (
        2027,
        "2027-03-28",
        "2027-03-26",
        "2027-04-27",
        "2027-05-06",
        "2027-05-17",
    ),
    (
        2028,
        "2028-04-16",
        "2028-04-14",
        "2028-04-27",
        "2028-05-25",
        "2028-06-05",
    ),
    (
        2029,
        "2029-04-01",
        "2029-03-30",
        "2029-04-27",
        "2029-05-10",
        "2029-05-21",
    ),
];

fn date(s: &str) -> NaiveDate {
    s.parse().expect("valid test date")
}

#[test]
fn easter_matches_the_reference_dates() {
    for (year, easter, ..) in CHECKS {
        assert_eq!(easter_sunday(year), date(easter), "{year}");
    }
}

#[test]
fn holiday_rules_give_the_reference_dates() {
    let rules = rules();
    for (year, easter, good_friday, kings_day, ascension, whit_monday) in CHECKS {
        for (day, expected_id, blocking) in [
            (easter, "eerste-paasdag", Blocking::Hard),
            (good_friday, "goede-vrijdag", Blocking::Soft),
            (kings_day, "koningsdag", Blocking::Hard),
            (ascension, "hemelvaartsdag", Blocking::Hard),
            (whit_monday, "tweede-pinksterdag", Blocking::Hard),
        ] {
            let holiday = rules.holiday_on(date(day));
            assert_eq!(
                holiday.as_ref().map(|h| (h.id.as_str(), h.blocking)),
                Some((expected_id, blocking)),
                "{year}: {day}"
            );
        }
    }
}

#[test]
fn koningsdag_moves_to_saturday_when_27_april_is_a_sunday() {
    let rules = rules();
    assert_eq!(ymd(2025, 4, 27).weekday(), Weekday::Sun);
    assert_eq!(
        rules.holiday_on(ymd(2025, 4, 26)).map(|h| h.id),
        Some("koningsdag".into())
    );
    assert_eq!(rules.holiday_on(ymd(2025, 4, 27)), None);
}

#[test]
fn bevrijdingsdag_is_a_hard_holiday_every_year() {
    let rules = rules();
    for year in [2026, 2027, 2028, 2029] {
        let holiday = rules.holiday_on(ymd(year, 5, 5)).expect("holiday");
        assert_eq!(
            (holiday.id.as_str(), holiday.blocking),
            ("bevrijdingsdag", Blocking::Hard)
        );
    }
}

#[test]
fn christmas_is_hard_and_the_days_after_are_soft() {
    let rules = rules();
    for day in [25, 26] {
        assert_eq!(
            rules.holiday_on(ymd(2026, 12, day)).map(|h| h.blocking),
            Some(Blocking::Hard)
        );
    }
    for day in 27..=31 {
        let h = rules.holiday_on(ymd(2026, 12, day)).expect("soft period");
        assert_eq!(
            (h.id.as_str(), h.blocking),
            ("kerstperiode", Blocking::Soft)
        );
    }
    assert_eq!(rules.holiday_on(ymd(2026, 12, 24)), None);
    assert_eq!(
        rules.holiday_on(ymd(2027, 1, 1)).map(|h| h.id),
        Some("nieuwjaarsdag".into())
    );
}

#[test]
fn a_year_has_the_expected_number_of_holidays() {
    // 12 rules + 5 days between Christmas and New Year.
    let days = rules().holidays_between(ymd(2026, 1, 1), ymd(2026, 12, 31));
    assert_eq!(days.len(), 17);
}

proptest! {
    #[test]
    fn easter_is_always_a_sunday_between_22_march_and_25_april(year in 1583i32..=9999) {
        let easter = easter_sunday(year);
        prop_assert_eq!(easter.weekday(), Weekday::Sun);
        prop_assert_eq!(easter.year(), year);
        prop_assert!(ymd(year, 3, 22) <= easter && easter <= ymd(year, 4, 25));
    }

    #[test]
    fn easter_never_panics(year in any::<i32>()) {
        let _ = easter_sunday(year);
    }

    #[test]
    fn slots_keep_their_local_wall_clock_time(days in 0u64..3650) {
        let config = test_config("allow", "");
        let day = ymd(2024, 1, 1) + chrono::Days::new(days);
        for slot in generate_slots(&config, day, day) {
            let local = slot.local_start(config.timezone);
            prop_assert_eq!(local.date_naive(), day);
            prop_assert!(matches!(local.format("%H:%M").to_string().as_str(), "09:00" | "10:30"));
        }
    }
}

// --- slots -------------------------------------------------------------------------

#[test]
fn a_9_oclock_session_is_9_local_on_both_sides_of_the_march_change() {
    let config = test_config("avoid", "");
    let before = generate_slots(&config, ymd(2026, 3, 24), ymd(2026, 3, 24));
    let after = generate_slots(&config, ymd(2026, 3, 31), ymd(2026, 3, 31));
    let tuesday = id("tuesday");
    let starts = |slots: &[CalendarSlot]| -> Vec<DateTime<Utc>> {
        slots
            .iter()
            .filter(|s| s.region == tuesday)
            .map(|s| s.start)
            .collect()
    };
    assert_eq!(
        starts(&before),
        [utc("2026-03-24T08:00:00Z"), utc("2026-03-24T09:30:00Z")]
    );
    assert_eq!(
        starts(&after),
        [utc("2026-03-31T07:00:00Z"), utc("2026-03-31T08:30:00Z")]
    );
}

#[test]
fn a_9_oclock_session_is_9_local_on_both_sides_of_the_october_change() {
    let config = test_config("avoid", "");
    let before = generate_slots(&config, ymd(2026, 10, 20), ymd(2026, 10, 20));
    let after = generate_slots(&config, ymd(2026, 10, 27), ymd(2026, 10, 27));
    let first = |slots: &[CalendarSlot]| {
        slots
            .iter()
            .find(|s| s.region == id("tuesday"))
            .map(|s| s.start)
    };
    assert_eq!(first(&before), Some(utc("2026-10-20T07:00:00Z")));
    assert_eq!(first(&after), Some(utc("2026-10-27T08:00:00Z")));
}

#[test]
fn the_shipped_tuesday_table_follows_summer_time() {
    // Achterhoek sits on Tuesday at 09:00.
    let config = shipped();
    let achterhoek = id("achterhoek");
    let first = |day| {
        generate_slots(&config, day, day)
            .into_iter()
            .find(|s| s.region == achterhoek)
            .map(|s| s.start)
    };
    assert_eq!(first(ymd(2026, 3, 24)), Some(utc("2026-03-24T08:00:00Z")));
    assert_eq!(first(ymd(2026, 3, 31)), Some(utc("2026-03-31T07:00:00Z")));
    assert_eq!(first(ymd(2026, 10, 20)), Some(utc("2026-10-20T07:00:00Z")));
    assert_eq!(first(ymd(2026, 10, 27)), Some(utc("2026-10-27T08:00:00Z")));
}

#[test]
fn a_session_in_the_spring_gap_starts_after_it_and_runs_on_in_real_time() {
    let text = test_config_text_with_sunday_night();
    let config = RegionsConfig::from_toml_str(&text, "gap.toml").expect("valid");
    let slots = generate_slots(&config, ymd(2026, 3, 29), ymd(2026, 3, 29));
    let starts: Vec<_> = slots.iter().map(|s| s.start).collect();
    // 02:30 does not exist that night: the session starts at the first
    // instant after the gap read as CET (01:30Z = 03:30 CEST), and the
    // second slot follows an hour later in real time (04:30 CEST), not at
    // the same instant.
    assert_eq!(
        starts,
        [utc("2026-03-29T01:30:00Z"), utc("2026-03-29T02:30:00Z")]
    );
    assert_eq!(slots[0].id, "night-20260329-0330");
    assert_eq!(slots[1].id, "night-20260329-0430");
}

fn test_config_text_with_sunday_night() -> String {
    format!(
        r#"
timezone = "Europe/Amsterdam"
norm_days = 14
soft_holidays = "avoid"
[[regions]]
id = "night"
name = "Night"
arrivals_per_week = 1
kinds = ["vtb"]
municipalities = [{{ name = "N", cbs = "GM0009", contact = "n@n.example.org" }}]
sessions = [{{ weekday = "sunday", start = "02:30", slots = 2, slot_minutes = 60 }}]
{}"#,
        shipped_holidays_section()
    )
}

#[test]
fn no_slots_on_christmas_days() {
    for policy in ["avoid", "allow"] {
        let config = test_config(policy, "");
        let slots = generate_slots(&config, ymd(2026, 12, 20), ymd(2027, 1, 3));
        assert!(slots_on(&slots, ymd(2026, 12, 25)).is_empty(), "{policy}");
        assert!(slots_on(&slots, ymd(2026, 12, 26)).is_empty(), "{policy}");
        assert!(slots_on(&slots, ymd(2027, 1, 1)).is_empty(), "{policy}");
        assert_eq!(slots_on(&slots, ymd(2026, 12, 24)).len(), 1, "{policy}");
    }
}

#[test]
fn soft_days_are_avoided_under_the_avoid_policy() {
    let config = test_config("avoid", "");
    assert_eq!(config.soft_holidays, SoftHolidayPolicy::Avoid);
    let slots = generate_slots(&config, ymd(2026, 1, 1), ymd(2026, 12, 31));
    for soft in [
        ymd(2026, 4, 3),
        ymd(2026, 5, 15),
        ymd(2026, 12, 28),
        ymd(2026, 12, 31),
    ] {
        assert!(slots_on(&slots, soft).is_empty(), "{soft}");
        assert!(matches!(
            day_status(&config, &id("every"), soft),
            DayStatus::Holiday(h) if h.blocking == Blocking::Soft
        ));
    }
}

#[test]
fn soft_days_are_ordinary_days_under_the_allow_policy() {
    let config = test_config("allow", "");
    let slots = generate_slots(&config, ymd(2026, 1, 1), ymd(2026, 12, 31));
    for soft in [
        ymd(2026, 4, 3),
        ymd(2026, 5, 15),
        ymd(2026, 12, 28),
        ymd(2026, 12, 31),
    ] {
        assert_eq!(
            slots_on(&slots, soft).len(),
            1 + usize::from(soft.weekday() == Weekday::Tue) * 2,
            "{soft}"
        );
        assert_eq!(day_status(&config, &id("every"), soft), DayStatus::Open);
    }
    // Hard days stay blocked.
    assert!(slots_on(&slots, ymd(2026, 4, 27)).is_empty());
}

#[test]
fn a_closure_removes_only_that_regions_slots_on_that_date() {
    let closure = r#"
[[closure]]
region = "tuesday"
date = "2026-09-08"
reason = "Training"
"#;
    let config = test_config("avoid", closure);
    let slots = generate_slots(&config, ymd(2026, 9, 1), ymd(2026, 9, 15));
    let count = |region: &str, day: NaiveDate| {
        slots
            .iter()
            .filter(|s| s.region == id(region) && s.date == day)
            .count()
    };
    assert_eq!(count("tuesday", ymd(2026, 9, 8)), 0);
    assert_eq!(count("every", ymd(2026, 9, 8)), 1);
    assert_eq!(count("tuesday", ymd(2026, 9, 1)), 2);
    assert_eq!(count("tuesday", ymd(2026, 9, 15)), 2);
    assert_eq!(
        day_status(&config, &id("tuesday"), ymd(2026, 9, 8)),
        DayStatus::Closed("Training".into())
    );
    assert_eq!(
        day_status(&config, &id("every"), ymd(2026, 9, 8)),
        DayStatus::Open
    );
}

#[test]
fn the_shipped_demo_closure_cancels_rivierenland_on_8_december_2026() {
    let config = shipped();
    let slots = generate_slots(&config, ymd(2026, 12, 8), ymd(2026, 12, 8));
    assert!(slots.iter().all(|s| s.region != id("rivierenland")));
    assert!(slots.iter().any(|s| s.region == id("achterhoek")));
    let next_week = generate_slots(&config, ymd(2026, 12, 15), ymd(2026, 12, 15));
    assert_eq!(
        next_week
            .iter()
            .filter(|s| s.region == id("rivierenland"))
            .count(),
        2
    );
}

#[test]
fn day_status_names_the_holiday() {
    let config = shipped();
    match day_status(&config, &id("food-valley"), ymd(2026, 4, 27)) {
        DayStatus::Holiday(h) => assert_eq!(
            (h.id.as_str(), h.name.as_str()),
            ("koningsdag", "Koningsdag")
        ),
        other => panic!("expected Koningsdag, got {other:?}"),
    }
}

#[test]
fn slot_ids_are_stable_unique_and_name_region_date_and_local_time() {
    let config = shipped();
    let slots = generate_slots(&config, ymd(2026, 1, 1), ymd(2027, 12, 31));
    let ids: HashSet<&str> = slots.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), slots.len());
    assert!(ids.contains("food-valley-20261202-0900"));
    assert!(ids.contains("food-valley-20261202-1030"));
    let again = generate_slots(&config, ymd(2026, 12, 2), ymd(2026, 12, 2));
    assert!(again.iter().any(|s| s.id == "food-valley-20261202-0900"));
}

#[test]
fn slots_are_sorted_by_start_then_region() {
    let config = shipped();
    let slots = generate_slots(&config, ymd(2026, 6, 1), ymd(2026, 8, 31));
    assert!(slots
        .windows(2)
        .all(|w| (w[0].start, &w[0].region) <= (w[1].start, &w[1].region)));
}

#[test]
fn an_ordinary_week_has_every_weekly_slot() {
    let config = shipped();
    let slots = generate_slots(&config, ymd(2026, 9, 7), ymd(2026, 9, 13));
    let weekly: u32 = config.regions.iter().map(|r| r.weekly_slots()).sum();
    assert_eq!(slots.len(), weekly as usize);
    assert_eq!(weekly, 39);
    let minutes: u64 = slots.iter().map(|s| u64::from(s.minutes)).sum();
    let expected: u64 = config.regions.iter().map(|r| r.weekly_minutes()).sum();
    assert_eq!(minutes, expected);
    assert!(slots.iter().all(|s| s.end() > s.start));
}

#[test]
fn an_empty_or_reversed_range_gives_no_slots() {
    let config = shipped();
    assert!(generate_slots(&config, ymd(2026, 9, 10), ymd(2026, 9, 9)).is_empty());
    // A Sunday: no table sits.
    assert!(generate_slots(&config, ymd(2026, 9, 13), ymd(2026, 9, 13)).is_empty());
}

// --- no two slots of one table overlap, around every clock change --------

/// The last Sunday of `month` in `year`: the day the clocks change in
/// Europe/Amsterdam (March forward, October back).
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut date = ymd(year, month + 1, 1).pred_opt().expect("date");
    while date.weekday() != Weekday::Sun {
        date = date.pred_opt().expect("date");
    }
    date
}

/// One table whose weekly sessions are all on `weekday`.
fn sessions_config(weekday: &str, sessions: &[(u32, u32, u32, u32)]) -> Option<RegionsConfig> {
    let list: Vec<String> = sessions
        .iter()
        .map(|(h, m, slots, minutes)| {
            format!(
                r#"{{ weekday = "{weekday}", start = "{h:02}:{m:02}", slots = {slots}, slot_minutes = {minutes} }}"#
            )
        })
        .collect();
    let night =
        r#"sessions = [{ weekday = "sunday", start = "02:30", slots = 2, slot_minutes = 60 }]"#;
    let base = test_config_text_with_sunday_night();
    assert!(base.contains(night), "the night session is replaced");
    let text = base.replace(night, &format!("sessions = [{}]", list.join(", ")));
    // Random sessions may break the configuration's rules (past midnight,
    // overlapping by the clock): those are refused at loading, as they
    // should be, and are not the subject here.
    RegionsConfig::from_toml_str(&text, "random.toml").ok()
}

fn assert_no_overlap_and_unique_ids(slots: &[CalendarSlot]) {
    let ids: HashSet<&str> = slots.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), slots.len(), "ids are unique: {slots:?}");
    for (i, a) in slots.iter().enumerate() {
        for b in &slots[i + 1..] {
            let same_table = a.region == b.region;
            assert!(
                !(same_table && a.start < b.end() && b.start < a.end()),
                "{} and {} overlap",
                a.id,
                b.id
            );
        }
    }
}

/// (hour, minute in 5-minute steps, slots, slot minutes): starts all day
/// long, but more often around the night hours when the clocks change.
fn any_session() -> impl Strategy<Value = (u32, u32, u32, u32)> {
    (
        prop_oneof![0u32..24, 0u32..5],
        (0u32..12).prop_map(|m| m * 5),
        1u32..6,
        prop_oneof![
            Just(30u32),
            Just(45),
            Just(60),
            Just(90),
            Just(120),
            30u32..=240
        ],
    )
}

proptest! {
    #[test]
    fn weekly_sessions_never_put_two_families_at_one_table_at_once(
        sessions in prop::collection::vec(any_session(), 1..4),
        year in 2026i32..2033,
        spring in any::<bool>(),
    ) {
        let Some(config) = sessions_config("sunday", &sessions) else {
            return Ok(());
        };
        let change = last_sunday(year, if spring { 3 } else { 10 });
        let from = change.pred_opt().expect("date");
        let to = change.succ_opt().expect("date");
        let slots = generate_slots(&config, from, to);
        assert_no_overlap_and_unique_ids(&slots);
        for slot in &slots {
            let local = slot.start.with_timezone(&config.timezone).date_naive();
            prop_assert_eq!(local, slot.date, "{} is listed on its own date", &slot.id);
        }
    }

    #[test]
    fn an_extra_session_follows_real_time_or_is_refused(
        (h, m, slots, minutes) in any_session(),
        year in 2026i32..2033,
        spring in any::<bool>(),
        shift in -1i64..=1,
    ) {
        let config = shipped();
        let date = last_sunday(year, if spring { 3 } else { 10 }) + chrono::Duration::days(shift);
        let shape = jbt::config::SessionShape {
            start: chrono::NaiveTime::from_hms_opt(h, m, 0).expect("time"),
            slots,
            slot_minutes: minutes,
        };
        let region = id("rijk-van-nijmegen");
        let made = jbt::calendar::session_slots(
            config.timezone, &region, date, &shape, jbt::calendar::InGap::Refuse, true,
        );
        match made {
            Ok(made) => {
                prop_assert!(shape.problems().is_empty() || made.len() == slots as usize);
                assert_no_overlap_and_unique_ids(&made);
                for pair in made.windows(2) {
                    prop_assert_eq!(pair[0].end(), pair[1].start, "back to back in real time");
                }
                for slot in &made {
                    prop_assert_eq!(slot.start.with_timezone(&config.timezone).date_naive(), date);
                    prop_assert!(slot.end() <= jbt::calendar::local_to_utc(
                        config.timezone, (date + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight")));
                }
            }
            Err(problem) => prop_assert_eq!(problem.field, "start"),
        }
    }
}
