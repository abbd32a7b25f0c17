//! The members import (`POST /configurations/{id}/members/import`): its query and its report.
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberImportParams {
    /// `true`: check every row as the import would (the database's rules included) and
    /// report, writing nothing. Default `false`.
    pub dry_run: Option<bool>,
}

/// What happened to a holder or a member of a line.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LineOutcome {
    Created,
    /// Some of its data differed from the file's and were changed (`…_changes` names them).
    Updated,
    /// The file says what is stored: nothing was written.
    Unchanged,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl ImportCounts {
    pub fn add(&mut self, outcome: LineOutcome) {
        match outcome {
            LineOutcome::Created => self.created += 1,
            LineOutcome::Updated => self.updated += 1,
            LineOutcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// One line of the file: its point and its holder, and what the import did with each.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ImportedLine {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub pod: String,
    pub fiscal_code: String,
    /// The holder's outcome, decided on the first line that describes it (`holder_line`);
    /// later lines of the same holder repeat it.
    pub holder: LineOutcome,
    pub holder_line: u64,
    /// `null` in a dry run for a holder that would be created.
    pub holder_id: Option<i32>,
    /// The holder's changed fields (`iban`, `consents.statute`, `status`…).
    pub holder_changes: Vec<String>,
    pub member: LineOutcome,
    /// `null` in a dry run for a member that would be created.
    pub member_id: Option<i32>,
    /// The member's changed fields (`role`, `holder_id`, `available_power_kw`…).
    pub member_changes: Vec<String>,
}

/// What an import did — or, in a dry run, would do.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct MemberImportReport {
    pub configuration_id: i32,
    /// `true`: nothing was written.
    pub dry_run: bool,
    /// Data lines read.
    pub rows: u64,
    /// How the file's bytes were read: `utf-8` or `windows-1252`.
    pub encoding: String,
    /// The cells' separator found in the header: `;` or `,`.
    pub separator: String,
    /// Each holder counted once, however many lines describe it.
    pub holders: ImportCounts,
    pub members: ImportCounts,
    pub lines: Vec<ImportedLine>,
}
