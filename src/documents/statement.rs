//! A member's statement for a month or a year, as a PDF in the member's language.
//!
//! The caller prepares a [`MemberStatement`] — who, which period, the figures of each month
//! and the member's ledger rows — and [`render`] lays it out: header, energy, income with what
//! each line means, the month-by-month table of a year, payments and other rows apart from
//! income, the balance, and a "provisional" banner on every page when a month was closed with
//! incomplete data. Totals are summed here from the rows, so a statement always adds up.
//!
//! Pages break between rows (a table's heading is repeated on the next page), and every piece
//! of free text is wrapped to its column, so nothing runs off the page however long the year.
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::{
    Font, PAGE_HEIGHT, PAGE_WIDTH, Pages, Rgb, Style, WHITE, kwh, money, text_width, wrap,
    wrap_at_most,
};
use crate::models::enums::{ConfigurationType, Language, TransactionKind};

/// Everything one statement shows, prepared by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberStatement {
    pub language: Language,
    pub community: CommunityDetails,
    pub member: MemberDetails,
    pub period: StatementPeriod,
    /// The day the statement is produced (Italian time): printed, and the PDF's date.
    pub produced_on: NaiveDate,
    /// The finalised figures of each month of the period that has them, in any order: one for
    /// a monthly statement, up to twelve for a year.
    pub months: Vec<MonthFigures>,
    /// The member's ledger rows of the period other than settlements: payments, adjustments,
    /// fees, in any order.
    pub entries: Vec<LedgerEntry>,
}

/// The configuration the member belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommunityDetails {
    pub name: String,
    pub kind: ConfigurationType,
}

/// Who the statement is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberDetails {
    /// The holder's full name or company name.
    pub holder_name: String,
    /// Printed in full: the statement goes to the member it describes.
    pub fiscal_code: Option<String>,
    /// One line, e.g. `Via Roma 1, 00100 Roma (RM)`.
    pub address: Option<String>,
    /// The member's connection point(s).
    pub pods: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementPeriod {
    /// The month of this date (any day of it).
    Month(NaiveDate),
    Year(i32),
}

/// One month's finalised settlement for the member.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthFigures {
    /// The month of this date (any day of it).
    pub month: NaiveDate,
    pub withdrawal_kwh: Decimal,
    pub injection_kwh: Decimal,
    pub shared_kwh: Decimal,
    pub incentive_cents: i64,
    pub excess_premium_cents: i64,
    pub valorisation_cents: i64,
    /// The operator's reason, when the month was finalised with incomplete data: the whole
    /// statement is then marked provisional.
    pub provisional: Option<String>,
}

/// A ledger row that is not a settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub kind: EntryKind,
    /// The day shown (when it was paid or recorded).
    pub date: NaiveDate,
    /// The month the row refers to (the ledger's `period_start`): a payment counts in this
    /// month's row of a year's table.
    pub month: NaiveDate,
    pub reference: Option<String>,
    pub description: Option<String>,
    /// As recorded in the ledger, positive in the member's favour: a payment to the member and
    /// a fee are negative. Payments are printed as received (`€ 2,30` for `-230`).
    pub amount_cents: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Payment,
    Adjustment,
    Fee,
}

impl EntryKind {
    /// The statement's kind of a ledger row; `None` for settlement rows (shared energy,
    /// incentive, valorisation), which come in [`MonthFigures`], and for GSE's payments to the
    /// configuration (never a member's).
    pub fn of(kind: TransactionKind) -> Option<EntryKind> {
        match kind {
            TransactionKind::Payment => Some(EntryKind::Payment),
            TransactionKind::Adjustment => Some(EntryKind::Adjustment),
            TransactionKind::Fee => Some(EntryKind::Fee),
            TransactionKind::SharedEnergy
            | TransactionKind::Incentive
            | TransactionKind::Valorisation
            | TransactionKind::GsePayment => None,
        }
    }
}

/// What a statement adds up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub withdrawal_kwh: Decimal,
    pub injection_kwh: Decimal,
    pub shared_kwh: Decimal,
    pub incentive_cents: i64,
    pub excess_premium_cents: i64,
    pub valorisation_cents: i64,
    /// Incentive + excess premium + valorisation.
    pub income_cents: i64,
    /// What the member received: the payments' ledger amounts with the sign turned.
    pub payments_received_cents: i64,
    /// Adjustments and fees, in the member's favour when positive.
    pub other_cents: i64,
    /// Income − payments received + other: positive while the community still owes it.
    pub balance_cents: i64,
}

impl MemberStatement {
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for month in &self.months {
            totals.withdrawal_kwh += month.withdrawal_kwh;
            totals.injection_kwh += month.injection_kwh;
            totals.shared_kwh += month.shared_kwh;
            totals.incentive_cents += month.incentive_cents;
            totals.excess_premium_cents += month.excess_premium_cents;
            totals.valorisation_cents += month.valorisation_cents;
        }
        for entry in &self.entries {
            match entry.kind {
                EntryKind::Payment => totals.payments_received_cents -= entry.amount_cents,
                EntryKind::Adjustment | EntryKind::Fee => totals.other_cents += entry.amount_cents,
            }
        }
        totals.income_cents =
            totals.incentive_cents + totals.excess_premium_cents + totals.valorisation_cents;
        totals.balance_cents =
            totals.income_cents - totals.payments_received_cents + totals.other_cents;
        totals
    }

    /// Whether a month of it was finalised with incomplete data.
    pub fn is_provisional(&self) -> bool {
        self.months.iter().any(|m| m.provisional.is_some())
    }

    /// A file name for the download: `estratto-conto-2026-03.pdf`, `statement-2026.pdf`.
    pub fn file_name(&self) -> String {
        let stem = match self.language {
            Language::It => "estratto-conto",
            Language::En => "statement",
        };
        match self.period {
            StatementPeriod::Month(day) => format!("{stem}-{}.pdf", day.format("%Y-%m")),
            StatementPeriod::Year(year) => format!("{stem}-{year}.pdf"),
        }
    }
}

