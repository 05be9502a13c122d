//! The API reference as the dashboard's docs page shows it: read from the OpenAPI document.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiReference {
    pub title: String,
    pub version: String,
    pub description: String,
    /// Where the paths start, e.g. `/api/v1`.
    pub base: String,
    pub tags: Vec<ApiTag>,
    pub schemas: Vec<ApiSchema>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTag {
    pub name: String,
    pub description: String,
    pub operations: Vec<ApiOperation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiOperation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// Whether an API key or session is needed.
    pub authenticated: bool,
    pub parameters: Vec<ApiField>,
    /// The request body's schema, by name.
    pub request: Option<String>,
    pub responses: Vec<ApiResponse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiResponse {
    pub status: String,
    pub description: String,
    pub schema: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiSchema {
    pub name: String,
    pub description: String,
    pub fields: Vec<ApiField>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiField {
    pub name: String,
    /// e.g. `string`, `integer | null`, `[DeliveryView]`.
    pub kind: String,
    pub required: bool,
    pub description: String,
}
