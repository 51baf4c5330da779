//! The seed workflows end to end: each example's scenario, asserting
//! outputs, errors and database contents, and the HTTP service over
//! loopback. The task code is the examples' own (examples/seeds/).

#[path = "../examples/seeds/mod.rs"]
mod seeds;

use seeds::db::Db;
use seeds::tasks::{error_message, TaskRouter};
use seeds::{api_templates, hello, http, orders, run, service, shop, states_passed, user_data};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use stepfn::definition::Resource;
use stepfn::{HistoryEvent, Outcome, StateMachine, Status, TaskExecutor, TaskRequest};

/// The form of a seed definition: as printed (JSONPath) or migrated to
/// JSONata by hand. Every scenario runs both and asserts the same.
#[derive(Clone, Copy, Debug)]
enum Form {
    JsonPath,
    Jsonata,
}

const FORMS: [Form; 2] = [Form::JsonPath, Form::Jsonata];

impl Form {
    fn pick<T>(self, json_path: impl FnOnce() -> T, jsonata: impl FnOnce() -> T) -> T {
        match self {
            Form::JsonPath => json_path(),
            Form::Jsonata => jsonata(),
        }
    }
}

fn states(outcome: &Outcome) -> Vec<String> {
    states_passed(outcome)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn assert_failed(outcome: &Outcome, error: &str, cause: &str) {
    assert_eq!(outcome.status, Status::Failed, "{outcome:?}");
    assert_eq!(outcome.error.as_deref(), Some(error));
    assert_eq!(outcome.cause.as_deref(), Some(cause));
}

/// The first history event of `event_type`.
fn event<'a>(outcome: &'a Outcome, event_type: &str) -> &'a HistoryEvent {
    let history = outcome.history.as_deref().unwrap_or_default();
    match history.iter().find(|e| e.event_type == event_type) {
        Some(event) => event,
        None => panic!("no {event_type} event in {history:#?}"),
    }
}

// ---------------------------------------------------------------------------
// 000 user data processing

struct UserData {
    db: Arc<Db>,
    machine: StateMachine,
    tasks: TaskRouter,
}

fn user_data(form: Form) -> UserData {
    let db = Arc::new(Db::create("test-user-data", user_data::SCHEMA).unwrap());
    UserData {
        machine: form
            .pick(user_data::machine, user_data::machine_jsonata)
            .unwrap(),
        tasks: user_data::tasks(db.clone()),
        db,
    }
}

#[tokio::test]
async fn user_data_valid_is_transformed_and_stored() {
    for form in FORMS {
        let t = user_data(form);
        let input = json!({"data": {"user_id": 123, "name": "John Doe"}});
        let outcome = run(&t.machine, &t.tasks, input).await;
        assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
        assert_eq!(
            states(&outcome),
            names(&["ValidateData", "TransformData", "StoreData"])
        );
        let stored =
            json!({"statusCode": 200, "body": "{\"message\":\"Data stored successfully\"}"});
        assert_eq!(outcome.output, Some(stored));
        assert_eq!(
            user_data::users(&t.db).unwrap(),
            vec![("123".into(), "JOHN DOE".into())]
        );
    }
}

#[tokio::test]
async fn user_data_invalid_ends_in_validation_failed() {
    for form in FORMS {
        let t = user_data(form);
        let missing_name = json!({"data": {"user_id": 124}});
        let outcome = run(&t.machine, &t.tasks, missing_name).await;
        assert_failed(&outcome, "ValidationError", "Data Validation Failed");
        assert_eq!(
            states(&outcome),
            names(&["ValidateData", "ValidationFailed"])
        );
        // The Catch saw the function's own error.
        let failed = event(&outcome, "LambdaFunctionFailed");
        assert_eq!(failed.details["error"], "ValueError");
        let cause = failed.details["cause"].as_str().unwrap();
        assert_eq!(
            error_message(cause),
            "Missing required fields: user_id and name."
        );

        let not_a_dict = json!({"data": "John"});
        let outcome = run(&t.machine, &t.tasks, not_a_dict).await;
        assert_failed(&outcome, "ValidationError", "Data Validation Failed");
        assert!(user_data::users(&t.db).unwrap().is_empty());
    }
}

