//! `/evaluatie?regio=&halfjaar=`: the half-yearly evaluation of a table or
//! of all of Gelderland (`reports::evaluation`), as a page, as a PDF
//! (`/evaluatie.pdf`) and as `.xlsx` (`/evaluatie.xlsx`), for the
//! coordinator (any table, or all) and the chairs (their own table). Every
//! form opens it through the same service, so scope and audit are the same.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::export::{self, Cell, Sheet};
use super::{format, render, Chrome, PageError, Viewer};
use crate::auth::Role;
use crate::pdf::Block;
use crate::referrals::norm::local_date;
use crate::reports::evaluation::{evaluate, Evaluation, HalfYear};
use crate::reports::feedback::QUESTIONS;
use crate::state::AppState;

/// `regio` (a region id; empty: all of Gelderland, coordinators only) and
/// `halfjaar` (`2026-H2`; empty: the current one).
#[derive(Debug, Default, Deserialize)]
pub struct EvaluationQuery {
    #[serde(default)]
    regio: Option<String>,
    #[serde(default)]
    halfjaar: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/evaluation.html")]
struct EvaluationPage {
    chrome: Chrome,
    evaluation: Evaluation,
    /// (label, value) lines of the figures.
    lines: Vec<(String, String)>,
    /// The score table's column heads: "Ouders (3)".
    score_heads: Vec<String>,
    /// Per question: the question and the mean of each column.
    score_rows: Vec<(&'static str, Vec<String>)>,
    /// (who, remark).
    open_answers: Vec<(String, String)>,
    /// (id, name, selected); empty id: all of Gelderland.
    regions: Vec<(String, String, bool)>,
    /// (value, label, selected).
    halves: Vec<(String, String, bool)>,
    title: String,
    query: String,
}

/// The page.
///
/// # Errors
/// 403 for other roles and for a chair asking for another table; 404 for
/// an unknown region; 422 for a half-year that is not `2026-H2`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<EvaluationQuery>,
) -> Result<Response, PageError> {
    let (evaluation, half) = open(&state, &viewer, &query).await?;
    let regions = region_choices(&state, &viewer, evaluation.region.as_deref());
    let halves = half_choices(&state, half);
    let page = EvaluationPage {
        chrome: viewer.chrome_counted(&state, "/evaluatie").await,
        lines: lines(&evaluation),
        score_heads: evaluation
            .scores
            .iter()
            .map(|s| format!("{} ({})", who(&s.respondent), s.forms))
            .collect(),
        score_rows: QUESTIONS
            .iter()
            .enumerate()
            .map(|(i, (_, q))| {
                let means = evaluation.scores.iter();
                (
                    *q,
                    means
                        .map(|s| s.means.get(i).map_or(String::new(), |m| decimal(*m)))
                        .collect(),
                )
            })
            .collect(),
        open_answers: evaluation
            .open_answers
            .iter()
            .map(|a| (who(&a.respondent), a.text.clone()))
            .collect(),
        title: title(&evaluation, half),
        query: format!(
            "regio={}&halfjaar={half}",
            evaluation.region.as_deref().unwrap_or("")
        ),
        regions,
        halves,
        evaluation,
    };
    render(&page)
}

/// The PDF of the evaluation.
///
/// # Errors
/// As [`page`].
pub async fn pdf(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<EvaluationQuery>,
) -> Result<Response, PageError> {
    let (evaluation, half) = open(&state, &viewer, &query).await?;
    let title = title(&evaluation, half);
    let mut blocks = vec![
        Block::Heading(1, title.clone()),
        Block::Heading(2, "Cijfers".into()),
        Block::List(
            lines(&evaluation)
                .into_iter()
                .map(|(l, v)| format!("{l}: {v}"))
                .collect(),
        ),
        Block::Heading(2, "Feedback (schaal 1 tot 5)".into()),
    ];
    if evaluation.scores.is_empty() {
        blocks.push(Block::Paragraph("Geen formulieren ingevuld.".into()));
    }
    for s in &evaluation.scores {
        blocks.push(Block::Heading(
            3,
            format!("{} ({} formulieren)", who(&s.respondent), s.forms),
        ));
        blocks.push(Block::List(
            QUESTIONS
                .iter()
                .zip(&s.means)
                .map(|((_, q), m)| format!("{q}: {}", decimal(*m)))
                .collect(),
        ));
    }
    blocks.push(Block::Heading(2, "Open antwoorden".into()));
    let open_answers = evaluation.open_answers.iter();
    blocks.push(Block::list_or(
        open_answers
            .map(|a| format!("{}: {}", who(&a.respondent), a.text))
            .collect(),
        "Geen.",
    ));
    export::pdf(&file_name(&evaluation), &title, &blocks)
}

/// The `.xlsx` of the evaluation: sheets *Cijfers*, *Feedback* and *Open
/// antwoorden*.
///
/// # Errors
/// As [`page`].
pub async fn xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<EvaluationQuery>,
) -> Result<Response, PageError> {
    let (evaluation, half) = open(&state, &viewer, &query).await?;
    let figures = Sheet {
        name: "Cijfers",
        headers: vec!["Onderdeel", "Waarde"],
        rows: numbers(&evaluation)
            .into_iter()
            .map(|(label, value)| vec![Cell::from(label), value])
            .collect(),
    };
    let mut headers = vec!["Wie", "Formulieren"];
    headers.extend(QUESTIONS.iter().map(|(_, q)| *q));
    let feedback = Sheet {
        name: "Feedback",
        headers,
        rows: evaluation
            .scores
            .iter()
            .map(|s| {
                let mut row = vec![Cell::from(who(&s.respondent)), Cell::Number(s.forms as f64)];
                row.extend(s.means.iter().map(|m| Cell::Number(*m)));
                row
            })
            .collect(),
    };
    let open_answers = Sheet {
        name: "Open antwoorden",
        headers: vec!["Wie", "Antwoord"],
        rows: evaluation
            .open_answers
            .iter()
            .map(|a| vec![Cell::from(who(&a.respondent)), Cell::from(a.text.clone())])
            .collect(),
    };
    export::download(
        export::Kind::Xlsx,
        &file_name(&evaluation),
        &title(&evaluation, half),
        &[figures, feedback, open_answers],
    )
}

