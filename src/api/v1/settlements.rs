//! Sharing-out policies, settlement runs (preview → finalise → correct), and member statements.
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::csv;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, FieldError, ValidationErrorBody};
use crate::api::extract::{OptionalJson, ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::settlement::{
    FinalizeRequest, FinalizeResponse, PolicyCreate, PolicyParams, PolicyPublic, SettlementCreate,
    SettlementListParams, SettlementPublic, SettlementSummary, StatementMailingCreate,
    StatementMailingPublic, StatementParams, StatementPdfParams,
};
use crate::service;
use crate::settlement::{self, Period, Statement};

fn parse_period(loc: &[&str], text: &str) -> Result<Period, ApiError> {
    Period::parse(text).ok_or_else(|| {
        ApiError::invalid(FieldError::new(
            loc,
            "must be a month as YYYY-MM",
            "value_error",
        ))
    })
}

fn current_month() -> Period {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive();
    Period::of(today - chrono::Days::new(u64::from(chrono::Datelike::day0(&today))))
}

/// The sharing-out policy that applies to a month (the current one by default). A
/// configuration without a policy of its own gets the default, shown without a version.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/policy",
    tag = "settlement",
    params(("id" = i32, Path, description = "Configuration id"), PolicyParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The policy in force", body = PolicyPublic),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad period", body = ValidationErrorBody),
    )
)]
pub async fn read_policy(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<PolicyParams>,
) -> Result<Json<PolicyPublic>, ApiError> {
    let period = match &params.period {
        Some(text) => parse_period(&["query", "period"], text)?,
        None => current_month(),
    };
    let policy = service::settlements::policy(&current.actor(), &state.db, id, period).await?;
    let public = match policy {
        Some(version) => PolicyPublic::from_model(version).map_err(service::ServiceError::from)?,
        None => PolicyPublic::default_policy(),
    };
    Ok(Json(public))
}

/// Every version of the configuration's policy, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/policy/versions",
    tag = "settlement",
    params(("id" = i32, Path, description = "Configuration id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Versions", body = [PolicyPublic]),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id or query", body = ValidationErrorBody),
    )
)]
pub async fn policy_versions(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<Vec<PolicyPublic>>, ApiError> {
    let versions = service::settlements::policy_versions(&current.actor(), &state.db, id).await?;
    let versions = versions
        .into_iter()
        .map(PolicyPublic::from_model)
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(service::ServiceError::from)?;
    Ok(Json(versions))
}

/// Adopts a new version of the policy, applying from the first day of a month. Earlier versions
/// stay (runs record the version they used); re-running a finalised month under the new
/// version produces adjustments.
#[utoipa::path(
    put,
    path = "/api/v1/configurations/{id}/policy",
    tag = "settlement",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = PolicyCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "The new version", body = PolicyPublic),
        (status = 403, description = "The role may not change policies", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid policy (the field is named)", body = ValidationErrorBody),
    )
)]
pub async fn write_policy(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<PolicyCreate>,
) -> Result<(StatusCode, Json<PolicyPublic>), ApiError> {
    let policy = service::settlements::adopt_policy(&current.actor(), &state.db, id, body).await?;
    let public = PolicyPublic::from_model(policy).map_err(service::ServiceError::from)?;
    Ok((StatusCode::CREATED, Json(public)))
}

/// Computes a month and stores it as a **preview**: totals, per plant and per member, hours
/// without prices or data, the policy version, and the inputs' fingerprint. Nothing reaches
/// the ledger until the run is finalised.
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/settlements",
    tag = "settlement",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = SettlementCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "The preview run", body = SettlementPublic),
        (status = 403, description = "The role may not run settlements", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "A regulated parameter has no value for the period", body = ErrorDetail),
        (status = 422, description = "Bad period", body = ValidationErrorBody),
    )
)]
pub async fn create_settlement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<SettlementCreate>,
) -> Result<(StatusCode, Json<SettlementPublic>), ApiError> {
    let period = parse_period(&["body", "period"], &body.period)?;
    let run =
        service::settlements::preview(&current.actor(), &state.db, id, period, &|_| {}).await?;
    let latest = run.id;
    Ok((
        StatusCode::CREATED,
        Json(SettlementPublic::from_model(run, latest)?),
    ))
}

/// The configuration's runs, newest period first (`?status=preview|finalized|superseded`);
/// previews older than the latest run of their month are marked `stale`.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/settlements",
    tag = "settlement",
    params(("id" = i32, Path, description = "Configuration id"), SettlementListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Runs", body = [SettlementSummary]),
        (status = 403, description = "Members see their statements, not runs", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id or query", body = ValidationErrorBody),
    )
)]
pub async fn list_settlements(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<SettlementListParams>,
) -> Result<Json<Vec<SettlementSummary>>, ApiError> {
    let runs = service::settlements::runs(&current.actor(), &state.db, id).await?;
    let summaries = runs
        .into_iter()
        .filter(|(run, _)| params.status.is_none_or(|status| run.status == status))
        .map(|(run, latest)| SettlementPublic::from_model(run, latest).map(|p| p.summary))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(summaries))
}

