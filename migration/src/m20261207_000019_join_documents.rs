//! The versions of the documents a newcomer accepts when asking to join (issue 16): the
//! configuration's privacy notice and statute in force. The public request page shows them and
//! records them with the consents; a request through the API naming another version is refused,
//! so that the evidence says which text was accepted.
use sea_orm_migration::prelude::*;

use crate::batch;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        batch(
            manager,
            &[
                "ALTER TABLE configurations ADD COLUMN privacy_notice_version VARCHAR(64)"
                    .to_string(),
                "ALTER TABLE configurations ADD COLUMN statute_version VARCHAR(64)".to_string(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        batch(
            manager,
            &[
                "ALTER TABLE configurations DROP COLUMN statute_version".to_string(),
                "ALTER TABLE configurations DROP COLUMN privacy_notice_version".to_string(),
            ],
        )
        .await
    }
}
