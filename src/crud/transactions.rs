use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement,
};

use super::paginate;
use super::scope::{self, CommunityScope};
use crate::models::enums::TransactionStatus;
use crate::models::transaction::{ActiveModel, Column, Entity, Model};
use crate::schemas::transaction::TransactionListParams;

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(scope::transactions(scope))
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    params: &TransactionListParams,
) -> Result<(Vec<Model>, u64), DbErr> {
    paginate(db, filtered(scope, params), params.skip, params.limit).await
}

/// Every row the filters select, in the order they were recorded (a file export).
pub async fn all(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    params: &TransactionListParams,
) -> Result<Vec<Model>, DbErr> {
    filtered(scope, params)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

fn filtered(scope: CommunityScope, params: &TransactionListParams) -> sea_orm::Select<Entity> {
    let mut query = Entity::find().filter(scope::transactions(scope));
    if let Some(configuration_id) = params.configuration_id {
        query = query.filter(Column::ConfigurationId.eq(configuration_id));
    }
    if let Some(member_id) = params.member_id {
        query = query.filter(Column::MemberId.eq(member_id));
    }
    if let Some(kind) = params.kind {
        query = query.filter(Column::Kind.eq(kind));
    }
    if let Some(status) = params.status {
        query = query.filter(Column::Status.eq(status));
    }
    // Periods that overlap [from, to].
    if let Some(from) = params.from {
        query = query.filter(Column::PeriodEnd.gte(from));
    }
    if let Some(to) = params.to {
        query = query.filter(Column::PeriodStart.lte(to));
    }
    query
}

pub async fn insert(db: &impl ConnectionTrait, mut model: ActiveModel) -> Result<Model, DbErr> {
    model.created_at = Set(Utc::now());
    model.insert(db).await
}

/// Moves a pending row to `status`; false if it was no longer pending (someone else moved it).
pub async fn close_pending(
    db: &impl ConnectionTrait,
    id: i32,
    status: TransactionStatus,
) -> Result<bool, DbErr> {
    let mut update = Entity::update_many().col_expr(Column::Status, Expr::value(status.as_str()));
    if status == TransactionStatus::Settled {
        update = update.col_expr(Column::SettledAt, Expr::value(Utc::now()));
    }
    let result = update
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(TransactionStatus::Pending))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A member's ledger rows in `[from, to]` (by period start) that no settlement wrote.
pub async fn other_than_settlements(
    db: &impl ConnectionTrait,
    member_id: i32,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::MemberId.eq(member_id))
        .filter(Column::PeriodStart.gte(from))
        .filter(Column::PeriodStart.lte(to))
        .filter(Column::Status.ne(TransactionStatus::Cancelled))
        .filter(
            sea_orm::Condition::any()
                .add(Column::Reference.is_null())
                .add(Column::Reference.not_like("settlement:%")),
        )
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The first answer to an idempotent request: who sent it, under which key, and what it was.
pub struct KeyedAnswer<'a> {
    pub user_id: i32,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub status_code: u16,
    pub response_body: &'a str,
}

/// PostgreSQL: writes `row` (its id from [`next_id`]) — and, with `answer`, claims the key
/// and stores the answer — in one statement, so one round trip and no explicit transaction:
/// the row is written only if the key was free. `false` when the key was already taken
/// (nothing written).
pub async fn insert_with_answer(
    db: &impl ConnectionTrait,
    row: &Model,
    answer: Option<KeyedAnswer<'_>>,
) -> Result<bool, DbErr> {
    use sea_orm::Value;
    let columns = "id, configuration_id, member_id, kind, period_start, period_end, energy_wh, \
                   amount_cents, status, description, reference, created_by, created_at, settled_at";
    let mut values: Vec<Value> = Vec::with_capacity(20);
    let (sql, offset) = match &answer {
        Some(a) => {
            values.extend([
                a.user_id.into(),
                a.key.into(),
                a.request_hash.into(),
                i32::from(a.status_code).into(),
                a.response_body.into(),
                row.created_at.into(),
            ]);
            (
                "WITH k AS (INSERT INTO idempotency_keys \
                 (user_id, key, request_hash, status_code, response_body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, key) DO NOTHING RETURNING 1) \
                 INSERT INTO transactions ({columns}) SELECT {params} FROM k",
                6,
            )
        }
        None => ("INSERT INTO transactions ({columns}) VALUES ({params})", 0),
    };
    values.extend([
        row.id.into(),
        row.configuration_id.into(),
        row.member_id.into(),
        row.kind.as_str().into(),
        row.period_start.into(),
        row.period_end.into(),
        row.energy_wh.into(),
        row.amount_cents.into(),
        row.status.as_str().into(),
        row.description.clone().into(),
        row.reference.clone().into(),
        row.created_by.into(),
        row.created_at.into(),
        row.settled_at.into(),
    ]);
    let params = (offset + 1..=offset + 14)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = sql
        .replace("{columns}", columns)
        .replace("{params}", &params);
    let written = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    Ok(written.rows_affected() == 1)
}
