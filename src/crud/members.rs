use sea_orm::sea_query::{Alias, Condition, Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter,
    QueryResult,
};

use super::by_position;
use super::scope::{self, CommunityScope};
use super::{contains_case_insensitive, paginate};
use crate::models::member::{Column, Entity, Model};
use crate::models::{configuration, plant, transaction, user};
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
    if let Some(configuration_id) = whole_configuration(scope, params) {
        let page =
            configuration_page(db, scope, configuration_id, Condition::all(), params).await?;
        return Ok(page.unwrap_or_default());
    }
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

/// Whether the scope sees every member of a configuration it sees (a member user sees only
/// their own memberships).
fn sees_whole_configurations(scope: CommunityScope) -> bool {
    matches!(
        scope,
        CommunityScope::All | CommunityScope::Organization(_) | CommunityScope::Referent(_)
    )
}

/// [`list`] for the page read on an access token's claim: one configuration's members,
/// unfiltered, read only if `guard` (`scope::still_acting`) holds in the same statement. `None`
/// when the parameters ask for another list, or when no row came back — the claim no longer
/// holds, or the configuration is outside the scope — which the caller settles by loading the
/// user and calling [`list`].
pub async fn list_if(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    guard: Condition,
    params: &MemberListParams,
) -> Result<Option<(Vec<Model>, u64)>, DbErr> {
    match whole_configuration(scope, params) {
        Some(configuration_id) => {
            configuration_page(db, scope, configuration_id, guard, params).await
        }
        None => Ok(None),
    }
}

/// The configuration whose members the parameters ask for, unfiltered, when the scope sees
/// all of them: that page reads its total from the configuration's row.
fn whole_configuration(scope: CommunityScope, params: &MemberListParams) -> Option<i32> {
    let unfiltered = params.role.is_none()
        && params.status.is_none()
        && params.holder_type.is_none()
        && super::search_term(&params.search).is_none();
    params
        .configuration_id
        .filter(|_| unfiltered && sees_whole_configurations(scope))
}

/// One configuration's members, unfiltered: the total is the configuration's `members_count`
/// (kept by the database's triggers, migration 16) instead of a count of its members on every
/// request; a configuration outside the scope, or a `guard` that fails, gives no row (`None`).
async fn configuration_page(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    configuration_id: i32,
    guard: Condition,
    params: &MemberListParams,
) -> Result<Option<(Vec<Model>, u64)>, DbErr> {
    let counted = Query::select()
        .expr_as(
            Expr::col((configuration::Entity, Alias::new(MEMBERS_COUNT))),
            Alias::new(super::PAGE_TOTAL),
        )
        .from(configuration::Entity)
        .cond_where(
            Condition::all()
                .add(configuration::Column::Id.eq(configuration_id))
                .add(scope::configurations(scope))
                .add(guard),
        )
        .to_owned();
    let members = Entity::find().filter(Column::ConfigurationId.eq(configuration_id));
    super::paginate_counted_found(
        db,
        None,
        counted,
        members,
        params.skip,
        params.limit,
        page_row,
    )
    .await
}

/// One member of a page, read by position (the page's columns start at 1, in the entity's
/// order): the busiest page there is, 50 rows a request (see [`by_position`]).
pub(crate) fn page_row(row: &QueryResult) -> Result<Model, DbErr> {
    Ok(by_position::model!(row, 1, Column, Model {
        id: get Id,
        configuration_id: get ConfigurationId,
        user_id: get UserId,
        holder_id: get HolderId,
        pod: get Pod,
        role: get_enum Role,
        holder_type: get_enum HolderType,
        status: get_enum Status,
        joined_at: get JoinedAt,
        withdrawn_at: get WithdrawnAt,
        net_metering: get NetMetering,
        available_power_w: get AvailablePowerW,
        gse_notified_on: get GseNotifiedOn,
        created_at: get CreatedAt,
        updated_at: get UpdatedAt,
    }))
}

/// `configurations.members_count`: written by the database only, so not in the entity.
const MEMBERS_COUNT: &str = "members_count";

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

/// How many of the configuration's members still in it (not withdrawn) and how many plants of
/// its members GSE has not been told of: GSE does not count them until it is.
pub async fn not_notified(
    db: &impl ConnectionTrait,
    configuration_id: i32,
) -> Result<(u64, u64), DbErr> {
    let members = Entity::find()
        .filter(Column::ConfigurationId.eq(configuration_id))
        .filter(Column::GseNotifiedOn.is_null())
        .filter(Column::WithdrawnAt.is_null())
        .count(db)
        .await?;
    let in_configuration = Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::ConfigurationId.eq(configuration_id))
        .and_where(Column::WithdrawnAt.is_null())
        .to_owned();
    let plants = plant::Entity::find()
        .filter(plant::Column::MemberId.in_subquery(in_configuration))
        .filter(plant::Column::GseNotifiedOn.is_null())
        .count(db)
        .await?;
    Ok((members, plants))
}

/// Of the configuration's members in it during `[month_start, next_month_start)` (Italian
/// days `first`..`last`), how many there are and how many of their PODs have any meter data in
/// that month: read from the curves' index, one row per POD, direction and month.
pub async fn with_data_in_month(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
    month_start: i64,
) -> Result<(u64, u64), DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let in_month = Condition::all()
        .add(Column::ConfigurationId.eq(configuration_id))
        .add(Column::JoinedAt.lte(last))
        .add(
            Condition::any()
                .add(Column::WithdrawnAt.is_null())
                .add(Column::WithdrawnAt.gte(first)),
        );
    let members = Entity::find().filter(in_month.clone()).count(db).await?;
    let with_data = Entity::find()
        .filter(in_month)
        .filter(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(Alias::new("reading_curves"))
                .and_where(
                    Expr::col((Alias::new("reading_curves"), Alias::new("pod")))
                        .equals((Entity, Column::Pod)),
                )
                .and_where(
                    Expr::col((Alias::new("reading_curves"), Alias::new("month_start")))
                        .eq(month_start),
                )
                .to_owned(),
        ))
        .count(db)
        .await?;
    Ok((members, with_data))
}