#[tokio::test]
async fn user_data_storage_failure_ends_in_storage_failed() {
    for form in FORMS {
        let t = user_data(form);
        let input = json!({"data": {"user_id": 123, "name": "John Doe"}});
        let first = run(&t.machine, &t.tasks, input.clone()).await;
        assert_eq!(first.status, Status::Succeeded);
        // The same user id again: the users table's primary key refuses it.
        let outcome = run(&t.machine, &t.tasks, input).await;
        assert_failed(&outcome, "StorageError", "Data Storage Failed");
        assert_eq!(
            states(&outcome),
            names(&[
                "ValidateData",
                "TransformData",
                "StoreData",
                "StorageFailed"
            ])
        );
        let failed = event(&outcome, "LambdaFunctionFailed");
        assert_eq!(failed.details["error"], "IntegrityError");
        let cause = failed.details["cause"].as_str().unwrap();
        assert_eq!(
            error_message(cause),
            "UNIQUE constraint failed: users.user_id"
        );
        assert_eq!(user_data::users(&t.db).unwrap().len(), 1);
    }
}

// ---------------------------------------------------------------------------
// 001 order processing

fn order_processing(form: Form) -> (Arc<Db>, StateMachine, TaskRouter) {
    let db = Arc::new(Db::create("test-orders", orders::SCHEMA).unwrap());
    let machine = form.pick(orders::machine, orders::machine_jsonata).unwrap();
    (db.clone(), machine, orders::tasks(db))
}

#[tokio::test]
async fn order_is_validated_charged_and_recorded() {
    for form in FORMS {
        let (db, machine, tasks) = order_processing(form);
        let outcome = run(&machine, &tasks, orders::sample_order("A-1", 25.5)).await;
        assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
        assert_eq!(states(&outcome), names(&["Validate", "Charge", "Record"]));
        let expected = json!({
            "order": {"order_id": "A-1", "amount": 25.5, "validated": true,
                      "payment_id": "pay_A-1", "charged": true},
            "status": "recorded"
        });
        assert_eq!(outcome.output, Some(expected));
        let rows = orders::rows(&db).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].order_id.as_str(),
                rows[0].amount,
                rows[0].payment_id.as_str()
            ),
            ("A-1", 25.5, "pay_A-1")
        );
        let format = time::format_description::well_known::Rfc3339;
        assert!(time::OffsetDateTime::parse(&rows[0].created_at, &format).is_ok());
    }
}

#[tokio::test]
async fn order_without_a_positive_amount_is_refused_by_validate() {
    for form in FORMS {
        let (db, machine, tasks) = order_processing(form);
        for amount in [0.0, -5.0] {
            let outcome = run(&machine, &tasks, orders::sample_order("A-2", amount)).await;
            assert_eq!(outcome.status, Status::Failed);
            assert_eq!(outcome.error.as_deref(), Some("ValueError"));
            let cause = outcome.cause.as_deref().unwrap();
            assert_eq!(error_message(cause), "Order amount must be greater than 0");
            assert_eq!(states(&outcome), names(&["Validate"]));
        }
        assert!(orders::rows(&db).unwrap().is_empty());
    }
}

// ---------------------------------------------------------------------------
// 002 API call from templates

#[test]
fn api_template_definition_as_printed_is_rejected_with_a_position() {
    let error = StateMachine::from_str(api_templates::PRINTED).unwrap_err();
    let diagnostic = &error.diagnostics()[0];
    assert_eq!(diagnostic.code, "INVALID_JSON_DESCRIPTION");
    assert_eq!(diagnostic.location.as_deref(), Some("line: 1, column: 10"));
}

struct ApiTemplates {
    machine: StateMachine,
    tasks: TaskRouter,
    _db: Arc<Db>,
}

