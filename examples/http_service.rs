//! The seeds' API Gateway front door as an axum service over one SQLite
//! database in a temp directory:
//!
//! * `POST /create-store-item` `{"itemId": "apple", "quantity": 10}`
//! * `POST /create-order` `[{"itemId": "apple", "quantity": 2}]` starts the
//!   shopping-cart machine (seed 003) and answers with the execution's id
//! * `POST /processdata` `{"data": {"user_id": 1, "name": "Ada"}}` starts the
//!   user-data machine (seed 000)
//! * `GET /executions/{id}`: status, output, error, cause
//! * `GET /executions/{id}/history`: the AWS-shaped history events, those so
//!   far while the execution runs
//!
//! ```sh
//! cargo run --example http_service            # listens on 127.0.0.1:3000
//! cargo run --example http_service -- 127.0.0.1:8080
//! curl -s -XPOST localhost:3000/create-store-item -d '{"itemId":"apple","quantity":10}'
//! curl -s -XPOST localhost:3000/create-order -d '[{"itemId":"apple","quantity":2}]'
//! curl -s localhost:3000/executions/<executionId>
//! ```

mod seeds;

use seeds::service::{router, schema, App};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let db = Arc::new(seeds::db::Db::create("http-service", &schema())?);
    let app = App::new(db.clone())?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("database: {}", db.path().display());
    println!("listening on http://{}", listener.local_addr()?);
    // Ctrl-C stops the server; the database directory is removed on the way out.
    axum::serve(listener, router(app))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
