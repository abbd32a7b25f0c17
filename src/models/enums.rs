//! Closed sets of values stored as short strings, so both databases and humans can read them.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        // Written out rather than derived: the derive does not see `serde(rename)` through this
        // macro's literals and published the Rust variant names, not the values on the wire.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let docs: &[&str] = &[$($doc),*];
                let description = docs.iter().map(|line| line.trim()).collect::<Vec<_>>().join(" ");
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($value),+]))
                    .description((!description.is_empty()).then_some(description))
                    .into()
            }
        }

        impl ToSchema for $name {}

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }
        }
    };
}

string_enum!(
    /// The TIAD configuration types that condivisa runs (those eligible for the incentive).
    ConfigurationType { Cer = "CER", Auc = "AUC", Aid = "AID" }
);

string_enum!(ConfigurationStatus { Draft = "draft", Active = "active", Suspended = "suspended", Closed = "closed" });

string_enum!(
    /// Italian day-ahead market zones.
    MarketZone { Nord = "NORD", Cnor = "CNOR", Csud = "CSUD", Sud = "SUD", Cala = "CALA", Sici = "SICI", Sard = "SARD" }
);

string_enum!(
    /// The twenty Italian regions (the PV tariff has a zonal correction by region).
    Region {
        Abruzzo = "abruzzo",
        Basilicata = "basilicata",
        Calabria = "calabria",
        Campania = "campania",
        EmiliaRomagna = "emilia_romagna",
        FriuliVeneziaGiulia = "friuli_venezia_giulia",
        Lazio = "lazio",
        Liguria = "liguria",
        Lombardia = "lombardia",
        Marche = "marche",
        Molise = "molise",
        Piemonte = "piemonte",
        Puglia = "puglia",
        Sardegna = "sardegna",
        Sicilia = "sicilia",
        Toscana = "toscana",
        TrentinoAltoAdige = "trentino_alto_adige",
        Umbria = "umbria",
        ValleDAosta = "valle_d_aosta",
        Veneto = "veneto",
    }
);

string_enum!(MemberRole { Consumer = "consumer", Producer = "producer", Prosumer = "prosumer" });

string_enum!(
    /// Who holds a connection point (GSE Regole operative §1.2.2.3; DM 414/2023 art. 3;
    /// DM MASE 16 May 2025 n. 127). One vocabulary answers "may it join a CER" and "is the
    /// shared energy of its withdrawal point exempt from the grant reduction F".
    HolderType {
        NaturalPerson = "natural_person",
        Sme = "sme",
        PublicBody = "public_body",
        ReligiousOrThirdSector = "religious_or_third_sector",
        Association = "association",
        OtherCompany = "other_company",
    }
);

