use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use super::scope::{self, CommunityScope};
use super::{contains_case_insensitive, paginate};
use crate::models::configuration::{Column, Entity, Model};
use crate::models::{member, transaction};
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
    if let Some(search) = params
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
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
        Entity::find().filter(condition).order_by_asc(Column::Id),
        params.skip,
        params.limit,
    )
    .await
}

/// How many members and ledger rows hang off the configuration.
pub async fn dependents(db: &impl ConnectionTrait, id: i32) -> Result<(u64, u64), DbErr> {
    let members = member::Entity::find()
        .filter(member::Column::ConfigurationId.eq(id))
        .count(db)
        .await?;
    let transactions = transaction::Entity::find()
        .filter(transaction::Column::ConfigurationId.eq(id))
        .count(db)
        .await?;
    Ok((members, transactions))
}

pub async fn delete(db: &impl ConnectionTrait, model: Model) -> Result<(), DbErr> {
    model.delete(db).await.map(|_| ())
}
