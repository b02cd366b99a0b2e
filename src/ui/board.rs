//! The slot board: weeks as columns, regions as rows, every slot a cell;
//! beside it the queue of referrals not yet booked.
//!
//! The page refreshes itself: `static/app.js` asks `/board/stamp` every
//! few seconds (a fingerprint of what the board shows, no case data) and
//! only when it changed fetches `/board/fragment` and swaps it in. So two
//! coordinators never act on a stale board, and an idle board does not
//! fill the audit log with reads.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::board_filters::{BoardQuery, Filters, WEEK_CHOICES};
use super::queue::{QueueEntry, QueueFilter};
use super::Choice;
use super::{format, render, Chrome, PageError, Viewer};
use crate::auth::audit::record_reads;
use crate::auth::Role;
use crate::calendar::{day_status, DayStatus};
use crate::config::{RegionConfig, RegionId};
use crate::referrals::norm;
use crate::slots::{sees_case, SlotView};
use crate::state::AppState;

/// Everything the board shows; the page and the refresh fragment share it.
pub struct BoardView {
    /// The fingerprint of the data shown (see [`stamp`]), for the refresh.
    pub stamp: String,
    /// The compact overview: per region and week the counts, each cell a
    /// link to that region's week on the full board.
    pub overview: Option<Vec<OverviewRow>>,
    /// The link to the other view (full board or overview), filters kept.
    pub other_view: String,
    /// The case reference searched for in the queue, as typed.
    pub zaak: String,
    /// After a bulk confirmation: "3 voorlopige plekken bevestigd ...".
    pub confirmed: Option<String>,
    /// The form token, for the queue's bulk confirmation.
    pub csrf: String,
    /// The column heads, one per week.
    pub weeks: Vec<WeekColumn>,
    /// One row per region shown.
    pub rows: Vec<RegionRow>,
    /// Referrals not yet booked, most urgent first (or as sorted).
    pub queue: Vec<QueueEntry>,
    /// The queue's filter options: norm, kind, own or neighbouring table,
    /// order.
    pub norm_choices: Vec<Choice>,
    pub kind_choices: Vec<Choice>,
    pub side_choices: Vec<Choice>,
    pub sort_choices: Vec<Choice>,
    /// Whether a filter narrows the queue.
    pub narrowed: bool,
    /// The filters as a query string, for the export links.
    pub filters_query: String,
    /// On paper: when it was printed and with which filters, in words.
    pub printed: String,
    /// Whether the own-or-neighbouring choice applies (a region is chosen
    /// or the viewer has one).
    pub has_table: bool,
    /// The region filter's options, "Alle regio's" first.
    pub region_choices: Vec<Choice>,
    /// The options for the number of weeks.
    pub week_choices: Vec<Choice>,
    /// The first Monday shown, `YYYY-MM-DD`.
    pub from: String,
    /// When the view was built, local time `HH:MM:SS`.
    pub updated: String,
    /// How many slots are in each state (Dutch label, count).
    pub counts: Vec<(&'static str, usize)>,
}

/// One region's row of the compact overview.
pub struct OverviewRow {
    /// The region's id.
    pub id: String,
    /// The region's name.
    pub name: String,
    /// Per week: (link to the full board of that week and region, counts
    /// in words: "3 vrij · 2 geboekt", or "geen zitting").
    pub cells: Vec<(String, String)>,
}

/// The head of one week's column.
pub struct WeekColumn {
    /// `week 49` (ISO week number).
    pub label: String,
    /// Monday to Sunday, `30-11 – 06-12`.
    pub dates: String,
    /// Whether today falls in this week (marked on the board).
    pub today: bool,
}

/// One region's row: a cell of chips per week.
pub struct RegionRow {
    /// The region's id (the live update replaces rows by it).
    pub id: String,
    /// The region's name.
    pub name: String,
    /// Whether it is the viewing chair's own region.
    pub own: bool,
    /// Per week, the chips of that week in time order.
    pub cells: Vec<Vec<Chip>>,
}

/// One slot (or one day without a table) in a cell.
pub struct Chip {
    /// `free`, `tentative`, `offered`, `booked`, `held`, `cancelled`, or for a
    /// day without a table `holiday` or `closed` (also the CSS class).
    pub state: &'static str,
    /// The state in Dutch.
    pub state_label: &'static str,
    /// The day, `ma 30-11`.
    pub day: String,
    /// The printable agenda of the table's session that day.
    pub agenda: String,
    /// The start, local `HH:MM`; empty for a day without a table.
    pub time: String,
    /// The slot's length in minutes; 0 for a day without a table.
    pub minutes: i64,
    /// The case reference in the slot, when the viewer may see it.
    pub case_ref: Option<String>,
    /// The referral's page, when the viewer may see it.
    pub href: Option<String>,
    /// The referral's kind in Dutch.
    pub kind: Option<&'static str>,
    /// Days from the referral's registration to this slot's date.
    pub waiting_days: Option<i64>,
    /// The referral's home region, when it is another table's.
    pub from_region: Option<String>,
    /// Holiday name or closure reason.
    pub note: Option<String>,
    /// Whether the day is today (marked on the board).
    pub today: bool,
    /// Whether its case reference matches the search (marked on the board).
    pub found: bool,
    /// What the past means for it, once it has started: "voorbij", or for a
    /// booking "voorbij: gehouden of niet doorgegaan vastleggen".
    pub past: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "pages/board.html")]
