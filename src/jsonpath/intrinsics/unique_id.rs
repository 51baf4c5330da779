//! `States.UUID`.

use super::Args;
use serde_json::Value;

/// `States.UUID()`: a new random (version 4) UUID, lowercase.
///
/// ```text
/// "uuid.$": "States.UUID()"
/// output: {"uuid": "ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8"}
/// ```
pub fn uuid(_args: &mut Args<'_>) -> Result<Value, String> {
    Ok(Value::String(crate::functions::uuid_v4(rand::random())))
}