/// The statement as a PDF file.
pub fn render(statement: &MemberStatement) -> Vec<u8> {
    let words = words(statement.language);
    let mut flow = Flow::new(statement);
    flow.first_page_header();
    flow.provisional_notice();
    flow.energy();
    flow.income();
    if matches!(statement.period, StatementPeriod::Year(_)) {
        flow.month_table();
    }
    flow.payments();
    flow.other_entries();
    flow.balance();
    let mut pages = flow.pages;
    footers(&mut pages, statement);
    let title = format!(
        "{} – {} – {}",
        words.title,
        statement.member.holder_name,
        period_label(statement.language, statement.period)
    );
    pages.finish(&title, statement.language, statement.produced_on)
}

const MARGIN: f32 = 48.0;
const LEFT: f32 = MARGIN;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
const WIDTH: f32 = RIGHT - LEFT;
const TOP: f32 = PAGE_HEIGHT - MARGIN;
/// Content stays above this; the footer is below it.
const BOTTOM: f32 = 64.0;
const FOOTER_BASELINE: f32 = 34.0;
/// Where values start in the header's label/value list.
const VALUE_X: f32 = LEFT + 130.0;

const GRAY: Rgb = Rgb(0.35, 0.35, 0.35);
const LIGHT: Rgb = Rgb(0.75, 0.75, 0.75);
const ALERT: Rgb = Rgb(0.70, 0.09, 0.09);

const TITLE: Style = Style::new(Font::Bold, 17.0);
const PERIOD: Style = Style::new(Font::Bold, 13.0);
const SECTION: Style = Style::new(Font::Bold, 11.5);
const BODY: Style = Style::new(Font::Regular, 9.5);
const BODY_BOLD: Style = Style::new(Font::Bold, 9.5);
const LABEL: Style = BODY.colored(GRAY);
const NOTE: Style = Style::new(Font::Regular, 8.0).colored(GRAY);
const TABLE_HEAD: Style = Style::new(Font::Bold, 8.0);
const TABLE: Style = Style::new(Font::Regular, 8.5);
const TABLE_BOLD: Style = Style::new(Font::Bold, 8.5);
const SMALL: Style = Style::new(Font::Regular, 7.5).colored(GRAY);
const BANNER: Style = Style::new(Font::Bold, 10.0).colored(WHITE);
const CELL_PADDING: f32 = 4.0;
/// At most this many lines of a name, an address or a ledger row's text, and of an operator's
/// reason: enough for any real one, and a row always fits on a page.
const FREE_TEXT_LINES: usize = 6;
const REASON_LINES: usize = 10;
/// The height of a table's column titles (two lines at most) and its first row: a section's
/// title is not left at the foot of a page without them.
const TABLE_START: f32 = 2.0 * TABLE_HEAD.leading() + 4.0 + TABLE.leading() + 3.0;

/// The layout state: the pages so far and how far down the current one we are (`y` is the top
/// of the free space).
struct Flow<'a> {
    statement: &'a MemberStatement,
    words: &'static Words,
    totals: Totals,
    pages: Pages,
    y: f32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A table column between `from` and `to` (offsets from the left margin).
struct Column<'t> {
    title: &'t str,
    from: f32,
    to: f32,
    align: Align,
}

struct Row {
    cells: Vec<String>,
    bold: bool,
}