async fn api_templates(form: Form) -> ApiTemplates {
    let api = api_templates::serve_demo_api().await.unwrap();
    let db = Arc::new(Db::create("test-api-templates", api_templates::SCHEMA).unwrap());
    api_templates::put_demo_templates(&db, api).unwrap();
    ApiTemplates {
        machine: form
            .pick(api_templates::machine, api_templates::machine_jsonata)
            .unwrap(),
        tasks: api_templates::tasks(db.clone()),
        _db: db,
    }
}

fn api_call(template: &str, method: &str, params: Value) -> Value {
    json!({"templateName": template, "method": method, "params": params})
}

#[tokio::test]
async fn api_template_call_answering_200_ends_in_success() {
    for form in FORMS {
        let t = api_templates(form).await;
        let params = json!({"name": "Ada \"the first\"", "requestId": "req-1"});
        let outcome = run(&t.machine, &t.tasks, api_call("createUser", "POST", params)).await;
        assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
        assert_eq!(
            states(&outcome),
            names(&[
                "FetchTemplateFromDynamoDB",
                "InvokeLambdaToCallAPI",
                "ChoiceState",
                "Success"
            ])
        );
        let output = outcome.output.unwrap();
        // The rendered body reached the API as JSON, the rendered header too.
        let answer = json!({"statusCode": 200, "body": {"id": 1, "name": "Ada \"the first\"", "requestId": "req-1"}});
        assert_eq!(output["apiResponse"], answer);
        assert_eq!(output["template"]["Item"]["SK"], json!({"S": "POST"}));

        let read = run(
            &t.machine,
            &t.tasks,
            api_call("getUser", "GET", json!({"userId": 1})),
        )
        .await;
        assert_eq!(read.status, Status::Succeeded, "{read:?}");
        let answer = json!({"statusCode": 200, "body": {"id": "1", "name": "Ada \"the first\""}});
        assert_eq!(read.output.unwrap()["apiResponse"], answer);
    }
}

#[tokio::test]
async fn api_template_call_answering_404_ends_in_handle_failure() {
    for form in FORMS {
        let t = api_templates(form).await;
        let input = api_call("getUser", "GET", json!({"userId": 42}));
        let outcome = run(&t.machine, &t.tasks, input).await;
        assert_failed(
            &outcome,
            "ApiCallFailed",
            "The API answered with an error status",
        );
        assert_eq!(
            states(&outcome),
            names(&[
                "FetchTemplateFromDynamoDB",
                "InvokeLambdaToCallAPI",
                "ChoiceState",
                "HandleFailure"
            ])
        );
        let choice = event(&outcome, "ChoiceStateEntered");
        let input: Value = serde_json::from_str(choice.details["input"].as_str().unwrap()).unwrap();
        let answer = json!({"statusCode": 404, "body": {"message": "user 42 not found"}});
        assert_eq!(input["apiResponse"], answer);
    }
}

#[tokio::test]
async fn api_template_with_an_undefined_parameter_fails_in_the_lambda() {
    for form in FORMS {
        let t = api_templates(form).await;
        let input = api_call("getUser", "GET", json!({"id": 1}));
        let outcome = run(&t.machine, &t.tasks, input).await;
        assert_eq!(outcome.error.as_deref(), Some("UndefinedError"));
        assert_eq!(
            states(&outcome),
            names(&["FetchTemplateFromDynamoDB", "InvokeLambdaToCallAPI"])
        );
    }
}

#[tokio::test]
async fn api_template_get_item_answers_like_dynamodb() {
    for form in FORMS {
        let t = api_templates(form).await;
        let get_item = Resource::parse(api_templates::GET_ITEM);
        let key = |pk: &str| json!({"TableName": "API_Template_Table", "Key": {"PK": {"S": pk}, "SK": {"S": "GET"}}});
        let found = t
            .tasks
            .execute(TaskRequest::new(&get_item, key("getUser")))
            .await
            .unwrap();
        assert_eq!(found["Item"]["PK"], json!({"S": "getUser"}));
        assert_eq!(found["Item"].get("body"), None); // NULL column: no attribute
        let missing = t
            .tasks
            .execute(TaskRequest::new(&get_item, key("nope")))
            .await;
        assert_eq!(missing.unwrap(), json!({}));
        let no_table = json!({"TableName": "Nope", "Key": {"PK": {"S": "x"}}});
        let error = t
            .tasks
            .execute(TaskRequest::new(&get_item, no_table))
            .await
            .unwrap_err();
        assert_eq!(error.name.as_str(), "DynamoDB.ResourceNotFoundException");
        assert_eq!(error.cause_str(), "Requested resource not found");
    }
}

