//! Holders, their consents and their revisions.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::scope::{self, CommunityScope};
use super::{contains_case_insensitive, paginate};
use crate::models::holder::{Column, Entity, Model};
use crate::models::{holder_consent, holder_revision, member};
use crate::schemas::holder::HolderListParams;

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(scope::holders(scope))
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    params: &HolderListParams,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut condition = scope::holders(scope);
    if let Some(kind) = params.kind {
        condition = condition.add(Column::Kind.eq(kind));
    }
    if let Some(status) = params.status {
        condition = condition.add(Column::Status.eq(status));
    }
    if let Some(configuration_id) = params.configuration_id {
        condition = condition.add(Column::Id.in_subquery(scope::holders_of_members(
            Condition::all().add(member::Column::ConfigurationId.eq(configuration_id)),
        )));
    }
    if let Some(search) = super::search_term(&params.search) {
        let mut any = Condition::any();
        for column in [
            Column::FirstName,
            Column::LastName,
            Column::CompanyName,
            Column::FiscalCode,
            Column::VatNumber,
            Column::Email,
        ] {
            any = any.add(contains_case_insensitive((Entity, column), search));
        }
        condition = condition.add(any);
    }
    paginate(
        db,
        Entity::find().filter(condition),
        params.skip,
        params.limit,
    )
    .await
}

/// Another holder of the organization with this fiscal code, if any.
pub async fn with_fiscal_code(
    db: &impl ConnectionTrait,
    organization_id: i32,
    fiscal_code: &str,
    except: Option<i32>,
) -> Result<Option<Model>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::FiscalCode.eq(fiscal_code));
    if let Some(id) = except {
        query = query.filter(Column::Id.ne(id));
    }
    query.one(db).await
}

/// The organization's holders with any of these fiscal codes, by id.
pub async fn with_fiscal_codes(
    db: &impl ConnectionTrait,
    organization_id: i32,
    fiscal_codes: &[String],
) -> Result<Vec<Model>, DbErr> {
    let mut found = Vec::new();
    // In chunks: one statement's bound values are limited (SQLite, PostgreSQL).
    for chunk in fiscal_codes.chunks(1000) {
        found.extend(
            Entity::find()
                .filter(Column::OrganizationId.eq(organization_id))
                .filter(Column::FiscalCode.is_in(chunk.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    found.sort_by_key(|holder| holder.id);
    Ok(found)
}

/// Which of these holders are in `scope`.
pub async fn visible_ids(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    ids: &[i32],
) -> Result<Vec<i32>, DbErr> {
    let mut found = Vec::new();
    for chunk in ids.chunks(1000) {
        found.extend(
            Entity::find()
                .filter(scope::holders(scope))
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|holder| holder.id),
        );
    }
    Ok(found)
}

/// The consents of these holders, oldest first.
pub async fn consents_of_holders(
    db: &impl ConnectionTrait,
    holder_ids: &[i32],
) -> Result<Vec<holder_consent::Model>, DbErr> {
    let mut found = Vec::new();
    for chunk in holder_ids.chunks(1000) {
        found.extend(
            holder_consent::Entity::find()
                .filter(holder_consent::Column::HolderId.is_in(chunk.iter().copied()))
                .order_by_asc(holder_consent::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// The holder linked to this account, if any.
pub async fn of_user(db: &impl ConnectionTrait, user_id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .one(db)
        .await
}

pub async fn members_of(
    db: &impl ConnectionTrait,
    holder_id: i32,
) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::HolderId.eq(holder_id))
        .order_by_asc(member::Column::Id)
        .all(db)
        .await
}

/// The holder's points that the scope sees (a referent: those in its configurations).
pub async fn members_of_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    holder_id: i32,
) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::HolderId.eq(holder_id))
        .filter(scope::members(scope))
        .order_by_asc(member::Column::Id)
        .all(db)
        .await
}

pub async fn consents_of(
    db: &impl ConnectionTrait,
    holder_id: i32,
) -> Result<Vec<holder_consent::Model>, DbErr> {
    holder_consent::Entity::find()
        .filter(holder_consent::Column::HolderId.eq(holder_id))
        .order_by_asc(holder_consent::Column::Id)
        .all(db)
        .await
}

pub async fn consent_of(
    db: &impl ConnectionTrait,
    holder_id: i32,
    consent_id: i32,
) -> Result<Option<holder_consent::Model>, DbErr> {
    holder_consent::Entity::find_by_id(consent_id)
        .filter(holder_consent::Column::HolderId.eq(holder_id))
        .one(db)
        .await
}

pub async fn revisions_of(
    db: &impl ConnectionTrait,
    holder_id: i32,
) -> Result<Vec<holder_revision::Model>, DbErr> {
    holder_revision::Entity::find()
        .filter(holder_revision::Column::HolderId.eq(holder_id))
        .order_by_asc(holder_revision::Column::ChangedAt)
        .order_by_asc(holder_revision::Column::Id)
        .all(db)
        .await
}

/// The revision in force at `instant`: the last one recorded at or before it (its `iban` is
/// the IBAN valid then). `None`: the holder did not exist yet.
pub async fn revision_at(
    db: &impl ConnectionTrait,
    holder_id: i32,
    instant: DateTime<Utc>,
) -> Result<Option<holder_revision::Model>, DbErr> {
    holder_revision::Entity::find()
        .filter(holder_revision::Column::HolderId.eq(holder_id))
        .filter(holder_revision::Column::ChangedAt.lte(instant))
        .order_by_desc(holder_revision::Column::ChangedAt)
        .order_by_desc(holder_revision::Column::Id)
        .one(db)
        .await
}