impl<'a> Flow<'a> {
    fn new(statement: &'a MemberStatement) -> Flow<'a> {
        Flow {
            statement,
            words: words(statement.language),
            totals: statement.totals(),
            pages: Pages::new(),
            y: TOP,
        }
    }

    fn language(&self) -> Language {
        self.statement.language
    }

    /// Makes room for `height` on this page, going to a new one if there is not enough; says
    /// whether it did.
    fn need(&mut self, height: f32) -> bool {
        if self.y - height >= BOTTOM {
            return false;
        }
        self.pages.add_page();
        self.y = TOP;
        let running = format!(
            "{} · {} · {}",
            self.words.title,
            self.statement.member.holder_name,
            period_label(self.language(), self.statement.period)
        );
        let line = fit(&running, SMALL, WIDTH);
        self.pages.text(LEFT, self.y - SMALL.size, line.0, &line.1);
        self.y -= SMALL.leading() + 2.0;
        self.pages.rule(LEFT, RIGHT, self.y, 0.5, LIGHT);
        self.y -= 8.0;
        self.banner();
        true
    }

    /// One line of `style` at the cursor, then the cursor below it.
    fn line(&mut self, x: f32, style: Style, text: &str) {
        self.pages.text(x, self.y - style.size, style, text);
        self.y -= style.leading();
    }

    fn banner(&mut self) {
        if !self.statement.is_provisional() {
            return;
        }
        let height = 22.0;
        self.pages.fill(LEFT, self.y - height, WIDTH, height, ALERT);
        let (style, text) = fit(self.words.provisional_banner, BANNER, WIDTH - 16.0);
        self.pages.text(LEFT + 8.0, self.y - 15.0, style, &text);
        self.y -= height + 12.0;
    }

    fn first_page_header(&mut self) {
        let statement = self.statement;
        let language = self.language();
        self.banner();
        let period = period_label(language, statement.period);
        let period_width = text_width(&period, PERIOD);
        let baseline = self.y - TITLE.size;
        let (title_style, title) = fit(self.words.title, TITLE, WIDTH - period_width - 12.0);
        self.pages.text(LEFT, baseline, title_style, &title);
        self.pages.text_right(RIGHT, baseline, PERIOD, &period);
        self.y -= TITLE.leading() + 4.0;
        self.pages.rule(LEFT, RIGHT, self.y, 1.0, BLACK_RULE);
        self.y -= 10.0;

        let member = &statement.member;
        // The member's name stands out: it is whom the document is for.
        let mut details: Vec<(&str, String, Style)> = vec![
            (
                self.words.community,
                format!(
                    "{} – {}",
                    statement.community.name,
                    kind_name(self.words, statement.community.kind)
                ),
                BODY,
            ),
            (self.words.member, member.holder_name.clone(), BODY_BOLD),
        ];
        if let Some(code) = &member.fiscal_code {
            details.push((self.words.fiscal_code, code.clone(), BODY));
        }
        if let Some(address) = &member.address {
            details.push((self.words.address, address.clone(), BODY));
        }
        if !member.pods.is_empty() {
            details.push((self.words.pods, member.pods.join(", "), BODY));
        }
        details.push((self.words.period, period, BODY));
        details.push((
            self.words.produced_on,
            long_date(language, statement.produced_on),
            BODY,
        ));
        for (label, value, style) in details {
            let lines = wrap_at_most(&value, style, RIGHT - VALUE_X, FREE_TEXT_LINES);
            self.need(lines.len() as f32 * BODY.leading());
            self.pages.text(LEFT, self.y - BODY.size, LABEL, label);
            for line in lines {
                self.line(VALUE_X, style, &line);
            }
        }
        self.y -= 6.0;
    }

    fn provisional_notice(&mut self) {
        let provisional: Vec<&MonthFigures> = sorted_months(self.statement)
            .into_iter()
            .filter(|m| m.provisional.is_some())
            .collect();
        if provisional.is_empty() {
            return;
        }
        let intro = wrap(self.words.provisional_intro, BODY, WIDTH);
        self.need(SECTION.leading() + intro.len() as f32 * BODY.leading());
        self.line(LEFT, SECTION.colored(ALERT), self.words.provisional_title);
        for line in intro {
            self.line(LEFT, BODY, &line);
        }
        for month in provisional {
            let reason = month.provisional.as_deref().unwrap_or_default();
            let text = format!("{}: {reason}", month_label(self.language(), month.month));
            let lines = wrap_at_most(&text, BODY_BOLD, WIDTH - 12.0, REASON_LINES);
            self.need(lines.len() as f32 * BODY.leading() + 2.0);
            self.y -= 2.0;
            for line in lines {
                self.line(LEFT + 12.0, BODY_BOLD, &line);
            }
        }
        self.y -= 10.0;
    }

    /// A section's title, kept on the page of what follows it (`first` high).
    fn section(&mut self, title: &str, first: f32) {
        self.need(SECTION.leading() + 8.0 + first);
        self.y -= 4.0;
        self.line(LEFT, SECTION, title);
        self.y -= 1.0;
        self.pages.rule(LEFT, RIGHT, self.y, 0.5, LIGHT);
        self.y -= 5.0;
    }

    /// A label on the left and a figure on the right.
    fn figure(&mut self, label: &str, value: &str, bold: bool) {
        let (label_style, value_style) = if bold {
            (BODY_BOLD, BODY_BOLD)
        } else {
            (BODY, BODY)
        };
        self.need(BODY.leading());
        let (value_style, value) = fit(value, value_style, WIDTH / 2.0);
        let label_room = WIDTH - text_width(&value, value_style) - 12.0;
        let (label_style, label) = fit(label, label_style, label_room);
        let baseline = self.y - BODY.size;
        self.pages.text(LEFT, baseline, label_style, &label);
        self.pages.text_right(RIGHT, baseline, value_style, &value);
        self.y -= BODY.leading();
    }

    /// A total under a rule, in bold.
    fn total(&mut self, label: &str, cents: i64) {
        self.need(BODY.leading() + 4.0);
        self.pages.rule(LEFT, RIGHT, self.y - 1.0, 0.8, BLACK_RULE);
        self.y -= 4.0;
        self.figure(label, &money(self.language(), cents), true);
    }

    fn energy(&mut self) {
        let (words, language) = (self.words, self.language());
        self.section(words.energy, BODY.leading());
        let totals = self.totals.clone();
        for (label, value) in [
            (words.withdrawal, totals.withdrawal_kwh),
            (words.injection, totals.injection_kwh),
            (words.shared, totals.shared_kwh),
        ] {
            self.figure(label, &kwh(language, value), false);
        }
        self.y -= 6.0;
    }

    fn income(&mut self) {
        let (words, language) = (self.words, self.language());
        self.section(words.income, 2.0 * BODY.leading());
        let totals = self.totals.clone();
        for (label, definition, cents) in [
            (
                words.incentive,
                words.incentive_definition,
                totals.incentive_cents,
            ),
            (
                words.excess_premium,
                words.excess_premium_definition,
                totals.excess_premium_cents,
            ),
            (
                words.valorisation,
                words.valorisation_definition,
                totals.valorisation_cents,
            ),
        ] {
            let definition = wrap(definition, NOTE, WIDTH - 120.0);
            self.need(BODY.leading() + definition.len() as f32 * NOTE.leading() + 4.0);
            self.figure(label, &money(language, cents), false);
            for line in definition {
                self.line(LEFT + 8.0, NOTE, &line);
            }
            self.y -= 4.0;
        }
        self.total(words.income_total, totals.income_cents);
        self.y -= 6.0;
    }

    fn month_table(&mut self) {
        let (words, language) = (self.words, self.language());
        self.section(words.monthly, TABLE_START);
        let mut rows: BTreeMap<(i32, u32), MonthRow> = BTreeMap::new();
        for month in &self.statement.months {
            let row = rows
                .entry((month.month.year(), month.month.month()))
                .or_default();
            row.shared_kwh += month.shared_kwh;
            row.incentive_cents += month.incentive_cents;
            row.excess_premium_cents += month.excess_premium_cents;
            row.valorisation_cents += month.valorisation_cents;
            row.provisional |= month.provisional.is_some();
        }
        for entry in &self.statement.entries {
            if entry.kind == EntryKind::Payment {
                rows.entry((entry.month.year(), entry.month.month()))
                    .or_default()
                    .payments_received_cents -= entry.amount_cents;
            }
        }
        if rows.is_empty() {
            self.line(LEFT, BODY, words.no_months);
            self.y -= 6.0;
            return;
        }
        let columns = [
            Column::left(words.col_month, 0.0, 92.0),
            Column::right(words.col_shared, 92.0, 171.0),
            Column::right(words.incentive_short, 171.0, 253.0),
            Column::right(words.excess_premium, 253.0, 335.0),
            Column::right(words.valorisation, 335.0, 417.0),
            Column::right(words.col_payments, 417.0, WIDTH),
        ];
        let mut total = MonthRow::default();
        let mut table: Vec<Row> = Vec::new();
        for ((year, month), row) in &rows {
            let first = NaiveDate::from_ymd_opt(*year, *month, 1).unwrap_or_default();
            let mut label = month_label(language, first);
            if row.provisional {
                label.push_str(" *");
            }
            table.push(row.cells(language, label, false));
            total.add(row);
        }
        let label = format!(
            "{} {}",
            words.total,
            period_label(language, self.statement.period)
        );
        table.push(total.cells(language, label, true));
        self.table(words.monthly, &columns, &table);
        if total.provisional {
            let legend = wrap(words.provisional_legend, NOTE, WIDTH);
            self.need(legend.len() as f32 * NOTE.leading());
            for line in legend {
                self.line(LEFT, NOTE, &line);
            }
        }
        self.y -= 6.0;
    }

    fn payments(&mut self) {
        let (words, language) = (self.words, self.language());
        let columns = [
            Column::left(words.col_date, 0.0, 80.0),
            Column::left(words.col_reference, 80.0, 400.0),
            Column::right(words.col_amount, 400.0, WIDTH),
        ];
        let payments = self.entries(|kind| kind == EntryKind::Payment);
        let row = |entry: &LedgerEntry| {
            vec![
                short_date(language, entry.date),
                entry_text(entry),
                money(language, -entry.amount_cents),
            ]
        };
        let total = self.totals.payments_received_cents;
        self.ledger_section(
            words.payments,
            words.no_payments,
            &columns,
            &payments,
            row,
            total,
        );
    }

    fn other_entries(&mut self) {
        let (words, language) = (self.words, self.language());
        let columns = [
            Column::left(words.col_date, 0.0, 72.0),
            Column::left(words.col_kind, 72.0, 160.0),
            Column::left(words.col_description, 160.0, 400.0),
            Column::right(words.col_amount, 400.0, WIDTH),
        ];
        let other = self.entries(|kind| kind != EntryKind::Payment);
        let row = |entry: &LedgerEntry| {
            let kind = match entry.kind {
                EntryKind::Fee => words.fee,
                EntryKind::Adjustment | EntryKind::Payment => words.adjustment,
            };
            vec![
                short_date(language, entry.date),
                kind.to_string(),
                entry_text(entry),
                money(language, entry.amount_cents),
            ]
        };
        let total = self.totals.other_cents;
        self.ledger_section(words.other, words.no_other, &columns, &other, row, total);
    }

    /// A section of ledger entries: a row each (`row` gives its cells) and their total in the
    /// last column, or the sentence `empty` when there are none.
    fn ledger_section(
        &mut self,
        title: &str,
        empty: &str,
        columns: &[Column],
        entries: &[&LedgerEntry],
        row: impl Fn(&LedgerEntry) -> Vec<String>,
        total_cents: i64,
    ) {
        self.section(title, TABLE_START);
        if entries.is_empty() {
            self.line(LEFT, BODY, empty);
            self.y -= 6.0;
            return;
        }
        let mut rows: Vec<Row> = entries
            .iter()
            .map(|entry| Row {
                cells: row(entry),
                bold: false,
            })
            .collect();
        let mut total = vec![String::new(); columns.len()];
        total[0] = self.words.total.to_string();
        total[columns.len() - 1] = money(self.language(), total_cents);
        rows.push(Row {
            cells: total,
            bold: true,
        });
        self.table(title, columns, &rows);
        self.y -= 6.0;
    }

    fn balance(&mut self) {
        let (words, language) = (self.words, self.language());
        let note = wrap(words.balance_note, NOTE, WIDTH);
        self.section(
            words.balance,
            4.0 * BODY.leading() + 6.0 + note.len() as f32 * NOTE.leading(),
        );
        let totals = self.totals.clone();
        self.figure(
            words.income_total,
            &money(language, totals.income_cents),
            false,
        );
        self.figure(
            words.payments,
            &money(language, -totals.payments_received_cents),
            false,
        );
        self.figure(words.other, &money(language, totals.other_cents), false);
        self.total(words.balance_total, totals.balance_cents);
        self.y -= 2.0;
        for line in note {
            self.line(LEFT, NOTE, &line);
        }
    }

    /// The entries `keep` selects, by date.
    fn entries(&self, keep: impl Fn(EntryKind) -> bool) -> Vec<&'a LedgerEntry> {
        let mut entries: Vec<&LedgerEntry> = self
            .statement
            .entries
            .iter()
            .filter(|e| keep(e.kind))
            .collect();
        entries.sort_by_key(|e| (e.date, e.month));
        entries
    }