// ---------------------------------------------------------------------------
// 003 shopping cart

fn shopping_cart(form: Form) -> (Arc<Db>, StateMachine, TaskRouter) {
    let db = Arc::new(Db::create("test-shop", shop::SCHEMA).unwrap());
    shop::create_store_item(&db, &json!({"itemId": "banana", "quantity": 5})).unwrap();
    shop::create_store_item(&db, &json!({"itemId": "apple", "quantity": 3})).unwrap();
    let machine = form.pick(shop::machine, shop::machine_jsonata).unwrap();
    (db.clone(), machine, shop::tasks(db))
}

fn cart(items: &[(&str, i64)]) -> Value {
    let order: Vec<Value> = items
        .iter()
        .map(|(id, quantity)| json!({"itemId": id, "quantity": quantity}))
        .collect();
    json!({ "order": order })
}

#[tokio::test]
async fn shopping_cart_order_checks_stock_then_orders_and_updates_it() {
    for form in FORMS {
        let (db, machine, tasks) = shopping_cart(form);
        let input = cart(&[("banana", 2), ("apple", 2)]);
        let outcome = run(&machine, &tasks, input.clone()).await;
        assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
        let passed = states(&outcome);
        assert_eq!(
            passed[..3],
            names(&[
                "isItemInStockMappedTask",
                "isItemInStockTask",
                "isItemInStockTask"
            ])
        );
        assert_eq!(passed[3], "parallelState");
        let count = |name: &str| passed.iter().filter(|s| *s == name).count();
        assert_eq!(count("updateItemStockTask"), 2);
        assert_eq!(count("createOrderTask"), 1);
        // Branch 1 (the Map with ResultPath null) passes its input through;
        // branch 2 is createOrder's Lambda Invoke response.
        let output = outcome.output.unwrap();
        assert_eq!(output[0], input);
        assert_eq!(output[1]["Payload"], Value::Null);
        assert_eq!(output[1]["StatusCode"], 200);

        assert_eq!(shop::stock(&db, "banana").unwrap(), Some(3));
        assert_eq!(shop::stock(&db, "apple").unwrap(), Some(1));
        let orders = shop::orders(&db).unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].items, input["order"]);
    }
}

#[tokio::test]
async fn shopping_cart_repeated_order_fails_once_stock_runs_out_and_changes_nothing() {
    for form in FORMS {
        let (db, machine, tasks) = shopping_cart(form);
        let input = cart(&[("banana", 2), ("apple", 2)]);
        assert!(run(&machine, &tasks, input.clone()).await.is_success());
        let outcome = run(&machine, &tasks, input).await;
        assert_eq!(outcome.status, Status::Failed);
        assert_eq!(outcome.error.as_deref(), Some("Error"));
        assert_eq!(
            error_message(outcome.cause.as_deref().unwrap()),
            "Item not in stock"
        );
        assert!(!states(&outcome).contains(&"parallelState".to_owned()));
        assert_eq!(shop::stock(&db, "banana").unwrap(), Some(3));
        assert_eq!(shop::stock(&db, "apple").unwrap(), Some(1));
        assert_eq!(shop::orders(&db).unwrap().len(), 1);
    }
}

#[tokio::test]
async fn shopping_cart_unknown_item_is_not_in_stock() {
    for form in FORMS {
        let (db, machine, tasks) = shopping_cart(form);
        let outcome = run(&machine, &tasks, cart(&[("banana", 1), ("kiwi", 1)])).await;
        assert_eq!(outcome.error.as_deref(), Some("Error"));
        assert_eq!(
            error_message(outcome.cause.as_deref().unwrap()),
            "Item not in stock"
        );
        assert_eq!(shop::stock(&db, "banana").unwrap(), Some(5));
        assert!(shop::orders(&db).unwrap().is_empty());
    }
}

