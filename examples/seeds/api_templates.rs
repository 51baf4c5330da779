//! Seed 002, API call from templates: a DynamoDB `getItem` fetches a request
//! template by (template name, HTTP method); a Lambda renders its URL,
//! headers and body with Jinja and calls the API; a Choice on the answer's
//! `statusCode` ends in `Success` or `HandleFailure`.
//!
//! The tutorial's ASL excerpt is not JSON as printed (no outer braces, `}.`
//! for `},`, an unterminated `Resource` string, the Choice cut off): see
//! [`PRINTED`]. [`DEFINITION`] is the same workflow with those typos fixed
//! and the Choice completed from the tutorial's prose (200 -> `Success`,
//! >= 400 -> `HandleFailure`).

use super::db::Db;
use super::http;
use super::tasks::{python_error, Invocation, TaskRouter};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use stepfn::{StateMachine, StatesError};

/// The definition as the tutorial prints it: rejected when loaded.
pub const PRINTED: &str =
    include_str!("../../fixtures/machines/002_api_call_from_templates.invalid.json");

/// The definition with the printed typos fixed.
pub const DEFINITION: &str =
    include_str!("../../fixtures/machines/002_api_call_from_templates.json");

/// `Resource` of FetchTemplateFromDynamoDB.
pub const GET_ITEM: &str = "arn:aws:states:::dynamodb:getItem";
/// `Resource` of InvokeLambdaToCallAPI.
pub const GENERIC_API_CALL: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:GenericApiCallLambda";

/// The template table: `PK` is the template name, `SK` the HTTP method.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS API_Template_Table (
    PK      TEXT NOT NULL,
    SK      TEXT NOT NULL,
    url     TEXT NOT NULL,
    headers TEXT,
    body    TEXT,
    PRIMARY KEY (PK, SK)
);";

/// The machine, loaded from the fixed definition.
pub fn machine() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION)
}

/// The same workflow migrated to JSONata by hand (`Arguments`, `Output`,
/// `Condition` instead of the JSONPath fields).
pub const DEFINITION_JSONATA: &str =
    include_str!("../../fixtures/machines/002_api_call_from_templates.jsonata.json");

/// The JSONata form, loaded.
pub fn machine_jsonata() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(DEFINITION_JSONATA)
}

/// DynamoDB getItem and the generic API-call function, keyed by their ARNs.
pub fn tasks(db: Arc<Db>) -> TaskRouter {
    TaskRouter::new()
        .on_sync(GET_ITEM, move |invocation| get_item(&db, &invocation.event))
        .on(GENERIC_API_CALL, generic_api_call)
}

/// Stores one template row.
pub fn put_template(
    db: &Db,
    name: &str,
    method: &str,
    url: &str,
    headers: Option<&str>,
    body: Option<&str>,
) -> rusqlite::Result<()> {
    db.conn().execute(
        "INSERT OR REPLACE INTO API_Template_Table (PK, SK, url, headers, body) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (name, method, url, headers, body),
    )?;
    Ok(())
}