    /// A table under the section `section`: a page break repeats the section's title, marked as
    /// continued, and the columns' titles.
    fn table(&mut self, section: &str, columns: &[Column], rows: &[Row]) {
        self.table_heading(columns);
        for row in rows {
            let cells: Vec<(Style, Vec<String>)> = columns
                .iter()
                .zip(&row.cells)
                .map(|(column, text)| {
                    let style = if row.bold { TABLE_BOLD } else { TABLE };
                    let room = column.to - column.from - 2.0 * CELL_PADDING;
                    match column.align {
                        Align::Left => (style, wrap_at_most(text, style, room, FREE_TEXT_LINES)),
                        Align::Right => {
                            let (style, text) = fit(text, style, room);
                            (style, vec![text])
                        }
                    }
                })
                .collect();
            let lines = cells.iter().map(|(_, l)| l.len()).max().unwrap_or(1);
            let height = lines as f32 * TABLE.leading() + 3.0;
            if self.need(height) {
                let title = format!("{section} ({})", self.words.continued);
                self.line(LEFT, SECTION, &title);
                self.y -= 4.0;
                self.table_heading(columns);
            }
            if row.bold {
                self.pages.rule(LEFT, RIGHT, self.y, 0.8, BLACK_RULE);
            }
            self.draw_cells(columns, TABLE, &cells);
            self.y -= height;
            if !row.bold {
                self.pages.rule(LEFT, RIGHT, self.y + 0.5, 0.3, LIGHT);
            }
        }
    }

