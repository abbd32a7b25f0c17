//! One-time set-up at start: the signing secret and the first admin.
use std::io::Write;

use anyhow::{Context, bail};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::core::config::{DatabaseKind, Settings, sqlite_file};
use crate::core::security::{PasswordService, generate_secret_key};
use crate::crud;
use crate::models::enums::{Role, UserKind, UserStatus, UserType};
use crate::models::user;

/// The configured `SECRET_KEY`; on the embedded SQLite default, one generated once and kept in a
/// file beside the database so restarts keep tokens valid. PostgreSQL deployments run several
/// instances, which must share one secret: there it has to be configured.
pub fn resolve_secret_key(settings: &Settings) -> anyhow::Result<String> {
    if let Some(secret) = &settings.secret_key {
        return Ok(secret.clone());
    }
    if settings.database_kind() == DatabaseKind::Postgres {
        bail!(
            "SECRET_KEY must be set when DATABASE_URL points at PostgreSQL (all instances share it)"
        );
    }
    let Some(database_file) = sqlite_file(&settings.database_url) else {
        tracing::warn!("SECRET_KEY is not set: using a random key for this in-memory database");
        return Ok(generate_secret_key());
    };
    let mut path = database_file.into_os_string();
    path.push(".secret_key");
    let path = std::path::PathBuf::from(path);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    let secret = generate_secret_key();
    let mut file = open_private(&path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    tracing::warn!(
        path = %path.display(),
        "SECRET_KEY is not set: generated one and stored it beside the database; set SECRET_KEY in production"
    );
    Ok(secret)
}

fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates `FIRST_SUPERUSER_EMAIL` as an admin if the database has no admin yet.
pub async fn ensure_first_superuser(
    db: &DatabaseConnection,
    passwords: &PasswordService,
    settings: &Settings,
) -> anyhow::Result<()> {
    let (Some(email), Some(password)) = (
        &settings.first_superuser_email,
        &settings.first_superuser_password,
    ) else {
        return Ok(());
    };
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .count(db)
        .await?;
    if admins > 0 {
        return Ok(());
    }
    match create_admin(db, passwords, email, password, None).await {
        Ok(_) => {
            tracing::info!(email = %email.to_lowercase(), "created the first admin");
            Ok(())
        }
        // Another instance starting at the same moment created it first.
        Err(_)
            if user::Entity::find()
                .filter(user::Column::Role.eq(Role::Admin))
                .count(db)
                .await?
                > 0 =>
        {
            Ok(())
        }
        Err(error) => Err(error),
    }
}

pub async fn create_admin(
    db: &DatabaseConnection,
    passwords: &PasswordService,
    email: &str,
    password: &str,
    full_name: Option<String>,
) -> anyhow::Result<user::Model> {
    let email = email.trim().to_lowercase();
    if !validator::ValidateEmail::validate_email(&email) {
        bail!("`{email}` is not a valid email address");
    }
    if !(8..=128).contains(&password.chars().count()) {
        bail!("the password must be 8 to 128 characters long");
    }
    let model = user::ActiveModel {
        email: Set(email),
        username: Set(None),
        full_name: Set(full_name),
        fiscal_code: Set(None),
        kind: Set(UserKind::Person),
        user_type: Set(UserType::Consumer),
        address: Set(None),
        role: Set(Role::Admin),
        status: Set(UserStatus::Active),
        hashed_password: Set(passwords.hash(password).await),
        organization_id: Set(None),
        ..Default::default()
    };
    crud::insert(db, model)
        .await
        .context("creating the admin (is the email already taken?)")
}
