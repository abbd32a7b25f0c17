use sea_orm::sea_query::{Condition, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter,
};

use super::scope::{self, CommunityScope};
use super::{contains_case_insensitive, paginate};
use crate::models::member::{Column, Entity, Model};
use crate::models::{plant, transaction, user};
use crate::schemas::member::MemberListParams;

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(scope::members(scope))
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    params: &MemberListParams,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut condition = scope::members(scope);
    if let Some(configuration_id) = params.configuration_id {
        condition = condition.add(Column::ConfigurationId.eq(configuration_id));
    }
    if let Some(role) = params.role {
        condition = condition.add(Column::Role.eq(role));
    }
    if let Some(status) = params.status {
        condition = condition.add(Column::Status.eq(status));
    }
    if let Some(holder_type) = params.holder_type {
        condition = condition.add(Column::HolderType.eq(holder_type));
    }
    if let Some(search) = super::search_term(&params.search) {
        let matching_users = Query::select()
            .column(user::Column::Id)
            .from(user::Entity)
            .cond_where(
                Condition::any()
                    .add(contains_case_insensitive(
                        (user::Entity, user::Column::Email),
                        search,
                    ))
                    .add(contains_case_insensitive(
                        (user::Entity, user::Column::FullName),
                        search,
                    )),
            )
            .to_owned();
        condition = condition.add(
            Condition::any()
                .add(contains_case_insensitive((Entity, Column::Pod), search))
                .add(Column::UserId.in_subquery(matching_users)),
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

/// Every other membership of the POD, in any configuration.
pub async fn other_memberships_of_pod(
    db: &impl ConnectionTrait,
    pod: &str,
    except: Option<i32>,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().filter(Column::Pod.eq(pod));
    if let Some(id) = except {
        query = query.filter(Column::Id.ne(id));
    }
    query.all(db).await
}

pub async fn in_configuration(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    except: Option<i32>,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().filter(Column::ConfigurationId.eq(configuration_id));
    if let Some(id) = except {
        query = query.filter(Column::Id.ne(id));
    }
    query.all(db).await
}

pub async fn dependents(db: &impl ConnectionTrait, id: i32) -> Result<(u64, u64), DbErr> {
    let plants = plant::Entity::find()
        .filter(plant::Column::MemberId.eq(id))
        .count(db)
        .await?;
    let transactions = transaction::Entity::find()
        .filter(transaction::Column::MemberId.eq(id))
        .count(db)
        .await?;
    Ok((plants, transactions))
}

pub async fn delete(db: &impl ConnectionTrait, model: Model) -> Result<(), DbErr> {
    model.delete(db).await.map(|_| ())
}
