//! The serde mirror of ASL JSON: flat structs with optional fields and
//! `Type` as a plain string.
//!
//! States are deliberately *not* an internally tagged enum: serde_path_to_error
//! loses the location inside `#[serde(tag = "Type")]`. A state is read into
//! one flat [`RawState`] and dispatched on `Type` by hand in `parse.rs`.
//!
//! Fields whose value needs a closer look (paths, templates, numbers that
//! may also be JSONata expressions, nested machines) are kept as
//! `Option<Value>` read with [`present`], so that an explicit `null` stays
//! distinguishable from an absent field.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads a field that is present, keeping `null` as `Some(Value::Null)`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// One state: the fields of every state type. Some are only here for their
/// type check (`...Path` strings whose values are taken from the JSON
/// object); numbers that may also be JSONata strings are not here at all:
/// `parse.rs` reads them from the JSON object.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawState {
    #[serde(rename = "Type")]
    pub type_name: Option<String>,
    pub comment: Option<String>,
    pub query_language: Option<String>,
    pub next: Option<String>,
    pub end: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub input_path: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub output_path: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub result_path: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub parameters: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub result_selector: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub result: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub assign: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub arguments: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub output: Option<Value>,
    // Task
    pub resource: Option<String>,
    pub timeout_seconds_path: Option<String>,
    pub heartbeat_seconds_path: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub credentials: Option<Value>,
    pub retry: Option<Vec<Value>>,
    pub catch: Option<Vec<Value>>,
    // Choice
    pub choices: Option<Vec<Value>>,
    pub default: Option<String>,
    // Wait
    #[serde(default, deserialize_with = "present")]
    pub seconds: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub timestamp: Option<Value>,
    pub seconds_path: Option<String>,
    pub timestamp_path: Option<String>,
    // Fail
    pub error: Option<String>,
    pub error_path: Option<String>,
    pub cause: Option<String>,
    pub cause_path: Option<String>,
    // Parallel
    pub branches: Option<Vec<Value>>,
    // Map
    #[serde(default, deserialize_with = "present")]
    pub item_processor: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub iterator: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub items_path: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub items: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub item_selector: Option<Value>,
    pub max_concurrency_path: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub item_reader: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub item_batcher: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub result_writer: Option<Value>,
    pub tolerated_failure_count_path: Option<String>,
    pub tolerated_failure_percentage_path: Option<String>,
    pub label: Option<String>,
}

/// One entry of `Retry`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawRetrier {
    pub error_equals: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub interval_seconds: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub max_attempts: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub backoff_rate: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub max_delay_seconds: Option<Value>,
    pub jitter_strategy: Option<String>,
    pub comment: Option<String>,
}

/// One entry of `Catch`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawCatcher {
    pub error_equals: Option<Vec<String>>,
    pub next: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub result_path: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub assign: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub output: Option<Value>,
    pub comment: Option<String>,
}

/// `ItemReader`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawItemReader {
    pub resource: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub parameters: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub arguments: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub reader_config: Option<Value>,
}

/// `ItemBatcher` (as in [`RawState`], the numbers are read from the JSON
/// object).
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawItemBatcher {
    #[serde(default, deserialize_with = "present")]
    pub batch_input: Option<Value>,
    pub max_items_per_batch_path: Option<String>,
    pub max_input_bytes_per_batch_path: Option<String>,
}

/// `ResultWriter`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawResultWriter {
    pub resource: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub parameters: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub arguments: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub writer_config: Option<Value>,
}
