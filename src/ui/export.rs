//! Exports of what a page shows, as CSV (one table) or Excel (`.xlsx`, a
//! sheet per table), for coordinators and chairs who keep their own lists.
//! Same scope and audit as the page, since the same builder makes them.
//!
//! Spreadsheet programs run a cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return as a formula (CSV injection, OWASP): every text
//! cell that does is written with a leading `'`, in both formats, so it is
//! shown as text. Numbers stay numbers.

use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{DocProperties, Format, Workbook};

use super::PageError;

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, neutralised when written.
    Text(String),
    /// A number (days, counts, percentages).
    Number(f64),
    /// Nothing.
    Empty,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Number(n as f64)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Cell {
        value.map_or(Cell::Empty, Into::into)
    }
}

/// A table to export: a sheet in a workbook.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// The sheet's name (at most 31 characters, Excel's limit).
    pub name: &'static str,
    /// The column heads (Dutch).
    pub headers: Vec<&'static str>,
    /// The rows, each as long as `headers`.
    pub rows: Vec<Vec<Cell>>,
}

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `text/csv`, UTF-8 with a byte-order mark, `;`-separated (what Dutch
    /// Excel opens without asking).
    Csv,
    /// Office Open XML workbook.
    Xlsx,
}

/// `text` as a spreadsheet shows it but never runs it: a leading `'` when
/// it starts with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The file for `sheets` in `kind` (CSV holds the first sheet only), sent
/// as a download named `name` plus the extension; never cached.
///
/// # Errors
/// A sheet that cannot be written (500 page).
pub fn download(
    kind: Kind,
    name: &str,
    title: &str,
    sheets: &[Sheet],
) -> Result<Response, PageError> {
    let (bytes, mime, extension) = match kind {
        Kind::Csv => (csv(sheets.first())?, "text/csv; charset=utf-8", "csv"),
        Kind::Xlsx => (
            xlsx(title, sheets)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(attachment(bytes, mime, &format!("{name}.{extension}")))
}

/// The PDF of `blocks` titled `title` (see `crate::pdf`), sent as a
/// download named `name` plus `.pdf`; never cached.
///
/// # Errors
/// A document the PDF writer refuses (500 page).
pub fn pdf(name: &str, title: &str, blocks: &[crate::pdf::Block]) -> Result<Response, PageError> {
    let bytes = crate::pdf::render(title, blocks).map_err(|e| failed("PDF", e))?;
    Ok(attachment(bytes, "application/pdf", &format!("{name}.pdf")))
}

/// `bytes` as a download named `file`: case data, so never cached.
fn attachment(bytes: Vec<u8>, mime: &str, file: &str) -> Response {
    (
        [
            (CONTENT_TYPE, mime.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

fn failed(what: &str, err: impl std::fmt::Display) -> PageError {
    PageError::Internal(anyhow::anyhow!("writing the {what} export: {err}"))
}

fn csv(sheet: Option<&Sheet>) -> Result<Vec<u8>, PageError> {
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer("\u{feff}".as_bytes().to_vec());
    if let Some(sheet) = sheet {
        out.write_record(&sheet.headers)
            .map_err(|e| failed("CSV", e))?;
        for row in &sheet.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Cell::Text(text) => neutralise(text),
                    // Dutch decimal comma, as the pages show figures.
                    Cell::Number(n) => n.to_string().replace('.', ","),
                    Cell::Empty => String::new(),
                })
                .collect();
            out.write_record(&fields).map_err(|e| failed("CSV", e))?;
        }
    }
    out.into_inner().map_err(|e| failed("CSV", e))
}

fn xlsx(title: &str, sheets: &[Sheet]) -> Result<Vec<u8>, PageError> {
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_author("jbt-planner"),
    );
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let page = book.add_worksheet();
        page.set_name(sheet.name).map_err(|e| failed("Excel", e))?;
        for (col, head) in (0u16..).zip(&sheet.headers) {
            page.write_string_with_format(0, col, *head, &bold)
                .map_err(|e| failed("Excel", e))?;
        }
        for (row, cells) in (1u32..).zip(&sheet.rows) {
            for (col, cell) in (0u16..).zip(cells) {
                match cell {
                    Cell::Text(text) => page.write_string(row, col, neutralise(text)),
                    Cell::Number(n) => page.write_number(row, col, *n),
                    Cell::Empty => continue,
                }
                .map_err(|e| failed("Excel", e))?;
            }
        }
        page.set_freeze_panes(1, 0)
            .map_err(|e| failed("Excel", e))?;
        page.autofit();
    }
    book.save_to_buffer().map_err(|e| failed("Excel", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_the_rest_is_not() {
        for risky in ["=1+1", "+31 6", "-2", "@SUM(A1)", "\tx", "\r=x"] {
            assert_eq!(neutralise(risky), format!("'{risky}"));
        }
        for plain in ["JBT-26-0815", "FoodValley", "", "a=b"] {
            assert_eq!(neutralise(plain), plain);
        }
    }

    #[test]
    fn csv_has_a_bom_semicolons_quotes_and_decimal_commas() {
        let sheet = Sheet {
            name: "Test",
            headers: vec!["Naam", "Dagen"],
            rows: vec![
                vec!["=HYPERLINK(\"x\")".into(), Cell::Number(4.5)],
                vec!["a;b".into(), Cell::Empty],
            ],
        };
        let bytes = csv(Some(&sheet)).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(
            text,
            "\u{feff}Naam;Dagen\n\"'=HYPERLINK(\"\"x\"\")\";4,5\n\"a;b\";\n"
        );
    }
}