struct BoardPage {
    chrome: Chrome,
    view: BoardView,
}

#[derive(Template)]
#[template(path = "pages/board_fragment.html")]
struct BoardFragment {
    view: BoardView,
}

/// `GET /board`: the planning board of slots per region and week, and the
/// queue (coordinators and chairs). Every case shown is audited as read.
///
/// # Errors
/// 403 page for other roles; 422 page for a bad filter; database errors.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<BoardQuery>,
) -> Result<Response, PageError> {
    let view = build(&state, &viewer, &query).await?;
    render(&BoardPage {
        chrome: viewer.chrome_counted(&state, "/board").await,
        view,
    })
}

/// `GET /board/fragment`: the board without the layout, for the refresh
/// when [`stamp`] changes.
///
/// # Errors
/// As [`page`].
pub async fn fragment(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<BoardQuery>,
) -> Result<Response, PageError> {
    let view = build(&state, &viewer, &query).await?;
    render(&BoardFragment { view })
}

/// The board as the viewer may see it (role checked, every case shown
/// audited as read), for the page, its refresh and its exports.
///
/// # Errors
/// 403 for roles without a board, 422 for bad filters, storage errors.
pub(super) async fn build(
    state: &AppState,
    viewer: &Viewer,
    query: &BoardQuery,
) -> Result<BoardView, PageError> {
    viewer.require(&[Role::Coordinator, Role::Chair, Role::Secretary])?;
    let tz = state.regions.timezone;
    let today = norm::local_date(state.now(), tz);
    let filters = Filters::parse(query, state, today)?;
    let stamp = super::board_stamp::fingerprint(state).await?;
    let mut regions = shown_regions(state, viewer, filters.region.as_ref());
    let ids: Vec<String> = regions.iter().map(|r| r.id.as_str().to_string()).collect();
    let mut slots = crate::slots::list(state, &ids, filters.from, filters.to()).await?;
    // Counted over the whole board (no case data), shown and audited only
    // for the rows sent: the live update sends the changed regions only.
    let counts = count_states(&slots);
    if let Some(only) = query.only() {
        regions.retain(|r| only.contains(&r.id.as_str()));
        slots.retain(|s| only.contains(&s.region.as_str()));
    }
    hide_and_audit(state, viewer, &mut slots).await?;
    let weeks = week_columns(&filters, today);
    let own = viewer.user.region.as_ref().map(RegionId::as_str);
    let rows: Vec<RegionRow> = regions
        .iter()
        .map(|region| RegionRow {
            id: region.id.as_str().to_string(),
            name: region.name.clone(),
            own: own == Some(region.id.as_str()),
            cells: (0..filters.weeks)
                .map(|w| {
                    let monday = filters.from + Days::new(u64::from(w) * 7);
                    cell(state, region, monday, &slots, today)
                })
                .collect(),
        })
        .collect();
    let wanted = query
        .zaak
        .as_deref()
        .map(str::trim)
        .filter(|z| !z.is_empty());
    let filter = QueueFilter::parse(
        query.norm.as_deref(),
        query.soort.as_deref(),
        query.tafel.as_deref(),
        query.sorteer.as_deref(),
        filters.region.as_ref().or(viewer.user.region.as_ref()),
    )?;
    let queue =
        super::queue::queue(state, viewer, filters.region.as_ref(), wanted, &filter).await?;
    let mut rows = rows;
    if let Some(wanted) = wanted.map(str::to_ascii_uppercase) {
        for chip in rows.iter_mut().flat_map(|r| r.cells.iter_mut().flatten()) {
            chip.found = chip.case_ref.as_ref().is_some_and(|c| c.contains(&wanted));
        }
    }
    let overview = query
        .overview()
        .then(|| overview_rows(&regions, &rows, &filters));
    let other_view = {
        let mut other = query.clone();
        other.weergave = (!query.overview()).then(|| "overzicht".to_string());
        format!("/board?{}", other.filters_query())
    };
    Ok(BoardView {
        zaak: wanted.unwrap_or_default().to_string(),
        confirmed: query
            .bevestigd
            .map(|n| confirmed_text(n, query.niet.unwrap_or(0))),
        csrf: viewer.csrf.clone(),
        stamp,
        weeks,
        rows,
        queue,
        norm_choices: filter.norm_choices(),
        kind_choices: filter.kind_choices(),
        side_choices: filter.side_choices(),
        sort_choices: filter.sort_choices(),
        narrowed: filter.narrows(),
        filters_query: query.filters_query(),
        overview,
        other_view,
        printed: printed(state, &filters, &filter),
        has_table: filters.region.is_some() || viewer.user.region.is_some(),
        region_choices: region_choices(state, viewer, filters.region.as_ref()),
        week_choices: WEEK_CHOICES
            .iter()
            .map(|w| Choice {
                value: w.to_string(),
                label: format!("{w} {}", if *w == 1 { "week" } else { "weken" }),
                selected: *w == filters.weeks,
            })
            .collect(),
        from: filters.from.format("%Y-%m-%d").to_string(),
        updated: state
            .now()
            .with_timezone(&tz)
            .format("%H:%M:%S")
            .to_string(),
        counts,
    })
}