    fn table_heading(&mut self, columns: &[Column]) {
        let titles: Vec<Vec<String>> = columns
            .iter()
            .map(|c| wrap(c.title, TABLE_HEAD, c.to - c.from - 2.0 * CELL_PADDING))
            .collect();
        let lines = titles.iter().map(Vec::len).max().unwrap_or(1);
        let height = lines as f32 * TABLE_HEAD.leading() + 4.0;
        // The heading never ends a page: one row at least goes with it.
        self.need(height + TABLE.leading() + 3.0);
        self.pages
            .fill(LEFT, self.y - height, WIDTH, height, Rgb(0.92, 0.92, 0.92));
        let cells: Vec<(Style, Vec<String>)> =
            titles.into_iter().map(|t| (TABLE_HEAD, t)).collect();
        self.draw_cells(columns, TABLE_HEAD, &cells);
        self.y -= height;
    }

    /// Each column's lines from just below the cursor down, `spacing` apart, aligned in
    /// their column.
    fn draw_cells(&mut self, columns: &[Column], spacing: Style, cells: &[(Style, Vec<String>)]) {
        let top = self.y - 2.0;
        for (column, (style, lines)) in columns.iter().zip(cells) {
            for (i, line) in lines.iter().enumerate() {
                let baseline = top - spacing.size - i as f32 * spacing.leading();
                match column.align {
                    Align::Left => {
                        let x = LEFT + column.from + CELL_PADDING;
                        self.pages.text(x, baseline, *style, line)
                    }
                    Align::Right => {
                        let right = LEFT + column.to - CELL_PADDING;
                        self.pages.text_right(right, baseline, *style, line)
                    }
                }
            }
        }
    }
}

const BLACK_RULE: Rgb = Rgb(0.2, 0.2, 0.2);

