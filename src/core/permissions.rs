//! What each role may do. One table, checked by one guard (`CurrentUser::require`): adding a
//! permission to a role is a one-line change here, not a hunt through handlers.
//!
//! Permissions say *what kind* of action is allowed; *which* objects are visible is the scope,
//! enforced in the queries (`crud`), so that an object outside the scope answers 404 and an
//! action the role may not take on a visible object answers 403.
use crate::models::enums::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    UsersRead,
    UsersWrite,
    OrganizationsRead,
    OrganizationsWrite,
    /// Read configurations and what hangs off them (members, plants, transactions) in scope.
    ConfigurationsRead,
    ConfigurationsCreate,
    ConfigurationsUpdate,
    ConfigurationsDelete,
    /// Members and their plants.
    MembersWrite,
    CommunityUsersRead,
    CommunityUsersWrite,
    /// Record, settle and cancel ledger rows.
    TransactionsWrite,
    /// See settlement runs (members see only their own statements).
    SettlementsRead,
    /// Sharing-out policies, settlement previews and finalisation.
    SettlementsWrite,
    /// The market data every configuration shares: zonal prices and regulated parameters.
    MarketWrite,
    /// Move a configuration to another organization.
    ConfigurationsMove,
    /// Choose a configuration's referent.
    ConfigurationsAssignReferent,
    /// Configuration-wide meter data (coverage, energy series, imports): those who run the
    /// configuration; members see only their own POD.
    ConfigurationDataRead,
    /// Act across organizations: create configurations and accounts in any organization and
    /// move accounts between them.
    AnyOrganization,
    /// See holders (personal data): the scope says whose — a user only its own.
    HoldersRead,
    /// Register holders, change their data and record their consents.
    HoldersWrite,
    /// Erase a holder's personal data (the data controller's decision).
    HoldersErase,
    /// Ask for a new IBAN for one's own holder (an operator with `HoldersWrite` confirms it).
    IbanChangeRequest,
    /// See the mail outbox (recipients and texts of every message) and requeue failed mail.
    MailOutbox,
    /// Review, approve and reject requests to join a configuration (in scope).
    JoinRequestsReview,
    /// Record what GSE published and paid, and compare it with the finalised runs.
    GseReconciliation,
    /// Prepare, approve, export and close the batches that pay members (and set the account
    /// they are paid from).
    Payouts,
    /// Read the audit trail: an admin all of it, others their configurations' events.
    AuditRead,
}

impl Permission {
    pub const ALL: [Permission; 28] = [
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::OrganizationsRead,
        Permission::OrganizationsWrite,
        Permission::ConfigurationsRead,
        Permission::ConfigurationsCreate,
        Permission::ConfigurationsUpdate,
        Permission::ConfigurationsDelete,
        Permission::MembersWrite,
        Permission::CommunityUsersRead,
        Permission::CommunityUsersWrite,
        Permission::TransactionsWrite,
        Permission::SettlementsRead,
        Permission::SettlementsWrite,
        Permission::MarketWrite,
        Permission::ConfigurationsMove,
        Permission::ConfigurationsAssignReferent,
        Permission::ConfigurationDataRead,
        Permission::AnyOrganization,
        Permission::HoldersRead,
        Permission::HoldersWrite,
        Permission::HoldersErase,
        Permission::IbanChangeRequest,
        Permission::MailOutbox,
        Permission::JoinRequestsReview,
        Permission::GseReconciliation,
        Permission::Payouts,
        Permission::AuditRead,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Permission::UsersRead => "users:read",
            Permission::UsersWrite => "users:write",
            Permission::OrganizationsRead => "organizations:read",
            Permission::OrganizationsWrite => "organizations:write",
            Permission::ConfigurationsRead => "configurations:read",
            Permission::ConfigurationsCreate => "configurations:create",
            Permission::ConfigurationsUpdate => "configurations:update",
            Permission::ConfigurationsDelete => "configurations:delete",
            Permission::MembersWrite => "members:write",
            Permission::CommunityUsersRead => "community_users:read",
            Permission::CommunityUsersWrite => "community_users:write",
            Permission::TransactionsWrite => "transactions:write",
            Permission::SettlementsRead => "settlements:read",
            Permission::SettlementsWrite => "settlements:write",
            Permission::MarketWrite => "market:write",
            Permission::ConfigurationsMove => "configurations:move",
            Permission::ConfigurationsAssignReferent => "configurations:assign_referent",
            Permission::ConfigurationDataRead => "configuration_data:read",
            Permission::AnyOrganization => "organizations:any",
            Permission::HoldersRead => "holders:read",
            Permission::HoldersWrite => "holders:write",
            Permission::HoldersErase => "holders:erase",
            Permission::IbanChangeRequest => "holders:request_iban_change",
            Permission::MailOutbox => "mail:outbox",
            Permission::JoinRequestsReview => "join_requests:review",
            Permission::GseReconciliation => "gse:reconciliation",
            Permission::Payouts => "payouts",
            Permission::AuditRead => "audit:read",
        }
    }
}

