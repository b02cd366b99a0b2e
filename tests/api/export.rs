//! Story: the queue, the board and the dashboard figures download as CSV
//! and Excel, in the viewer's scope, with formula-like cells neutralised.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use jbt::auth::Role;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use crate::browser::Browser;
use crate::helpers::*;
use crate::planning::register;
use crate::story;

story!(exports_open_hold_the_scope_and_neutralise_formulas, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    // "-2-A1" is a valid case reference, and to a spreadsheet a formula.
    register(&app, &coordinator, "-2-A1", "Ede").await;
    register(&app, &coordinator, "EXP-0002", "Arnhem").await;
    app.replan().await;
    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;

    let board = browser
        .get("/board?sorteer=kenmerk")
        .await
        .text()
        .await
        .expect("board");
    assert!(
        board.contains("/board/wachtrij.csv?sorteer=kenmerk"),
        "links keep the filters"
    );

    let csv = browser.get("/board/wachtrij.csv?sorteer=kenmerk").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers()[CONTENT_DISPOSITION],
        "attachment; filename=\"wachtrij.csv\""
    );
    assert_eq!(csv.headers()["cache-control"], "no-store");
    let text = csv.text().await.expect("csv");
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("Aanmelding;Regio;Soort"), "{text}");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with("'-2-A1;FoodValley;"), "{text}");
    assert!(
        lines[2].starts_with("EXP-0002;Centraal Gelderland;"),
        "{text}"
    );

    let xlsx = browser.get("/board/planbord.xlsx").await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.expect("xlsx").to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx that opens");
    assert_eq!(book.sheet_names(), ["Planbord", "Wachtrij"]);
    let queue = book.worksheet_range("Wachtrij").expect("the queue sheet");
    let refs: Vec<&Data> = queue.rows().skip(1).map(|row| &row[0]).collect();
    assert!(refs.contains(&&Data::String("'-2-A1".into())), "{refs:?}");
    let waits: Vec<&Data> = queue.rows().skip(1).map(|row| &row[5]).collect();
    assert!(
        waits.iter().all(|w| matches!(w, Data::Float(_))),
        "days are numbers: {waits:?}"
    );
    for sheet in ["Planbord", "Wachtrij"] {
        let formulas = book.worksheet_formula(sheet).expect("formulas");
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "no formula in {sheet}"
        );
    }
    let slots = book.worksheet_range("Planbord").expect("the board sheet");
    let tentative = slots
        .rows()
        .filter(|row| row[5] == Data::String("voorlopig".into()))
        .count();
    assert_eq!(tentative, 2, "both referrals hold a tentative slot");

    // A chair of Achterhoek sees neither case in the export either.
    let chair = app.user(Role::Chair, Some("achterhoek")).await;
    let mut theirs = Browser::new(&app);
    theirs.login(&chair).await;
    let their_csv = theirs
        .get("/board/wachtrij.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        !their_csv.contains("2-A1") && !their_csv.contains("EXP-0002"),
        "{their_csv}"
    );
    // A municipal contact has no board, so no export of it.
    let contact = app.user(Role::MunicipalContact, Some("GM0228")).await;
    let mut municipal = Browser::new(&app);
    municipal.login(&contact).await;
    assert_eq!(
        municipal.get("/board/planbord.csv").await.status(),
        StatusCode::FORBIDDEN
    );

    // The dashboard's figures: a row per region.
    let figures = browser
        .get("/dashboard/cijfers.xlsx")
        .await
        .bytes()
        .await
        .expect("xlsx");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(figures.to_vec())).expect("opens");
    let rows = book.worksheet_range("Wachttijden").expect("the sheet");
    assert_eq!(rows.rows().count(), 1 + app.state.regions.regions.len());
    let csv = browser
        .get("/dashboard/cijfers.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert!(csv.contains("FoodValley;"), "{csv}");
});
