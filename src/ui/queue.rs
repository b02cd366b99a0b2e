//! The board's queue: referrals not yet booked, most urgent first, with
//! the norm clock, the tentative slot and open questions of the table;
//! searchable by case reference, narrowed by norm status, kind and own or
//! neighbouring table, and sorted ([`QueueFilter`]).

use super::{format, Choice, PageError, Said, Viewer};
use crate::config::RegionId;
use crate::referrals::input::ListParams;
use crate::referrals::norm::NormStatus;
use crate::referrals::service as referrals;
use crate::referrals::view::ReferralView;
use crate::state::AppState;

/// The queue shows at most this many referrals (the most urgent).
const QUEUE_LIMIT: &str = "500";

/// One referral in the queue.
pub struct QueueEntry {
    /// The referral's id (the bulk confirmation's checkbox).
    pub id: i64,
    /// Planned at a table whose bookings the viewer confirms: a checkbox.
    pub confirmable: bool,
    /// The referral's page.
    pub href: String,
    /// The case reference.
    pub case_ref: String,
    /// The home region's name.
    pub region: String,
    /// The kind in Dutch.
    pub kind: &'static str,
    /// The status in Dutch.
    pub status: &'static str,
    /// The due date, `30-11-2026`.
    pub due: String,
    /// Calendar days since the local date of registration.
    pub days_waiting: i64,
    /// On track / at risk / late, in Dutch.
    pub norm_label: &'static str,
    /// CSS class of the norm: `ok`, `risk` or `late`.
    pub norm_class: &'static str,
    /// The planned slot's start and region, when planned.
    pub planned: Option<String>,
    /// Questions of the table the professional has not answered yet.
    pub open_questions: i64,
}

/// Referrals not yet booked, most urgent first, through the same handler
/// (scope and audit) as `GET /api/v1/referrals`; `case_ref` narrows them
/// to case references containing it.
///
/// # Errors
/// An invalid search text (422 page); storage errors.
pub async fn queue(
    state: &AppState,
    viewer: &Viewer,
    region: Option<&RegionId>,
    case_ref: Option<&str>,
    filter: &QueueFilter,
) -> Result<Vec<QueueEntry>, PageError> {
    let params = ListParams {
        status: Some("registered,incomplete,planned".into()),
        region: region.map(|r| r.as_str().to_string()),
        limit: Some(QUEUE_LIMIT.into()),
        case_ref: case_ref.map(str::to_string),
        ..ListParams::default()
    };
    let (list, _) = referrals::list(state, &viewer.user, &params).await?;
    let ids: Vec<i64> = list.iter().map(|r| r.id).collect();
    let questions = crate::referrals::info::open_counts(state, &ids).await?;
    let tz = state.regions.timezone;
    let table = region.or(viewer.user.region.as_ref());
    let mut views: Vec<ReferralView> = list
        .iter()
        .map(|r| crate::referrals::view::of(state, r))
        .filter(|r| filter.keeps(r, table))
        .collect();
    filter.sort.apply(&mut views);
    Ok(views
        .into_iter()
        .map(|r| {
            let (norm_label, norm_class) = format::norm(r.norm.status);
            let confirmable = r.status == crate::referrals::lifecycle::Status::Planned
                && r.planned_slot.as_ref().is_some_and(|s| {
                    crate::referrals::access::may_at(
                        &viewer.user,
                        crate::referrals::access::Action::Confirm,
                        &s.region,
                    )
                });
            QueueEntry {
                id: r.id,
                confirmable,
                open_questions: questions.get(&r.id).copied().unwrap_or(0),
                href: format!("/referrals/{}", r.id),
                case_ref: r.case_ref,
                region: r.region.name,
                kind: format::kind(r.kind.as_str()),
                status: format::referral_status(r.status.as_str()),
                due: format::date(r.norm.due),
                days_waiting: r.norm.days_waiting,
                norm_label,
                norm_class,
                planned: r.planned_slot.map(|s| {
                    format!(
                        "{} {}",
                        format::moment_text(&s.start, tz),
                        state.regions.region_name(&s.region)
                    )
                }),
            }
        })
        .collect())
}

/// Whether the viewer confirms bookings at `region`'s table: a coordinator
/// anywhere, a chair at the own table (the service checks it again).
/// The bulk confirmation's form: a checkbox `confirm_<id>` per referral.
#[derive(Debug, serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    boxes: std::collections::BTreeMap<String, String>,
}

