//! SeaORM entities: the tables, as the database sees them. Behaviour lives in `crud`.

/// `ActiveModelBehavior` that stamps `created_at` on insert and `updated_at` on every save, so no
/// write path can forget them.
macro_rules! timestamped {
    () => {
        #[sea_orm::entity::prelude::async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                let now = chrono::Utc::now();
                if insert {
                    self.created_at = sea_orm::Set(now);
                }
                self.updated_at = sea_orm::Set(now);
                Ok(self)
            }
        }
    };
}

pub mod audit_event;
pub mod community_user;
pub mod configuration;
pub mod enums;
pub mod gse_statement;
pub mod holder;
pub mod holder_consent;
pub mod holder_revision;
pub mod iban_change_request;
pub mod idempotency_key;
pub mod join_request;
pub mod login_throttle;
pub mod mail_outbox;
pub mod market_parameter;
pub mod member;
pub mod one_time_token;
pub mod organization;
pub mod payout_batch;
pub mod payout_item;
pub mod plant;
pub mod reading_import;
pub mod refresh_token;
pub mod settlement_line;
pub mod settlement_policy;
pub mod settlement_run;
pub mod statement_mailing;
pub mod statement_mailing_item;
pub mod transaction;
pub mod user;
pub mod web_session;
