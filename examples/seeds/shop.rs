//! Seed 003, the shopping cart (CDK): `POST /create-store-item` puts a
//! product with its stock; `POST /create-order` starts a machine whose Map
//! checks every item is in stock, then whose Parallel creates the order and
//! (another Map) takes each item off the stock.
//!
//! The tutorial builds the machine with the CDK; the fixture is the ASL that
//! code synthesizes (`LambdaInvoke` tasks: `arn:aws:states:::lambda:invoke`
//! with the function ARN as `FunctionName`). The four Node.js functions are
//! ported as written, with one change: `updateItemStock` takes the stock
//! down only if enough is left (`UPDATE ... WHERE stock >= ?`, as a DynamoDB
//! `ConditionExpression` would), so concurrent orders cannot drive it
//! negative; the tutorial's unconditional `SET stock = stock - :quantity`
//! could.

use super::db::Db;
use super::tasks::{node_error, Invocation, TaskRouter};
use super::user_data::now_rfc3339;
use serde_json::Value;
use std::sync::Arc;
use stepfn::{StateMachine, StatesError};

/// The definition CDK synthesizes from the tutorial's code.
pub const DEFINITION: &str = include_str!("../../fixtures/machines/003_shopping_cart.json");

/// `FunctionName` of isItemInStockTask.
pub const IS_ITEM_IN_STOCK: &str = "arn:aws:lambda:us-east-1:123456789012:function:isItemInStock";
/// `FunctionName` of updateItemStockTask.
pub const UPDATE_ITEM_STOCK: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:updateItemStock";
/// `FunctionName` of createOrderTask.
pub const CREATE_ORDER: &str = "arn:aws:lambda:us-east-1:123456789012:function:createOrder";

/// Products and orders (the tutorial's single table `storeDB`, as two).
/// No `CHECK (stock >= 0)`: keeping the stock non-negative is the update's
/// job, and the tests check that it does it.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS store_items (
    item_id TEXT PRIMARY KEY,
    stock   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS store_orders (
    order_id      TEXT PRIMARY KEY,
    items         TEXT NOT NULL,
    execution_arn TEXT,
    created_at    TEXT NOT NULL
);";

/// The machine, loaded.
pub fn machine() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION)
}

/// The same workflow migrated to JSONata by hand (`Arguments`, `Output`,
/// `Condition` instead of the JSONPath fields).
pub const DEFINITION_JSONATA: &str =
    include_str!("../../fixtures/machines/003_shopping_cart.jsonata.json");

/// The JSONata form, loaded.
pub fn machine_jsonata() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION_JSONATA)
}

/// The three functions the machine calls, keyed by their ARNs.
pub fn tasks(db: Arc<Db>) -> TaskRouter {
    let (check, update, create) = (db.clone(), db.clone(), db);
    TaskRouter::new()
        .on_sync(IS_ITEM_IN_STOCK, move |i| is_item_in_stock(&check, i))
        .on_sync(UPDATE_ITEM_STOCK, move |i| update_item_stock(&update, i))
        .on_sync(CREATE_ORDER, move |i| create_order(&create, i))
}

/// `createStoreItem`: puts (or replaces) a product with its stock. `None`
/// when the body lacks `itemId` or `quantity`, as the tutorial's check.
pub fn create_store_item(db: &Db, body: &Value) -> Result<Option<()>, rusqlite::Error> {
    let item_id = body.get("itemId").and_then(Value::as_str);
    let quantity = body.get("quantity").and_then(Value::as_i64);
    let (Some(item_id), Some(quantity)) = (item_id, quantity) else {
        return Ok(None);
    };
    db.conn().execute(
        "INSERT OR REPLACE INTO store_items (item_id, stock) VALUES (?1, ?2)",
        (item_id, quantity),
    )?;
    Ok(Some(()))
}

/// `{ item: { itemId, quantity } }` of a Map iteration.
fn item(event: &Value) -> Result<(String, i64), StatesError> {
    let item = &event["item"];
    match (
        item.get("itemId").and_then(Value::as_str),
        item.get("quantity").and_then(Value::as_i64),
    ) {
        (Some(id), Some(quantity)) => Ok((id.to_owned(), quantity)),
        _ => Err(node_error(
            "TypeError",
            "Cannot destructure 'item': expected { itemId: string, quantity: number }",
        )),
    }
}

/// `isItemInStock`: throws unless the product has at least `quantity`.
fn is_item_in_stock(db: &Db, invocation: Invocation) -> Result<Value, StatesError> {
    let (item_id, quantity) = item(&invocation.event)?;
    let stock: Option<i64> = db
        .conn()
        .query_row(
            "SELECT stock FROM store_items WHERE item_id = ?1",
            [&item_id],
            |row| row.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(node_error("Error", &e.to_string())),
        })?;
    match stock {
        Some(stock) if stock >= quantity => Ok(Value::Null),
        _ => Err(node_error("Error", "Item not in stock")),
    }
}

/// `updateItemStock`: `stock = stock - quantity`, only if that leaves it
/// non-negative; otherwise DynamoDB's `ConditionalCheckFailedException`.
fn update_item_stock(db: &Db, invocation: Invocation) -> Result<Value, StatesError> {
    let (item_id, quantity) = item(&invocation.event)?;
    let changed = db
        .conn()
        .execute(
            "UPDATE store_items SET stock = stock - ?1 WHERE item_id = ?2 AND stock >= ?1",
            (quantity, &item_id),
        )
        .map_err(|e| node_error("Error", &e.to_string()))?;
    if changed == 0 {
        return Err(node_error(
            "ConditionalCheckFailedException",
            "The conditional request failed",
        ));
    }
    Ok(Value::Null)
}

/// `createOrder`: one order row with a fresh id and the items. The row also
/// notes the execution that created it, so that orders can be traced back.
fn create_order(db: &Db, invocation: Invocation) -> Result<Value, StatesError> {
    let Some(order) = invocation.event.get("order").filter(|o| o.is_array()) else {
        return Err(node_error("TypeError", "order.map is not a function"));
    };
    db.conn()
        .execute(
            "INSERT INTO store_orders (order_id, items, execution_arn, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            (
                uuid::Uuid::new_v4().to_string(),
                order.to_string(),
                invocation.execution_arn.as_deref(),
                now_rfc3339(),
            ),
        )
        .map_err(|e| node_error("Error", &e.to_string()))?;
    Ok(Value::Null)
}

/// The stock of a product (`None`: no such product).
pub fn stock(db: &Db, item_id: &str) -> rusqlite::Result<Option<i64>> {
    match db.conn().query_row(
        "SELECT stock FROM store_items WHERE item_id = ?1",
        [item_id],
        |row| row.get(0),
    ) {
        Ok(stock) => Ok(Some(stock)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One `store_orders` row.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderRow {
    /// `order_id`.
    pub order_id: String,
    /// The items, as the order gave them.
    pub items: Value,
    /// The execution that created it.
    pub execution_arn: Option<String>,
}

/// Every order, oldest first.
pub fn orders(db: &Db) -> rusqlite::Result<Vec<OrderRow>> {
    let conn = db.conn();
    let mut statement =
        conn.prepare("SELECT order_id, items, execution_arn FROM store_orders ORDER BY rowid")?;
    let rows = statement.query_map([], |row| {
        let items: String = row.get(1)?;
        Ok(OrderRow {
            order_id: row.get(0)?,
            items: serde_json::from_str(&items).unwrap_or(Value::Null),
            execution_arn: row.get(2)?,
        })
    })?;
    rows.collect()
}