/// `POST /board/bevestigen`: confirms the tentative slot of every referral
/// ticked in the queue, each through the same service as the referral
/// page (role, scope, lifecycle and placement rules checked per referral).
/// Back to the board with how many were confirmed and how many not (those
/// stay in the queue, their page says why).
///
/// # Errors
/// 403 page for a wrong form token; a box that names no referral (422).
pub async fn confirm(
    axum::extract::State(state): axum::extract::State<AppState>,
    viewer: Viewer,
    super::form::PageForm(form): super::form::PageForm<ConfirmForm>,
) -> Result<axum::response::Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let mut ids = Vec::new();
    for key in form.boxes.keys() {
        let id = key
            .strip_prefix("confirm_")
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| PageError::Invalid(super::Said::nl(format!("onbekend veld {key:?}"))))?;
        ids.push(id);
    }
    let (mut done, mut refused) = (0, 0);
    for id in ids {
        match referrals::book(&state, &viewer.user, id, None).await {
            Ok(_) => done += 1,
            Err(crate::error::Error::Store(err)) => return Err(err.into()),
            Err(_) => refused += 1,
        }
    }
    Ok(axum::response::Redirect::to(&format!(
        "/board?bevestigd={done}&niet={refused}"
    )))
}

/// Which table's referrals: those whose home region is the table's own, or
/// those of neighbouring regions planned at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableSide {
    /// `eigen`: the home region is the table's region.
    Own,
    /// `buur`: from a neighbouring region.
    Neighbouring,
}

/// The queue's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// `urgentie` (default): the list's order, most urgent first.
    #[default]
    Urgency,
    /// `uiterlijk`: due date, earliest first.
    Due,
    /// `wacht`: days waiting, longest first.
    Waiting,
    /// `kenmerk`: case reference, alphabetical.
    CaseRef,
    /// `regio`: home region's name, then due date.
    Region,
}

const SORTS: [(QueueSort, &str, &str); 5] = [
    (QueueSort::Urgency, "urgentie", "urgentie"),
    (QueueSort::Due, "uiterlijk", "uiterlijke datum"),
    (QueueSort::Waiting, "wacht", "langst wachtend"),
    (QueueSort::CaseRef, "kenmerk", "kenmerk"),
    (QueueSort::Region, "regio", "regio"),
];

const NORMS: [(NormStatus, &str, &str); 3] = [
    (NormStatus::OnTrack, "op-schema", "op schema"),
    (NormStatus::AtRisk, "risico", "risico"),
    (NormStatus::Late, "te-laat", "te laat"),
];

const KINDS: [&str; 3] = ["vtb", "ots_end", "evaluation"];

const SIDES: [(TableSide, &str, &str); 2] = [
    (TableSide::Own, "eigen", "eigen regio"),
    (TableSide::Neighbouring, "buur", "uit buurregio's"),
];

impl QueueSort {
    /// Sorts `views` (stable: ties keep the urgency order).
    fn apply(self, views: &mut [ReferralView]) {
        match self {
            QueueSort::Urgency => {}
            QueueSort::Due => views.sort_by_key(|v| v.norm.due),
            QueueSort::Waiting => views.sort_by_key(|v| std::cmp::Reverse(v.norm.days_waiting)),
            QueueSort::CaseRef => views.sort_by(|a, b| a.case_ref.cmp(&b.case_ref)),
            QueueSort::Region => views
                .sort_by(|a, b| (&a.region.name, a.norm.due).cmp(&(&b.region.name, b.norm.due))),
        }
    }
}

/// The queue's filters and order, from the board's query string: `norm`
/// (`op-schema`, `risico`, `te-laat`), `soort` (`vtb`, `ots_end`,
/// `evaluation`), `tafel` (`eigen`, `buur`) and `sorteer` (see
/// [`QueueSort`]); empty or absent is "all" and urgency order.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    norm: Option<NormStatus>,
    kind: Option<&'static str>,
    side: Option<TableSide>,
    sort: QueueSort,
}

fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

fn pick<T: Copy>(
    table: &[(T, &'static str, &'static str)],
    text: Option<&str>,
    what: &str,
) -> Result<Option<T>, PageError> {
    let Some(text) = given(text) else {
        return Ok(None);
    };
    table
        .iter()
        .find(|(_, value, _)| *value == text)
        .map(|(t, _, _)| Some(*t))
        .ok_or_else(|| {
            let known: Vec<&str> = table.iter().map(|(_, v, _)| *v).collect();
            PageError::Invalid(Said::nl(format!(
                "onbekende waarde {text:?} voor {what}; kies uit {}",
                known.join(", ")
            )))
        })
}

