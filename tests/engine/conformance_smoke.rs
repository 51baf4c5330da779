//! Conformance smoke test: runs the recorded AWS executions without any
//! Task state (`integrations: []`) and prints how many match on status,
//! output, error and cause. The full runner with mocks and history
//! comparison lives in tests/conformance/.

use serde_json::Value;
use stepfn::{sync_task_fn, ExecutionIdentity, StateMachine, StatesError};

use crate::common::conformance_cases;

/// The corpus README's normalisation, for the values we compare.
fn normalize(text: &str, pairs: &[(String, String)]) -> String {
    let mut s = text.to_owned();
    for (from, to) in pairs {
        s = s.replace(from.as_str(), to.as_str());
    }
    s = s
        .replace("us-east-1", "<region>")
        .replace("arn:aws:", "arn:<partition>:");
    replace_dates(&s)
}

fn replace_dates(s: &str) -> String {
    // YYYY-MM-DDTHH:MM:SS(.fff)?(Z|+hh:mm)? -> date
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let digits = |from: usize, n: usize| {
        from + n <= b.len() && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    while i < b.len() {
        if digits(i, 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2)
            && b.get(i + 10) == Some(&b'T')
            && digits(i + 11, 2)
            && b.get(i + 13) == Some(&b':')
            && digits(i + 14, 2)
            && b.get(i + 16) == Some(&b':')
            && digits(i + 17, 2)
        {
            let mut j = i + 19;
            if b.get(j) == Some(&b'.') {
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if b.get(j) == Some(&b'Z') {
                j += 1;
            } else if matches!(b.get(j), Some(b'+') | Some(b'-')) && digits(j + 1, 2) {
                j += 3;
                if b.get(j) == Some(&b':') && digits(j + 1, 2) {
                    j += 3;
                }
            }
            out.push_str("date");
            i = j;
        } else {
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<_> = o.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                keys.into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[test]
fn conformance_smoke_without_tasks() {
    let Some(dir) = conformance_cases() else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let executor = sync_task_fn(|_| Err(StatesError::new("States.TaskFailed", "no tasks here")));
    let (mut total, mut passed, mut skipped) = (0, 0, 0);
    let (mut hist_total, mut hist_passed) = (0, 0);
    let verbose = std::env::var_os("STEPFN_SMOKE_VERBOSE").is_some();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let (mut t, mut p) = (0, 0);
        for line in text.lines() {
            let case: Value = serde_json::from_str(line).unwrap();
            if case["integrations"] != Value::Array(vec![]) {
                continue;
            }
            let needs: Vec<&str> = case["needs"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if needs.contains(&"jsonata") {
                skipped += 1;
                continue;
            }
            let Ok(machine) = StateMachine::from_value(case["definition"].clone()) else {
                skipped += 1;
                continue;
            };
            t += 1;
            let identity = ExecutionIdentity::from_value(&case["execution"]).unwrap_or_default();
            let outcome = futures::executor::block_on(
                machine
                    .execution()
                    .with_virtual_time()
                    .with_identity(identity)
                    .with_history(true)
                    .run(&executor, case["input"].clone()),
            );
            let pairs: Vec<(String, String)> = case["normalize"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            (
                                p[0].as_str().unwrap_or("").to_owned(),
                                p[1].as_str().unwrap_or("").to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let norm = |v: &Value| -> Value {
                let s = normalize(&v.to_string(), &pairs);
                canonical(&serde_json::from_str(&s).unwrap_or(Value::Null))
            };
            let expected = &case["expected"];
            let mut ok = outcome.status.as_str() == expected["status"];
            if ok && expected.get("output").is_some() {
                ok = outcome.output.as_ref().map(&norm) == Some(canonical(&expected["output"]));
            }
            if ok {
                ok = outcome
                    .error
                    .as_deref()
                    .map(Value::from)
                    .unwrap_or(Value::Null)
                    == expected.get("error").cloned().unwrap_or(Value::Null);
            }
            if ok {
                let want = match expected.get("cause") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                };
                let raw_ok = outcome.cause.as_deref().map(str::to_owned) == want;
                let got = outcome.cause.as_deref().map(|c| {
                    let n = normalize(c, &pairs);
                    match serde_json::from_str::<Value>(&n) {
                        Ok(v @ Value::Object(_)) => canonical(&v).to_string(),
                        _ => n,
                    }
                });
                let want = want.map(|w| match serde_json::from_str::<Value>(&w) {
                    Ok(v @ Value::Object(_)) => canonical(&v).to_string(),
                    _ => w,
                });
                ok = raw_ok || got == want;
            }
            if ok {
                if let Some(recorded) = case["history"].as_array() {
                    hist_total += 1;
                    let shape = |events: &[Value]| -> Vec<(String, u64, u64)> {
                        events
                            .iter()
                            .map(|e| {
                                (
                                    e["type"].as_str().unwrap_or("").to_owned(),
                                    e["id"].as_u64().unwrap_or(0),
                                    e["previousEventId"].as_u64().unwrap_or(0),
                                )
                            })
                            .collect()
                    };
                    let ours: Vec<Value> = outcome
                        .history
                        .as_ref()
                        .map(|h| h.iter().map(|e| e.to_json()).collect())
                        .unwrap_or_default();
                    if shape(recorded) == shape(&ours) {
                        hist_passed += 1;
                    } else if verbose {
                        println!("HISTORY {}", case["id"]);
                        for (a, b) in shape(recorded).iter().zip(
                            shape(&ours)
                                .iter()
                                .chain(std::iter::repeat(&(String::new(), 0, 0))),
                        ) {
                            println!(
                                "  {:<40} {:<40} {}",
                                format!("{a:?}"),
                                format!("{b:?}"),
                                if a == b { "" } else { "<<" }
                            );
                        }
                        if shape(recorded).len() < ours.len() {
                            println!("  ... we have {} more", ours.len() - recorded.len());
                        }
                    }
                }
            }
            if ok {
                p += 1;
            } else if verbose {
                println!(
                    "FAIL {}\n  expected {}\n  got {} {:?} {:?} {:?}",
                    case["id"],
                    expected,
                    outcome.status,
                    outcome.output,
                    outcome.error,
                    outcome.cause
                );
            }
        }
        println!(
            "{:<28} {p:>4} / {t:<4}",
            file.file_name().unwrap().to_string_lossy()
        );
        total += t;
        passed += p;
    }
    println!("total {passed} / {total} (skipped {skipped}: JSONata or not loadable)");
    println!("history (types and id links) of the passing cases: {hist_passed} / {hist_total}");
    assert!(
        total == 0 || passed * 2 >= total,
        "less than half of the smoke cases pass"
    );
}
