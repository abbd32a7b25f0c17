use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit, nullable};
use crate::models::configuration;
use crate::models::enums::{ConfigurationStatus, ConfigurationType, MarketZone, Region};

/// GSE primary-substation area codes are 11 letters and digits.
pub fn primary_substation_code(code: &str) -> Result<(), ValidationError> {
    let code = code.trim();
    if code.len() == 11 && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ValidationError::new("primary_substation")
            .with_message("The primary-substation code has 11 letters and digits".into()))
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "CER del Sole", "type": "CER", "primary_substation": "AC001E00555", "market_zone": "NORD", "region": "emilia_romagna", "organization_id": 1, "constituted_on": "2024-01-10", "municipality_population": 17000}))]
pub struct ConfigurationCreate {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// `CER`, `AUC` or `AID`, in any case.
    #[serde(rename = "type", deserialize_with = "crate::models::enums::typed")]
    pub kind: ConfigurationType,
    #[validate(custom(function = "primary_substation_code"))]
    #[schema(pattern = r"^[A-Za-z0-9]{11}$", example = "AC001E00123")]
    pub primary_substation: String,
    /// The market zone's code, in any case.
    #[serde(deserialize_with = "crate::models::enums::typed")]
    pub market_zone: MarketZone,
    /// An Italian region: its code, or its name as written in Italian in any case, with or
    /// without accents and punctuation ("Emilia-Romagna"), or its ISTAT number (01–20).
    #[serde(deserialize_with = "crate::models::enums::typed")]
    pub region: Region,
    /// Required for admins; a vendor's configurations always belong to its organization.
    pub organization_id: Option<i32>,
    /// A `referent` account of the same organization.
    pub referent_id: Option<i32>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// When the legal entity (the CER) was constituted.
    pub constituted_on: Option<NaiveDate>,
    /// Inhabitants of the municipality where the plants are: a plant with a PNRR capital grant
    /// needs it under the threshold in force (50,000 since DM 127/2025).
    #[validate(range(min = 1, max = 10_000_000))]
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub municipality_population: Option<i32>,
    /// Open the public join-request form (`POST /configurations/{id}/join-requests`).
    #[serde(default)]
    pub accepts_join_requests: bool,
    /// The privacy notice's version newcomers accept (as the community names it: "2025-03").
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub privacy_notice_version: Option<String>,
    /// The statute's (or regulation's) version newcomers accept.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub statute_version: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Cabina primaria di Fiorano"}))]
pub struct ConfigurationUpdate {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Moves along draft → active → suspended ⇄ active → closed.
    pub status: Option<ConfigurationStatus>,
    #[validate(custom(function = "primary_substation_code"))]
    #[schema(pattern = r"^[A-Za-z0-9]{11}$", example = "AC001E00123")]
    pub primary_substation: Option<String>,
    /// The market zone's code, in any case.
    #[serde(default, deserialize_with = "crate::models::enums::typed_option")]
    pub market_zone: Option<MarketZone>,
    /// An Italian region: its code, or its name as written in Italian in any case, with or
    /// without accents and punctuation ("Emilia-Romagna"), or its ISTAT number (01–20).
    #[serde(default, deserialize_with = "crate::models::enums::typed_option")]
    pub region: Option<Region>,
    /// Admins only.
    pub organization_id: Option<i32>,
    /// Admins and vendors only.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub referent_id: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub constituted_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub activation_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 10_000_000)]
    #[validate(range(min = 1, max = 10_000_000))]
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub municipality_population: Option<Option<i32>>,
    /// Open or close the public join-request form.
    pub accepts_join_requests: Option<bool>,
    /// The privacy notice's version newcomers accept; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 64))]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub privacy_notice_version: Option<Option<String>>,
    /// The statute's version newcomers accept; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 64))]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub statute_version: Option<Option<String>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConfigurationPublic {
    pub id: i32,
    pub organization_id: i32,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ConfigurationType,
    pub status: ConfigurationStatus,
    pub primary_substation: String,
    pub market_zone: MarketZone,
    pub region: Region,
    pub referent_id: Option<i32>,
    pub description: Option<String>,
    pub constituted_on: Option<NaiveDate>,
    pub activation_date: Option<NaiveDate>,
    pub municipality_population: Option<i32>,
    /// Whether newcomers may ask to join through the public request form.
    pub accepts_join_requests: bool,
    pub privacy_notice_version: Option<String>,
    pub statute_version: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<configuration::Model> for ConfigurationPublic {
    fn from(m: configuration::Model) -> Self {
        ConfigurationPublic {
            id: m.id,
            organization_id: m.organization_id,
            name: m.name,
            kind: m.kind,
            status: m.status,
            primary_substation: m.primary_substation,
            market_zone: m.market_zone,
            region: m.region,
            referent_id: m.referent_id,
            description: m.description,
            constituted_on: m.constituted_on,
            activation_date: m.activation_date,
            municipality_population: m.municipality_population,
            accepts_join_requests: m.accepts_join_requests,
            privacy_notice_version: m.privacy_notice_version,
            statute_version: m.statute_version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConfigurationListParams {
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
    pub status: Option<ConfigurationStatus>,
    /// `CER`, `AUC` or `AID`, in any case.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "crate::models::enums::typed_option"
    )]
    #[param(rename = "type")]
    pub kind: Option<ConfigurationType>,
    pub organization_id: Option<i32>,
    /// Case-insensitive substring of the name, description or primary-substation code.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub search: Option<String>,
}