/// The two templates of the example, pointing at the demo API on `api`.
pub fn put_demo_templates(db: &Db, api: SocketAddr) -> rusqlite::Result<()> {
    put_template(
        db,
        "createUser",
        "POST",
        &format!("http://{api}/v1/users"),
        Some(r#"{"Content-Type": "application/json", "X-Request-Id": "{{ requestId }}"}"#),
        Some(r#"{"name": {{ name | tojson }}}"#),
    )?;
    put_template(
        db,
        "getUser",
        "GET",
        &format!("http://{api}/v1/users/{{{{ userId }}}}"),
        Some(r#"{"Accept": "application/json"}"#),
        None,
    )
}

// ---------------------------------------------------------------------------
// DynamoDB getItem over SQLite

/// `arn:aws:states:::dynamodb:getItem` over a SQLite table whose columns
/// are the item's attributes: `{"TableName", "Key": {name: {"S"|"N": v}}}`
/// answers `{"Item": {column: {"S"|"N": v}}}`, or `{}` when there is no
/// such item, as DynamoDB does.
pub fn get_item(db: &Db, parameters: &Value) -> Result<Value, StatesError> {
    let validation = |message: &str| StatesError::new("DynamoDB.ValidationException", message);
    let Some(table) = parameters.get("TableName").and_then(Value::as_str) else {
        return Err(validation("TableName is required"));
    };
    let Some(key) = parameters.get("Key").and_then(Value::as_object) else {
        return Err(validation("Key is required"));
    };
    let conn = db.conn();
    let exists: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |row| row.get(0),
        )
        .map_err(|e| StatesError::new("DynamoDB.InternalServerError", e.to_string()))?;
    if !exists {
        return Err(StatesError::new(
            "DynamoDB.ResourceNotFoundException",
            "Requested resource not found",
        ));
    }
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    for (name, attribute) in key {
        let value = match attribute.as_object().map(|a| a.iter().next()) {
            Some(Some((kind, Value::String(v)))) if kind == "S" || kind == "N" => v.clone(),
            _ => {
                return Err(validation(
                    "The provided key element does not match the schema",
                ))
            }
        };
        conditions.push(format!("{} = ?{}", quote(name), values.len() + 1));
        values.push(value);
    }
    if conditions.is_empty() {
        return Err(validation(
            "The provided key element does not match the schema",
        ));
    }
    let sql = format!(
        "SELECT * FROM {} WHERE {}",
        quote(table),
        conditions.join(" AND ")
    );
    let mut statement = conn
        .prepare(&sql)
        .map_err(|_| validation("The provided key element does not match the schema"))?;
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = statement
        .query(rusqlite::params_from_iter(values.iter()))
        .map_err(|e| StatesError::new("DynamoDB.InternalServerError", e.to_string()))?;
    let Some(row) = rows
        .next()
        .map_err(|e| StatesError::new("DynamoDB.InternalServerError", e.to_string()))?
    else {
        return Ok(json!({}));
    };
    let mut item = Map::new();
    for (i, column) in columns.iter().enumerate() {
        use rusqlite::types::ValueRef;
        let attribute = match row.get_ref(i) {
            Ok(ValueRef::Text(text)) => json!({"S": String::from_utf8_lossy(text)}),
            Ok(ValueRef::Integer(n)) => json!({"N": n.to_string()}),
            Ok(ValueRef::Real(x)) => json!({"N": x.to_string()}),
            _ => continue, // NULL: the attribute is absent
        };
        item.insert(column.clone(), attribute);
    }
    Ok(json!({ "Item": item }))
}

/// An SQL identifier, quoted.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

// ---------------------------------------------------------------------------
// GenericApiCallLambda

/// The Lambda: renders the template item's `url`, `headers` and `body` with
/// `params` (Jinja, strict about undefined names), sends the request with
/// the item's `SK` as the method, and answers `{"statusCode", "body"}` (the
/// body parsed when it is JSON).
async fn generic_api_call(invocation: Invocation) -> Result<Value, StatesError> {
    let template = &invocation.event["template"];
    let params = &invocation.event["params"];
    let attribute = |name: &str| template.get(name)?.get("S")?.as_str().map(str::to_owned);
    let Some(method) = attribute("SK") else {
        return Err(python_error("KeyError", "'SK'"));
    };
    let Some(url) = attribute("url") else {
        return Err(python_error("KeyError", "'url'"));
    };
    let url = render(&url, params)?;
    let headers = match attribute("headers") {
        None => Vec::new(),
        Some(headers) => {
            let rendered = render(&headers, params)?;
            let object: Map<String, Value> = serde_json::from_str(&rendered)
                .map_err(|e| python_error("JSONDecodeError", &e.to_string()))?;
            object
                .into_iter()
                .map(|(name, value)| match value {
                    Value::String(s) => (name, s),
                    other => (name, other.to_string()),
                })
                .collect()
        }
    };
    let body = match attribute("body") {
        None => None,
        Some(body) => Some(render(&body, params)?),
    };
    let response = http::request(&method, &url, &headers, body)
        .await
        .map_err(|e| python_error("ConnectionError", &e))?;
    let body = serde_json::from_str(&response.body).unwrap_or(Value::String(response.body));
    Ok(json!({"statusCode": response.status, "body": body}))
}

/// Renders one Jinja template; a failure is reported as jinja2 would raise
/// it.
pub fn render(template: &str, params: &Value) -> Result<String, StatesError> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let context = minijinja::Value::from(minijinja::value::Serde(params));
    env.render_str(template, context).map_err(|e| {
        let class = match e.kind() {
            minijinja::ErrorKind::UndefinedError => "UndefinedError",
            minijinja::ErrorKind::SyntaxError => "TemplateSyntaxError",
            _ => "TemplateError",
        };
        python_error(class, &e.to_string())
    })
}

// ---------------------------------------------------------------------------
// The API the templates call

/// A tiny users API standing in for the external service: `POST /v1/users`
/// (JSON `{"name"}`, answers 200 with the new user and the `X-Request-Id` it
/// got) and `GET /v1/users/{id}` (200, or 404 for an unknown id).
pub fn demo_api() -> Router {
    let users: Arc<Mutex<Vec<String>>> = Arc::default();
    Router::new()
        .route("/v1/users", post(create_user))
        .route("/v1/users/{id}", get(read_user))
        .with_state(users)
}

/// Serves [`demo_api`] on `127.0.0.1` at an ephemeral port.
pub async fn serve_demo_api() -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, demo_api()).await;
    });
    Ok(addr)
}

async fn create_user(
    State(users): State<Arc<Mutex<Vec<String>>>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let name = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned));
    let (true, Some(name)) = (is_json, name) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "expected a JSON body with a string `name`"})),
        );
    };
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut users = users.lock().unwrap_or_else(|e| e.into_inner());
    users.push(name.clone());
    let id = users.len();
    (
        StatusCode::OK,
        Json(json!({"id": id, "name": name, "requestId": request_id})),
    )
}

async fn read_user(
    State(users): State<Arc<Mutex<Vec<String>>>>,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    let users = users.lock().unwrap_or_else(|e| e.into_inner());
    let found = id
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| users.get(i));
    match found {
        Some(name) => (StatusCode::OK, Json(json!({"id": id, "name": name}))),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": format!("user {id} not found")})),
        ),
    }
}
