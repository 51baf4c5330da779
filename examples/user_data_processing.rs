//! Seed 000, user data processing: `ValidateData -> TransformData ->
//! StoreData`, each Lambda task with a Catch to its own Fail state, run on
//! the definition exactly as the tutorial prints it (placeholder ARNs and
//! all). The stored users land in a SQLite database in a temp directory.
//!
//! ```sh
//! cargo run --example user_data_processing
//! ```

mod seeds;

use seeds::{print_outcome, run, user_data};
use serde_json::json;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = Arc::new(seeds::db::Db::create("user-data", user_data::SCHEMA)?);
    let machine = user_data::machine()?;
    let tasks = user_data::tasks(db.clone());
    println!("database: {}", db.path().display());

    let valid = json!({"data": {"user_id": 123, "name": "John Doe"}});
    print_outcome(
        "valid data: stored",
        &run(&machine, &tasks, valid.clone()).await,
    );

    let invalid = json!({"data": {"user_id": 124}});
    print_outcome(
        "no name: ValidationFailed",
        &run(&machine, &tasks, invalid).await,
    );

    // The same user again: the users table's primary key refuses the row.
    print_outcome(
        "user 123 again: StorageFailed",
        &run(&machine, &tasks, valid).await,
    );

    println!("== users table");
    for (user_id, user_name) in user_data::users(&db)? {
        println!("   {user_id}: {user_name}");
    }
    Ok(())
}