#[tokio::test]
async fn shopping_cart_stock_update_is_conditional() {
    let (db, _, tasks) = shopping_cart(Form::JsonPath);
    let invoke = Resource::parse("arn:aws:states:::lambda:invoke");
    let update = |quantity: i64| {
        json!({"FunctionName": shop::UPDATE_ITEM_STOCK,
               "Payload": {"item": {"itemId": "apple", "quantity": quantity}}})
    };
    let error = tasks
        .execute(TaskRequest::new(&invoke, update(4)))
        .await
        .unwrap_err();
    assert_eq!(error.name.as_str(), "ConditionalCheckFailedException");
    assert_eq!(shop::stock(&db, "apple").unwrap(), Some(3));
    let answer = tasks
        .execute(TaskRequest::new(&invoke, update(3)))
        .await
        .unwrap();
    assert_eq!(answer["StatusCode"], 200);
    assert_eq!(shop::stock(&db, "apple").unwrap(), Some(0));
}

// ---------------------------------------------------------------------------
// 004 hello world and Lambda choice

async fn hello_world(form: Form, flag: bool) -> Outcome {
    let machine = form
        .pick(hello::hello_world, hello::hello_world_jsonata)
        .unwrap();
    let input = json!({ "IsHelloWorldExample": flag });
    // Virtual time: the Wait of 3 s passes without waiting.
    machine
        .execution()
        .with_virtual_time()
        .with_history(true)
        .run(&hello::tasks(), input)
        .await
}

#[tokio::test]
async fn hello_world_true_waits_then_runs_both_branches() {
    for form in FORMS {
        let outcome = hello_world(form, true).await;
        assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
        let input = json!({ "IsHelloWorldExample": true });
        assert_eq!(outcome.output, Some(json!([input, input])));
        let mut passed = states(&outcome);
        assert_eq!(
            passed[..5],
            names(&[
                "Pass",
                "Hello World example?",
                "Yes",
                "Wait 3 sec",
                "Parallel State"
            ])
        );
        assert_eq!(passed.pop().as_deref(), Some("Hello World"));
        let mut branches = passed.split_off(5);
        branches.sort();
        assert_eq!(branches, names(&["Hello", "World"]));
        // The Wait took 3 s of the execution's (virtual) time.
        let entered = event(&outcome, "WaitStateEntered").timestamp;
        let exited = event(&outcome, "WaitStateExited").timestamp;
        assert_eq!(
            exited.duration_since(entered).ok(),
            Some(Duration::from_secs(3))
        );
    }
}

#[tokio::test]
async fn hello_world_false_fails_at_no() {
    for form in FORMS {
        let outcome = hello_world(form, false).await;
        assert_eq!(outcome.status, Status::Failed);
        assert_eq!(outcome.cause.as_deref(), Some("Not Hello World"));
        assert_eq!(
            states(&outcome),
            names(&["Pass", "Hello World example?", "No"])
        );
    }
}

#[tokio::test]
async fn hello_lambda_greeting_with_name_is_the_teacher() {
    for form in FORMS {
        let machine = form
            .pick(hello::hello_lambda, hello::hello_lambda_jsonata)
            .unwrap();
        let outcome = run(&machine, &hello::tasks(), json!({"who": "Name Surname"})).await;
        assert_eq!(outcome.output, Some(json!("Woohoo!")));
        assert_eq!(
            states(&outcome),
            names(&["Invoke Lambda Function", "Choice State", "Is Teacher"])
        );
        let task_output = &event(&outcome, "TaskSucceeded").details["output"];
        assert_eq!(task_output, "\"Hello, Name Surname!\"");
    }
}

#[tokio::test]
async fn hello_lambda_other_greeting_is_not_the_teacher() {
    for form in FORMS {
        let machine = form
            .pick(hello::hello_lambda, hello::hello_lambda_jsonata)
            .unwrap();
        let outcome = run(&machine, &hello::tasks(), json!({"who": "Ada"})).await;
        assert_failed(&outcome, "ErrorCode", "Given name is not the teacher");
        assert_eq!(
            states(&outcome),
            names(&["Invoke Lambda Function", "Choice State", "Not Teacher"])
        );
    }
}

