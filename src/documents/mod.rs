//! Documents for people, rendered to PDF in-process: a prepared model in, PDF bytes out, no
//! database and no HTTP here (the member statement is [`statement`]).
//!
//! Written with `pdf-writer` (typst's low-level writer: four small dependencies, all already in
//! our tree) and the PDF standard fonts Helvetica and Helvetica-Bold in WinAnsiEncoding. Every
//! PDF reader has those fonts, so nothing is embedded: a statement is a few kilobytes and the
//! binary carries no font file. WinAnsiEncoding covers € and every Italian accented letter; a
//! character outside it (a Polish `ł`, a Czech `ř`) is written without its accent when Unicode
//! can take it off (`ř` → `r`), as `?` otherwise. The text stays extractable (`pdftotext`, copy
//! and paste, screen readers) because the standard encoding maps every code to its character.
//!
//! A standard font's widths are not in the file unless we put them there, and we need them to
//! right-align amounts and wrap text: [`HELVETICA`] and [`HELVETICA_BOLD`] are Adobe's metrics
//! for the 224 codes we can write, and they also go into each font's `/Widths`, so that a reader
//! that substitutes another face spaces it exactly as laid out.
//!
//! Coordinates are PDF points (1/72 in) from the bottom left, as `f32`; money and energy never
//! pass through a float: they are formatted from integers and `Decimal`s ([`money`], [`kwh`]).
use chrono::{Datelike, NaiveDate};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use rust_decimal::Decimal;
use unicode_normalization::UnicodeNormalization;

use crate::models::enums::Language;

pub mod statement;

/// A4 portrait, in points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        }
    }
}

/// A colour as red, green, blue in `0..=1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
pub const WHITE: Rgb = Rgb(1.0, 1.0, 1.0);

/// How a piece of text is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    pub font: Font,
    pub size: f32,
    pub color: Rgb,
}

impl Style {
    pub const fn new(font: Font, size: f32) -> Style {
        Style {
            font,
            size,
            color: BLACK,
        }
    }

    pub const fn colored(self, color: Rgb) -> Style {
        Style { color, ..self }
    }

    /// The distance between two baselines of this style.
    pub const fn leading(self) -> f32 {
        self.size * 1.3
    }
}

/// The WinAnsiEncoding code of `c`, if it has one.
fn win_ansi(c: char) -> Option<u8> {
    let code = match c {
        ' '..='~' | '\u{a0}'..='ÿ' => return u8::try_from(u32::from(c)).ok(),
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        _ => return None,
    };
    Some(code)
}

/// `text` in WinAnsiEncoding: line breaks and tabs become spaces, other control characters are
/// dropped, and a character the encoding lacks loses its accent (`ł` has none to lose: `?`).
pub fn encode(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() {
            bytes.push(b' ');
        } else if c.is_control() {
            continue;
        } else if let Some(code) = win_ansi(c) {
            bytes.push(code);
        } else {
            let base = c.nfd().next().and_then(win_ansi);
            bytes.push(base.unwrap_or(b'?'));
        }
    }
    bytes
}

/// The width of `text` in points.
pub fn text_width(text: &str, style: Style) -> f32 {
    encoded_width(&encode(text), style)
}

fn encoded_width(bytes: &[u8], style: Style) -> f32 {
    let widths = style.font.widths();
    let units: u32 = bytes
        .iter()
        .map(|&b| u32::from(widths[usize::from(b.saturating_sub(32))]))
        .sum();
    units as f32 * style.size / 1000.0
}

