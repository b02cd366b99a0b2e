//! `/te-doen`: the table's worklist (issue 14), for coordinators, chairs
//! and secretaries: what needs doing now, each list with its count and the
//! case references linking to their pages. Reads go through the referral
//! service (scope and audit as in the API), so a chair sees the own
//! region's referrals and those planned at the own table.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{format, render, Chrome, PageError, Viewer};
use crate::auth::Role;
use crate::referrals::input::ListParams;
use crate::referrals::lifecycle::Status;
use crate::referrals::norm::NormStatus;
use crate::referrals::service;
use crate::referrals::view::{self, ReferralView};
use crate::state::AppState;

/// Every status that can still need something done.
const OPEN: &str = "incomplete,registered,planned,booked,held";

/// One referral (or offer) in a list.
struct Item {
    /// The referral's id (for the menu's count of distinct referrals).
    id: i64,
    /// Where to act on it.
    href: String,
    case_ref: String,
    region: String,
    /// What is due, in Dutch.
    what: String,
}

/// A list of the worklist.
struct Section {
    id: &'static str,
    title: &'static str,
    /// What to do about them.
    hint: &'static str,
    items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "pages/todo.html")]
struct TodoPage {
    chrome: Chrome,
    sections: Vec<Section>,
}

/// `GET /te-doen`.
///
/// # Errors
/// 403 page for other roles; storage errors.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(&[Role::Coordinator, Role::Chair, Role::Secretary])?;
    let (referrals, _) = service::list(&state, &viewer.user, &params()).await?;
    let mut sections = sections(&state, &referrals).await?;
    let offers = crate::offers::list(&state, &viewer.user, Some("open"))
        .await
        .or_else(|err| match err {
            crate::error::Error::NotAllowed(_) => Ok(Vec::new()),
            other => Err(other),
        })?;
    if matches!(viewer.user.role, Role::Coordinator | Role::Chair) {
        sections.insert(1, offer_section(&state, offers));
    }
    let after = after_conversation(&state, &viewer.user).await?;
    // The case references shown here are reads like the list's.
    let ids: Vec<i64> = after
        .iter()
        .flat_map(|s| s.items.iter().map(|i| i.id))
        .collect();
    crate::auth::audit::record_reads(
        &state.store,
        state.now(),
        &viewer.user,
        "referral.read",
        &ids,
        Some("worklist"),
    )
    .await?;
    sections.extend(after);
    // The menu counts what this page lists: no second round of queries.
    let offers = sections
        .iter()
        .find(|s| s.id == OFFERS)
        .map_or(0, |s| s.items.len());
    let todo = distinct(sections.iter().filter(|s| s.id != OFFERS));
    render(&TodoPage {
        chrome: viewer.chrome_with("/te-doen", Some((todo, offers))),
        sections,
    })
}

/// The id of the open offers' list (counted apart in the menu).
const OFFERS: &str = "aanbiedingen";