impl<'t> Column<'t> {
    fn left(title: &'t str, from: f32, to: f32) -> Column<'t> {
        Column {
            title,
            from,
            to,
            align: Align::Left,
        }
    }

    fn right(title: &'t str, from: f32, to: f32) -> Column<'t> {
        Column {
            title,
            from,
            to,
            align: Align::Right,
        }
    }
}

/// A row of the year's table.
#[derive(Default)]
struct MonthRow {
    shared_kwh: Decimal,
    incentive_cents: i64,
    excess_premium_cents: i64,
    valorisation_cents: i64,
    payments_received_cents: i64,
    provisional: bool,
}

impl MonthRow {
    fn add(&mut self, other: &MonthRow) {
        self.shared_kwh += other.shared_kwh;
        self.incentive_cents += other.incentive_cents;
        self.excess_premium_cents += other.excess_premium_cents;
        self.valorisation_cents += other.valorisation_cents;
        self.payments_received_cents += other.payments_received_cents;
        self.provisional |= other.provisional;
    }

    fn cells(&self, language: Language, label: String, bold: bool) -> Row {
        Row {
            cells: vec![
                label,
                kwh(language, self.shared_kwh),
                money(language, self.incentive_cents),
                money(language, self.excess_premium_cents),
                money(language, self.valorisation_cents),
                money(language, self.payments_received_cents),
            ],
            bold,
        }
    }
}

/// Page numbers and what the document is, at the foot of every page (now that their number is
/// known).
fn footers(pages: &mut Pages, statement: &MemberStatement) {
    let words = words(statement.language);
    let count = pages.count();
    let what = format!(
        "{} · {} · {}",
        words.title,
        statement.community.name,
        period_label(statement.language, statement.period)
    );
    for index in 0..count {
        pages.go_to(index);
        let number = words
            .page_of
            .replace("{page}", &(index + 1).to_string())
            .replace("{pages}", &count.to_string());
        let number_width = text_width(&number, SMALL);
        pages.rule(LEFT, RIGHT, FOOTER_BASELINE + 10.0, 0.5, LIGHT);
        let (style, what) = fit(&what, SMALL, WIDTH - number_width - 12.0);
        pages.text(LEFT, FOOTER_BASELINE, style, &what);
        pages.text_right(RIGHT, FOOTER_BASELINE, SMALL, &number);
    }
}

/// `text` in `style`, made smaller if it is wider than `width` (a figure cannot wrap), and cut
/// with `…` when even 60% of the size does not fit (a name of hundreds of letters).
fn fit(text: &str, style: Style, width: f32) -> (Style, String) {
    let natural = text_width(text, style);
    if natural <= width {
        return (style, text.to_string());
    }
    let scale = width / natural;
    if scale >= 0.6 {
        // Slightly under the exact scale, so rounding in the reader cannot overflow.
        let size = style.size * scale * 0.99;
        return (Style { size, ..style }, text.to_string());
    }
    let small = Style {
        size: style.size * 0.6,
        ..style
    };
    let mut cut: String = text.to_string();
    while !cut.is_empty() && text_width(&format!("{cut}…"), small) > width {
        cut.pop();
    }
    (small, format!("{cut}…"))
}

fn sorted_months(statement: &MemberStatement) -> Vec<&MonthFigures> {
    let mut months: Vec<&MonthFigures> = statement.months.iter().collect();
    months.sort_by_key(|m| m.month);
    months
}

/// A ledger row's reference and description, as one text.
fn entry_text(entry: &LedgerEntry) -> String {
    [&entry.reference, &entry.description]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" – ")
}

fn kind_name(words: &Words, kind: ConfigurationType) -> &'static str {
    match kind {
        ConfigurationType::Cer => words.kind_cer,
        ConfigurationType::Auc => words.kind_auc,
        ConfigurationType::Aid => words.kind_aid,
    }
}

fn month_name(language: Language, day: NaiveDate) -> &'static str {
    let index = usize::try_from(day.month0()).unwrap_or(0);
    words(language).months[index]
}

/// `marzo 2026`, `March 2026`.
fn month_label(language: Language, day: NaiveDate) -> String {
    format!("{} {}", month_name(language, day), day.year())
}

fn period_label(language: Language, period: StatementPeriod) -> String {
    match period {
        StatementPeriod::Month(day) => month_label(language, day),
        StatementPeriod::Year(year) => year.to_string(),
    }
}

/// `6 dicembre 2026`, `6 December 2026`.
fn long_date(language: Language, day: NaiveDate) -> String {
    format!("{} {}", day.day(), month_label(language, day))
}

/// `15/03/2026` (it), `15 Mar 2026` (en: day and month cannot be swapped by a reader).
fn short_date(language: Language, day: NaiveDate) -> String {
    match language {
        Language::It => day.format("%d/%m/%Y").to_string(),
        Language::En => day.format("%-d %b %Y").to_string(),
    }
}

/// Declares the statement's strings: one field each, so a language that lacks one does not
/// compile; [`Words::all`] lists them for the test that none is empty.
macro_rules! words {
    ($($field:ident),+ $(,)?) => {
        struct Words {
            $($field: &'static str,)+
            months: [&'static str; 12],
        }

        impl Words {
            #[cfg(test)]
            fn all(&self) -> Vec<&'static str> {
                let mut all = vec![$(self.$field),+];
                all.extend(self.months);
                all
            }
        }
    };
}

words!(
    title,
    provisional_banner,
    provisional_title,
    provisional_intro,
    provisional_legend,
    community,
    kind_cer,
    kind_auc,
    kind_aid,
    member,
    fiscal_code,
    address,
    pods,
    period,
    produced_on,
    energy,
    withdrawal,
    injection,
    shared,
    income,
    incentive,
    incentive_short,
    incentive_definition,
    excess_premium,
    excess_premium_definition,
    valorisation,
    valorisation_definition,
    income_total,
    monthly,
    no_months,
    col_month,
    col_shared,
    col_payments,
    total,
    payments,
    no_payments,
    col_date,
    col_reference,
    col_amount,
    other,
    no_other,
    col_kind,
    col_description,
    adjustment,
    fee,
    balance,
    balance_total,
    balance_note,
    continued,
    page_of,
);

fn words(language: Language) -> &'static Words {
    match language {
        Language::It => &ITALIAN,
        Language::En => &ENGLISH,
    }
}

