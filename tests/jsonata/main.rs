//! The official JSONata 2.0.6 test suite (../shared/jsonata-suite) through
//! `stepfn::jsonata`. Prints pass counts per group; fails on any case that does
//! not pass unless `fixtures/jsonata-known-failures.txt` lists it (one id and a
//! reason per line), and on any listed case that passes. Error cases must end
//! with the expected `code`.

mod regex;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use stepfn::jsonata::{Env, Expression, Limits};

struct Case {
    id: String,
    group: String,
    case: Value,
    dir: PathBuf,
}

fn load_cases(suite: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    let mut groups: Vec<_> = std::fs::read_dir(suite.join("groups"))
        .expect("groups dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    groups.sort();
    for g in groups {
        let group = g
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut files: Vec<_> = std::fs::read_dir(&g)
            .expect("group dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            if f.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let name = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let text = std::fs::read_to_string(&f).expect("case file");
            // Two cases hold lone UTF-16 surrogates, which no Rust string holds.
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let list = match v {
                Value::Array(a) => a,
                other => vec![other],
            };
            for (i, case) in list.into_iter().enumerate() {
                out.push(Case {
                    id: format!("{group}/{name}#{i}"),
                    group: group.clone(),
                    case,
                    dir: g.clone(),
                });
            }
        }
    }
    out
}

/// Deep equality as the suite's runner uses it: numbers as doubles, key order ignored.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Run one case; `Ok(())` when it passes, else what happened.
fn run(c: &Case, suite: &Path) -> Result<(), String> {
    let case = &c.case;
    let expr = match (case.get("expr"), case.get("expr-file")) {
        (Some(Value::String(e)), _) => e.clone(),
        (_, Some(Value::String(f))) => {
            std::fs::read_to_string(c.dir.join(f)).map_err(|e| e.to_string())?
        }
        _ => return Err("not representable (lone surrogate) or no expression".into()),
    };
    let data: Option<Value> = if let Some(d) = case.get("data") {
        Some(d.clone())
    } else {
        match case.get("dataset") {
            Some(Value::String(name)) => {
                let text =
                    std::fs::read_to_string(suite.join("datasets").join(format!("{name}.json")))
                        .map_err(|e| e.to_string())?;
                Some(serde_json::from_str(&text).map_err(|e| e.to_string())?)
            }
            _ => None,
        }
    };
    let expected_code = case
        .get("code")
        .or_else(|| case.get("error").and_then(|e| e.get("code")))
        .and_then(Value::as_str);
    let bindings = case
        .get("bindings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut env = Env::new();
    for (k, v) in &bindings {
        env.bind(k, v);
    }
    env.set_now_millis(1_764_000_000_000).set_seed(7);
    let mut limits = Limits {
        // The test thread has a 2 MiB stack; the default budget is sized for 256 KiB.
        max_stack_bytes: 1536 * 1024,
        ..Limits::default()
    };
    if let Some(d) = case.get("depth").and_then(Value::as_u64) {
        limits.max_depth = d as usize;
    }
    if let Some(t) = case.get("timelimit").and_then(Value::as_u64) {
        // A stand-in for jsonata-js's wall-clock guard: 1,000 steps per millisecond.
        limits.max_steps = t * 1000;
    }
    env.set_limits(limits);
    let outcome = Expression::parse(&expr).and_then(|e| e.evaluate(data.as_ref(), &env));
    match (outcome, expected_code) {
        (Err(e), Some(code)) if e.code() == code => Ok(()),
        (Err(e), Some(code)) => Err(format!(
            "expected {code}, got {}: {}",
            e.code(),
            e.message()
        )),
        (Ok(r), Some(code)) => Err(format!("expected error {code}, got {r:?}")),
        (Err(e), None) => Err(format!("unexpected error {}: {}", e.code(), e.message())),
        (Ok(r), None) => {
            if case.get("undefinedResult") == Some(&Value::Bool(true)) {
                return match r {
                    None => Ok(()),
                    Some(v) => Err(format!("expected undefined, got {v}")),
                };
            }
            match (case.get("result"), r) {
                (Some(exp), Some(got)) if same(exp, &got) => Ok(()),
                (Some(exp), got) => Err(format!("expected {exp}, got {got:?}")),
                (None, None) => Ok(()),
                (None, Some(got)) => Err(format!("expected undefined, got {got}")),
            }
        }
    }
}

fn known_failures(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((id, reason)) => (id.to_string(), reason.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

#[test]
fn jsonata_suite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = root.join("../shared/jsonata-suite");
    if !suite.join("groups").is_dir() {
        println!("SKIP: the JSONata suite is not at {}", suite.display());
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "the JSONata suite is missing under CI"
        );
        return;
    }
    let listed = known_failures(&root.join("fixtures/jsonata-known-failures.txt"));
    let only = std::env::var("JSONATA_GROUP").ok();
    let mut per_group: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut seen = BTreeSet::new();
    for c in load_cases(&suite) {
        if only.as_deref().is_some_and(|g| g != c.group) {
            continue;
        }
        seen.insert(c.id.clone());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&c, &suite)))
            .unwrap_or_else(|_| Err("panic".into()));
        let entry = per_group.entry(c.group.clone()).or_default();
        entry.1 += 1;
        match r {
            Ok(()) => {
                entry.0 += 1;
                if listed.contains_key(&c.id) {
                    fixed.push(c.id.clone());
                }
            }
            Err(why) => {
                if !listed.contains_key(&c.id) {
                    let expr = c.case.get("expr").and_then(Value::as_str).unwrap_or("");
                    unexpected.push(format!("{}: {why}\n    expr: {expr}", c.id));
                }
            }
        }
    }
    let (mut pass, mut total) = (0, 0);
    for (g, (p, t)) in &per_group {
        println!("{g:40} {p:4}/{t:4}");
        pass += p;
        total += t;
    }
    println!("TOTAL {pass}/{total}");
    for u in &unexpected {
        let short: String = u.chars().take(400).collect();
        println!("FAIL {short}");
    }
    for f in &fixed {
        println!("PASSES BUT LISTED {f}");
    }
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} unexpected failures, {} listed cases pass",
        unexpected.len(),
        fixed.len()
    );
}