impl QueueFilter {
    /// Reads the four parameters; `table` is the region the `tafel` choice
    /// is about (the board's region filter or the viewer's own region).
    ///
    /// # Errors
    /// [`PageError::Invalid`] naming the parameter and the values it takes,
    /// or that `tafel` needs a region.
    pub fn parse(
        norm: Option<&str>,
        kind: Option<&str>,
        side: Option<&str>,
        sort: Option<&str>,
        table: Option<&RegionId>,
    ) -> Result<QueueFilter, PageError> {
        let kinds: Vec<(&'static str, &'static str, &'static str)> =
            KINDS.iter().map(|k| (*k, *k, *k)).collect();
        let side = pick(&SIDES, side, "tafel")?;
        if side.is_some() && table.is_none() {
            return Err(PageError::Invalid(Said::nl(
                "kies eerst een regio: eigen of buurtafel gaat over één tafel",
            )));
        }
        Ok(QueueFilter {
            norm: pick(&NORMS, norm, "norm")?,
            kind: pick(&kinds, kind, "soort")?,
            side,
            sort: pick(&SORTS, sort, "sorteer")?.unwrap_or_default(),
        })
    }

    fn keeps(&self, view: &ReferralView, table: Option<&RegionId>) -> bool {
        let home = view.region.id.as_str();
        self.norm.is_none_or(|n| view.norm.status == n)
            && self.kind.is_none_or(|k| view.kind.as_str() == k)
            && match (self.side, table) {
                (Some(TableSide::Own), Some(t)) => home == t.as_str(),
                (Some(TableSide::Neighbouring), Some(t)) => home != t.as_str(),
                _ => true,
            }
    }

    /// The options of the norm filter, "alle" first.
    pub fn norm_choices(&self) -> Vec<Choice> {
        choices(
            NORMS
                .iter()
                .map(|(n, v, l)| (*v, *l, self.norm == Some(*n))),
        )
    }

    /// The options of the kind filter, "alle" first.
    pub fn kind_choices(&self) -> Vec<Choice> {
        choices(
            KINDS
                .iter()
                .map(|k| (*k, format::kind(k), self.kind == Some(*k))),
        )
    }

    /// The options of the table filter, "alle" first.
    pub fn side_choices(&self) -> Vec<Choice> {
        choices(
            SIDES
                .iter()
                .map(|(s, v, l)| (*v, *l, self.side == Some(*s))),
        )
    }

    /// The orders to choose from, urgency first.
    pub fn sort_choices(&self) -> Vec<Choice> {
        SORTS
            .iter()
            .map(|(s, v, l)| Choice {
                value: (*v).to_string(),
                label: (*l).to_string(),
                selected: self.sort == *s,
            })
            .collect()
    }

    /// The filters and order in words: "te laat, VTB-gesprek, op
    /// urgentie"; "alle, op urgentie" without filters.
    pub fn describe(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(n) = self.norm {
            parts.extend(NORMS.iter().filter(|(s, _, _)| *s == n).map(|(_, _, l)| *l));
        }
        if let Some(k) = self.kind {
            parts.push(format::kind(k));
        }
        if let Some(side) = self.side {
            parts.extend(
                SIDES
                    .iter()
                    .filter(|(s, _, _)| *s == side)
                    .map(|(_, _, l)| *l),
            );
        }
        if parts.is_empty() {
            parts.push("alle");
        }
        let order = SORTS
            .iter()
            .find(|(s, _, _)| *s == self.sort)
            .map_or("urgentie", |(_, _, l)| *l);
        format!("{}, op {order}", parts.join(", "))
    }

    /// Whether anything narrows the queue (then the page says so).
    pub fn narrows(&self) -> bool {
        self.norm.is_some() || self.kind.is_some() || self.side.is_some()
    }
}

fn choices<'a>(options: impl Iterator<Item = (&'a str, &'a str, bool)>) -> Vec<Choice> {
    let options: Vec<_> = options.collect();
    let any = options.iter().any(|(_, _, s)| *s);
    std::iter::once(Choice {
        value: String::new(),
        label: "alle".into(),
        selected: !any,
    })
    .chain(options.into_iter().map(|(v, l, s)| Choice {
        value: v.to_string(),
        label: l.to_string(),
        selected: s,
    }))
    .collect()
}
