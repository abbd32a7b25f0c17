//! The `/api/v1` routes, each named once: the router is built from the annotated handlers
//! (`utoipa_axum::routes!`), so every route is in the OpenAPI document with the path its
//! annotation gives. Collection routes answer with and without the trailing slash (FastAPI's
//! canonical form is `/users/`), and the login routes also answer under `/auth` and
//! `/auth/login` — aliases served by the same handlers, documented once.
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::api::state::AppState;

pub mod audit;
pub mod community_users;
pub mod configurations;
pub mod energy;
pub mod gse;
pub mod holders;
pub mod iban_changes;
pub mod join_requests;
pub mod login;
pub mod mail;
pub mod market;
pub mod members;
pub mod organizations;
pub mod payouts;
pub mod plants;
pub mod settlements;
pub mod transactions;
pub mod users;

pub fn router() -> OpenApiRouter<AppState> {
    let login_aliases = |name: &str| {
        [
            format!("/api/v1/auth/{name}"),
            format!("/api/v1/auth/login/{name}"),
        ]
    };
    OpenApiRouter::new()
        .aliased(routes!(login::access_token), login_aliases("access-token"))
        .aliased(routes!(login::test_token), login_aliases("test-token"))
        .aliased(
            routes!(login::refresh_token),
            login_aliases("refresh-token"),
        )
        .aliased(routes!(login::logout), ["/api/v1/auth/logout".to_string()])
        .routes(routes!(login::recover_password))
        .collection(routes!(login::reset_password))
        .routes(routes!(
            join_requests::submit_join_request,
            join_requests::list_join_requests
        ))
        .routes(routes!(join_requests::verify_join_request))
        .routes(routes!(join_requests::read_join_request))
        .routes(routes!(join_requests::approve_join_request))
        .routes(routes!(join_requests::reject_join_request))
        .routes(routes!(mail::list_outbox))
        .routes(routes!(mail::retry_mail))
        .collection(routes!(users::list_users, users::create_user))
        .routes(routes!(users::read_me, users::update_me))
        .routes(routes!(
            users::read_user,
            users::update_user,
            users::delete_user
        ))
        .collection(routes!(
            organizations::list_organizations,
            organizations::create_organization
        ))
        .routes(routes!(
            organizations::read_organization,
            organizations::update_organization
        ))
        .collection(routes!(
            configurations::list_configurations,
            configurations::create_configuration
        ))
        .routes(routes!(
            configurations::read_configuration,
            configurations::update_configuration,
            configurations::delete_configuration
        ))
        .collection(routes!(members::list_members, members::create_member))
        .routes(routes!(
            members::read_member,
            members::update_member,
            members::delete_member
        ))
        .routes(routes!(members::import_members))
        .collection(routes!(holders::list_holders, holders::create_holder))
        .routes(routes!(holders::read_holder, holders::update_holder))
        .routes(routes!(holders::activate_holder))
        .routes(routes!(holders::erase_holder))
        .routes(routes!(holders::list_consents, holders::give_consent))
        .routes(routes!(holders::withdraw_consent))
        .routes(routes!(holders::holder_history))
        .routes(routes!(holders::holder_iban_on))
        .routes(routes!(holders::export_holder))
        .collection(routes!(
            iban_changes::request_iban_change,
            iban_changes::holder_iban_changes
        ))
        .collection(routes!(iban_changes::list_iban_changes))
        .collection(routes!(audit::list_audit_events))
        .routes(routes!(iban_changes::read_iban_change))
        .routes(routes!(iban_changes::confirm_iban_change))
        .routes(routes!(iban_changes::reject_iban_change))
        .routes(routes!(iban_changes::withdraw_iban_change))
        .collection(routes!(plants::list_plants, plants::create_plant))
        .routes(routes!(
            plants::read_plant,
            plants::update_plant,
            plants::delete_plant
        ))
        .collection(routes!(
            community_users::list_community_users,
            community_users::create_community_user
        ))
        .routes(routes!(community_users::check_email))
        .routes(routes!(
            community_users::read_community_user,
            community_users::update_community_user
        ))
        .collection(routes!(
            transactions::list_transactions,
            transactions::create_transaction
        ))
        .routes(routes!(transactions::read_transaction))
        .routes(routes!(transactions::settle_transaction))
        .routes(routes!(transactions::cancel_transaction))
        .routes(routes!(energy::coverage))
        .routes(routes!(energy::configuration_energy))
        .routes(routes!(energy::configuration_energy_svg))
        .routes(routes!(energy::member_energy))
        .routes(routes!(energy::member_energy_svg))
        .collection(routes!(market::list_parameters, market::create_parameter))
        .routes(routes!(market::update_parameter, market::delete_parameter))
        .collection(routes!(market::list_prices))
        .routes(routes!(settlements::read_policy, settlements::write_policy))
        .routes(routes!(settlements::policy_versions))
        .collection(routes!(
            settlements::list_settlements,
            settlements::create_settlement
        ))
        .routes(routes!(energy::list_imports))
        .routes(routes!(energy::read_import))
        .routes(routes!(energy::revert_import))
        .routes(routes!(
            settlements::read_settlement,
            settlements::delete_settlement
        ))
        .routes(routes!(settlements::finalize_settlement))
        .routes(routes!(settlements::settlement_members_csv))
        .routes(routes!(settlements::read_statement))
        .routes(routes!(settlements::read_statement_csv))
        .routes(routes!(settlements::read_statement_pdf))
        .collection(routes!(
            settlements::list_statement_mailings,
            settlements::create_statement_mailing
        ))
        .routes(routes!(transactions::configuration_ledger_csv))
        .routes(routes!(transactions::member_ledger_csv))
        .collection(routes!(gse::list_gse_statements, gse::create_gse_statement))
        .routes(routes!(gse::read_gse_statement, gse::delete_gse_statement))
        .routes(routes!(gse::record_gse_payment))
        .routes(routes!(gse::read_reconciliation))
        .routes(routes!(gse::read_reconciliation_csv))
        .routes(routes!(
            payouts::read_payout_account,
            payouts::write_payout_account
        ))
        .collection(routes!(payouts::list_payouts, payouts::create_payout))
        .routes(routes!(payouts::read_payout))
        .routes(routes!(payouts::approve_payout))
        .routes(routes!(payouts::export_payout))
        .routes(routes!(payouts::payout_file))
        .routes(routes!(payouts::mark_payout_paid))
        .routes(routes!(payouts::cancel_payout))
}

