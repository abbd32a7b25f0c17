use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait, QueryFilter};

use super::scope::{self, CommunityScope};
use crate::models::member;
use crate::models::plant::{Column, Entity, Model};
use crate::schemas::plant::PlantListParams;

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(scope::plants(scope))
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    params: &PlantListParams,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = Entity::find().filter(scope::plants(scope));
    if let Some(member_id) = params.member_id {
        query = query.filter(Column::MemberId.eq(member_id));
    }
    if let Some(configuration_id) = params.configuration_id {
        query = query.filter(Column::MemberId.in_subquery(members_of(configuration_id)));
    }
    super::paginate(db, query, params.skip, params.limit).await
}

fn members_of(configuration_id: i32) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(member::Column::Id)
        .from(member::Entity)
        .and_where(member::Column::ConfigurationId.eq(configuration_id))
        .to_owned()
}

/// All plants of a configuration (a community has tens of plants, not thousands).
pub async fn in_configuration(
    db: &impl ConnectionTrait,
    configuration_id: i32,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::MemberId.in_subquery(members_of(configuration_id)))
        .all(db)
        .await
}

pub async fn delete(db: &impl ConnectionTrait, model: Model) -> Result<(), DbErr> {
    model.delete(db).await.map(|_| ())
}
