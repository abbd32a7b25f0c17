use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

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
    if let Some(search) = super::search_term(&params.search) {
        condition = condition.add(contains_case_insensitive((Entity, Column::Name), search));
    }
    super::paginate(
        db,
        Entity::find().filter(condition),
        params.skip,
        params.limit,
    )
    .await
}
