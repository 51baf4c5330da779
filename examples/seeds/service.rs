//! The seeds' API Gateway front door as an axum service: it starts
//! executions of the shopping-cart (seed 003) and user-data (seed 000)
//! machines and answers questions about them.
//!
//! | route | does |
//! |---|---|
//! | `POST /create-store-item` | `{"itemId", "quantity"}`: puts a product and its stock |
//! | `POST /create-order` | `[{"itemId", "quantity"}, ...]`: starts the shopping-cart machine with `{"order": <body>}` |
//! | `POST /processdata` | `{"data": {"user_id", "name"}}`: starts the user-data machine with the body |
//! | `GET /executions/{id}` | status, input, output, error, cause (AWS's `DescribeExecution`) |
//! | `GET /executions/{id}/history` | `{"events": [...]}` as AWS's `GetExecutionHistory`: the events so far while it runs |
//!
//! Starting answers at once with the execution's id and ARN (as AWS's
//! `StartExecution`); the execution runs on the tokio runtime, sharing one
//! `Arc<StateMachine>` per machine and one task executor with every other
//! execution. An observer on each execution
//! ([`Execution::with_observer`](stepfn::Execution::with_observer)) keeps
//! its events as they happen, so that its history can be read while it
//! runs; they are the events AWS's history would have at that point. A body that is not JSON gets a 400 with the parser's message.

use super::db::Db;
use super::shop;
use super::tasks::TaskRouter;
use super::user_data;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use stepfn::{
    ExecutionIdentity, HistoryEvent, Outcome, StateMachine, TaskExecutor, TaskRequest, TaskResult,
};

const REGION_ACCOUNT: &str = "us-east-1:123456789012";

/// The tables both machines use.
pub fn schema() -> String {
    format!("{}\n{}", shop::SCHEMA, user_data::SCHEMA)
}

/// One machine the service runs.
struct Machine {
    name: &'static str,
    arn: String,
    machine: Arc<StateMachine>,
}

impl Machine {
    fn new(name: &'static str, machine: StateMachine) -> Machine {
        Machine {
            name,
            arn: format!("arn:aws:states:{REGION_ACCOUNT}:stateMachine:{name}"),
            machine: Arc::new(machine),
        }
    }
}

/// What the service knows about one execution.
struct Record {
    arn: String,
    state_machine_arn: String,
    input: Value,
    start: SystemTime,
    stop: Option<SystemTime>,
    outcome: Option<Outcome>,
    /// Its history events so far, in the shape AWS's API returns.
    events: Arc<Mutex<Vec<Value>>>,
}

/// The service's state: the database, the task code, the two machines and
/// the executions started so far.
pub struct App {
    db: Arc<Db>,
    tasks: Arc<TaskRouter>,
    shopping_cart: Machine,
    user_data: Machine,
    executions: Mutex<HashMap<String, Record>>,
    /// Open (`true`): task calls run. Closed, they wait for it to open:
    /// what a test closes to see an execution while it runs.
    tasks_open: tokio::sync::watch::Sender<bool>,
}

impl App {
    /// Loads both machines; `db` must hold the tables of [`schema`].
    pub fn new(db: Arc<Db>) -> Result<Arc<App>, stepfn::Error> {
        let tasks = shop::tasks(db.clone()).merge(user_data::tasks(db.clone()));
        Ok(Arc::new(App {
            db,
            tasks: Arc::new(tasks),
            shopping_cart: Machine::new("ShoppingCartStateMachine", shop::machine()?),
            user_data: Machine::new("UserDataProcessingWorkflow", user_data::machine()?),
            executions: Mutex::default(),
            tasks_open: tokio::sync::watch::Sender::new(true),
        }))
    }

    /// Holds every task call from now on until [`open_tasks`](Self::open_tasks)
    /// (the calls already running go on).
    pub fn hold_tasks(&self) {
        self.tasks_open.send_replace(false);
    }

