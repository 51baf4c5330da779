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
    choice_and
);
criterion_main!(benches);