/// Reads a holder type, or a `category` of the schema before holder types (stored report
/// version 1, clients written against the earlier API): `domestic` is a natural person,
/// `large_enterprise` an other company; the other categories kept their names.
pub fn holder_type_or_category<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<HolderType, D::Error> {
    let code = String::deserialize(deserializer)?;
    let code = match code.as_str() {
        "domestic" => "natural_person",
        "large_enterprise" => "other_company",
        other => other,
    };
    HolderType::from_code(code).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown holder type `{code}`: expected one of {}",
            <HolderType as sea_orm::Iterable>::iter()
                .map(|h| format!("`{}`", h.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// `holder_type_or_category` for optional fields (`#[serde(default, deserialize_with = …)]`):
/// `null` is the same as leaving the field out, as for the other optional enums.
pub fn optional_holder_type_or_category<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<HolderType>, D::Error> {
    use serde::de::IntoDeserializer;
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(code) => {
            let code: serde::de::value::StringDeserializer<D::Error> = code.into_deserializer();
            holder_type_or_category(code).map(Some)
        }
    }
}

impl HolderType {
    /// The holder type stored or sent as `code`.
    pub fn from_code(code: &str) -> Option<HolderType> {
        <HolderType as sea_orm::Iterable>::iter().find(|h| h.as_str() == code)
    }

    /// Businesses: they may not receive the excess premium (DM 414/2023 art. 3(2)(g)).
    pub fn is_business(self) -> bool {
        matches!(self, HolderType::Sme | HolderType::OtherCompany)
    }

    /// Large (non-SME) companies cannot be members of a CER ([RO] §1.2.2.3).
    pub fn may_join_cer(self) -> bool {
        self != HolderType::OtherCompany
    }

    /// Whether F is not applied to the incentivised energy attributed to this holder's
    /// withdrawal points: public bodies, religious, third-sector and environmental bodies
    /// always ([RO] §2.2.2.1.2, App. B §3); natural persons when the dated rule
    /// `F_EXEMPT_PERSONS` says so (from 26 Jun 2025, DM 127/2025).
    pub fn f_exempt(self, natural_persons_exempt: bool) -> bool {
        match self {
            HolderType::PublicBody | HolderType::ReligiousOrThirdSector => true,
            HolderType::NaturalPerson => natural_persons_exempt,
            HolderType::Sme | HolderType::Association | HolderType::OtherCompany => false,
        }
    }
}

string_enum!(MemberStatus { Pending = "pending", Active = "active", Withdrawn = "withdrawn" });

string_enum!(PlantSource { Pv = "pv", Wind = "wind", Hydro = "hydro", Biomass = "biomass", Other = "other" });

string_enum!(
    /// The voltage level a plant is connected at (AUC valorisation depends on it).
    ConnectionVoltage { Lv = "LV", Mv = "MV" }
);

string_enum!(CommunityUserRole { Member = "member", Referent = "referent", Manager = "manager" });

string_enum!(CommunityUserStatus { Active = "active", Inactive = "inactive", Pending = "pending" });

string_enum!(TransactionKind {
    SharedEnergy = "shared_energy",
    Incentive = "incentive",
    Valorisation = "valorisation",
    Fee = "fee",
    Adjustment = "adjustment",
    Payment = "payment",
    GsePayment = "gse_payment",
});

string_enum!(
    /// What a GSE statement covers: a month (advance or monthly calculation) or a year's
    /// true-up (conguaglio).
    GseStatementKind { Month = "month", Year = "year" }
);

string_enum!(
    /// A payout batch: prepared (draft), approved, exported as a SEPA file, then paid; or
    /// cancelled at any step before paid.
    PayoutStatus {
        Draft = "draft",
        Approved = "approved",
        Exported = "exported",
        Paid = "paid",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// What a batch does with a member's balance: pays it, holds it back (no IBAN, no consent…),
    /// or carries it over (below the minimum).
    PayoutItemStatus { Included = "included", Held = "held", CarriedOver = "carried_over" }
);

string_enum!(
    /// A settlement run: a preview until finalised; a finalised run is superseded when a later
    /// run of the same period corrects it.
    RunStatus { Preview = "preview", Finalized = "finalized", Superseded = "superseded" }
);
string_enum!(
    /// Who a settlement line is for: a member, or the configuration's own accounts.
    LineAccount { Member = "member", Management = "management", SocialFund = "social_fund", Gse = "gse" }
);
string_enum!(LineKind {
    SharedEnergy = "shared_energy",
    Incentive = "incentive",
    ExcessPremium = "excess_premium",
    Valorisation = "valorisation",
    Fee = "fee",
});
string_enum!(TransactionStatus { Pending = "pending", Settled = "settled", Cancelled = "cancelled" });

string_enum!(
    /// Regulated parameters used by the settlement, versioned by validity period: the ARERA
    /// valorisation components and the DM 414/2023 tariff and GSE fee constants.
    ParameterCode {
        TrasE = "TRAS_E",
        Btau = "BTAU",
        CprMv = "CPR_MV",
        CprLv = "CPR_LV",
        TipRefPrice = "TIP_REF_PRICE",
        TipBand1Kw = "TIP_BAND1_KW",
        TipBand1Base = "TIP_BAND1_BASE",
        TipBand1Cap = "TIP_BAND1_CAP",
        TipBand2Kw = "TIP_BAND2_KW",
        TipBand2Base = "TIP_BAND2_BASE",
        TipBand2Cap = "TIP_BAND2_CAP",
        TipBand3Kw = "TIP_BAND3_KW",
        TipBand3Base = "TIP_BAND3_BASE",
        TipBand3Cap = "TIP_BAND3_CAP",
        TipFcNorth = "TIP_FC_NORTH",
        TipFcCentre = "TIP_FC_CENTRE",
        TipGrantMaxF = "TIP_GRANT_MAX_F",
        TipGrantFull = "TIP_GRANT_FULL",
        ExcessTariff = "EXCESS_TARIFF",
        ExcessGrant = "EXCESS_GRANT",
        AdvanceShare = "ADVANCE_SHARE",
        AdvancePremium = "ADVANCE_PREMIUM",
        FeeFreeKw = "FEE_FREE_KW",
        FeeFlatKw = "FEE_FLAT_KW",
        FeeFlat = "FEE_FLAT",
        FeePerKw = "FEE_PER_KW",
        FExemptNaturalPersons = "F_EXEMPT_PERSONS",
        GseLateDays = "GSE_LATE_DAYS",
        PnrrMaxPop = "PNRR_MAX_POP",
        PnrrLastDay = "PNRR_LAST_DAY",
    }
);

impl ParameterCode {
    pub fn unit(self) -> &'static str {
        use ParameterCode::*;
        match self {
            TrasE | Btau | TipRefPrice | TipBand1Base | TipBand1Cap | TipBand2Base
            | TipBand2Cap | TipBand3Base | TipBand3Cap | TipFcNorth | TipFcCentre
            | AdvancePremium => "EUR/MWh",
            CprMv | CprLv | TipGrantMaxF | TipGrantFull | ExcessTariff | ExcessGrant
            | AdvanceShare => "ratio",
            TipBand1Kw | TipBand2Kw | TipBand3Kw | FeeFreeKw | FeeFlatKw => "kW",
            FExemptNaturalPersons => "flag",
            GseLateDays => "days",
            PnrrMaxPop => "inhabitants",
            PnrrLastDay => "yyyymmdd",
            FeeFlat => "EUR",
            FeePerKw => "EUR/kW",
        }
    }
}

string_enum!(Role { Admin = "admin", Vendor = "vendor", Referent = "referent", User = "user" });

string_enum!(UserStatus { Active = "active", Inactive = "inactive", Pending = "pending" });

string_enum!(
    /// Whether the account belongs to a natural person (codice fiscale) or a company (partita IVA).
    UserKind { Person = "person", Company = "company" }
);

string_enum!(
    /// How the user takes part in energy sharing.
    UserType { Consumer = "consumer", Producer = "producer", Prosumer = "prosumer" }
);

/// Values a person types for a closed set: names in any case, with or without accents and
/// punctuation ("Emilia-Romagna", "Valle d'Aosta", "Trentino-Alto Adige/Südtirol"), codes in
/// any case ("nord", "cer"), ISTAT region numbers ("08"). Responses always carry the canonical
/// code.
pub trait TypedByPeople: Sized + Copy + sea_orm::Iterable {
    fn code(self) -> &'static str;

    /// The value whose code this is, in any case.
    fn from_typed(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::iter().find(|value| value.code().eq_ignore_ascii_case(text))
    }
}

/// Lower case, accents dropped, each run of other characters a single `_`.
fn fold(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            other => other,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// ISTAT region codes 01–20, in order.
const ISTAT_REGIONS: [Region; 20] = [
    Region::Piemonte,
    Region::ValleDAosta,
    Region::Lombardia,
    Region::TrentinoAltoAdige,
    Region::Veneto,
    Region::FriuliVeneziaGiulia,
    Region::Liguria,
    Region::EmiliaRomagna,
    Region::Toscana,
    Region::Umbria,
    Region::Marche,
    Region::Lazio,
    Region::Abruzzo,
    Region::Molise,
    Region::Campania,
    Region::Puglia,
    Region::Basilicata,
    Region::Calabria,
    Region::Sicilia,
    Region::Sardegna,
];

impl TypedByPeople for Region {
    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_typed(text: &str) -> Option<Self> {
        let folded = fold(text);
        if let Ok(number) = folded.parse::<usize>() {
            return number
                .checked_sub(1)
                .and_then(|i| ISTAT_REGIONS.get(i))
                .copied();
        }
        let folded = match folded.as_str() {
            "trentino_alto_adige_sudtirol"
            | "trentino_alto_adige_suedtirol"
            | "trentino_sudtirol" => "trentino_alto_adige",
            "valle_d_aosta_vallee_d_aoste" | "vallee_d_aoste" | "valle_daosta" => "valle_d_aosta",
            other => other,
        };
        <Region as sea_orm::Iterable>::iter().find(|r| r.as_str() == folded)
    }
}

impl TypedByPeople for MarketZone {
    fn code(self) -> &'static str {
        self.as_str()
    }
}

impl TypedByPeople for ConfigurationType {
    fn code(self) -> &'static str {
        self.as_str()
    }
}

fn typed_error<T: TypedByPeople, E: serde::de::Error>(text: &str) -> E {
    let codes: Vec<String> = T::iter().map(|v| format!("`{}`", v.code())).collect();
    E::custom(format!(
        "Input should be one of the allowed values, got `{text}`, expected one of {}",
        codes.join(", ")
    ))
}

/// `#[serde(deserialize_with = "crate::models::enums::typed")]` for a [`TypedByPeople`] field.
pub fn typed<'de, D: serde::Deserializer<'de>, T: TypedByPeople>(
    deserializer: D,
) -> Result<T, D::Error> {
    let text = String::deserialize(deserializer)?;
    T::from_typed(&text).ok_or_else(|| typed_error::<T, D::Error>(&text))
}

/// [`typed`] for optional fields (with `#[serde(default)]`): `null` is leaving it out.
pub fn typed_option<'de, D: serde::Deserializer<'de>, T: TypedByPeople>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => T::from_typed(&text)
            .map(Some)
            .ok_or_else(|| typed_error::<T, D::Error>(&text)),
    }
}