const ITALIAN: Words = Words {
    title: "Estratto conto",
    provisional_banner: "PROVVISORIO – calcolato con dati incompleti",
    provisional_title: "Importi provvisori",
    provisional_intro: "Uno o più mesi sono stati chiusi con dati incompleti: gli importi potranno \
        cambiare con un conguaglio quando i dati saranno completi. Motivo indicato dal gestore:",
    provisional_legend: "* mese provvisorio, chiuso con dati incompleti (vedi il motivo all'inizio).",
    community: "Comunità",
    kind_cer: "Comunità energetica rinnovabile (CER)",
    kind_auc: "Gruppo di autoconsumatori che agiscono collettivamente (AUC)",
    kind_aid: "Autoconsumatore individuale a distanza (AID)",
    member: "Membro",
    fiscal_code: "Codice fiscale",
    address: "Indirizzo",
    pods: "POD",
    period: "Periodo",
    produced_on: "Emesso il",
    energy: "Energia",
    withdrawal: "Energia prelevata dalla rete",
    injection: "Energia immessa in rete",
    shared: "Energia condivisa attribuita",
    income: "Proventi",
    incentive: "Incentivo (tariffa premio)",
    incentive_short: "Incentivo",
    incentive_definition: "Tariffa premio che il GSE riconosce sull'energia condivisa della \
        configurazione, nella parte attribuita al membro.",
    excess_premium: "Premio eccedente",
    excess_premium_definition: "Quota della tariffa premio oltre il limite fissato dalle regole, \
        assegnata secondo la politica di ripartizione della comunità.",
    valorisation: "Valorizzazione",
    valorisation_definition: "Restituzione di componenti tariffarie di rete stabilita da ARERA \
        sull'energia condivisa.",
    income_total: "Totale proventi",
    monthly: "Dettaglio mensile",
    no_months: "Nessun mese liquidato nel periodo.",
    col_month: "Mese",
    col_shared: "Energia condivisa",
    col_payments: "Pagamenti ricevuti",
    total: "Totale",
    payments: "Pagamenti ricevuti",
    no_payments: "Nessun pagamento nel periodo.",
    col_date: "Data",
    col_reference: "Riferimento",
    col_amount: "Importo",
    other: "Altri movimenti",
    no_other: "Nessun altro movimento nel periodo.",
    col_kind: "Tipo",
    col_description: "Descrizione",
    adjustment: "Rettifica",
    fee: "Commissione",
    balance: "Saldo",
    balance_total: "Saldo del periodo",
    balance_note: "Un saldo positivo è quanto resta da versare al membro per il periodo; un saldo \
        negativo è quanto il membro deve alla comunità.",
    continued: "segue",
    page_of: "Pagina {page} di {pages}",
    months: crate::domain::month::ITALIAN_MONTHS,
};