/// Deletes a preview (and its lines). Finalised and superseded runs are kept: the ledger and
/// the statements refer to them.
#[utoipa::path(
    delete,
    path = "/api/v1/settlements/{id}",
    tag = "settlement",
    params(("id" = i32, Path, description = "Settlement run id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Only referents, vendors and admins delete previews", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "The run is finalised or superseded", body = ErrorDetail),
        (status = 422, description = "Invalid id", body = ValidationErrorBody),
    )
)]
pub async fn delete_settlement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    service::settlements::delete_preview(&current.actor(), &state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/settlements/{id}",
    tag = "settlement",
    params(("id" = i32, Path, description = "Settlement run id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The run with its report", body = SettlementPublic),
        (status = 403, description = "Members see their statements, not runs", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id or query", body = ValidationErrorBody),
    )
)]
pub async fn read_settlement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<SettlementPublic>, ApiError> {
    Ok(Json(public_run(&state, &current, id).await?))
}

/// Writes the run into the ledger in one database transaction: per member `shared_energy`
/// (kWh), `incentive` and `valorisation` (€); the configuration's own shares and the GSE fees
/// at configuration level. Finalising again writes nothing. When the month was finalised
/// before, only `adjustment` rows for the differences are written, and the earlier run is
/// superseded. Refused (409) when its inputs changed since the preview (create a new one),
/// when it has blockers (draft configuration, month not over), or when data are missing
/// (readings, prices: the run's `gaps`) unless the body says
/// `{"accept_incomplete": true, "reason": "…"}` — then the figures are provisional and the
/// reason is kept on the run, in the ledger rows and on the members' statements.
#[utoipa::path(
    post,
    path = "/api/v1/settlements/{id}/finalize",
    tag = "settlement",
    params(("id" = i32, Path, description = "Settlement run id")),
    request_body(content = Option<FinalizeRequest>, description = "Optional: accept missing data, with a reason"),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Finalised (or already final)", body = FinalizeResponse),
        (status = 403, description = "Only referents, vendors and admins finalise", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Inputs changed, blockers, data missing (without accept_incomplete), or superseded", body = ErrorDetail),
        (status = 422, description = "Invalid id or body (accept_incomplete without a reason)", body = ValidationErrorBody),
    )
)]
pub async fn finalize_settlement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    OptionalJson(body): OptionalJson<FinalizeRequest>,
) -> Result<Json<FinalizeResponse>, ApiError> {
    let accept_incomplete = body
        .filter(|request| request.accept_incomplete)
        .map(|request| request.reason);
    let (finalization, run, latest) =
        service::settlements::finalize(&current.actor(), &state.db, id, accept_incomplete).await?;
    Ok(Json(FinalizeResponse {
        finalization,
        settlement: SettlementPublic::from_model(run, latest)?.summary,
    }))
}

/// Euros with a decimal comma, as Italian spreadsheets read them.
/// The run's members as a semicolon-separated file (Italian Excel: decimal commas, UTF-8 BOM).
#[utoipa::path(
    get,
    path = "/api/v1/settlements/{id}/members.csv",
    tag = "settlement",
    params(("id" = i32, Path, description = "Settlement run id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 403, description = "The role may not read settlement runs", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id or query", body = ValidationErrorBody),
    )
)]
pub async fn settlement_members_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Response, ApiError> {
    let public = public_run(&state, &current, id).await?;
    let mut lines = vec![
        "member_id;pod;holder_type;withdrawn_kwh;injected_kwh;shared_kwh;withdrawal_missing_hours;injection_missing_hours;incentive_eur;excess_premium_eur;valorisation_eur;total_eur".to_string(),
    ];
    let missing = |c: &Option<settlement::Coverage>| {
        c.as_ref()
            .map_or(String::new(), |c| c.missing_hours.to_string())
    };
    for m in &public.report.members {
        lines.push(format!(
            "{};{};{};{};{};{};{};{};{};{};{};{}",
            m.member_id,
            m.pod,
            m.holder_type.as_str(),
            csv::italian(m.withdrawn_kwh),
            csv::italian(m.injected_kwh),
            csv::italian(m.shared_kwh),
            missing(&m.withdrawal),
            missing(&m.injection),
            csv::euros(m.incentive_cents),
            csv::euros(m.excess_premium_cents),
            csv::euros(m.valorisation_cents),
            csv::euros(m.total_cents),
        ));
    }
    Ok(csv::response(
        &format!(
            "settlement-{}-{}.csv",
            public.summary.configuration_id, public.summary.period
        ),
        lines,
    ))
}

async fn member_statement(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
    year: i32,
) -> Result<Statement, ApiError> {
    Ok(service::settlements::statement(&current.actor(), &state.db, id, year).await?)
}

