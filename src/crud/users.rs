use sea_orm::sea_query::{Alias, CommonTableExpression, Condition, Expr, Query, WithClause};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryResult,
    QueryTrait,
};

use super::{by_position, contains_lowered_needle};
use crate::models::enums::{Role, UserStatus};
use crate::models::user::{self, Column, Entity, Model};
use crate::schemas::user::UserListParams;

/// Which users a caller can see.
#[derive(Clone, Copy, Debug)]
pub enum UserScope {
    All,
    Organization(i32),
    /// Only this user: referents and plain users see nobody else.
    Only(i32),
    Nobody,
}

impl UserScope {
    fn condition(self) -> Condition {
        match self {
            UserScope::All => Condition::all(),
            UserScope::Organization(id) => Condition::all().add(Column::OrganizationId.eq(id)),
            UserScope::Only(id) => Condition::all().add(Column::Id.eq(id)),
            UserScope::Nobody => Condition::all().add(Column::Id.eq(-1)),
        }
    }
}

/// The user by id, read by position ([`by_position`]): every authenticated request but the
/// few that read on the token's claim loads its user this way first.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<Model>, sea_orm::DbErr> {
    let statement = db
        .get_database_backend()
        .build(&Entity::find_by_id(id).into_query());
    db.query_one_raw(statement)
        .await?
        .map(|row| row_at(&row, 0))
        .transpose()
}

/// A user whose columns start at `first`, in the entity's order (the order `Entity::find()`
/// selects them in).
pub(crate) fn row_at(row: &QueryResult, first: usize) -> Result<Model, sea_orm::DbErr> {
    Ok(by_position::model!(row, first, Column, Model {
        id: get Id,
        email: get Email,
        username: get Username,
        full_name: get FullName,
        fiscal_code: get FiscalCode,
        kind: get_enum Kind,
        user_type: get_enum UserType,
        address: get Address,
        role: get_enum Role,
        status: get_enum Status,
        hashed_password: get HashedPassword,
        organization_id: get OrganizationId,
        created_at: get CreatedAt,
        updated_at: get UpdatedAt,
    }))
}

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: UserScope,
    id: i32,
) -> Result<Option<Model>, sea_orm::DbErr> {
    Entity::find_by_id(id)
        .filter(scope.condition())
        .one(db)
        .await
}

/// By email or username; both are stored lower-case.
pub async fn find_by_login(
    db: &impl ConnectionTrait,
    login: &str,
) -> Result<Option<Model>, sea_orm::DbErr> {
    let login = login.trim().to_lowercase();
    let column = if login.contains('@') {
        Column::Email
    } else {
        Column::Username
    };
    Entity::find().filter(column.eq(login)).one(db).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: UserScope,
    params: &UserListParams,
) -> Result<(Vec<Model>, u64), sea_orm::DbErr> {
    list_where(db, scope, Condition::all(), params).await
}

/// [`list`] read on an access token's claim: only if `guard` (`scope::still_acting`) holds in
/// the same statements. `None` when nothing matched — the claim no longer holds, or the list is
/// empty — which the caller settles by loading the user and calling [`list`].
pub async fn list_if(
    db: &impl ConnectionTrait,
    scope: UserScope,
    guard: Condition,
    params: &UserListParams,
) -> Result<Option<(Vec<Model>, u64)>, sea_orm::DbErr> {
    let (rows, total) = list_where(db, scope, guard, params).await?;
    Ok((total > 0).then_some((rows, total)))
}

async fn list_where(
    db: &impl ConnectionTrait,
    scope: UserScope,
    guard: Condition,
    params: &UserListParams,
) -> Result<(Vec<Model>, u64), sea_orm::DbErr> {
    let mut condition = scope.condition().add(guard);
    if let Some(kind) = params.type_filter {
        condition = condition.add(Column::Kind.eq(kind));
    }
    if let Some(user_type) = params.user_type {
        condition = condition.add(Column::UserType.eq(user_type));
    }
    if let Some(status) = params.status {
        condition = condition.add(Column::Status.eq(status));
    }
    if let Some(role) = params.role {
        condition = condition.add(Column::Role.eq(role));
    }
    if let Some(organization_id) = params.organization_id {
        condition = condition.add(Column::OrganizationId.eq(organization_id));
    }
    let mut shared = None;
    if let Some(search) = super::search_term(&params.search) {
        let (matches, found) = matches_search(db.get_database_backend(), search);
        condition = condition.add(matches);
        shared = found;
    }
    super::paginate_sharing(
        db,
        shared,
        Entity::find().filter(condition),
        params.skip,
        params.limit,
    )
    .await
}