const ENGLISH: Words = Words {
    title: "Member statement",
    provisional_banner: "PROVISIONAL – computed with incomplete data",
    provisional_title: "Provisional amounts",
    provisional_intro: "One or more months were closed with incomplete data: the amounts may \
        change with an adjustment once the data is complete. Reason given by the operator:",
    provisional_legend: "* provisional month, closed with incomplete data (reason at the top).",
    community: "Community",
    kind_cer: "Renewable energy community (CER)",
    kind_auc: "Jointly acting self-consumers (AUC)",
    kind_aid: "Remote individual self-consumer (AID)",
    member: "Member",
    fiscal_code: "Fiscal code",
    address: "Address",
    pods: "POD",
    period: "Period",
    produced_on: "Issued on",
    energy: "Energy",
    withdrawal: "Energy withdrawn from the grid",
    injection: "Energy fed into the grid",
    shared: "Shared energy attributed",
    income: "Income",
    incentive: "Incentive (premium tariff)",
    incentive_short: "Incentive",
    incentive_definition: "The premium tariff the GSE pays on the configuration's shared \
        energy, in the part attributed to the member.",
    excess_premium: "Excess premium",
    excess_premium_definition: "Quota of the premium above the cap set by the rules, allocated \
        by the community's policy.",
    valorisation: "Valorisation",
    valorisation_definition: "Restitution of grid tariff components on the shared energy, as \
        set by ARERA.",
    income_total: "Total income",
    monthly: "Month by month",
    no_months: "No month settled in the period.",
    col_month: "Month",
    col_shared: "Shared energy",
    col_payments: "Payments received",
    total: "Total",
    payments: "Payments received",
    no_payments: "No payments in the period.",
    col_date: "Date",
    col_reference: "Reference",
    col_amount: "Amount",
    other: "Other entries",
    no_other: "No other entries in the period.",
    col_kind: "Type",
    col_description: "Description",
    adjustment: "Adjustment",
    fee: "Fee",
    balance: "Balance",
    balance_total: "Balance for the period",
    balance_note: "A positive balance is what is still to be paid to the member for the period; \
        a negative one is what the member owes the community.",
    continued: "continued",
    page_of: "Page {page} of {pages}",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn kwh(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn month(number: u32) -> MonthFigures {
        MonthFigures {
            month: day(2026, number, 1),
            withdrawal_kwh: kwh("310.250"),
            injection_kwh: kwh("0.000"),
            shared_kwh: kwh("120.125"),
            incentive_cents: 1_320,
            excess_premium_cents: 45,
            valorisation_cents: 102,
            provisional: None,
        }
    }

    fn entry(kind: EntryKind, number: u32, amount_cents: i64) -> LedgerEntry {
        LedgerEntry {
            kind,
            date: day(2026, number, 20),
            month: day(2026, number, 1),
            reference: Some(format!("CRO {number:04}")),
            description: Some("Bonifico quota".into()),
            amount_cents,
        }
    }

    fn statement(
        language: Language,
        period: StatementPeriod,
        months: Vec<MonthFigures>,
    ) -> MemberStatement {
        MemberStatement {
            language,
            community: CommunityDetails {
                name: "Sole di Borgo".into(),
                kind: ConfigurationType::Cer,
            },
            member: MemberDetails {
                holder_name: "Niccolò Ferrà".into(),
                fiscal_code: Some("FRRNCC80A01H501U".into()),
                address: Some("Via Roma 1, 00100 Roma (RM)".into()),
                pods: vec!["IT001E00000082".into()],
            },
            period,
            produced_on: day(2026, 12, 6),
            months,
            entries: vec![],
        }
    }

    fn page_count(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        let count = text.split("/Count ").nth(1).expect("a page tree");
        count
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    }

    #[test]
    fn every_string_exists_in_both_languages() {
        assert_eq!(ITALIAN.all().len(), ENGLISH.all().len());
        for words in [&ITALIAN, &ENGLISH] {
            assert!(words.all().iter().all(|s| !s.trim().is_empty()));
            assert!(words.page_of.contains("{page}") && words.page_of.contains("{pages}"));
        }
    }

    #[test]
    fn a_month_is_one_page_in_either_language() {
        for language in [Language::It, Language::En] {
            let mut march = statement(
                language,
                StatementPeriod::Month(day(2026, 3, 1)),
                vec![month(3)],
            );
            march.entries = vec![entry(EntryKind::Payment, 3, -1_000)];
            let pdf = render(&march);
            assert!(pdf.starts_with(b"%PDF-"));
            assert_eq!(page_count(&pdf), 1);
            let lang = format!("/Lang ({})", language.as_str());
            assert!(String::from_utf8_lossy(&pdf).contains(&lang));
        }
    }

    #[test]
    fn a_long_year_breaks_into_numbered_pages() {
        let mut months: Vec<MonthFigures> = (1..=12).map(month).collect();
        months[2].provisional = Some("Letture di marzo parziali".into());
        let mut year = statement(Language::It, StatementPeriod::Year(2026), months);
        year.entries = (0..120)
            .map(|i| entry(EntryKind::Payment, i % 12 + 1, -100 - i64::from(i)))
            .chain((0..30).map(|i| entry(EntryKind::Fee, i % 12 + 1, -50)))
            .collect();
        let pdf = render(&year);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(page_count(&pdf) >= 4, "{} pages", page_count(&pdf));
        // An empty year still renders, on one page.
        let empty = statement(Language::En, StatementPeriod::Year(2026), vec![]);
        assert_eq!(page_count(&render(&empty)), 1);
    }

    #[test]
    fn totals_add_income_payments_and_other_rows() {
        let mut year = statement(
            Language::En,
            StatementPeriod::Year(2026),
            vec![month(1), month(2)],
        );
        year.entries = vec![
            entry(EntryKind::Payment, 1, -1_000),
            entry(EntryKind::Adjustment, 2, 250),
            entry(EntryKind::Fee, 2, -300),
        ];
        let totals = year.totals();
        assert_eq!(totals.shared_kwh, kwh("240.250"));
        assert_eq!(totals.income_cents, 2 * (1_320 + 45 + 102));
        assert_eq!(totals.payments_received_cents, 1_000);
        assert_eq!(totals.other_cents, -50);
        assert_eq!(totals.balance_cents, 2_934 - 1_000 - 50);
        assert!(!year.is_provisional());
    }

    #[test]
    fn the_same_statement_gives_the_same_file() {
        let march = statement(
            Language::It,
            StatementPeriod::Month(day(2026, 3, 15)),
            vec![month(3)],
        );
        assert_eq!(render(&march), render(&march));
        assert_eq!(march.file_name(), "estratto-conto-2026-03.pdf");
        let year = statement(Language::En, StatementPeriod::Year(2026), vec![]);
        assert_eq!(year.file_name(), "statement-2026.pdf");
    }

    #[test]
    fn ledger_rows_other_than_settlements_are_entries() {
        assert_eq!(
            EntryKind::of(TransactionKind::Payment),
            Some(EntryKind::Payment)
        );
        assert_eq!(EntryKind::of(TransactionKind::Fee), Some(EntryKind::Fee));
        assert_eq!(
            EntryKind::of(TransactionKind::Adjustment),
            Some(EntryKind::Adjustment)
        );
        assert_eq!(EntryKind::of(TransactionKind::Incentive), None);
    }

    #[test]
    fn text_too_wide_shrinks_then_is_cut() {
        let (style, text) = fit("€ 1.234,56", TABLE, 200.0);
        assert_eq!((style, text.as_str()), (TABLE, "€ 1.234,56"));
        let wide = "€ 123.456.789,00";
        let (style, text) = fit(wide, TABLE, 50.0);
        assert_eq!(text, wide);
        assert!(style.size < TABLE.size && text_width(&text, style) <= 50.0);
        let (style, text) = fit(&"Ferrà".repeat(50), BODY, 100.0);
        assert!(text.ends_with('…') && text_width(&text, style) <= 100.0);
    }
}