/// A run in the caller's scope with its report, stale or not.
async fn public_run(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<SettlementPublic, ApiError> {
    let (run, latest) = service::settlements::visible_run(&current.actor(), &state.db, id).await?;
    Ok(SettlementPublic::from_model(run, latest)?)
}

/// A member's year, month by month: shared energy, incentive, excess premium, valorisation and
/// other income kept apart (their tax treatment differs). Finalised settlements only.
#[utoipa::path(
    get,
    path = "/api/v1/members/{id}/statement",
    tag = "settlement",
    params(("id" = i32, Path, description = "Member id"), StatementParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The statement", body = Statement),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad year", body = ValidationErrorBody),
    )
)]
pub async fn read_statement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<StatementParams>,
) -> Result<Json<Statement>, ApiError> {
    Ok(Json(
        member_statement(&state, &current, id, params.year).await?,
    ))
}

/// The statement as a semicolon-separated file (Italian Excel).
#[utoipa::path(
    get,
    path = "/api/v1/members/{id}/statement.csv",
    tag = "settlement",
    params(("id" = i32, Path, description = "Member id"), StatementParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id or query", body = ValidationErrorBody),
    )
)]
pub async fn read_statement_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<StatementParams>,
) -> Result<Response, ApiError> {
    let statement = member_statement(&state, &current, id, params.year).await?;
    let mut lines = vec![
        "period;shared_kwh;incentive_eur;excess_premium_eur;valorisation_eur;other_eur;payments_eur;note"
            .to_string(),
    ];
    for month in statement.months.iter().chain([&statement.total]) {
        lines.push(format!(
            "{};{};{};{};{};{};{};{}",
            month.period,
            csv::italian(month.shared_kwh),
            csv::euros(month.incentive_cents),
            csv::euros(month.excess_premium_cents),
            csv::euros(month.valorisation_cents),
            csv::euros(month.other_cents),
            csv::euros(month.payments_cents),
            csv::text(month.provisional.as_deref().unwrap_or("")),
        ));
    }

    Ok(csv::response(
        &format!("statement-{}-{}.csv", statement.member_id, statement.year),
        lines,
    ))
}

/// The member's statement as a PDF: a month (`month=1..12`) or the whole year, in the holder's
/// language (or `language=it|en`): the community, the member and its point, energy
/// (withdrawal, injection, shared energy attributed), each income line with its definition,
/// payments received and other ledger rows apart, the balance, and a provisional mark when a
/// month was finalised with data missing. Figures as in the ledger.
#[utoipa::path(
    get,
    path = "/api/v1/members/{id}/statement.pdf",
    tag = "settlement",
    params(("id" = i32, Path, description = "Member id"), StatementPdfParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "PDF", content_type = "application/pdf", body = String),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "A finalised run's stored report cannot be read", body = ErrorDetail),
        (status = 422, description = "Invalid id or query", body = ValidationErrorBody),
    )
)]
pub async fn read_statement_pdf(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<StatementPdfParams>,
) -> Result<Response, ApiError> {
    use axum::response::IntoResponse;
    let period = service::statements::period_of(params.year, params.month)?;
    let (name, pdf) =
        service::statements::pdf(&current.actor(), &state.db, id, period, params.language).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// Mails a finalised month's statement, PDF attached, to every member with a line in it (in
/// the holder's language, through the outbox); members without an e-mail address are listed
/// with the reason. Once per month, unless `again`.
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/statement-mailings",
    tag = "settlement",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = StatementMailingCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Queued: to whom, and who was skipped and why", body = StatementMailingPublic),
        (status = 403, description = "The role may not run settlements", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "The month is not finalised, or was already mailed", body = ErrorDetail),
        (status = 422, description = "Unreadable month", body = ValidationErrorBody),
    )
)]
pub async fn create_statement_mailing(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(input): ValidJson<StatementMailingCreate>,
) -> Result<(StatusCode, Json<StatementMailingPublic>), ApiError> {
    let month = Period::parse(input.period.trim()).ok_or_else(|| {
        ApiError::from(service::ServiceError::invalid(
            "period",
            format!("`{}` is not a month: write it as YYYY-MM", input.period),
            "month",
        ))
    })?;
    let (mailing, items) = service::statements::mail_month(
        &current.actor(),
        &state.db,
        &state.mailer,
        id,
        month,
        input.again,
    )
    .await?;
    let items = items
        .into_iter()
        .map(|i| {
            let delivery = i.outbox_id.map(|_| "pending".to_string());
            (i, delivery)
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(StatementMailingPublic::of(mailing, items)),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/statement-mailings",
    tag = "settlement",
    params(("id" = i32, Path, description = "Configuration id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The mailings, newest first: to whom, the outbox status of each message, who was skipped and why", body = Vec<StatementMailingPublic>),
        (status = 403, description = "The role may not run settlements", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id", body = ValidationErrorBody),
    )
)]
pub async fn list_statement_mailings(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<Vec<StatementMailingPublic>>, ApiError> {
    let mailings = service::statements::mailings(&current.actor(), &state.db, id).await?;
    Ok(Json(
        mailings
            .into_iter()
            .map(|(m, items)| StatementMailingPublic::of(m, items))
            .collect(),
    ))
}