// ---------------------------------------------------------------------------
// The HTTP service, over loopback

struct Service {
    base: String,
    app: Arc<service::App>,
}

async fn service() -> Service {
    let db = Arc::new(Db::create("test-service", &service::schema()).unwrap());
    let app = service::App::new(db).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(service::serve(app.clone(), listener));
    Service { base, app }
}

impl Service {
    async fn post(&self, path: &str, body: &str) -> http::Response {
        http::post_json(&format!("{}{path}", self.base), body)
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> http::Response {
        http::get(&format!("{}{path}", self.base)).await.unwrap()
    }

    /// Starts an execution through `path` and returns its id.
    async fn start(&self, path: &str, body: &str) -> String {
        let response = self.post(path, body).await;
        assert_eq!(response.status, 200, "{response:?}");
        response.json()["executionId"].as_str().unwrap().to_owned()
    }

    /// `GET /executions/{id}` once the execution has ended. Polls; gives up
    /// after 30 s (a bound, not an expectation: it ends in milliseconds).
    async fn finished(&self, id: &str) -> Value {
        for _ in 0..6000 {
            let answer = self.get(&format!("/executions/{id}")).await.json();
            if answer["status"] != "RUNNING" {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("execution {id} did not end");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_creates_items_runs_an_order_and_shows_it() {
    let s = service().await;
    let created = s
        .post(
            "/create-store-item",
            r#"{"itemId": "apple", "quantity": 10}"#,
        )
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.json(), json!({"message": "Store item created"}));

    let id = s
        .start("/create-order", r#"[{"itemId": "apple", "quantity": 4}]"#)
        .await;
    let described = s.finished(&id).await;
    assert_eq!(described["status"], "SUCCEEDED");
    assert_eq!(described["name"], id.as_str());
    let arn =
        format!("arn:aws:states:us-east-1:123456789012:execution:ShoppingCartStateMachine:{id}");
    assert_eq!(described["executionArn"], arn.as_str());
    assert_eq!(
        described["input"],
        json!({"order": [{"itemId": "apple", "quantity": 4}]})
    );
    assert_eq!(described["output"][1]["StatusCode"], 200);
    assert_eq!(shop::stock(s.app.db(), "apple").unwrap(), Some(6));
    let orders = shop::orders(s.app.db()).unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].execution_arn.as_deref(), Some(arn.as_str()));

    let history = s.get(&format!("/executions/{id}/history")).await;
    assert_eq!(history.status, 200);
    let events = history.json()["events"].as_array().unwrap().clone();
    assert_eq!(events[0]["type"], "ExecutionStarted");
    assert_eq!(events[0]["id"], 1);
    assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");
    assert!(events
        .iter()
        .enumerate()
        .all(|(i, e)| e["id"] == json!(i + 1)));
    let entered = |name: &str| {
        events
            .iter()
            .any(|e| e["stateEnteredEventDetails"]["name"] == name)
    };
    assert!(entered("isItemInStockTask") && entered("createOrderTask"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_serves_the_history_so_far_while_an_execution_runs() {
    let s = service().await;
    s.post("/create-store-item", r#"{"itemId": "pear", "quantity": 3}"#)
        .await;
    s.app.hold_tasks();
    let id = s
        .start("/create-order", r#"[{"itemId": "pear", "quantity": 1}]"#)
        .await;
    // the execution stops at its first task call, which waits for the gate;
    // polled, with a bound (it gets there in milliseconds)
    let mut so_far = Vec::new();
    for _ in 0..6000 {
        so_far = s.get(&format!("/executions/{id}/history")).await.json()["events"]
            .as_array()
            .unwrap()
            .clone();
        if so_far.iter().any(|e| e["type"] == "TaskStarted") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let types: Vec<&str> = so_far.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[..2], ["ExecutionStarted", "MapStateEntered"]);
    assert!(types.contains(&"TaskStarted"), "{types:?}");
    assert!(!types.contains(&"TaskSucceeded"), "{types:?}");
    let described = s.get(&format!("/executions/{id}")).await.json();
    assert_eq!(described["status"], "RUNNING");
    s.app.open_tasks();
    assert_eq!(s.finished(&id).await["status"], "SUCCEEDED");
    let all = s.get(&format!("/executions/{id}/history")).await.json()["events"]
        .as_array()
        .unwrap()
        .clone();
    // what was served while it ran is the start of the final history
    assert_eq!(all[..so_far.len()], so_far[..]);
    assert_eq!(all.last().unwrap()["type"], "ExecutionSucceeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_processes_user_data() {
    let s = service().await;
    let id = s
        .start(
            "/processdata",
            r#"{"data": {"user_id": 7, "name": "Grace"}}"#,
        )
        .await;
    let described = s.finished(&id).await;
    assert_eq!(described["status"], "SUCCEEDED");
    assert_eq!(
        user_data::users(s.app.db()).unwrap(),
        vec![("7".into(), "GRACE".into())]
    );

    let id = s
        .start("/processdata", r#"{"data": {"name": "Grace"}}"#)
        .await;
    let described = s.finished(&id).await;
    assert_eq!(described["status"], "FAILED");
    assert_eq!(described["error"], "ValidationError");
    assert_eq!(described["cause"], "Data Validation Failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_answers_bad_requests_clearly() {
    let s = service().await;
    for path in ["/create-order", "/processdata", "/create-store-item"] {
        let response = s.post(path, "{not json").await;
        assert_eq!(response.status, 400, "{path}");
        let message =
            json!({"message": "invalid JSON body: key must be a string at line 1 column 2"});
        assert_eq!(response.json(), message, "{path}");
    }
    let response = s.post("/create-store-item", r#"{"itemId": "apple"}"#).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.json()["message"],
        "itemId (a string) or quantity (an integer) is undefined"
    );
    let response = s.get("/executions/nope").await;
    assert_eq!(response.status, 404);
    assert_eq!(
        response.json()["message"],
        "execution `nope` does not exist"
    );
    assert_eq!(s.get("/executions/nope/history").await.status, 404);
}

/// 50 orders of 2 apples at once against a stock of 25: the check and the
/// update are separate states, so several orders can pass the check for
/// the last apples; the conditional update lets only 12 take them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_runs_50_concurrent_orders_against_limited_stock() {
    let s = service().await;
    let created = s
        .post(
            "/create-store-item",
            r#"{"itemId": "apple", "quantity": 25}"#,
        )
        .await;
    assert_eq!(created.status, 200);
    let body = r#"[{"itemId": "apple", "quantity": 2}]"#;
    let ids = futures::future::join_all((0..50).map(|_| s.start("/create-order", body))).await;
    let described = futures::future::join_all(ids.iter().map(|id| s.finished(id))).await;

    let with_status = |status: &str| -> Vec<&Value> {
        described.iter().filter(|d| d["status"] == status).collect()
    };
    let (succeeded, failed) = (with_status("SUCCEEDED"), with_status("FAILED"));
    let stock = shop::stock(s.app.db(), "apple").unwrap().unwrap();
    assert!(stock >= 0, "stock went negative: {stock}");
    assert_eq!((succeeded.len(), failed.len()), (12, 38));
    for execution in &failed {
        let error = execution["error"].as_str().unwrap();
        assert!(
            error == "Error" || error == "ConditionalCheckFailedException",
            "{execution}"
        );
    }
    assert_eq!(shop::stock(s.app.db(), "apple").unwrap(), Some(1));

    let orders = shop::orders(s.app.db()).unwrap();
    let rows_of = |execution: &Value| {
        orders
            .iter()
            .filter(|o| o.execution_arn.as_deref() == execution["executionArn"].as_str())
            .count()
    };
    for execution in &succeeded {
        assert_eq!(rows_of(execution), 1, "{execution}");
    }
    // The seed's Parallel has no compensation: a run whose stock update is
    // refused may already have created its order in the other branch (as
    // on AWS). It never creates two.
    for execution in &failed {
        assert!(rows_of(execution) <= 1, "{execution}");
    }
}
