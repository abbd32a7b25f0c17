//! The CSV files the API serves: Italian Excel's form (`;`, decimal commas, a UTF-8 byte-order
//! mark, CRLF), so a double click opens them with the columns split and the numbers as numbers.
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;

/// Cents as euros with a decimal comma: `-2,30`.
pub fn euros(cents: i64) -> String {
    italian(Decimal::new(cents, 2))
}

/// A decimal with a decimal comma.
pub fn italian(value: Decimal) -> String {
    value.to_string().replace('.', ",")
}

/// [`italian`], or an empty cell for no value.
pub fn italian_or_blank(value: Option<Decimal>) -> String {
    value.map(italian).unwrap_or_default()
}

/// Free text as a cell: quoted when it holds the separator, a quote or a line break (quotes
/// doubled), and with a leading `'` when it starts like a formula (`=`, `+`, `-`, `@`), so a
/// spreadsheet shows it instead of running it.
pub fn text(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The lines as a downloadable file named `filename`.
pub fn response(filename: &str, lines: Vec<String>) -> Response {
    // A byte-order mark and CRLF: Excel opens the file in UTF-8 with the columns split.
    let body = format!("\u{feff}{}\r\n", lines.join("\r\n"));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_cannot_split_a_line_or_run_a_formula() {
        assert_eq!(text("Bonifico marzo"), "Bonifico marzo");
        assert_eq!(text("a;b"), "\"a;b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text("-2,30"), "'-2,30");
        assert_eq!(euros(-230), "-2,30");
    }
}
