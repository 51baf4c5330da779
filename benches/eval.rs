//! Evaluation hot paths: compiled once, evaluated many times.
//!
//! Each path benchmark runs beside `jsonpath_lib` on the same expression and
//! document: `select` (what a naive interpreter calls per evaluation, parsing
//! every time) and `Compiled::select` (jsonpath_lib's pre-parsed form).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use stepfn::choice::ChoiceRule;
use stepfn::intrinsics::IntrinsicCall;
use stepfn::path::{Env, Path, ReferencePath};
use stepfn::template::PayloadTemplate;

fn document() -> Value {
    let items: Vec<Value> = (0..20)
        .map(|i| json!({"id": i, "name": format!("item-{i}"), "price": i * 3, "tags": ["a", "b"]}))
        .collect();
    json!({
        "order": {
            "customer": {"name": "Ada", "email": "ada@example.com", "tier": "gold"},
            "total": 129.5,
            "currency": "EUR"
        },
        "items": items,
        "flags": {"express": true, "gift": false},
        "created": "2024-05-01T10:00:00Z"
    })
}

fn reference_path(c: &mut Criterion) {
    let doc = document();
    let text = "$.order.customer.name";
    let path = ReferencePath::parse(text).expect("valid path");
    let env = Env::data(&doc);
    assert_eq!(path.eval(&env).ok(), Some(&json!("Ada")));
    let compiled = jsonpath_lib::Compiled::compile(text).expect("valid path");
    let mut group = c.benchmark_group("reference_path_3_segments");
    group.bench_function("stepfn ReferencePath::eval", |b| {
        b.iter(|| black_box(path.eval(black_box(&env)).ok()))
    });
    group.bench_function("jsonpath_lib::select", |b| {
        b.iter(|| black_box(jsonpath_lib::select(black_box(&doc), black_box(text)).ok()))
    });
    group.bench_function("jsonpath_lib Compiled::select", |b| {
        b.iter(|| black_box(compiled.select(black_box(&doc)).ok()))
    });
    group.finish();
}

fn filter_path(c: &mut Criterion) {
    let doc = document();
    let text = "$.items[?(@.price > 30)].name";
    let path = Path::parse(text).expect("valid path");
    let env = Env::data(&doc);
    let compiled = jsonpath_lib::Compiled::compile(text).expect("valid path");
    assert_eq!(
        path.eval(&env).ok().map(|v| v.into_owned()),
        Some(Value::Array(
            compiled
                .select(&doc)
                .expect("selects")
                .into_iter()
                .cloned()
                .collect()
        ))
    );
    let mut group = c.benchmark_group("filter_path");
    group.bench_function("stepfn Path::eval", |b| {
        b.iter(|| black_box(path.eval(black_box(&env)).ok()))
    });
    group.bench_function("jsonpath_lib::select", |b| {
        b.iter(|| black_box(jsonpath_lib::select(black_box(&doc), black_box(text)).ok()))
    });
    group.bench_function("jsonpath_lib Compiled::select", |b| {
        b.iter(|| black_box(compiled.select(black_box(&doc)).ok()))
    });
    group.finish();
}

fn payload_template(c: &mut Criterion) {
    let doc = document();
    let template = PayloadTemplate::compile(&json!({
        "name.$": "$.order.customer.name",
        "email.$": "$.order.customer.email",
        "tier.$": "$.order.customer.tier",
        "total.$": "$.order.total",
        "currency.$": "$.order.currency",
        "express.$": "$.flags.express",
        "firstItem.$": "$.items[0].name",
        "created.$": "$.created",
        "source": "bench",
        "version": 2
    }))
    .expect("valid template");
    let env = Env::data(&doc);
    assert!(template.eval(&env).is_ok());
    c.bench_function("payload_template_10_keys", |b| {
        b.iter(|| black_box(template.eval(black_box(&env)).ok()))
    });
}

