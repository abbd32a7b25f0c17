//! Paying members from the console: a configuration's payout account (the SEPA file's debtor)
//! and its batches, and one batch from preview to paid — prepared through a finalised month,
//! approved by a second person (or the referent), exported as the pain.001 file the bank takes,
//! marked paid, or cancelled with a reason. The same use cases as the API, so the same rules:
//! who is held back and why, nothing exported twice, a batch refused when a balance, name or
//! IBAN moved since it was prepared.
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    CheckedForm, Frame, Signed, csrf_form, euros, failure, grouped_iban, minute, not_found,
    parse_decimal, path_id, said, shown, told,
};
use crate::api::state::AppState;
use crate::models::enums::{Language, PayoutStatus};
use crate::models::{payout_batch, payout_item};
use crate::schemas::payout::{
    PayoutAccountUpdate, PayoutBatchCreate, PayoutCancel, PayoutExport, PayoutPaid,
};
use crate::service::{self, ServiceError};
use crate::web::text;

#[derive(Serialize)]
struct BatchRow {
    id: i32,
    status: String,
    through: String,
    total: String,
    transfers: i32,
    held: i32,
    created_at: String,
}

#[derive(Serialize, Default)]
struct AccountForm {
    account_name: String,
    iban: String,
    bic: String,
    minimum_eur: String,
}

#[derive(Serialize)]
struct PayoutsView {
    #[serde(flatten)]
    frame: Frame,
    configuration_id: i32,
    configuration_name: String,
    account_iban: Option<String>,
    account: AccountForm,
    batches: Vec<BatchRow>,
    suggested_month: String,
    notice: Option<String>,
    problems: Vec<String>,
}

fn batch_row(lang: Language, b: &payout_batch::Model) -> BatchRow {
    BatchRow {
        id: b.id,
        status: b.status.as_str().to_string(),
        through: b.through_period.format("%Y-%m").to_string(),
        total: euros(b.total_cents, lang),
        transfers: b.transfers,
        held: b.held,
        created_at: minute(b.created_at),
    }
}

async fn payouts_view(
    state: &AppState,
    signed: &Signed,
    configuration_id: i32,
) -> Result<PayoutsView, ServiceError> {
    let lang = signed.lang;
    let actor = signed.actor();
    let configuration = service::payouts::account(&actor, &state.db, configuration_id).await?;
    let batches = service::payouts::list(&actor, &state.db, configuration.id).await?;
    Ok(PayoutsView {
        frame: signed.frame(format!(
            "{} · {}",
            text(lang, "payouts"),
            configuration.name
        )),
        configuration_id: configuration.id,
        account_iban: configuration.payout_iban.as_deref().map(grouped_iban),
        account: AccountForm {
            account_name: configuration
                .payout_account_name
                .clone()
                .unwrap_or_default(),
            iban: configuration.payout_iban.clone().unwrap_or_default(),
            bic: configuration.payout_bic.clone().unwrap_or_default(),
            minimum_eur: super::decimal(
                &rust_decimal::Decimal::new(configuration.payout_minimum_cents, 2).to_string(),
                lang,
            ),
        },
        configuration_name: configuration.name,
        batches: batches.iter().map(|b| batch_row(lang, b)).collect(),
        suggested_month: super::operators::last_month_over(),
        notice: None,
        problems: Vec::new(),
    })
}

/// `/console/configurations/{id}/payouts`.
pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    shown(
        lang,
        "console/payouts.html",
        payouts_view(&state, &signed, id).await,
    )
}

/// The payouts page again, with what an action said.
async fn payouts_after(
    state: &AppState,
    signed: &Signed,
    configuration_id: i32,
    done: StatusCode,
    outcome: Result<String, ServiceError>,
    typed: Option<AccountForm>,
) -> Response {
    let lang = signed.lang;
    let said = match said(lang, done, outcome) {
        Ok(said) => said,
        Err(error) => return failure(lang, error),
    };
    let refused = !said.problems.is_empty();
    let view = payouts_view(state, signed, configuration_id)
        .await
        .map(|mut view| {
            if refused && let Some(typed) = typed {
                view.account = typed;
            }
            view
        });
    told(lang, "console/payouts.html", said, view)
}

