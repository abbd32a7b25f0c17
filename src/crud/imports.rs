//! The import log: what each meter-data or price file did.
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::scope::{self, CommunityScope};
use crate::models::reading_import;

/// A configuration's imports of `kind` (`readings`: its own; `prices`: every price file),
/// newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    kind: Option<&str>,
) -> Result<Vec<reading_import::Model>, DbErr> {
    use reading_import::Column;
    let mut belongs = sea_orm::Condition::any();
    if kind != Some("prices") {
        belongs = belongs.add(
            sea_orm::Condition::all()
                .add(Column::Kind.eq("readings"))
                .add(Column::ConfigurationId.eq(configuration_id)),
        );
    }
    if kind != Some("readings") {
        belongs = belongs.add(Column::Kind.eq("prices"));
    }
    reading_import::Entity::find()
        .filter(belongs)
        .order_by_desc(Column::Id)
        .all(db)
        .await
}

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<reading_import::Model>, DbErr> {
    reading_import::Entity::find_by_id(id)
        .filter(scope::reading_imports(scope))
        .one(db)
        .await
}