/// A search matches the email, username, full name or fiscal code, case-insensitively, never
/// across two fields (the separator is taken out of the needle).
///
/// PostgreSQL: one `LIKE` on the generated `search_text` column (those four fields lower-cased
/// and joined by U+001F; migration 7), answered by its trigram index, compared as stored:
/// `LOWER()` around it would keep the index out and fold every row (2.6 → 0.9 ms for a scan of
/// 1,000 users).
///
/// SQLite: a needle of three characters or more is a quoted phrase matched against the FTS5
/// trigram index `users_search` (migration 17), which is exactly "contains", case-folded, read
/// from the index. A shorter needle — a trigram index cannot answer it — reads every row:
/// `search_text` is a VIRTUAL column there (built for each row read), so the four columns are
/// matched directly by SQLite's `LIKE`, which ignores ASCII case by itself.
///
/// The ids the index found are a common table (the second value, `WITH … AS MATERIALIZED`):
/// the total and the page both read them, and the index is searched once for the two
/// (0.213 → 0.169 ms a search in the harness's users; BENCHMARKS.md, issue 13, tenth pass).
fn matches_search(backend: DbBackend, needle: &str) -> (Condition, Option<WithClause>) {
    let needle = needle.replace(SEARCH_SEPARATOR, "");
    let condition = match backend {
        DbBackend::Sqlite if needle.chars().count() >= TRIGRAM => {
            let found = CommonTableExpression::new()
                .table_name(Alias::new(FOUND))
                .column(Alias::new("id"))
                .materialized(true)
                .query(
                    Query::select()
                        .expr(Expr::cust("rowid"))
                        .from(Alias::new("users_search"))
                        .and_where(Expr::cust_with_values(
                            "users_search MATCH ?",
                            [fts5_phrase(&needle)],
                        ))
                        .to_owned(),
                )
                .to_owned();
            let matches = Condition::all().add(
                Column::Id.in_subquery(
                    Query::select()
                        .column(Alias::new("id"))
                        .from(Alias::new(FOUND))
                        .to_owned(),
                ),
            );
            return (matches, Some(WithClause::new().cte(found).to_owned()));
        }
        DbBackend::Sqlite => [
            Column::Email,
            Column::Username,
            Column::FullName,
            Column::FiscalCode,
        ]
        .into_iter()
        .fold(Condition::any(), |any, column| {
            any.add(contains_lowered_needle((Entity, column), &needle))
        }),
        _ => Condition::all().add(contains_lowered_needle(
            (Entity, Alias::new("search_text")),
            &needle,
        )),
    };
    (condition, None)
}

/// The common table of the ids SQLite's search index found.
const FOUND: &str = "users_found";

const SEARCH_SEPARATOR: char = '\u{1f}';

/// The shortest needle the trigram index answers.
const TRIGRAM: usize = 3;

/// The needle as one FTS5 string: in double quotes, its own double quotes doubled, so that no
/// character of it is read as query syntax (`OR`, `*`, `-`, parentheses…).
fn fts5_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

pub async fn count_active_admins(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::Status.eq(UserStatus::Active))
        .count(db)
        .await
}

/// Serialises changes that could remove the last active admin: without it, two admins could
/// deactivate each other at the same moment.
pub async fn lock_admin_changes(txn: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
    super::write_lock(txn, "admins").await
}

/// Replaces the account's password hash.
pub async fn set_password(
    db: &impl ConnectionTrait,
    user_id: i32,
    hashed_password: String,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    Entity::update_many()
        .col_expr(Column::HashedPassword, Expr::value(hashed_password))
        .col_expr(Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
