//! Evaluation hot paths: compiled once, evaluated many times.
//!
//! Each path benchmark runs beside `jsonpath_lib` on the same expression and
//! document: `select` (what a naive interpreter calls per evaluation, parsing
//! every time) and `Compiled::select` (jsonpath_lib's pre-parsed form). Both
//! return references to the matches, as stepfn's `Path::select` does;
//! `Path::eval` also copies them into one owned array.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use stepfn::jsonpath::ChoiceRule;
use stepfn::jsonpath::IntrinsicCall;
use stepfn::jsonpath::PayloadTemplate;
use stepfn::jsonpath::{Env, Path, ReferencePath};

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

/// One full-JSONPath row: stepfn's `Path::eval` beside jsonpath_lib's
/// `select` and `Compiled::select`, after checking that they agree.
fn full_path(c: &mut Criterion, group: &str, text: &str) {
    let doc = document();
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
        )),
        "{text}"
    );
    let mut group = c.benchmark_group(group);
    group.bench_function("stepfn Path::eval", |b| {
        b.iter(|| black_box(path.eval(black_box(&env)).ok()))
    });
    // References, as both of jsonpath_lib's functions return them.
    group.bench_function("stepfn Path::select", |b| {
        b.iter(|| black_box(path.select(black_box(&env)).ok()))
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
    full_path(c, "filter_path", "$.items[?(@.price > 30)].name");
}

fn wildcard_path(c: &mut Criterion) {
    full_path(c, "wildcard_path", "$.items[*].name");
}

fn slice_path(c: &mut Criterion) {
    full_path(c, "slice_path", "$.items[2:12:3].id");
}

fn union_path(c: &mut Criterion) {
    full_path(c, "union_path", "$.items[0,5,19].price");
}

fn descent_path(c: &mut Criterion) {
    full_path(c, "descent_path", "$..email");
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

/// `States.ArrayUnique` at 1,000 and 100,000 items, half of them duplicates.
fn array_unique(c: &mut Criterion) {
    // half the items are duplicates; a quadratic ArrayUnique would take
    // minutes at 100,000
    for n in [1_000usize, 100_000] {
        let items: Vec<Value> = (0..n)
            .map(|i| json!({"id": i % (n / 2), "tags": ["a"]}))
            .collect();
        let doc = json!({"items": items});
        let call = IntrinsicCall::parse("States.ArrayUnique($.items)").expect("valid call");
        let env = Env::data(&doc);
        assert_eq!(
            call.eval(&env)
                .ok()
                .and_then(|v| v.as_array().map(Vec::len)),
            Some(n / 2)
        );
        c.bench_function(&format!("intrinsic_array_unique_{n}"), |b| {
            b.iter(|| black_box(call.eval(black_box(&env)).ok()))
        });
    }
}

/// The seven JSONata rows of ../shared/bench/jsonata (same expressions, same
/// document, same bindings): parse and evaluation timed apart, each beside one
/// `serde_json::Value` clone of its input, the yardstick the peer figures there
/// carry. The document is `data.json` as that folder's `gen_data.py` writes
/// it (deterministic): read from `STEPFN_JSONATA_BENCH_DATA`, or made by
/// running the script in a temporary directory.
fn jsonata_rows(c: &mut Criterion) {
    use stepfn::jsonata::{Env, Expression};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/jsonata");
    let doc_text = match std::env::var("STEPFN_JSONATA_BENCH_DATA") {
        Ok(path) => std::fs::read_to_string(path).ok(),
        Err(_) => generated_document(&dir),
    };
    let (Some(doc_text), Ok(exprs_text)) =
        (doc_text, std::fs::read_to_string(dir.join("exprs.json")))
    else {
        println!("SKIP jsonata rows: no ../shared/bench/jsonata (or python3 to run gen_data.py)");
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

/// The order document `gen_data.py` writes, made in a temporary directory.
fn generated_document(dir: &std::path::Path) -> Option<String> {
    let out = std::env::temp_dir().join(format!("stepfn-bench-jsonata-{}", std::process::id()));
    std::fs::create_dir_all(&out).ok()?;
    let ran = std::process::Command::new("python3")
        .arg(dir.join("gen_data.py"))
        .current_dir(&out)
        .output();
    let text = std::fs::read_to_string(out.join("data.json")).ok();
    let _ = std::fs::remove_dir_all(&out);
    ran.ok()?.status.success().then_some(text?)
}

criterion_group!(
    benches,
    reference_path,
    filter_path,
    wildcard_path,
    slice_path,
    union_path,
    descent_path,
    payload_template,
    intrinsic_format,
    array_unique,
    choice_and,
    jsonata_rows
);
criterion_main!(benches);
