//! The board and its queue as CSV or Excel (`GET /board/wachtrij.csv`,
//! `/board/planbord.csv`, `/board/planbord.xlsx` with both sheets), with
//! the board's filters: built by the board itself, so the same scope,
//! filters and read audit apply.

use axum::extract::{Query, State};
use axum::response::Response;

use super::board::{build, BoardView};
use super::board_filters::BoardQuery;
use super::export::{download, Cell, Kind, Sheet};
use super::{PageError, Viewer};
use crate::state::AppState;

/// `GET /board/wachtrij.csv`: the queue as shown (filters and order).
///
/// # Errors
/// As the board page.
pub async fn queue_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<BoardQuery>,
) -> Result<Response, PageError> {
    let view = build(&state, &viewer, &query).await?;
    download(Kind::Csv, "wachtrij", "Wachtrij", &[queue_sheet(&view)])
}

/// `GET /board/planbord.csv`: every slot of the board shown, one per row.
///
/// # Errors
/// As the board page.
pub async fn board_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<BoardQuery>,
) -> Result<Response, PageError> {
    let view = build(&state, &viewer, &query).await?;
    download(Kind::Csv, "planbord", "Planbord", &[board_sheet(&view)])
}

/// `GET /board/planbord.xlsx`: the board and the queue, a sheet each.
///
/// # Errors
/// As the board page.
pub async fn board_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<BoardQuery>,
) -> Result<Response, PageError> {
    let view = build(&state, &viewer, &query).await?;
    let sheets = [board_sheet(&view), queue_sheet(&view)];
    download(Kind::Xlsx, "planbord", "Planbord en wachtrij", &sheets)
}

fn queue_sheet(view: &BoardView) -> Sheet {
    Sheet {
        name: "Wachtrij",
        headers: vec![
            "Aanmelding",
            "Regio",
            "Soort",
            "Status",
            "Uiterlijk",
            "Wacht (dagen)",
            "Norm",
            "Voorlopige plek",
            "Open vragen",
        ],
        rows: view
            .queue
            .iter()
            .map(|q| {
                vec![
                    q.case_ref.as_str().into(),
                    q.region.as_str().into(),
                    q.kind.into(),
                    q.status.into(),
                    q.due.as_str().into(),
                    q.days_waiting.into(),
                    q.norm_label.into(),
                    q.planned.clone().into(),
                    q.open_questions.into(),
                ]
            })
            .collect(),
    }
}

fn board_sheet(view: &BoardView) -> Sheet {
    let mut rows = Vec::new();
    for region in &view.rows {
        for (week, chips) in view.weeks.iter().zip(&region.cells) {
            for chip in chips {
                rows.push(vec![
                    region.name.as_str().into(),
                    week.label.as_str().into(),
                    chip.day.as_str().into(),
                    chip.time.as_str().into(),
                    if chip.minutes > 0 {
                        chip.minutes.into()
                    } else {
                        Cell::Empty
                    },
                    chip.state_label.into(),
                    chip.case_ref.clone().into(),
                    chip.kind.into(),
                    chip.waiting_days.into(),
                    chip.from_region.clone().into(),
                    chip.note.clone().into(),
                ]);
            }
        }
    }
    Sheet {
        name: "Planbord",
        headers: vec![
            "Regio",
            "Week",
            "Dag",
            "Tijd",
            "Minuten",
            "Status",
            "Aanmelding",
            "Soort",
            "Wacht (dagen)",
            "Uit regio",
            "Opmerking",
        ],
        rows,
    }
}