/// Parses the query and opens the evaluation (scope checked, audited).
async fn open(
    state: &AppState,
    viewer: &Viewer,
    query: &EvaluationQuery,
) -> Result<(Evaluation, HalfYear), PageError> {
    let today = local_date(state.now(), state.regions.timezone);
    let half = match query.halfjaar.as_deref().map(str::trim) {
        None | Some("") => HalfYear::of(today),
        Some(text) => HalfYear::parse(text)?,
    };
    // A chair who names no table means their own.
    let region = match (&query.regio, viewer.user.role) {
        (None, Role::Chair) => viewer.user.region.as_ref().map(|r| r.as_str().to_string()),
        (regio, _) => regio.clone(),
    };
    let evaluation = evaluate(state, &viewer.user, region.as_deref(), half).await?;
    Ok((evaluation, half))
}

fn title(evaluation: &Evaluation, half: HalfYear) -> String {
    let table = match evaluation.region {
        Some(_) => format!("Jeugdbeschermingstafel {}", evaluation.name),
        None => "Jeugdbeschermingstafels Gelderland".to_string(),
    };
    format!("Halfjaarlijkse evaluatie {table}, {}", half.dutch())
}

fn file_name(evaluation: &Evaluation) -> String {
    format!(
        "evaluatie-{}-{}",
        evaluation.region.as_deref().unwrap_or("gelderland"),
        evaluation.half_year
    )
}

fn who(respondent: &str) -> String {
    match respondent {
        "parents" => "Ouders".to_string(),
        _ => "Professionals".to_string(),
    }
}

fn decimal(value: f64) -> String {
    format!("{value:.1}").replace('.', ",")
}

fn share(part: usize, whole: usize) -> String {
    match (part * 100 + whole / 2).checked_div(whole) {
        Some(percent) => format!("{part} van {whole} ({percent}%)"),
        None => "–".to_string(),
    }
}