/// `text` broken into lines no wider than `max_width`: at spaces, and inside a word only where
/// the word alone is wider than the line (a long reference), so nothing runs off the page.
/// Line breaks in `text` are kept.
pub fn wrap(text: &str, style: Style, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if text_width(&candidate, style) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if text_width(&line, style) > max_width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// [`wrap`], kept to `max_lines` (at least one): free text typed by people can be of any
/// length, and a row taller than a page could not be placed. A cut text ends with `…`.
pub fn wrap_at_most(text: &str, style: Style, max_width: f32, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(text, style, max_width);
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && text_width(&format!("{last}…"), style) > max_width {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

/// The pages of a document being drawn. Drawing goes to the current page; a document's code
/// decides where pages break, then goes back over them for what needs the page count (footers).
pub struct Pages {
    pages: Vec<Content>,
    current: usize,
}

impl Default for Pages {
    fn default() -> Self {
        Pages::new()
    }
}

impl Pages {
    /// One empty page.
    pub fn new() -> Pages {
        Pages {
            pages: vec![Content::new()],
            current: 0,
        }
    }

    pub fn add_page(&mut self) {
        self.pages.push(Content::new());
        self.current = self.pages.len() - 1;
    }

    pub fn count(&self) -> usize {
        self.pages.len()
    }

    /// Draw on page `index` (from 0) from now on.
    pub fn go_to(&mut self, index: usize) {
        self.current = index.min(self.pages.len() - 1);
    }

    fn content(&mut self) -> &mut Content {
        &mut self.pages[self.current]
    }

    /// `text` with its baseline starting at (`x`, `y`).
    pub fn text(&mut self, x: f32, y: f32, style: Style, text: &str) {
        let bytes = encode(text);
        let Rgb(r, g, b) = style.color;
        self.content()
            .begin_text()
            .set_font(style.font.resource(), style.size)
            .set_fill_rgb(r, g, b)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// `text` ending at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, style: Style, text: &str) {
        self.text(right - text_width(text, style), y, style, text);
    }

    pub fn fill(&mut self, x: f32, y: f32, width: f32, height: f32, color: Rgb) {
        let Rgb(r, g, b) = color;
        self.content()
            .save_state()
            .set_fill_rgb(r, g, b)
            .rect(x, y, width, height)
            .fill_nonzero()
            .restore_state();
    }

    /// A horizontal line from `x1` to `x2` at height `y`.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) {
        let Rgb(r, g, b) = color;
        self.content()
            .save_state()
            .set_stroke_rgb(r, g, b)
            .set_line_width(width)
            .move_to(x1, y)
            .line_to(x2, y)
            .stroke()
            .restore_state();
    }

    /// The PDF file. `title` goes into the document information (what a reader shows in its
    /// title bar); `created` is the document's date, so the same model gives the same bytes.
    pub fn finish(self, title: &str, language: Language, created: NaiveDate) -> Vec<u8> {
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        let regular = Ref::new(4);
        let bold = Ref::new(5);
        let first_page = 6;
        let page_ref = |index: usize, offset: i32| {
            Ref::new(first_page + 2 * i32::try_from(index).unwrap_or(i32::MAX / 4) + offset)
        };

        let mut pdf = Pdf::new();
        pdf.catalog(catalog)
            .pages(tree)
            .lang(TextStr(language.as_str()));
        pdf.pages(tree)
            .kids((0..self.pages.len()).map(|i| page_ref(i, 0)))
            .count(i32::try_from(self.pages.len()).unwrap_or(i32::MAX));
        let date = Date::new(u16::try_from(created.year()).unwrap_or(0))
            .month(u8::try_from(created.month()).unwrap_or(1))
            .day(u8::try_from(created.day()).unwrap_or(1));
        pdf.document_info(info)
            .title(TextStr(title))
            .producer(TextStr("condivisa"))
            .creation_date(date);
        for (font, id, base) in [
            (Font::Regular, regular, Name(b"Helvetica")),
            (Font::Bold, bold, Name(b"Helvetica-Bold")),
        ] {
            pdf.type1_font(id)
                .base_font(base)
                .encoding_predefined(Name(b"WinAnsiEncoding"))
                .first_char(32)
                .last_char(255)
                .widths(font.widths().iter().map(|&w| f32::from(w)));
        }
        for (index, content) in self.pages.into_iter().enumerate() {
            let (page_id, content_id) = (page_ref(index, 0), page_ref(index, 1));
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
                .parent(tree)
                .contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(Font::Regular.resource(), regular);
            fonts.pair(Font::Bold.resource(), bold);
            fonts.finish();
            resources.finish();
            page.finish();
            // Deflated: a year's statement goes from about 50 kB to about 10 kB.
            let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
            pdf.stream(content_id, &compressed)
                .filter(Filter::FlateDecode);
        }
        pdf.finish()
    }
}

/// Digits with a separator between thousands: `1234567` → `1.234.567`.
fn grouped(digits: &str, separator: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

/// The separators of thousands and of decimals.
fn separators(language: Language) -> (char, char) {
    match language {
        Language::It => ('.', ','),
        Language::En => (',', '.'),
    }
}

/// A decimal number as written in `language`, every decimal kept: `-1234.5670` →
/// `-1.234,5670` (it), `-1,234.5670` (en).
pub fn number(language: Language, value: Decimal) -> String {
    let (thousands, decimal) = separators(language);
    let text = value.abs().to_string();
    let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    if value.is_sign_negative() && !value.is_zero() {
        out.push('-');
    }
    out.push_str(&grouped(integer, thousands));
    if !fraction.is_empty() {
        out.push(decimal);
        out.push_str(fraction);
    }
    out
}

/// Energy with at least the three decimals of a Wh, never rounded: `1.234,567 kWh` (it),
/// `1,234.567 kWh` (en).
pub fn kwh(language: Language, value: Decimal) -> String {
    let mut value = value;
    if value.scale() < 3 {
        value.rescale(3);
    }
    format!("{} kWh", number(language, value))
}

/// Euro cents as an amount: `€ 1.234,56` and `€ -1.234,56` (it), `€1,234.56` and `-€1,234.56`
/// (en), as each language's readers write them.
pub fn money(language: Language, cents: i64) -> String {
    let amount = number(language, Decimal::new(cents, 2));
    match (language, amount.strip_prefix('-')) {
        (Language::It, _) => format!("€ {amount}"),
        (Language::En, Some(positive)) => format!("-€{positive}"),
        (Language::En, None) => format!("€{amount}"),
    }
}

/// Adobe's advance widths (per 1000 em) of Helvetica for WinAnsiEncoding codes 32–255, the
/// codes WinAnsi leaves undefined as 0 (never written: [`encode`] does not produce them).
/// From the Core 14 AFM files as groff ships them (`font/devps/HR`), each glyph name placed by
/// the Adobe Glyph List.
#[rustfmt::skip]
pub const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica-Bold, as [`HELVETICA`] (groff's `font/devps/HB`).
#[rustfmt::skip]
pub const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn numbers_are_written_as_each_language_writes_them() {
        assert_eq!(kwh(Language::It, dec("1234.567")), "1.234,567 kWh");
        assert_eq!(kwh(Language::En, dec("1234.567")), "1,234.567 kWh");
        assert_eq!(kwh(Language::It, dec("12")), "12,000 kWh");
        // Exact: a fourth decimal is shown, not rounded away.
        assert_eq!(kwh(Language::En, dec("0.0005")), "0.0005 kWh");
        assert_eq!(kwh(Language::It, dec("-1234567.5")), "-1.234.567,500 kWh");
        assert_eq!(money(Language::It, 123_456), "€ 1.234,56");
        assert_eq!(money(Language::En, 123_456), "€1,234.56");
        assert_eq!(money(Language::It, -5), "€ -0,05");
        assert_eq!(money(Language::En, -10_000_000), "-€100,000.00");
        assert_eq!(money(Language::En, 0), "€0.00");
        assert_eq!(money(Language::It, i64::MAX), "€ 92.233.720.368.547.758,07");
    }

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(encode("Niccolò Ferrà €"), b"Niccol\xf2 Ferr\xe0 \x80");
        // Outside WinAnsi: the accent goes, or the character becomes `?`.
        assert_eq!(encode("Dvořák Łukasz"), b"Dvor\xe1k ?ukasz");
        assert_eq!(encode("a\nb\tc\u{7}"), b"a b c");
    }

    #[test]
    fn widths_are_helveticas() {
        let size_10 = Style::new(Font::Regular, 10.0);
        assert!((text_width("Hello", size_10) - 22.78).abs() < 0.001);
        assert!(text_width("W", Style::new(Font::Bold, 10.0)) > text_width("i", size_10) * 3.0);
        // Digits are all as wide: right-aligned figures line up.
        let digits: Vec<f32> = ('0'..='9')
            .map(|d| text_width(&d.to_string(), size_10))
            .collect();
        assert!(digits.iter().all(|&w| w == digits[0]));
    }

    #[test]
    fn long_text_wraps_within_the_width() {
        let style = Style::new(Font::Regular, 9.0);
        let text = "Letture di marzo parziali: acconto, conguaglio ad aprile quando arrivano i dati del distributore";
        let lines = wrap(text, style, 150.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| text_width(l, style) <= 150.0));
        assert_eq!(lines.join(" "), text);
        // A word longer than a line is cut, never left to overflow.
        let reference = "RIF".repeat(40);
        let cut = wrap(&reference, style, 60.0);
        assert!(cut.iter().all(|l| text_width(l, style) <= 60.0));
        assert_eq!(cut.concat(), reference);
        assert_eq!(wrap("", style, 60.0), vec![String::new()]);
        let kept = wrap_at_most(text, style, 150.0, 2);
        assert_eq!(kept.len(), 2);
        assert!(kept[1].ends_with('…') && text_width(&kept[1], style) <= 150.0);
        assert_eq!(wrap_at_most("breve", style, 150.0, 2), vec!["breve"]);
    }

    #[test]
    fn a_document_has_its_pages() {
        let mut pages = Pages::new();
        pages.text(50.0, 800.0, Style::new(Font::Regular, 12.0), "Pagina 1");
        pages.add_page();
        pages.text(50.0, 800.0, Style::new(Font::Bold, 12.0), "Pagina 2");
        assert_eq!(pages.count(), 2);
        let pdf = pages.finish(
            "Prova",
            Language::It,
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        );
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 2"));
        assert!(text.contains("/BaseFont /Helvetica-Bold"));
    }
}