#[derive(Deserialize)]
pub struct AccountFields {
    csrf: Option<String>,
    account_name: Option<String>,
    iban: Option<String>,
    bic: Option<String>,
    minimum_eur: Option<String>,
}

#[derive(Deserialize)]
pub struct PrepareFields {
    csrf: Option<String>,
    through: Option<String>,
}

#[derive(Deserialize)]
pub struct DateFields {
    csrf: Option<String>,
    date: Option<String>,
}

#[derive(Deserialize)]
pub struct ReasonFields {
    csrf: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
pub struct NoFields {
    csrf: Option<String>,
}

csrf_form!(
    AccountFields,
    PrepareFields,
    DateFields,
    ReasonFields,
    NoFields
);

pub async fn set_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<AccountFields>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let typed = AccountForm {
        account_name: form.account_name.unwrap_or_default(),
        iban: form.iban.unwrap_or_default(),
        bic: form.bic.unwrap_or_default(),
        minimum_eur: form.minimum_eur.unwrap_or_default(),
    };
    let minimum = match typed.minimum_eur.trim() {
        "" => Ok(None),
        text_value => parse_decimal(text_value).map(Some).ok_or_else(|| {
            ServiceError::invalid("minimum_eur", text(lang, "amount_invalid"), "decimal")
        }),
    };
    let outcome = match minimum {
        Ok(minimum_eur) => service::payouts::set_account(
            &signed.actor(),
            &state.db,
            id,
            PayoutAccountUpdate {
                account_name: typed.account_name.trim().to_string(),
                iban: typed.iban.clone(),
                bic: Some(typed.bic.trim().to_string()).filter(|b| !b.is_empty()),
                minimum_eur,
            },
        )
        .await
        .map(|_| text(lang, "payout_account_saved")),
        Err(error) => Err(error),
    };
    payouts_after(&state, &signed, id, StatusCode::OK, outcome, Some(typed)).await
}

pub async fn prepare(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<PrepareFields>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let input = PayoutBatchCreate {
        through: form.through.unwrap_or_default(),
        minimum_eur: None,
    };
    match service::payouts::prepare(&signed.actor(), &state.db, id, input).await {
        Ok((batch, _)) => Redirect::to(&format!("/console/payouts/{}", batch.id)).into_response(),
        Err(error) => {
            payouts_after(&state, &signed, id, StatusCode::CREATED, Err(error), None).await
        }
    }
}

#[derive(Serialize)]
struct ItemRow {
    pod: String,
    member_id: i32,
    holder_id: Option<i32>,
    creditor_name: Option<String>,
    iban: Option<String>,
    balance: String,
    amount: String,
    status: String,
    reason: Option<String>,
}

#[derive(Serialize)]
struct BatchView {
    #[serde(flatten)]
    frame: Frame,
    #[serde(flatten)]
    batch: BatchRow,
    configuration_id: i32,
    configuration_name: String,
    minimum: String,
    approved_at: Option<String>,
    exported_at: Option<String>,
    execution_date: Option<String>,
    file_name: Option<String>,
    paid_on: Option<String>,
    cancelled_at: Option<String>,
    cancel_reason: Option<String>,
    approvable: bool,
    exportable: bool,
    payable: bool,
    cancellable: bool,
    today: String,
    items: Vec<ItemRow>,
    notice: Option<String>,
    problems: Vec<String>,
}

fn item_row(lang: Language, i: &payout_item::Model) -> ItemRow {
    ItemRow {
        pod: i.pod.clone(),
        member_id: i.member_id,
        holder_id: i.holder_id,
        creditor_name: i.creditor_name.clone(),
        iban: i.iban.as_deref().map(grouped_iban),
        balance: euros(i.balance_cents, lang),
        amount: euros(i.amount_cents, lang),
        status: i.status.as_str().to_string(),
        reason: i.reason.clone(),
    }
}