/// Coordinators see every region in file order; a chair sees the own
/// region first, then the others (states only, see [`sees_case`]).
fn shown_regions<'a>(
    state: &'a AppState,
    viewer: &Viewer,
    only: Option<&RegionId>,
) -> Vec<&'a RegionConfig> {
    let mut regions: Vec<&RegionConfig> = state
        .regions
        .regions
        .iter()
        .filter(|r| only.is_none_or(|id| &r.id == id))
        .collect();
    if let Some(own) = &viewer.user.region {
        regions.sort_by_key(|r| &r.id != own);
    }
    regions
}

fn region_choices(state: &AppState, viewer: &Viewer, selected: Option<&RegionId>) -> Vec<Choice> {
    let mut choices = vec![Choice {
        value: String::new(),
        label: "Alle regio's".into(),
        selected: selected.is_none(),
    }];
    for region in shown_regions(state, viewer, None) {
        choices.push(Choice {
            value: region.id.as_str().to_string(),
            label: region.name.clone(),
            selected: selected == Some(&region.id),
        });
    }
    choices
}

/// Hides cases outside the viewer's scope; every case shown is audited.
async fn hide_and_audit(
    state: &AppState,
    viewer: &Viewer,
    slots: &mut [SlotView],
) -> Result<(), PageError> {
    let mut shown = Vec::new();
    for slot in slots.iter_mut() {
        if !sees_case(&viewer.user, slot) {
            slot.hide_referral();
        } else if let Some(id) = slot.referral_id {
            shown.push(id);
        }
    }
    record_reads(
        &state.store,
        state.now(),
        &viewer.user,
        "slot.read",
        &shown,
        Some("board"),
    )
    .await?;
    Ok(())
}

fn week_columns(filters: &Filters, today: NaiveDate) -> Vec<WeekColumn> {
    (0..filters.weeks)
        .map(|w| {
            let monday = filters.from + Days::new(u64::from(w) * 7);
            let sunday = monday + Days::new(6);
            WeekColumn {
                label: format!("week {}", monday.iso_week().week()),
                dates: format!("{} – {}", monday.format("%d-%m"), sunday.format("%d-%m")),
                today: (monday..=sunday).contains(&today),
            }
        })
        .collect()
}

/// The slots of one region in the week from `monday`, plus the session
/// days on which the table does not sit (holiday or closure).
fn cell(
    state: &AppState,
    region: &RegionConfig,
    monday: NaiveDate,
    slots: &[SlotView],
    today: NaiveDate,
) -> Vec<Chip> {
    let sunday = monday + Days::new(6);
    let tz = state.regions.timezone;
    let mut chips: Vec<(String, Chip)> = slots
        .iter()
        .filter(|s| s.region == region.id.as_str())
        .filter_map(|s| {
            let date = NaiveDate::parse_from_str(&s.date, "%Y-%m-%d").ok()?;
            (monday..=sunday)
                .contains(&date)
                .then(|| (s.start.clone(), slot_chip(state, s, date, today)))
        })
        .collect();
    let session_days: Vec<Weekday> = region.sessions.iter().map(|s| s.weekday).collect();
    for offset in 0..7 {
        let date = monday + Days::new(offset);
        if !session_days.contains(&date.weekday()) {
            continue;
        }
        let (state_name, note) = match day_status(&state.regions, &region.id, date) {
            DayStatus::Open => continue,
            DayStatus::Holiday(h) => ("holiday", h.name),
            DayStatus::Closed(reason) => ("closed", reason),
        };
        let sort_key =
            crate::calendar::local_to_utc(tz, date.and_hms_opt(0, 0, 0).unwrap_or_default())
                .to_rfc3339();
        chips.push((
            sort_key,
            Chip {
                state: state_name,
                state_label: format::slot_state(state_name),
                day: format::day(date),
                agenda: String::new(),
                time: String::new(),
                minutes: 0,
                case_ref: None,
                href: None,
                kind: None,
                waiting_days: None,
                from_region: None,
                note: Some(note),
                today: date == today,
                found: false,
                past: None,
            },
        ));
    }
    chips.sort_by(|a, b| a.0.cmp(&b.0));
    chips.into_iter().map(|(_, chip)| chip).collect()
}