/// How many distinct referrals the lists hold.
fn distinct<'a>(sections: impl Iterator<Item = &'a Section>) -> usize {
    let mut ids: Vec<i64> = sections
        .flat_map(|s| s.items.iter().map(|i| i.id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// The lists of what follows a held conversation: reports to send and
/// written evaluations due, at the viewer's table.
async fn after_conversation(
    state: &AppState,
    user: &crate::auth::CurrentUser,
) -> Result<Vec<Section>, PageError> {
    let today = crate::referrals::norm::local_date(state.now(), state.regions.timezone);
    Ok(vec![
        report_section(crate::reports::to_send(state, user).await?),
        written_section(
            state,
            crate::referrals::written::due(state, user, today).await?,
        ),
    ])
}

/// How many distinct referrals need something of the viewer, and how many
/// offers wait for their answer, for the menu; `None` for roles without a
/// worklist. Nothing is shown, so nothing is audited as read.
///
/// # Errors
/// Storage errors.
pub async fn counts(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Option<(usize, usize)>, PageError> {
    if !matches!(
        viewer.user.role,
        Role::Coordinator | Role::Chair | Role::Secretary
    ) {
        return Ok(None);
    }
    let referrals = service::list_for_count(state, &viewer.user, &params()).await?;
    let mut lists = sections(state, &referrals).await?;
    lists.extend(after_conversation(state, &viewer.user).await?);
    let offers = crate::offers::open_count(state, &viewer.user).await?;
    Ok(Some((distinct(lists.iter()), offers)))
}

/// Held conversations whose report is still to send, the oldest first.
fn report_section(due: Vec<crate::reports::Due>) -> Section {
    Section {
        id: "verslagen",
        title: "Verslag nog vaststellen en versturen",
        hint: "Schrijf het verslag met de veiligheidsafspraken en verstuur het; de norm is een aantal werkdagen na het gesprek.",
        items: due
            .into_iter()
            .map(|d| Item {
                id: d.referral_id,
                href: format!("/referrals/{}/verslag", d.referral_id),
                case_ref: d.case_ref,
                region: d.table,
                what: format!(
                    "uiterlijk {}{}",
                    format::date(d.due),
                    if d.late { ", te laat" } else { "" }
                ),
            })
            .collect(),
    }
}

/// Written evaluations due, to record as received or not.
fn written_section(state: &AppState, due: Vec<crate::referrals::written::WrittenDue>) -> Section {
    Section {
        id: "schriftelijk",
        title: "Schriftelijke evaluatie verwacht",
        hint: "Leg op de pagina van de aanmelding vast of de schriftelijke evaluatie binnen is.",
        items: due
            .into_iter()
            .map(|d| Item {
                id: d.referral_id,
                href: format!("/referrals/{}", d.referral_id),
                case_ref: d.case_ref,
                region: state.regions.region_name(&d.table),
                what: format!("uiterlijk {} door {}", format::date(d.due), d.by),
            })
            .collect(),
    }
}

fn params() -> ListParams {
    ListParams {
        status: Some(OPEN.into()),
        limit: Some("500".into()),
        ..ListParams::default()
    }
}

/// Open offers to the viewer's table (a coordinator: all), the nearest
/// deadline first.
fn offer_section(state: &AppState, mut offers: Vec<crate::offers::OfferView>) -> Section {
    offers.sort_by(|a, b| a.deadline.cmp(&b.deadline));
    let tz = state.regions.timezone;
    Section {
        id: OFFERS,
        title: "Aanbiedingen aan de tafel, nog te beantwoorden",
        hint: "Neem aan of wijs af in Aanbiedingen; onbeantwoord vervalt een aanbod na de termijn.",
        items: offers
            .into_iter()
            .map(|o| Item {
                id: o.referral_id,
                href: format!("/inbox#offer-{}", o.id),
                case_ref: o.case_ref,
                region: o.home_region.name,
                what: format!(
                    "antwoord uiterlijk {}",
                    format::moment_text(&o.deadline, tz)
                ),
            })
            .collect(),
    }
}

/// The lists of the worklist over `referrals` (in the viewer's scope).
async fn sections(
    state: &AppState,
    referrals: &[crate::referrals::store::Referral],
) -> Result<Vec<Section>, PageError> {
    let ids: Vec<i64> = referrals.iter().map(|r| r.id).collect();
    let questions = crate::referrals::info::open_counts(state, &ids).await?;
    let views: Vec<ReferralView> = referrals.iter().map(|r| view::of(state, r)).collect();
    let now = state.now();
    let tz = state.regions.timezone;
    let started = |v: &ReferralView| v.booked_slot_started(now);
    let item = |v: &ReferralView, what: String| Item {
        id: v.id,
        href: format!("/referrals/{}", v.id),
        case_ref: v.case_ref.clone(),
        region: v.region.name.clone(),
        what,
    };
    let pick = |keep: &dyn Fn(&ReferralView) -> bool, what: &dyn Fn(&ReferralView) -> String| {
        views
            .iter()
            .filter(|v| keep(v))
            .map(|v| item(v, what(v)))
            .collect::<Vec<_>>()
    };
    let due = |v: &ReferralView| format!("uiterlijk {}", format::date(v.norm.due));
    let sections = vec![
        Section {
            id: "laat",
            title: "Te laat of met risico, nog zonder afspraak",
            hint: "Zoek een plek, eventueel aan een buurtafel, of bied een extra zitting aan (zie het dashboard).",
            items: pick(
                &|v| {
                    !matches!(v.status, Status::Booked | Status::Held)
                        && matches!(v.norm.status, NormStatus::Late | NormStatus::AtRisk)
                },
                &|v| format!("{}, {}", format::norm(v.norm.status).0, due(v)),
            ),
        },
        Section {
            id: "bevestigen",
            title: "Voorlopige plekken te bevestigen",
            hint: "Bevestig ze op het planbord (meerdere tegelijk) of op de pagina van de aanmelding.",
            items: pick(&|v| v.status == Status::Planned, &|v| {
                v.planned_slot.as_ref().map_or_else(String::new, |s| {
                    format!("voorlopig {}", format::slot(&state.regions, s))
                })
            }),
        },
        Section {
            id: "gehouden",
            title: "Gesprek voorbij: gehouden of niet doorgegaan?",
            hint: "Leg op de pagina vast dat het gesprek is gehouden, of dat het niet doorging (met de reden).",
            items: pick(&|v| v.status == Status::Booked && started(v), &|v| {
                v.booked_slot
                    .as_ref()
                    .map_or_else(String::new, |s| format!("was op {}", format::moment_text(&s.start, tz)))
            }),
        },
        Section {
            id: "uitkomst",
            title: "Gehouden, uitkomst nog vastleggen",
            hint: "Leg de uitkomst en de veiligheidsafspraken vast op de pagina van de aanmelding.",
            items: pick(&|v| v.status == Status::Held, &|_| "gehouden".into()),
        },
        Section {
            id: "onvolledig",
            title: "Onvolledig: wordt nog niet ingepland",
            hint: "Vraag de verwijzer om wat ontbreekt.",
            items: pick(&|v| v.status == Status::Incomplete, &|v| {
                let missing: Vec<&str> = v.missing.iter().map(|m| format::missing(m)).collect();
                format!("ontbreekt: {}", missing.join(", "))
            }),
        },
        Section {
            id: "vragen",
            title: "Vragen aan de verwijzer, nog zonder antwoord",
            hint: "De verwijzer heeft een bericht gekregen; het antwoord verschijnt op de pagina.",
            items: pick(&|v| questions.get(&v.id).is_some_and(|n| *n > 0), &|v| {
                let n = questions.get(&v.id).copied().unwrap_or(0);
                if n == 1 { "1 vraag open".into() } else { format!("{n} vragen open") }
            }),
        },
    ];
    Ok(sections)
}
