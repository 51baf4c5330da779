//! Seed 001, online order processing (SAM): `Validate -> Charge -> Record`,
//! three Lambda tasks passing the order along.
//!
//! The lesson's code blocks were lost; its prose says what each function
//! does, and this follows it: Validate raises unless `amount > 0` and adds
//! `"validated": true`; Charge derives a `payment_id` from the order id and
//! adds `"charged": true`; Record writes a row with the order id, amount,
//! payment id and a timestamp, and answers with a status.

use super::db::Db;
use super::tasks::{python_error, Invocation, TaskRouter};
use super::user_data::{now_rfc3339, sqlite_error};
use serde_json::{json, Value};
use std::sync::Arc;
use stepfn::{StateMachine, StatesError};

/// The definition (reconstructed from the lesson's prose).
pub const DEFINITION: &str = include_str!("../../fixtures/machines/001_order_processing.json");

/// `Resource` of Validate.
pub const VALIDATE: &str = "arn:aws:lambda:us-east-1:123456789012:function:ValidateOrderFunction";
/// `Resource` of Charge.
pub const CHARGE: &str = "arn:aws:lambda:us-east-1:123456789012:function:ChargeCustomerFunction";
/// `Resource` of Record.
pub const RECORD: &str = "arn:aws:lambda:us-east-1:123456789012:function:RecordOrderFunction";

/// The table Record writes (the lesson's DynamoDB table).
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS orders (
    order_id   TEXT PRIMARY KEY,
    amount     REAL NOT NULL,
    payment_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);";

/// The machine, loaded.
pub fn machine() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION)
}

/// The same workflow migrated to JSONata by hand (`Arguments`, `Output`,
/// `Condition` instead of the JSONPath fields).
pub const DEFINITION_JSONATA: &str =
    include_str!("../../fixtures/machines/001_order_processing.jsonata.json");

/// The JSONata form, loaded.
pub fn machine_jsonata() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION_JSONATA)
}

/// The three functions, keyed by their ARNs.
pub fn tasks(db: Arc<Db>) -> TaskRouter {
    TaskRouter::new()
        .on_sync(VALIDATE, validate)
        .on_sync(CHARGE, charge)
        .on_sync(RECORD, move |invocation| record(&db, invocation))
}

/// Validate: `amount` must be a number greater than 0.
fn validate(invocation: Invocation) -> Result<Value, StatesError> {
    let mut event = invocation.event;
    let order = order_mut(&mut event)?;
    match order.get("amount").and_then(Value::as_f64) {
        Some(amount) if amount > 0.0 => {}
        Some(_) => {
            return Err(python_error(
                "ValueError",
                "Order amount must be greater than 0",
            ))
        }
        None => return Err(python_error("KeyError", "'amount'")),
    }
    order.insert("validated".into(), Value::Bool(true));
    Ok(event)
}

/// Charge: `payment_id` is `pay_<order id>`.
fn charge(invocation: Invocation) -> Result<Value, StatesError> {
    let mut event = invocation.event;
    let order = order_mut(&mut event)?;
    let payment_id = format!("pay_{}", order_id(order)?);
    order.insert("payment_id".into(), Value::String(payment_id));
    order.insert("charged".into(), Value::Bool(true));
    Ok(event)
}

/// Record: one `orders` row, then `"status": "recorded"`.
fn record(db: &Db, invocation: Invocation) -> Result<Value, StatesError> {
    let mut event = invocation.event;
    let order = order_mut(&mut event)?;
    let id = order_id(order)?;
    let amount = order.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
    let Some(payment_id) = order.get("payment_id").and_then(Value::as_str) else {
        return Err(python_error("KeyError", "'payment_id'"));
    };
    db.conn()
        .execute(
            "INSERT INTO orders (order_id, amount, payment_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            (&id, amount, payment_id, now_rfc3339()),
        )
        .map_err(sqlite_error)?;
    if let Some(event) = event.as_object_mut() {
        event.insert("status".into(), Value::from("recorded"));
    }
    Ok(event)
}

fn order_mut(event: &mut Value) -> Result<&mut serde_json::Map<String, Value>, StatesError> {
    event
        .get_mut("order")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| python_error("KeyError", "'order'"))
}

fn order_id(order: &serde_json::Map<String, Value>) -> Result<String, StatesError> {
    match order.get("order_id") {
        Some(Value::String(id)) => Ok(id.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(python_error("KeyError", "'order_id'")),
    }
}

/// An order as the lesson's sample input has it.
pub fn sample_order(order_id: &str, amount: f64) -> Value {
    json!({"order": {"order_id": order_id, "amount": amount}})
}

/// One `orders` row.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    /// `order_id`.
    pub order_id: String,
    /// `amount`.
    pub amount: f64,
    /// `payment_id`.
    pub payment_id: String,
    /// `created_at`, RFC 3339.
    pub created_at: String,
}

/// The `orders` rows, by id.
pub fn rows(db: &Db) -> rusqlite::Result<Vec<OrderRow>> {
    let conn = db.conn();
    let mut statement = conn
        .prepare("SELECT order_id, amount, payment_id, created_at FROM orders ORDER BY order_id")?;
    let rows = statement.query_map([], |row| {
        Ok(OrderRow {
            order_id: row.get(0)?,
            amount: row.get(1)?,
            payment_id: row.get(2)?,
            created_at: row.get(3)?,
        })
    })?;
    rows.collect()
}
