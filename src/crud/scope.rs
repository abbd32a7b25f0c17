//! The caller's scope over the community data, as SQL conditions. Everything is scoped through
//! the configuration: a vendor sees its organization's configurations, a referent the ones it is
//! referent of, a user the ones its member records belong to.
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query, SelectStatement};

use crate::models::enums::{Role, UserStatus};
use crate::models::{
    community_user, configuration, holder, member, plant, reading_import, settlement_run,
    transaction, user,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommunityScope {
    All,
    Organization(i32),
    Referent(i32),
    MemberUser(i32),
    Nobody,
}

/// User `user_id` is still active, with `role` and in `organization`: the claim of an access
/// token, checked inside the statement that reads on it. That statement sees the user's row in
/// its own snapshot, so a deactivation or a change of role or organisation takes effect at once,
/// exactly as when the user is loaded first — without a round trip of its own.
pub fn still_acting(user_id: i32, role: Role, organization: Option<i32>) -> Condition {
    let organization = match organization {
        Some(id) => user::Column::OrganizationId.eq(id),
        None => user::Column::OrganizationId.is_null(),
    };
    Condition::all().add(Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(user::Entity)
            .and_where(user::Column::Id.eq(user_id))
            .and_where(user::Column::Status.eq(UserStatus::Active))
            .and_where(user::Column::Role.eq(role))
            .and_where(organization)
            .to_owned(),
    ))
}

fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// `SELECT id FROM configurations WHERE <scope>`.
fn visible_configuration_ids(scope: CommunityScope) -> SelectStatement {
    Query::select()
        .column(configuration::Column::Id)
        .from(configuration::Entity)
        .cond_where(configurations(scope))
        .to_owned()
}

fn member_ids_of_user(user_id: i32) -> SelectStatement {
    Query::select()
        .column(member::Column::Id)
        .from(member::Entity)
        .and_where(member::Column::UserId.eq(user_id))
        .to_owned()
}

pub fn configurations(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::Organization(id) => {
            Condition::all().add(configuration::Column::OrganizationId.eq(id))
        }
        CommunityScope::Referent(user) => {
            Condition::all().add(configuration::Column::ReferentId.eq(user))
        }
        CommunityScope::MemberUser(user) => Condition::all().add(
            configuration::Column::Id.in_subquery(
                Query::select()
                    .column(member::Column::ConfigurationId)
                    .from(member::Entity)
                    .and_where(member::Column::UserId.eq(user))
                    .to_owned(),
            ),
        ),
        CommunityScope::Nobody => nothing(),
    }
}

pub fn members(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::MemberUser(user) => Condition::all().add(member::Column::UserId.eq(user)),
        CommunityScope::Nobody => nothing(),
        other => Condition::all()
            .add(member::Column::ConfigurationId.in_subquery(visible_configuration_ids(other))),
    }
}

pub fn plants(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::Nobody => nothing(),
        other => Condition::all().add(
            plant::Column::MemberId.in_subquery(
                Query::select()
                    .column(member::Column::Id)
                    .from(member::Entity)
                    .cond_where(members(other))
                    .to_owned(),
            ),
        ),
    }
}

pub fn transactions(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::MemberUser(user) => Condition::all()
            .add(transaction::Column::MemberId.in_subquery(member_ids_of_user(user))),
        CommunityScope::Nobody => nothing(),
        other => Condition::all().add(
            transaction::Column::ConfigurationId.in_subquery(visible_configuration_ids(other)),
        ),
    }
}

/// Settlement runs are seen through their configuration (members see statements, not runs:
/// that is a permission, checked by the caller).
pub fn settlement_runs(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::Nobody => nothing(),
        other => Condition::all().add(
            settlement_run::Column::ConfigurationId.in_subquery(visible_configuration_ids(other)),
        ),
    }
}

/// Imports of meter readings follow their configuration; price imports (no configuration)
/// are market data, visible to every role that reads configurations.
pub fn reading_imports(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::Nobody => nothing(),
        other => Condition::any()
            .add(reading_import::Column::ConfigurationId.is_null())
            .add(
                reading_import::Column::ConfigurationId
                    .in_subquery(visible_configuration_ids(other)),
            ),
    }
}

/// The registry of people belongs to organizations: a referent sees the registries of the
/// organizations whose configurations it runs.
pub fn community_users(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::Organization(id) => {
            Condition::all().add(community_user::Column::OrganizationId.eq(id))
        }
        CommunityScope::Referent(user) => Condition::all().add(
            community_user::Column::OrganizationId.in_subquery(
                Query::select()
                    .column(configuration::Column::OrganizationId)
                    .from(configuration::Entity)
                    .and_where(configuration::Column::ReferentId.eq(user))
                    .to_owned(),
            ),
        ),
        CommunityScope::MemberUser(_) | CommunityScope::Nobody => nothing(),
    }
}

/// `SELECT holder_id FROM members WHERE <members>`: the holders of those points.
pub fn holders_of_members(members: Condition) -> SelectStatement {
    Query::select()
        .column(member::Column::HolderId)
        .from(member::Entity)
        .cond_where(members)
        .and_where(member::Column::HolderId.is_not_null())
        .to_owned()
}

/// `SELECT id FROM holders WHERE <scope>`: for rows that belong to a holder.
pub fn visible_holder_ids(scope: CommunityScope) -> SelectStatement {
    Query::select()
        .column(holder::Column::Id)
        .from(holder::Entity)
        .cond_where(holders(scope))
        .to_owned()
}

/// Holders are personal data: an admin sees every holder, a vendor its organization's, a
/// referent those holding a point in its configurations and those it registered itself (before
/// they have a point), a user the holder linked to its account and those of its points.
pub fn holders(scope: CommunityScope) -> Condition {
    match scope {
        CommunityScope::All => Condition::all(),
        CommunityScope::Organization(id) => {
            Condition::all().add(holder::Column::OrganizationId.eq(id))
        }
        // Wrapped in an `all`, so that a caller's `.add(filter)` narrows instead of widening.
        CommunityScope::Referent(user) => Condition::all().add(
            Condition::any()
                .add(holder::Column::Id.in_subquery(holders_of_members(members(scope))))
                .add(holder::Column::CreatedBy.eq(user)),
        ),
        CommunityScope::MemberUser(user) => Condition::all().add(
            Condition::any()
                .add(holder::Column::UserId.eq(user))
                .add(holder::Column::Id.in_subquery(holders_of_members(members(scope)))),
        ),
        CommunityScope::Nobody => nothing(),
    }
}