    /// Lets the task calls held by [`hold_tasks`](Self::hold_tasks) run.
    pub fn open_tasks(&self) {
        self.tasks_open.send_replace(true);
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn executions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.executions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts an execution of `which` and answers with its id and ARN.
    fn start(self: &Arc<Self>, which: fn(&App) -> &Machine, input: Value) -> Value {
        let machine = which(self);
        let name = uuid::Uuid::new_v4().to_string();
        let arn = format!(
            "arn:aws:states:{REGION_ACCOUNT}:execution:{}:{name}",
            machine.name
        );
        let start = SystemTime::now();
        let events = Arc::new(Mutex::new(Vec::new()));
        self.executions().insert(
            name.clone(),
            Record {
                arn: arn.clone(),
                state_machine_arn: machine.arn.clone(),
                input: input.clone(),
                start,
                stop: None,
                outcome: None,
                events: events.clone(),
            },
        );
        let mut identity = ExecutionIdentity::new();
        identity.state_machine_name = Some(machine.name.to_owned());
        identity.state_machine_arn = Some(machine.arn.clone());
        identity.execution_name = Some(name.clone());
        identity.execution_arn = Some(arn.clone());
        identity.start_time = Some(start);
        let app = self.clone();
        let id = name.clone();
        tokio::spawn(async move {
            let machine = which(&app).machine.clone();
            let tasks = Gated {
                tasks: &app.tasks,
                open: app.tasks_open.subscribe(),
            };
            // the events as they happen: the history so far while it runs
            let outcome = machine
                .execution()
                .with_identity(identity)
                .with_observer(move |event: &HistoryEvent| {
                    let mut events = events.lock().unwrap_or_else(|e| e.into_inner());
                    events.push(event.to_json());
                })
                .run(&tasks, input)
                .await;
            if let Some(record) = app.executions().get_mut(&id) {
                record.stop = Some(SystemTime::now());
                record.outcome = Some(outcome);
            }
        });
        json!({"executionId": name, "executionArn": arn, "startDate": rfc3339(start)})
    }
}

/// The routes, over `app`. Serve it with `axum::serve`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/create-store-item", post(create_store_item))
        .route("/create-order", post(create_order))
        .route("/processdata", post(process_data))
        .route("/executions/{id}", get(describe_execution))
        .route("/executions/{id}/history", get(execution_history))
        .with_state(app)
}

/// Serves [`router`] on `listener` until the task is dropped.
pub async fn serve(app: Arc<App>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(app)).await
}

fn message(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "message": text.into() }))).into_response()
}

/// The body as JSON, or the 400 answer saying why it is not.
fn parse_body(body: &Bytes) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn create_store_item(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(body) => body,
        Err(e) => return message(StatusCode::BAD_REQUEST, e),
    };
    match shop::create_store_item(&app.db, &body) {
        Ok(Some(())) => message(StatusCode::OK, "Store item created"),
        Ok(None) => message(
            StatusCode::BAD_REQUEST,
            "itemId (a string) or quantity (an integer) is undefined",
        ),
        Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn create_order(State(app): State<Arc<App>>, body: Bytes) -> Response {
    match parse_body(&body) {
        // As the tutorial's API Gateway mapping template: {"order": <body>}.
        Ok(order) => {
            Json(app.start(|a| &a.shopping_cart, json!({ "order": order }))).into_response()
        }
        Err(e) => message(StatusCode::BAD_REQUEST, e),
    }
}

async fn process_data(State(app): State<Arc<App>>, body: Bytes) -> Response {
    match parse_body(&body) {
        Ok(input) => Json(app.start(|a| &a.user_data, input)).into_response(),
        Err(e) => message(StatusCode::BAD_REQUEST, e),
    }
}

fn not_found(id: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        format!("execution `{id}` does not exist"),
    )
}

async fn describe_execution(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let executions = app.executions();
    let Some(record) = executions.get(&id) else {
        return not_found(&id);
    };
    let mut answer = json!({
        "executionArn": record.arn,
        "stateMachineArn": record.state_machine_arn,
        "name": id,
        "status": record.outcome.as_ref().map_or("RUNNING", |o| o.status.as_str()),
        "startDate": rfc3339(record.start),
        "input": record.input,
    });
    if let Some(stop) = record.stop {
        answer["stopDate"] = Value::from(rfc3339(stop));
    }
    if let Some(outcome) = &record.outcome {
        if let Some(output) = &outcome.output {
            answer["output"] = output.clone();
        }
        if let Some(error) = &outcome.error {
            answer["error"] = Value::from(error.as_str());
        }
        if let Some(cause) = &outcome.cause {
            answer["cause"] = Value::from(cause.as_str());
        }
    }
    Json(answer).into_response()
}

async fn execution_history(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let events = match app.executions().get(&id) {
        Some(record) => record.events.clone(),
        None => return not_found(&id),
    };
    // the events so far: all of them once the execution has ended
    let events = events.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Json(json!({ "events": events })).into_response()
}

/// The task executor, holding calls while the app's gate is closed.
struct Gated<'a> {
    tasks: &'a TaskRouter,
    open: tokio::sync::watch::Receiver<bool>,
}

#[async_trait::async_trait]
impl TaskExecutor for Gated<'_> {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        let mut open = self.open.clone();
        // the sender lives in the app, which outlives its executions
        let _ = open.wait_for(|open| *open).await;
        self.tasks.execute(request).await
    }
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
