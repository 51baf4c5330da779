//! Seed 003, the shopping cart: create store items, then orders. Each order
//! runs the machine the tutorial builds with the CDK: a Map checks every
//! item is in stock, then a Parallel creates the order and (another Map)
//! takes the items off the stock. Repeating the same order fails once the
//! stock runs out, and the failed run leaves stock and orders as they were.
//! Products and orders live in a SQLite database in a temp directory.
//!
//! ```sh
//! cargo run --example shopping_cart
//! ```

mod seeds;

use seeds::{print_outcome, run, shop};
use serde_json::json;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = Arc::new(seeds::db::Db::create("shopping-cart", shop::SCHEMA)?);
    let machine = shop::machine()?;
    let tasks = shop::tasks(db.clone());
    println!("database: {}", db.path().display());

    shop::create_store_item(&db, &json!({"itemId": "banana", "quantity": 5}))?;
    shop::create_store_item(&db, &json!({"itemId": "apple", "quantity": 3}))?;
    let order = json!({"order": [
        {"itemId": "banana", "quantity": 2},
        {"itemId": "apple", "quantity": 2}
    ]});
    for attempt in 1..=2 {
        let outcome = run(&machine, &tasks, order.clone()).await;
        print_outcome(&format!("order #{attempt}"), &outcome);
        println!(
            "   stock: banana {:?}, apple {:?}; orders: {}",
            shop::stock(&db, "banana")?.unwrap_or_default(),
            shop::stock(&db, "apple")?.unwrap_or_default(),
            shop::orders(&db)?.len()
        );
    }
    Ok(())
}
