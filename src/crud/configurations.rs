use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, ModelTrait, PaginatorTrait,
    QueryFilter, QuerySelect, QueryTrait,
};

use super::scope::{self, CommunityScope};
use super::{contains_case_insensitive, paginate};
use crate::models::configuration::{Column, Entity, Model};
use crate::models::{member, reading_import, settlement_run, transaction};
use crate::schemas::configuration::ConfigurationListParams;

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(scope::configurations(scope))
        .one(db)
        .await
}

/// What recording a ledger row checks, read in one statement (see [`ledger_target`]).
pub struct LedgerTarget {
    pub configuration: Model,
    /// `member_id`, when given, is a member of the configuration that the scope sees.
    pub member_belongs: bool,
    /// The row's id, drawn from the ledger's sequence when asked (PostgreSQL).
    pub transaction_id: Option<i32>,
}

/// The configuration in scope, whether `member_id` belongs to it, and — with `draw_id`, on
/// PostgreSQL — the ledger row's id drawn in the same statement, so the write that follows needs
/// no round trip to draw it (a refused row leaves a gap in the ids, as a rolled-back insert
/// does). `guard` is `Condition::all()`, or the claim of an access token (`scope::still_acting`):
/// then no row also means the claim no longer holds.
pub async fn ledger_target(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    guard: Condition,
    id: i32,
    member_id: Option<i32>,
    draw_id: bool,
) -> Result<Option<LedgerTarget>, DbErr> {
    let member_belongs = match member_id {
        Some(member_id) => Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(member::Entity)
                .and_where(member::Column::Id.eq(member_id))
                .and_where(
                    Expr::col((member::Entity, member::Column::ConfigurationId))
                        .equals((Entity, Column::Id)),
                )
                .cond_where(scope::members(scope))
                .to_owned(),
        ),
        None => Expr::val(false),
    };
    let mut query = Entity::find_by_id(id)
        .filter(scope::configurations(scope))
        .filter(guard)
        .expr_as(member_belongs, "member_belongs");
    if draw_id {
        query = query.expr_as(
            Expr::cust("CAST(nextval(pg_get_serial_sequence('transactions', 'id')) AS INTEGER)"),
            "transaction_id",
        );
    }
    let statement = query.build(db.get_database_backend());
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    Ok(Some(LedgerTarget {
        member_belongs: row.try_get::<bool>("", "member_belongs")?,
        transaction_id: match draw_id {
            true => Some(row.try_get::<i32>("", "transaction_id")?),
            false => None,
        },
        configuration: Model::from_query_result(&row, "")?,
    }))
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    params: &ConfigurationListParams,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut condition = scope::configurations(scope);
    if let Some(status) = params.status {
        condition = condition.add(Column::Status.eq(status));
    }
    if let Some(kind) = params.kind {
        condition = condition.add(Column::Kind.eq(kind));
    }
    if let Some(organization_id) = params.organization_id {
        condition = condition.add(Column::OrganizationId.eq(organization_id));
    }
    if let Some(search) = super::search_term(&params.search) {
        condition = condition.add(
            Condition::any()
                .add(contains_case_insensitive((Entity, Column::Name), search))
                .add(contains_case_insensitive(
                    (Entity, Column::Description),
                    search,
                ))
                .add(contains_case_insensitive(
                    (Entity, Column::PrimarySubstation),
                    search,
                )),
        );
    }
    paginate(
        db,
        Entity::find().filter(condition),
        params.skip,
        params.limit,
    )
    .await
}

/// How many members and ledger rows hang off the configuration.
/// What a configuration holds that a deletion would lose: members, ledger rows, settlement runs
/// and meter-data imports (its policies and hourly totals go with it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dependents {
    pub members: u64,
    pub transactions: u64,
    pub settlement_runs: u64,
    pub imports: u64,
}

impl Dependents {
    pub fn any(&self) -> bool {
        self.members + self.transactions + self.settlement_runs + self.imports > 0
    }
}

pub async fn dependents(db: &impl ConnectionTrait, id: i32) -> Result<Dependents, DbErr> {
    Ok(Dependents {
        members: member::Entity::find()
            .filter(member::Column::ConfigurationId.eq(id))
            .count(db)
            .await?,
        transactions: transaction::Entity::find()
            .filter(transaction::Column::ConfigurationId.eq(id))
            .count(db)
            .await?,
        settlement_runs: settlement_run::Entity::find()
            .filter(settlement_run::Column::ConfigurationId.eq(id))
            .count(db)
            .await?,
        imports: reading_import::Entity::find()
            .filter(reading_import::Column::ConfigurationId.eq(id))
            .count(db)
            .await?,
    })
}

pub async fn delete(db: &impl ConnectionTrait, model: Model) -> Result<(), DbErr> {
    model.delete(db).await.map(|_| ())
}

/// The organizations in which a referent runs configurations.
pub async fn organizations_of_referent(
    db: &impl ConnectionTrait,
    referent_id: i32,
) -> Result<Vec<i32>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::OrganizationId)
        .distinct()
        .filter(Column::ReferentId.eq(referent_id))
        .into_tuple()
        .all(db)
        .await
}
