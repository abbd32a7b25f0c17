use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit, nullable};
use crate::models::organization;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Comunità Energetica del Sole", "description": "Comune di Fiorano"}))]
pub struct OrganizationCreate {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Comune di Fiorano Modenese"}))]
pub struct OrganizationUpdate {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrganizationPublic {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<organization::Model> for OrganizationPublic {
    fn from(model: organization::Model) -> Self {
        OrganizationPublic {
            id: model.id,
            name: model.name,
            description: model.description,
            is_active: model.is_active,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationListParams {
    /// How many items to leave out before the page (0 to 10^12).
    #[serde(default)]
    #[validate(range(max = MAX_SKIP))]
    #[param(minimum = 0, maximum = 1_000_000_000_000_u64)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1)]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
    /// Case-insensitive substring of the name.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub search: Option<String>,
}