/// File uploads: streamed bodies of any size, without the request timeout (a year of meter
/// data takes longer than an ordinary request should); merged beside `router()`.
pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .collection(routes!(energy::import))
        .collection(routes!(market::import_prices))
        .routes(routes!(gse::import_gse_statements))
}

/// Routes served at the annotated path and at other paths too.
trait Aliases {
    /// Also at each of `aliases` (not in the document: the annotation lists them).
    fn aliased(
        self,
        routes: UtoipaMethodRouter<AppState>,
        aliases: impl IntoIterator<Item = String>,
    ) -> Self;
    /// A collection: also at its path with the trailing slash toggled (`/things` ↔ `/things/`).
    fn collection(self, routes: UtoipaMethodRouter<AppState>) -> Self;
}

impl Aliases for OpenApiRouter<AppState> {
    fn aliased(
        self,
        (schemas, paths, methods): UtoipaMethodRouter<AppState>,
        aliases: impl IntoIterator<Item = String>,
    ) -> Self {
        aliases.into_iter().fold(
            self.routes((schemas, paths, methods.clone())),
            |router, alias| router.route(&alias, methods.clone()),
        )
    }

    fn collection(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        let toggled: Vec<String> = routes
            .1
            .paths
            .keys()
            .map(|path| match path.strip_suffix('/') {
                Some(bare) => bare.to_string(),
                None => format!("{path}/"),
            })
            .collect();
        self.aliased(routes, toggled)
    }
}
