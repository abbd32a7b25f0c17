use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::scope::{self, CommunityScope};
use super::{contains_case_insensitive, paginate};
use crate::models::community_user::{Column, Entity, Model};
use crate::schemas::community_user::CommunityUserListParams;

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(scope::community_users(scope))
        .one(db)
        .await
}

pub async fn find_by_email_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    email: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(scope::community_users(scope))
        .filter(Column::Email.eq(email.trim().to_lowercase()))
        .order_by_asc(Column::Id)
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    params: &CommunityUserListParams,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut condition = scope::community_users(scope);
    if let Some(search) = super::search_term(&params.search) {
        condition = condition.add(
            Condition::any()
                .add(contains_case_insensitive((Entity, Column::Email), search))
                .add(contains_case_insensitive(
                    (Entity, Column::FullName),
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
