//! Seed 001, online order processing: `Validate -> Charge -> Record`, three
//! Lambda tasks (the lesson's code was lost; the definition follows its
//! prose). Record writes the order into a SQLite database in a temp
//! directory.
//!
//! ```sh
//! cargo run --example order_processing
//! ```

mod seeds;

use seeds::{orders, print_outcome, run};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = Arc::new(seeds::db::Db::create("orders", orders::SCHEMA)?);
    let machine = orders::machine()?;
    let tasks = orders::tasks(db.clone());
    println!("database: {}", db.path().display());

    let order = orders::sample_order("ORD-1001", 49.99);
    print_outcome(
        "order ORD-1001: recorded",
        &run(&machine, &tasks, order).await,
    );

    let free = orders::sample_order("ORD-1002", 0.0);
    print_outcome(
        "amount 0: refused by Validate",
        &run(&machine, &tasks, free).await,
    );

    println!("== orders table");
    for row in orders::rows(&db)? {
        println!(
            "   {} amount {} payment {} at {}",
            row.order_id, row.amount, row.payment_id, row.created_at
        );
    }
    Ok(())
}
