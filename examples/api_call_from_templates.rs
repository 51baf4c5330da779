//! Seed 002, API call from templates: `getItem` fetches a request template
//! (URL, headers, body) from the `API_Template_Table` by template name and
//! HTTP method; the Lambda renders it with Jinja (minijinja) and calls a real
//! HTTP API, served by this example on 127.0.0.1 at an ephemeral port; a
//! Choice on the answer's `statusCode` ends in `Success` or `HandleFailure`.
//!
//! The tutorial prints its ASL with typos that make it invalid JSON; this
//! shows that definition being rejected, then runs the fixed copy (outer
//! braces added, `}.` -> `},`, the `Resource` string closed, the cut-off
//! Choice completed from the prose).
//!
//! ```sh
//! cargo run --example api_call_from_templates
//! ```

mod seeds;

use seeds::{api_templates, print_outcome, run};
use serde_json::json;
use std::sync::Arc;
use stepfn::StateMachine;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match StateMachine::from_str(api_templates::PRINTED) {
        Ok(_) => println!("the printed definition loaded?!"),
        Err(e) => println!("the definition as printed is rejected:\n   {e}"),
    }

    let api = api_templates::serve_demo_api().await?;
    println!("demo API on http://{api}");
    let db = Arc::new(seeds::db::Db::create(
        "api-templates",
        api_templates::SCHEMA,
    )?);
    api_templates::put_demo_templates(&db, api)?;
    let machine = api_templates::machine()?;
    let tasks = api_templates::tasks(db.clone());

    let create = json!({
        "templateName": "createUser",
        "method": "POST",
        "params": {"name": "Ada Lovelace", "requestId": "req-0001"}
    });
    print_outcome(
        "POST createUser: 200 -> Success",
        &run(&machine, &tasks, create).await,
    );

    let missing = json!({
        "templateName": "getUser",
        "method": "GET",
        "params": {"userId": 42}
    });
    print_outcome(
        "GET getUser 42: 404 -> HandleFailure",
        &run(&machine, &tasks, missing).await,
    );
    Ok(())
}