fn intrinsic_format(c: &mut Criterion) {
    let doc = document();
    let call = IntrinsicCall::parse(
        "States.Format('{} ordered {} for {}', $.order.customer.name, $.items[1].name, $.order.total)",
    )
    .expect("valid call");
    let env = Env::data(&doc);
    assert_eq!(
        call.eval(&env).ok(),
        Some(json!("Ada ordered item-1 for 129.5"))
    );
    c.bench_function("states_format_3_arguments", |b| {
        b.iter(|| black_box(call.eval(black_box(&env)).ok()))
    });
}

fn choice_and(c: &mut Criterion) {
    let doc = document();
    let rule = ChoiceRule::compile(
        &json!({
            "And": [
                {"Variable": "$.order.customer.tier", "StringEquals": "gold"},
                {"Variable": "$.order.total", "NumericGreaterThan": 100},
                {"Variable": "$.flags.express", "BooleanEquals": true},
                {"Variable": "$.created", "TimestampLessThan": "2025-01-01T00:00:00Z"},
                {"Variable": "$.order.customer.email", "StringMatches": "*@example.com"}
            ],
            "Next": "Done"
        }),
        "/States/Choice/Choices/0",
        false,
    )
    .expect("valid rule");
    let env = Env::data(&doc);
    assert_eq!(rule.condition.eval(&env), Ok(true));
    c.bench_function("choice_and_5_rules", |b| {
        b.iter(|| black_box(rule.condition.eval(black_box(&env)).ok()))
    });
}

/// The seven JSONata rows of ../shared/bench/jsonata (same expressions, same
/// document, same bindings): parse and evaluation timed apart, each beside one
/// `serde_json::Value` clone of its input, the yardstick the peer figures there
/// carry. The document is `data.json` written by that folder's `gen_data.py`,
/// found through `STEPFN_JSONATA_BENCH_DATA` or beside the script.
fn jsonata_rows(c: &mut Criterion) {
    use stepfn::jsonata::{Env, Expression};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/jsonata");
    let data = std::env::var("STEPFN_JSONATA_BENCH_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.join("data.json"));
    let (Ok(doc_text), Ok(exprs_text)) = (
        std::fs::read_to_string(&data),
        std::fs::read_to_string(dir.join("exprs.json")),
    ) else {
        println!(
            "SKIP jsonata rows: no {} (run gen_data.py) or exprs.json",
            data.display()
        );
        return;
    };
    let doc: Value = serde_json::from_str(&doc_text).expect("data.json is JSON");
    let mut small = doc.clone();
    if let Some(orders) = small.get_mut("orders").and_then(Value::as_array_mut) {
        orders.truncate(1);
    }
    let rows: Vec<Value> = serde_json::from_str(&exprs_text).expect("exprs.json is JSON");
    let mut group = c.benchmark_group("jsonata");
    for row in &rows {
        let name = row["name"].as_str().unwrap_or("?");
        let text = row["expr"].as_str().unwrap_or("");
        let states = row["states"].as_bool().unwrap_or(false);
        let input = if row["small"].as_bool().unwrap_or(false) {
            &small
        } else {
            &doc
        };
        let expr = Expression::parse(text).expect("the expression parses");
        let mut env = Env::new();
        if states {
            env.bind_object("states", vec![("input", input)]);
        }
        let subject = if states { None } else { Some(input) };
        assert!(
            expr.evaluate(subject, &env)
                .expect("it evaluates")
                .is_some(),
            "{name}"
        );
        group.bench_function(format!("{name} parse"), |b| {
            b.iter(|| black_box(Expression::parse(black_box(text)).ok()))
        });
        group.bench_function(format!("{name} eval"), |b| {
            b.iter(|| black_box(expr.evaluate(black_box(subject), &env).ok()))
        });
        group.bench_function(format!("{name} clone of the input"), |b| {
            b.iter(|| black_box(black_box(input).clone()))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    reference_path,
    filter_path,
    payload_template,
    intrinsic_format,
    choice_and,
    jsonata_rows
);
criterion_main!(benches);