#[cfg(test)]
mod typed_tests {
    use super::*;

    #[test]
    fn regions_as_italians_write_them() {
        for (typed, region) in [
            ("Lombardia", Region::Lombardia),
            ("Emilia-Romagna", Region::EmiliaRomagna),
            ("emilia romagna", Region::EmiliaRomagna),
            ("Friuli Venezia Giulia", Region::FriuliVeneziaGiulia),
            ("Friuli-Venezia Giulia", Region::FriuliVeneziaGiulia),
            ("Valle d'Aosta", Region::ValleDAosta),
            ("Vallée d'Aoste", Region::ValleDAosta),
            ("Trentino-Alto Adige/Südtirol", Region::TrentinoAltoAdige),
            ("  VENETO ", Region::Veneto),
            ("valle_d_aosta", Region::ValleDAosta),
            ("08", Region::EmiliaRomagna),
            ("3", Region::Lombardia),
            ("20", Region::Sardegna),
        ] {
            assert_eq!(Region::from_typed(typed), Some(region), "{typed}");
        }
        for wrong in ["", "0", "21", "Padania", "Emilia"] {
            assert_eq!(Region::from_typed(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn zones_and_types_in_any_case() {
        assert_eq!(MarketZone::from_typed("nord"), Some(MarketZone::Nord));
        assert_eq!(MarketZone::from_typed("Csud"), Some(MarketZone::Csud));
        assert_eq!(
            ConfigurationType::from_typed("cer"),
            Some(ConfigurationType::Cer)
        );
        assert_eq!(MarketZone::from_typed("north"), None);
    }
}

string_enum!(
    /// Where a holder stands: `draft` until identity and the required consents are recorded,
    /// `active` once they are (only active holders are paid), `erased` once anonymised.
    HolderStatus { Draft = "draft", Active = "active", Erased = "erased" }
);

string_enum!(
    /// What a holder consented to: the privacy notice and the statute/regulation are required
    /// to become active; e-mail communications are optional.
    ConsentKind { PrivacyNotice = "privacy_notice", Statute = "statute", Communications = "communications" }
);

string_enum!(
    /// How a consent was given or withdrawn.
    ConsentMethod { WebForm = "web_form", Paper = "paper", Email = "email", Operator = "operator", Import = "import" }
);

string_enum!(
    /// The language a holder is written to in.
    Language { It = "it", En = "en" }
);

string_enum!(
    /// What a holder revision records.
    HolderAction { Migrated = "migrated", Created = "created", Updated = "updated", Activated = "activated", Suspended = "suspended", Erased = "erased" }
);

string_enum!(
    /// Where a message of the outbox stands: `pending` until delivered (retried with backoff),
    /// `sent` once the SMTP server accepted it, `failed` after the last attempt.
    MailStatus { Pending = "pending", Sent = "sent", Failed = "failed" }
);

string_enum!(
    /// What a single-use link is for.
    TokenPurpose { PasswordReset = "password_reset", JoinVerification = "join_verification" }
);

string_enum!(
    /// Where a join request stands: `unverified` until its e-mail address is confirmed through
    /// the mailed link, `pending` for the referent's review, then `approved` or `rejected`.
    JoinRequestStatus { Unverified = "unverified", Pending = "pending", Approved = "approved", Rejected = "rejected" }
);

string_enum!(
    /// Where a member's request for a new IBAN stands: `pending` until an operator `confirmed`
    /// or `rejected` it, or the member `withdrawn` it.
    IbanChangeStatus { Pending = "pending", Confirmed = "confirmed", Rejected = "rejected", Withdrawn = "withdrawn" }
);
