//! `/members`: the PODs taking part in a configuration, with the GSE membership rules.
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};

use super::configurations::total_count_header;
use crate::api::deps::{CurrentUser, TokenCaller};
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery, first_file, is_multipart, read_body};
use crate::api::state::AppState;
use crate::schemas::member::{MemberCreate, MemberListParams, MemberPublic, MemberUpdate};
use crate::schemas::member_import::{MemberImportParams, MemberImportReport};
use crate::service;

#[utoipa::path(
    get,
    path = "/api/v1/members/",
    tag = "members",
    params(MemberListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Members in scope; the total is in `X-Total-Count`", body = Vec<MemberPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_members(
    State(state): State<AppState>,
    caller: TokenCaller,
    ValidQuery(params): ValidQuery<MemberListParams>,
) -> Result<(HeaderMap, Json<Vec<MemberPublic>>), ApiError> {
    // A configuration's page is read on the token's claim in one statement; anything else, or
    // a claim the statement did not confirm, loads the user first.
    let (rows, total) = caller
        .on_claim_or_loaded(
            &state,
            async |claimed| service::members::list_claimed(claimed, &state.db, &params).await,
            async |current| Ok(service::members::list(&current.actor(), &state.db, &params).await?),
        )
        .await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/members/",
    tag = "members",
    request_body = MemberCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = MemberPublic),
        (status = 403, description = "The role may not manage members", body = ErrorDetail),
        (status = 409, description = "A membership rule is broken (POD already in a configuration, AID final customer, closed configuration)", body = ErrorDetail),
        (status = 422, description = "Invalid body or a member rule (large enterprise in a CER, net metering consumer)", body = ValidationErrorBody),
    )
)]
pub async fn create_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<MemberCreate>,
) -> Result<(StatusCode, Json<MemberPublic>), ApiError> {
    let created = service::members::create(&current.actor(), &state.db, body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/members/{id}",
    tag = "members",
    params(("id" = i32, Path, description = "Member id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The member", body = MemberPublic),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<MemberPublic>, ApiError> {
    let member = service::members::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(member.into()))
}

/// Changes a membership. Withdraw with `{"status": "withdrawn", "withdrawn_at": "…"}`.
#[utoipa::path(
    patch,
    path = "/api/v1/members/{id}",
    tag = "members",
    params(("id" = i32, Path, description = "Member id")),
    request_body = MemberUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = MemberPublic),
        (status = 403, description = "The role may not manage members", body = ErrorDetail),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "A membership rule is broken", body = ErrorDetail),
        (status = 422, description = "Invalid body or a member rule", body = ValidationErrorBody),
    )
)]
pub async fn update_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<MemberUpdate>,
) -> Result<Json<MemberPublic>, ApiError> {
    let member = service::members::update(&current.actor(), &state.db, id, body).await?;
    Ok(Json(member.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/members/{id}",
    tag = "members",
    params(("id" = i32, Path, description = "Member id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The role may not manage members", body = ErrorDetail),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "It has transactions or plants: withdraw it instead", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    service::members::delete(&current.actor(), &state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports members with their holders from a spreadsheet: `text/csv` as the body, or the first
/// file of a `multipart/form-data` form. Italian Excel's CSV (`;`, BOM, Windows-1252, CRLF,
/// `dd/mm/yyyy`, decimal commas) or UTF-8 with `,`; the columns are in the README (Holders).
/// Holders are found by fiscal code in the configuration's organization, members by POD in
/// the configuration: importing the same file again changes nothing, and a line that differs
/// from what is stored updates it (with a revision). All or nothing: any problem refuses the
/// file, listing every bad cell by line and column (`loc`: `["body", line, column]`), and
/// nothing is written. `dry_run=true` runs every check — the database's included — and
/// writes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/members/import",
    tag = "members",
    params(("id" = i32, Path, description = "Configuration id"), MemberImportParams),
    request_body(
        description = "The file, as the body (`text/csv`) or as the first part of a form",
        content((String = "text/csv"), (crate::schemas::energy::FileUpload = "multipart/form-data"))
    ),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Dry run: what the import would do; nothing was written", body = MemberImportReport),
        (status = 201, description = "Imported: every line's holder and member created, updated or unchanged", body = MemberImportReport),
        (status = 400, description = "The upload could not be read, or the account was deactivated", body = ErrorDetail),
        (status = 403, description = "The role may not manage members and holders", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "The configuration is closed, or a concurrent write registered the same holder", body = ErrorDetail),
        (status = 413, description = "The file is larger than the request body limit", body = ErrorDetail),
        (status = 422, description = "The file was refused, nothing was written: every problem by line and column (`loc`: [\"body\", line, column])", body = ValidationErrorBody),
    )
)]
pub async fn import_members(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<MemberImportParams>,
    request: Request,
) -> Result<(StatusCode, Json<MemberImportReport>), ApiError> {
    // A members file is small (a thousand members is a few hundred kilobytes): read whole,
    // within the body limit.
    let bytes = if is_multipart(request.headers()) {
        first_file(request, &state).await?
    } else {
        read_body(request, &state).await?.to_vec()
    };
    let dry_run = params.dry_run.unwrap_or(false);
    let report =
        service::member_import::import(&current.actor(), &state.db, id, &bytes, dry_run).await?;
    let status = if dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(report)))
}
