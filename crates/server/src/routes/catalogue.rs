//! The information catalogue in force (信息目录, 第十一条): public, so that
//! units and residents see which items exist, who supplies them, their
//! fields and which ones residents may report themselves.

use axum::extract::State;
use axum::Json;
use chengxin_domain::catalogue::{Category, FieldSpec, FieldType, Item};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// An item's category (第六条).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CategoryBody {
    Basic,
    Commitment,
    Serious,
    Other,
}

/// The type of a field's value.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldTypeBody {
    Int,
    /// An exact decimal, sent as a string or a number.
    Decimal,
    /// `YYYY-MM-DD`.
    Date,
    Bool,
    /// One of `values`.
    Enum,
    String,
    /// A 6-digit GB/T 2260 region code.
    RegionCode,
    /// A commitment template code (`GET /api/v1/commitment-templates`).
    Template,
}

/// One field of an item's schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldBody {
    #[schema(example = "level")]
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldTypeBody,
    pub required: bool,
    /// Least value (a decimal, as a string); `null`: none.
    #[schema(example = "0")]
    pub min: Option<String>,
    /// Greatest value (a decimal, as a string); `null`: none.
    #[schema(example = "1000")]
    pub max: Option<String>,
    /// The allowed values of an enum (empty for other types).
    pub values: Vec<String>,
    /// Most characters of a string; `null`: no limit of its own.
    pub max_len: Option<usize>,
    /// The date field of the same item this date may not precede; `null`: none.
    pub not_before: Option<String>,
}

/// One catalogue item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemBody {
    #[schema(example = "P01")]
    pub code: String,
    pub category: CategoryBody,
    #[schema(example = "行政处罚（一般程序）")]
    pub name_zh: String,
    #[schema(example = "administrative penalty, general procedure")]
    pub name_en: String,
    /// The units responsible for supplying it.
    pub responsible: Vec<String>,
    /// Whether residents may report it themselves (verified before it counts).
    pub self_reportable: bool,
    /// Whether credit repair (信用修复) applies to it.
    pub repairable: bool,
    /// The field schema; the first date field dates the record.
    pub fields: Vec<FieldBody>,
}

/// The catalogue version in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueBody {
    /// The stored version number (1: the catalogue shipped with the platform).
    #[schema(example = 1)]
    pub version: i64,
    /// The version's label, by which score models name it.
    #[schema(example = "2026.1")]
    pub label: String,
    /// The date the version takes effect, as published.
    #[schema(value_type = String, format = Date, example = "2026-01-01")]
    pub effective_from: String,
    pub items: Vec<ItemBody>,
}

fn field(f: &FieldSpec) -> FieldBody {
    FieldBody {
        name: f.name.clone(),
        ty: match f.ty {
            FieldType::Int => FieldTypeBody::Int,
            FieldType::Decimal => FieldTypeBody::Decimal,
            FieldType::Date => FieldTypeBody::Date,
            FieldType::Bool => FieldTypeBody::Bool,
            FieldType::Enum => FieldTypeBody::Enum,
            FieldType::String => FieldTypeBody::String,
            FieldType::RegionCode => FieldTypeBody::RegionCode,
            FieldType::Template => FieldTypeBody::Template,
        },
        required: f.required,
        min: f.min.map(|d| d.normalize().to_string()),
        max: f.max.map(|d| d.normalize().to_string()),
        values: f.values.clone(),
        max_len: f.max_len,
        not_before: f.not_before.clone(),
    }
}

fn item(i: &Item) -> ItemBody {
    ItemBody {
        code: i.code.clone(),
        category: match i.category {
            Category::Basic => CategoryBody::Basic,
            Category::Commitment => CategoryBody::Commitment,
            Category::Serious => CategoryBody::Serious,
            Category::Other => CategoryBody::Other,
        },
        name_zh: i.name_zh.clone(),
        name_en: i.name_en.clone(),
        responsible: i.responsible.clone(),
        self_reportable: i.self_reportable,
        repairable: i.repairable,
        fields: i.fields.iter().map(field).collect(),
    }
}

/// The information catalogue in force (public).
#[utoipa::path(
    get,
    path = "/api/v1/catalogue",
    tag = super::SERVICE_TAG,
    responses(
        (status = 200, description = "The catalogue version in force: its number, label, effective date and items. A version the agency publishes is served at once.", body = CatalogueBody),
    )
)]
pub async fn get_catalogue(State(state): State<AppState>) -> Result<Json<CatalogueBody>, ApiError> {
    let (version, catalogue) = super::read_own(&state, chengxin_jobs::catalogue::current).await?;
    Ok(Json(CatalogueBody {
        version: version.number,
        label: version.label,
        effective_from: version.effective_from.to_string(),
        items: catalogue.items.iter().map(item).collect(),
    }))
}