fn slot_chip(state: &AppState, slot: &SlotView, date: NaiveDate, today: NaiveDate) -> Chip {
    let started =
        chrono::DateTime::parse_from_rfc3339(&slot.start).is_ok_and(|start| start <= state.now());
    let past = started.then_some(if slot.state == "booked" {
        "voorbij: gehouden of niet doorgegaan vastleggen"
    } else {
        "voorbij"
    });
    let state_name: &'static str = match slot.state.as_str() {
        "free" => "free",
        "tentative" => "tentative",
        "offered" => "offered",
        "booked" => "booked",
        "held" => "held",
        _ => "cancelled",
    };
    let registered = slot
        .registered_on
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    Chip {
        state: state_name,
        state_label: format::slot_state(state_name),
        day: format::day(date),
        agenda: format!("/zitting?region={}&datum={date}", slot.region),
        time: slot.start.get(11..16).unwrap_or_default().to_string(),
        minutes: slot.minutes,
        case_ref: slot.case_ref.clone(),
        href: slot.referral_id.map(|id| format!("/referrals/{id}")),
        kind: slot.kind.as_deref().map(format::kind),
        // The wait the family has when the conversation is in this slot.
        waiting_days: registered.map(|r| (date - r).num_days()),
        from_region: slot
            .referral_region
            .as_deref()
            .filter(|home| *home != slot.region)
            .map(|home| state.regions.region_name(home)),
        note: None,
        today: date == today,
        found: false,
        past,
    }
}

/// "Planbord van zo 29-11-2026 19:05; regio: alle; 4 weken vanaf
/// 30-11-2026; wachtrij: alle, op urgentie", for the printed page.
fn printed(state: &AppState, filters: &Filters, queue: &QueueFilter) -> String {
    let tz = state.regions.timezone;
    let now = state.now().with_timezone(&tz);
    let region = filters.region.as_ref().map_or_else(
        || "alle".to_string(),
        |r| state.regions.region_name(r.as_str()),
    );
    format!(
        "Planbord van {}; regio: {region}; {} weken vanaf {}; wachtrij: {}",
        now.format_localized("%a %d-%m-%Y %H:%M", chrono::Locale::nl_NL),
        filters.weeks,
        filters.from.format("%d-%m-%Y"),
        queue.describe()
    )
}

fn overview_rows(
    regions: &[&RegionConfig],
    rows: &[RegionRow],
    filters: &Filters,
) -> Vec<OverviewRow> {
    regions
        .iter()
        .zip(rows)
        .map(|(region, row)| OverviewRow {
            id: row.id.clone(),
            name: row.name.clone(),
            cells: row
                .cells
                .iter()
                .enumerate()
                .map(|(w, chips)| {
                    let monday = filters.from + Days::new(w as u64 * 7);
                    let link = format!(
                        "/board?region={}&weeks=1&from={}",
                        region.id.as_str(),
                        monday.format("%Y-%m-%d")
                    );
                    let mut counts: Vec<(&'static str, usize)> = Vec::new();
                    for chip in chips {
                        match counts
                            .iter_mut()
                            .find(|(label, _)| *label == chip.state_label)
                        {
                            Some((_, n)) => *n += 1,
                            None => counts.push((chip.state_label, 1)),
                        }
                    }
                    let text = if counts.is_empty() {
                        "geen zitting".to_string()
                    } else {
                        let parts: Vec<String> = counts
                            .iter()
                            .map(|(label, n)| format!("{n} {label}"))
                            .collect();
                        parts.join(" · ")
                    };
                    (link, text)
                })
                .collect(),
        })
        .collect()
}

fn count_states(slots: &[SlotView]) -> Vec<(&'static str, usize)> {
    [
        "free",
        "tentative",
        "offered",
        "booked",
        "held",
        "cancelled",
    ]
    .into_iter()
    .map(|s| {
        (
            format::slot_state(s),
            slots.iter().filter(|v| v.state == s).count(),
        )
    })
    .collect()
}

/// The board's message after a bulk confirmation.
fn confirmed_text(done: u32, refused: u32) -> String {
    let mut text = match done {
        1 => "1 voorlopige plek bevestigd.".to_string(),
        n => format!("{n} voorlopige plekken bevestigd."),
    };
    if refused > 0 {
        text.push_str(&format!(
            " {refused} niet: die staan nog in de wachtrij; hun pagina zegt waarom."
        ));
    }
    text
}
