use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::contains_case_insensitive;
use crate::models::organization::{Column, Entity, Model};
use crate::schemas::organization::OrganizationListParams;

/// Which organizations a caller can see.
#[derive(Clone, Copy, Debug)]
pub enum OrganizationScope {
    All,
    Only(i32),
    Nobody,
}

impl OrganizationScope {
    fn condition(self) -> Condition {
        match self {
            OrganizationScope::All => Condition::all(),
            OrganizationScope::Only(id) => Condition::all().add(Column::Id.eq(id)),
            OrganizationScope::Nobody => Condition::all().add(Column::Id.eq(-1)),
        }
    }
}

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: OrganizationScope,
    id: i32,
) -> Result<Option<Model>, sea_orm::DbErr> {
    Entity::find_by_id(id)
        .filter(scope.condition())
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: OrganizationScope,
    params: &OrganizationListParams,
) -> Result<(Vec<Model>, u64), sea_orm::DbErr> {
    let mut condition = scope.condition();
    if let Some(search) = params
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        condition = condition.add(contains_case_insensitive((Entity, Column::Name), search));
    }
    let query = Entity::find().filter(condition);
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_asc(Column::Id)
        .offset(params.skip)
        .limit(params.limit)
        .all(db)
        .await?;
    Ok((items, total))
}