async fn batch_view(state: &AppState, signed: &Signed, id: i32) -> Result<BatchView, ServiceError> {
    let lang = signed.lang;
    let actor = signed.actor();
    let (batch, items, configuration) = service::payouts::read(&actor, &state.db, id).await?;
    Ok(BatchView {
        frame: signed.frame(format!("{} {}", text(lang, "payout_batch"), batch.id)),
        batch: batch_row(lang, &batch),
        configuration_id: configuration.id,
        configuration_name: configuration.name,
        minimum: euros(batch.minimum_cents, lang),
        approved_at: batch.approved_at.map(minute),
        exported_at: batch.exported_at.map(minute),
        execution_date: batch.execution_date.map(|d| d.to_string()),
        file_name: batch.file_name.clone(),
        paid_on: batch.paid_on.map(|d| d.to_string()),
        cancelled_at: batch.cancelled_at.map(minute),
        cancel_reason: batch.cancel_reason.clone(),
        approvable: batch.status == PayoutStatus::Draft,
        exportable: batch.status == PayoutStatus::Approved,
        payable: batch.status == PayoutStatus::Exported,
        cancellable: !matches!(batch.status, PayoutStatus::Paid | PayoutStatus::Cancelled),
        today: service::italian_today().to_string(),
        items: items.iter().map(|i| item_row(lang, i)).collect(),
        notice: None,
        problems: Vec::new(),
    })
}

/// `/console/payouts/{id}`.
pub async fn batch(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    shown(
        lang,
        "console/payout.html",
        batch_view(&state, &signed, id).await,
    )
}

async fn batch_after(
    state: &AppState,
    signed: &Signed,
    id: i32,
    outcome: Result<String, ServiceError>,
) -> Response {
    let lang = signed.lang;
    let said = match said(lang, StatusCode::OK, outcome) {
        Ok(said) => said,
        Err(error) => return failure(lang, error),
    };
    told(
        lang,
        "console/payout.html",
        said,
        batch_view(state, signed, id).await,
    )
}

super::tells!(PayoutsView, BatchView);

/// A date field as typed, or the refusal naming it.
fn date_of(
    lang: Language,
    field: &str,
    value: Option<&str>,
) -> Result<Option<NaiveDate>, ServiceError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ServiceError::invalid(field, text(lang, "date_invalid"), "value_error")),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, _form): CheckedForm<NoFields>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let outcome = service::payouts::approve(&signed.actor(), &state.db, id)
        .await
        .map(|_| text(lang, "payout_approved"));
    batch_after(&state, &signed, id, outcome).await
}

pub async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<DateFields>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let outcome = match date_of(lang, "execution_date", form.date.as_deref()) {
        Ok(execution_date) => service::payouts::export(
            &signed.actor(),
            &state.db,
            id,
            PayoutExport { execution_date },
        )
        .await
        .map(|(batch, _)| {
            text(lang, "payout_exported").replace("{file}", &batch.file_name.unwrap_or_default())
        }),
        Err(error) => Err(error),
    };
    batch_after(&state, &signed, id, outcome).await
}

pub async fn paid(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<DateFields>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let outcome = match date_of(lang, "paid_on", form.date.as_deref()) {
        Ok(Some(paid_on)) => {
            service::payouts::mark_paid(&signed.actor(), &state.db, id, PayoutPaid { paid_on })
                .await
                .map(|_| text(lang, "payout_paid"))
        }
        Ok(None) => Err(ServiceError::invalid(
            "paid_on",
            text(lang, "date_invalid"),
            "missing",
        )),
        Err(error) => Err(error),
    };
    batch_after(&state, &signed, id, outcome).await
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<ReasonFields>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let outcome = service::payouts::cancel(
        &signed.actor(),
        &state.db,
        id,
        PayoutCancel {
            reason: form.reason,
        },
    )
    .await
    .map(|_| text(lang, "payout_cancelled"));
    batch_after(&state, &signed, id, outcome).await
}

/// The exported file, byte for byte as first written.
pub async fn file(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    match service::payouts::file(&signed.actor(), &state.db, id).await {
        Ok((name, content)) => {
            let mut response = content.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) => failure(lang, error),
    }
}