/// The figures as (label, value) in Dutch, for the page and the PDF.
fn lines(e: &Evaluation) -> Vec<(String, String)> {
    let mut lines = vec![("Gesprekken gehouden".to_string(), e.held.to_string())];
    for o in &e.outcomes {
        let label = format!("Uitkomst: {}", format::outcome(&o.outcome));
        lines.push((label, o.count.to_string()));
    }
    lines.push((
        "Uitkomst nog niet vastgelegd".into(),
        e.without_outcome.to_string(),
    ));
    lines.push((
        "Binnen de norm gehouden".into(),
        share(e.within_norm, e.held),
    ));
    lines.push((
        "Wachttijd (mediaan, dagen)".into(),
        e.median_wait_days.map_or("–".into(), decimal),
    ));
    lines.push((
        "Ontvangen van buurtafels".into(),
        e.received_from_neighbours.to_string(),
    ));
    lines.push((
        "Doorgezet naar buurtafels".into(),
        e.sent_to_neighbours.to_string(),
    ));
    lines.push(("Verslagen verstuurd".into(), share(e.reports_sent, e.held)));
    lines.push((
        "Verslagen op tijd verstuurd".into(),
        share(e.reports_on_time, e.reports_sent),
    ));
    lines.push(("Reacties op verslagen".into(), e.reactions.to_string()));
    lines
}

/// The figures as (label, number) for the spreadsheet.
fn numbers(e: &Evaluation) -> Vec<(String, Cell)> {
    let n = |v: usize| Cell::Number(v as f64);
    let mut rows = vec![("Gesprekken gehouden".to_string(), n(e.held))];
    for o in &e.outcomes {
        rows.push((
            format!("Uitkomst: {}", format::outcome(&o.outcome)),
            n(o.count),
        ));
    }
    rows.extend([
        (
            "Uitkomst nog niet vastgelegd".to_string(),
            n(e.without_outcome),
        ),
        ("Binnen de norm gehouden".to_string(), n(e.within_norm)),
        (
            "Wachttijd (mediaan, dagen)".to_string(),
            e.median_wait_days.map_or(Cell::Empty, Cell::Number),
        ),
        (
            "Ontvangen van buurtafels".to_string(),
            n(e.received_from_neighbours),
        ),
        (
            "Doorgezet naar buurtafels".to_string(),
            n(e.sent_to_neighbours),
        ),
        ("Verslagen verstuurd".to_string(), n(e.reports_sent)),
        (
            "Verslagen op tijd verstuurd".to_string(),
            n(e.reports_on_time),
        ),
        ("Reacties op verslagen".to_string(), n(e.reactions)),
    ]);
    rows
}

/// The tables the viewer may choose: a coordinator every table and all of
/// Gelderland, a chair only their own.
fn region_choices(
    state: &AppState,
    viewer: &Viewer,
    current: Option<&str>,
) -> Vec<(String, String, bool)> {
    let mut choices = Vec::new();
    if viewer.user.role == Role::Coordinator {
        choices.push((
            String::new(),
            "Heel Gelderland".to_string(),
            current.is_none(),
        ));
    }
    for region in &state.regions.regions {
        let id = region.id.as_str();
        let own = viewer
            .user
            .region
            .as_ref()
            .is_some_and(|r| r.as_str() == id);
        if viewer.user.role == Role::Coordinator || own {
            choices.push((id.to_string(), region.name.clone(), current == Some(id)));
        }
    }
    choices
}

/// The current half-year and the three before it, and the chosen one.
fn half_choices(state: &AppState, chosen: HalfYear) -> Vec<(String, String, bool)> {
    let mut half = HalfYear::of(local_date(state.now(), state.regions.timezone));
    let mut choices = Vec::new();
    for _ in 0..4 {
        choices.push((half.to_string(), half.dutch(), half == chosen));
        half = half.previous();
    }
    if !choices.iter().any(|c| c.2) {
        choices.push((chosen.to_string(), chosen.dutch(), true));
    }
    choices
}
