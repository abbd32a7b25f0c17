use chrono::Utc;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait, QueryFilter,
    QueryOrder, Set,
};

use super::scope::{self, CommunityScope};
use crate::models::member;
use crate::models::plant::{ActiveModel, Column, Entity, Model};
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
    super::paginate(
        db,
        query.order_by_asc(Column::Id),
        params.skip,
        params.limit,
    )
    .await
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

pub async fn insert(db: &impl ConnectionTrait, mut model: ActiveModel) -> Result<Model, DbErr> {
    let now = Utc::now();
    model.created_at = Set(now);
    model.updated_at = Set(now);
    model.insert(db).await
}

pub async fn update(db: &impl ConnectionTrait, mut model: ActiveModel) -> Result<Model, DbErr> {
    model.updated_at = Set(Utc::now());
    model.update(db).await
}

pub async fn delete(db: &impl ConnectionTrait, model: Model) -> Result<(), DbErr> {
    model.delete(db).await.map(|_| ())
}
