//! Seed 000, user data processing: API Gateway `POST /processdata` starts
//! `ValidateData -> TransformData -> StoreData`, each Lambda task with a
//! Catch to its own Fail state.
//!
//! The task code follows the tutorial's three Python functions, with two
//! changes. `store_data` really stores, in the `users` table, instead of
//! printing. And each function *raises* on bad data where the Python code
//! catches its exception and returns `{"statusCode": 400|500}`: a Lambda
//! that returns normally never reaches a `Catch`, so with the printed code
//! the definition's `ValidationFailed`/`StorageFailed` states could not run.
//! The error names are the Python exception classes a raise would report.

use super::db::Db;
use super::tasks::{python_error, Invocation, TaskRouter};
use serde_json::{json, Value};
use std::sync::Arc;
use stepfn::{StateMachine, StatesError};

/// The definition exactly as the tutorial prints it.
pub const DEFINITION: &str = include_str!("../../fixtures/machines/000_user_data_processing.json");

/// `Resource` of ValidateData.
pub const VALIDATE_DATA: &str = "arn:aws:lambda:YOUR_REGION:YOUR_ACCOUNT_ID:function:validate_data";
/// `Resource` of TransformData.
pub const TRANSFORM_DATA: &str =
    "arn:aws:lambda:YOUR_REGION:YOUR_ACCOUNT_ID:function:transform_data";
/// `Resource` of StoreData.
pub const STORE_DATA: &str = "arn:aws:lambda:YOUR_REGION:YOUR_ACCOUNT_ID:function:store_data";

/// The table `store_data` writes.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS users (
    user_id   TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    stored_at TEXT NOT NULL
);";

/// The machine, loaded.
pub fn machine() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION)
}

/// The same workflow migrated to JSONata by hand (`Arguments`, `Output`,
/// `Condition` instead of the JSONPath fields).
pub const DEFINITION_JSONATA: &str =
    include_str!("../../fixtures/machines/000_user_data_processing.jsonata.json");

/// The JSONata form, loaded.
pub fn machine_jsonata() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION_JSONATA)
}

/// The three functions, keyed by their ARNs.
pub fn tasks(db: Arc<Db>) -> TaskRouter {
    TaskRouter::new()
        .on_sync(VALIDATE_DATA, validate_data)
        .on_sync(TRANSFORM_DATA, transform_data)
        .on_sync(STORE_DATA, move |invocation| store_data(&db, invocation))
}

/// `validate_data.py`: `data` must be an object with `user_id` and `name`.
fn validate_data(invocation: Invocation) -> Result<Value, StatesError> {
    let Some(data) = invocation.event.get("data") else {
        return Err(python_error("KeyError", "'data'"));
    };
    let Some(fields) = data.as_object() else {
        return Err(python_error(
            "ValueError",
            "Invalid data format: Must be a dictionary.",
        ));
    };
    if !fields.contains_key("user_id") || !fields.contains_key("name") {
        return Err(python_error(
            "ValueError",
            "Missing required fields: user_id and name.",
        ));
    }
    Ok(response(
        json!({"message": "Data validation successful", "data": data}),
    ))
}

/// `transform_data.py`: `userID` and the upper-cased `userName`.
fn transform_data(invocation: Invocation) -> Result<Value, StatesError> {
    let data = body_data(&invocation.event)?;
    let name = match data.get("name") {
        Some(Value::String(name)) => name,
        Some(other) => {
            let message = format!("'{}' object has no attribute 'upper'", python_type(other));
            return Err(python_error("AttributeError", &message));
        }
        None => return Err(python_error("KeyError", "'name'")),
    };
    let transformed = json!({"userID": data["user_id"], "userName": name.to_uppercase()});
    Ok(response(
        json!({"message": "Data transformation successful", "data": transformed}),
    ))
}

/// `store_data.py`, storing for real: one `users` row. Storing a user id
/// twice breaks the primary key, which is the storage failure.
fn store_data(db: &Db, invocation: Invocation) -> Result<Value, StatesError> {
    let data = body_data(&invocation.event)?;
    let user_id = match &data["userID"] {
        Value::String(s) => s.clone(),
        Value::Null => return Err(python_error("KeyError", "'userID'")),
        other => other.to_string(),
    };
    let user_name = data["userName"].as_str().unwrap_or_default().to_owned();
    db.conn()
        .execute(
            "INSERT INTO users (user_id, user_name, stored_at) VALUES (?1, ?2, ?3)",
            (&user_id, &user_name, now_rfc3339()),
        )
        .map_err(sqlite_error)?;
    Ok(response(json!({"message": "Data stored successfully"})))
}

/// The Python type name of a JSON value, for error messages.
fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `{"statusCode": 200, "body": json.dumps(body)}`.
fn response(body: Value) -> Value {
    json!({"statusCode": 200, "body": body.to_string()})
}

/// `json.loads(event['body'])['data']`.
fn body_data(event: &Value) -> Result<Value, StatesError> {
    let Some(body) = event.get("body").and_then(Value::as_str) else {
        return Err(python_error("KeyError", "'body'"));
    };
    let mut body: Value =
        serde_json::from_str(body).map_err(|e| python_error("JSONDecodeError", &e.to_string()))?;
    match body.get_mut("data") {
        Some(data) => Ok(data.take()),
        None => Err(python_error("KeyError", "'data'")),
    }
}

/// A SQLite failure as Python's `sqlite3` module would raise it.
pub fn sqlite_error(e: rusqlite::Error) -> StatesError {
    let class = match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => "IntegrityError",
        _ => "OperationalError",
    };
    python_error(class, &e.to_string())
}

/// Now, as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The `users` rows: `(user_id, user_name)`, by id.
pub fn users(db: &Db) -> rusqlite::Result<Vec<(String, String)>> {
    let conn = db.conn();
    let mut statement = conn.prepare("SELECT user_id, user_name FROM users ORDER BY user_id")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}