/// The permission table.
pub fn role_permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::Admin => &Permission::ALL,
        Role::Vendor => &[
            UsersRead,
            UsersWrite,
            OrganizationsRead,
            ConfigurationsRead,
            ConfigurationsCreate,
            ConfigurationsUpdate,
            ConfigurationsDelete,
            ConfigurationsAssignReferent,
            ConfigurationDataRead,
            MembersWrite,
            CommunityUsersRead,
            CommunityUsersWrite,
            TransactionsWrite,
            SettlementsRead,
            SettlementsWrite,
            HoldersRead,
            HoldersWrite,
            HoldersErase,
            JoinRequestsReview,
            GseReconciliation,
            Payouts,
            AuditRead,
        ],
        Role::Referent => &[
            ConfigurationsRead,
            ConfigurationsUpdate,
            ConfigurationDataRead,
            MembersWrite,
            CommunityUsersRead,
            CommunityUsersWrite,
            TransactionsWrite,
            SettlementsRead,
            SettlementsWrite,
            HoldersRead,
            HoldersWrite,
            JoinRequestsReview,
            GseReconciliation,
            Payouts,
            AuditRead,
        ],
        Role::User => &[ConfigurationsRead, HoldersRead, IbanChangeRequest],
    }
}

pub fn has_permission(role: Role, permission: Permission) -> bool {
    role_permissions(role).contains(&permission)
}

/// The roles each role may hand out (and manage accounts of): admins any, vendors the
/// referents and users of their own organization, others none.
pub fn assignable_roles(role: Role) -> &'static [Role] {
    match role {
        Role::Admin => &[Role::Admin, Role::Vendor, Role::Referent, Role::User],
        Role::Vendor => &[Role::Referent, Role::User],
        Role::Referent | Role::User => &[],
    }
}

pub fn may_assign(role: Role, assigned: Role) -> bool {
    assignable_roles(role).contains(&assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_wide_rights_by_role() {
        use Permission::*;
        let allowed = |permission: Permission| {
            [Role::Admin, Role::Vendor, Role::Referent, Role::User]
                .into_iter()
                .filter(|role| has_permission(*role, permission))
                .collect::<Vec<_>>()
        };
        assert_eq!(allowed(ConfigurationsMove), [Role::Admin]);
        assert_eq!(
            allowed(ConfigurationsAssignReferent),
            [Role::Admin, Role::Vendor]
        );
        assert_eq!(
            allowed(ConfigurationDataRead),
            [Role::Admin, Role::Vendor, Role::Referent]
        );
        assert_eq!(allowed(MarketWrite), [Role::Admin]);
        assert_eq!(allowed(HoldersErase), [Role::Admin, Role::Vendor]);
        assert_eq!(
            allowed(HoldersWrite),
            [Role::Admin, Role::Vendor, Role::Referent]
        );
        assert_eq!(allowed(AnyOrganization), [Role::Admin]);
    }

    #[test]
    fn admin_is_the_superuser() {
        for permission in Permission::ALL {
            assert!(
                has_permission(Role::Admin, permission),
                "{}",
                permission.code()
            );
        }
    }

    #[test]
    fn only_admins_write_organizations() {
        for role in [Role::Vendor, Role::Referent, Role::User] {
            assert!(!has_permission(role, Permission::OrganizationsWrite));
        }
    }

    #[test]
    fn referents_and_users_cannot_list_users() {
        for role in [Role::Referent, Role::User] {
            assert!(!has_permission(role, Permission::UsersRead));
            assert!(!has_permission(role, Permission::UsersWrite));
        }
        assert!(has_permission(Role::Vendor, Permission::UsersWrite));
    }

    #[test]
    fn users_only_read_communities_and_their_holder() {
        assert_eq!(
            role_permissions(Role::User),
            &[
                Permission::ConfigurationsRead,
                Permission::HoldersRead,
                Permission::IbanChangeRequest
            ]
        );
        assert!(!has_permission(
            Role::Referent,
            Permission::ConfigurationsCreate
        ));
        assert!(!has_permission(
            Role::Referent,
            Permission::ConfigurationsDelete
        ));
        assert!(has_permission(
            Role::Referent,
            Permission::TransactionsWrite
        ));
    }

    #[test]
    fn vendors_hand_out_only_referent_and_user() {
        assert!(may_assign(Role::Vendor, Role::Referent));
        assert!(may_assign(Role::Vendor, Role::User));
        assert!(!may_assign(Role::Vendor, Role::Vendor));
        assert!(!may_assign(Role::Vendor, Role::Admin));
        assert!(may_assign(Role::Admin, Role::Admin));
        assert!(!may_assign(Role::Referent, Role::User));
    }
}
