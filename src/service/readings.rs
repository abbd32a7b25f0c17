//! Meter data: importing a file into a configuration (all or nothing), the import log, and
//! reverting an import. The same use cases serve the API's upload and `condivisa import readings`.
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::io::AsyncBufRead;

use super::{Actor, Outcome, Problem, ServiceError, configurations};
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::imports::{RevertError, RevertSummary};
use crate::crud::scope::CommunityScope;
use crate::domain::meter_files::ParseOptions;
use crate::imports::{ImportError, ImportSummary, import_readings, membership_windows};
use crate::models::reading_import;

/// Imports a meter-data file into configuration `configuration_id`, recording the actor as the
/// uploader; `progress` hears the bytes read so far.
pub async fn import(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    reader: impl AsyncBufRead + Unpin,
    options: ParseOptions,
    allow_outliers: bool,
    progress: impl FnMut(u64),
) -> Outcome<ImportSummary> {
    let configuration = configurations::visible(actor, db, configuration_id).await?;
    actor.require(Permission::MembersWrite)?;
    let summary = import_readings(
        db,
        &configuration,
        reader,
        options,
        allow_outliers,
        Some(actor.user_id),
        progress,
    )
    .await
    .map_err(|error| match error {
        ImportError::Rejected(problems) => ServiceError::Invalid(
            problems
                .into_iter()
                .map(|(line, message)| Problem::at_line(line, message, "reading"))
                .collect(),
        ),
        ImportError::Io(error) => super::upload_failed(error),
        ImportError::Database(error) => error.into(),
    })?;
    actor
        .audit(
            db,
            "readings.imported",
            ("reading_import", Some(i64::from(summary.import_id))),
            Some(configuration_id),
            serde_json::json!({
                "format": summary.format,
                "intervals": summary.intervals,
                "new_values": summary.new_values,
                "revised_values": summary.revised_values,
            }),
        )
        .await?;
    tracing::info!(
        configuration_id,
        import_id = summary.import_id,
        intervals = summary.intervals,
        "readings imported"
    );
    Ok(summary)
}

/// The configuration's import log, newest first (`kind`: `readings` or `prices`, or both).
pub async fn imports_of(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    kind: Option<&str>,
) -> Outcome<Vec<reading_import::Model>> {
    let configuration = configurations::visible(actor, db, configuration_id).await?;
    actor.require(Permission::SettlementsRead)?;
    Ok(crud::imports::list(db, configuration.id, kind).await?)
}

/// An import in the actor's scope; any other is "not found".
pub async fn visible_import(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<reading_import::Model> {
    actor.require(Permission::SettlementsRead)?;
    crud::imports::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Import"))
}

/// Undoes a meter-data import in one transaction under the configuration's write lock.
pub async fn revert(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<RevertSummary> {
    let import = visible_import(actor, db, id).await?;
    actor.require(Permission::MembersWrite)?;
    let Some(configuration_id) = import.configuration_id else {
        return Err(ServiceError::conflict(
            RevertError::NotReadings(id).to_string(),
        ));
    };
    let txn = db.begin().await?;
    // The lock imports and membership changes take: nothing moves the values or the windows
    // while they are put back.
    crud::write_lock(&txn, &format!("configuration:{configuration_id}")).await?;
    let import = crud::imports::find_in_scope(&txn, CommunityScope::All, id)
        .await?
        .ok_or(ServiceError::NotFound("Import"))?;
    let windows = membership_windows(&txn, configuration_id).await?;
    let summary = match crud::imports::revert(&txn, &import, &windows, actor.user_id).await {
        Ok(summary) => summary,
        Err(RevertError::Database(error)) => return Err(error.into()),
        Err(refused) => return Err(ServiceError::conflict(refused.to_string())),
    };
    actor
        .audit(
            &txn,
            "readings.reverted",
            ("reading_import", Some(i64::from(id))),
            Some(configuration_id),
            serde_json::json!({ "revert_import_id": summary.revert_import_id }),
        )
        .await?;
    txn.commit().await?;
    tracing::info!(
        import_id = id,
        revert_import_id = summary.revert_import_id,
        "import reverted"
    );
    Ok(summary)
}
