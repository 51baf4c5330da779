//! The AWS conformance runner: every execution case recorded on real AWS
//! Step Functions (`$STEPFN_CONFORMANCE_DIR`, else `../shared/conformance`)
//! runs through [`stepfn::testing::run_case`], the same code path as
//! `stepfn run --virtual-time --history`, and is compared with AWS's answer
//! after the corpus README's normalisation rules.
//!
//! A case passes when every applicable metric among `status`, `result`
//! (output when SUCCEEDED, else error), `cause` and `history_types` holds.
//! The full `history` metric (every event field but the timestamp) is
//! counted and printed but does not gate the test.
//!
//! `fixtures/conformance-expected-failures.txt` lists the cases known to fail
//! (`<case id>  # <reason>`, `#` lines are comments; the same format as the
//! scorer's `--exclude-ids`). The test fails on any failure not listed there
//! and on any listed case that now passes, so the list stays honest.
//! A reason starting with `superseded:` marks a case whose recording
//! predates AWS's current behaviour, which stepfn follows: such a case must
//! pass the gating metrics and differ from its recording in the full
//! `history` (the test fails when it does not, so the mark is removed once
//! it no longer applies).
//! `STEPFN_CONFORMANCE_FILTER=text` runs only cases whose id contains the
//! text (and then ignores the list); `STEPFN_CONFORMANCE_VERBOSE=1` prints
//! every failure's diff.

#[path = "../common/mod.rs"]
mod common;

use common::conformance_cases;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const METRICS: [&str; 5] = ["status", "result", "cause", "history_types", "history"];
/// The start of an expected-failures reason that marks a superseded recording.
const SUPERSEDED: &str = "superseded:";
const GATING: [&str; 4] = ["status", "result", "cause", "history_types"];
const CASE_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn conformance() {
    let Some(dir) = conformance_cases() else {
        return;
    };
    let filter = std::env::var("STEPFN_CONFORMANCE_FILTER").ok();
    let verbose = std::env::var("STEPFN_CONFORMANCE_VERBOSE").is_ok();
    let mut cases = load_cases(&dir);
    if let Some(filter) = &filter {
        cases.retain(|c| str_of(c, "id").contains(filter.as_str()));
    }
    let total = cases.len();
    let results = run_all(cases, 2);

    print_table(&results);

    if let Ok(path) = std::env::var("STEPFN_CONFORMANCE_FAILURES_OUT") {
        // regeneration aid: every failing id with its first difference
        let mut text = String::new();
        for r in results.iter().filter(|r| !r.passed()) {
            text.push_str(&format!("{}  # {}\n", r.id, r.reason()));
        }
        std::fs::write(path, text).expect("write failures");
    }

    if let Ok(path) = std::env::var("STEPFN_CONFORMANCE_RESULTS_OUT") {
        // one JSON line per case: id and metrics (for comparing with the scorer)
        let mut text = String::new();
        for r in &results {
            let metrics: Map<String, Value> = r
                .metrics
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            text.push_str(&format!(
                "{}\n",
                json!({"id": r.id, "metrics": metrics, "diff": r.diff})
            ));
        }
        std::fs::write(path, text).expect("write results");
    }

    let expected = expected_failures();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut superseded = 0usize;
    for r in &results {
        let reason = expected.get(&r.id);
        if reason.is_some_and(|why| why.starts_with(SUPERSEDED)) {
            superseded += 1;
            // an older AWS behaviour: passes the gating metrics, differs in
            // the full history
            let differs = r.metrics.get("history").copied().flatten() == Some(false);
            if !r.passed() || verbose {
                println!("FAIL {}\n     {}", r.id, r.diff);
            }
            if filter.is_none() && !r.passed() {
                unexpected.push(r.id.clone());
            } else if filter.is_none() && !differs {
                fixed.push(r.id.clone());
            }
            continue;
        }
        let listed = reason.is_some();
        if !r.passed() && (verbose || !listed) {
            println!("FAIL {}\n     {}", r.id, r.diff);
        }
        if filter.is_some() {
            continue;
        }
        match (r.passed(), listed) {
            (false, false) => unexpected.push(r.id.clone()),
            (true, true) => fixed.push(r.id.clone()),
            _ => {}
        }
    }
    let ids: HashSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
    let stale: Vec<&String> = expected
        .keys()
        .filter(|id| filter.is_none() && !ids.contains(id.as_str()))
        .collect();
    println!(
        "conformance: {total} cases, {} pass, {} listed as expected failures ({superseded} of them superseded recordings that pass)",
        results.iter().filter(|r| r.passed()).count(),
        expected.len()
    );
    for id in &fixed {
        println!("NOW PASSES (remove from the expected-failures list): {id}");
    }
    for id in &stale {
        println!("NOT IN THE CORPUS (remove from the expected-failures list): {id}");
    }
    assert!(
        unexpected.is_empty() && fixed.is_empty() && stale.is_empty(),
        "{} unexpected failures, {} listed cases now pass, {} listed ids unknown (see above)",
        unexpected.len(),
        fixed.len(),
        stale.len()
    );
}

// ---------------------------------------------------------------------------- corpus

fn load_cases(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
        .expect("read cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read case file");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            cases.push(serde_json::from_str(line).expect("case line is JSON"));
        }
    }
    cases
}

fn expected_failures() -> BTreeMap<String, String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conformance-expected-failures.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_expected_failures(&text)
}

/// `<id>  # <reason>` per line (two spaces before `#`: ids contain `#`);
/// lines starting with `#` and blank lines are ignored.
fn parse_expected_failures(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = match line.split_once("  #") {
            Some((id, reason)) => (id.trim(), reason.trim()),
            None => (line.trim(), ""),
        };
        out.insert(id.to_owned(), reason.to_owned());
    }
    out
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------- running

struct CaseResult {
    id: String,
    category: String,
    /// metric name -> Some(pass) when applicable
    metrics: BTreeMap<&'static str, Option<bool>>,
    diff: String,
    /// In issue 5's target set: needs none of jsonata, activity, express,
    /// and no distributed Map with ItemReader/ResultWriter.
    target: bool,
}

impl CaseResult {
    fn passed(&self) -> bool {
        GATING
            .iter()
            .all(|m| self.metrics.get(m).copied().flatten() != Some(false))
    }

    fn reason(&self) -> String {
        let failing: Vec<&str> = GATING
            .iter()
            .copied()
            .filter(|m| self.metrics.get(m).copied().flatten() == Some(false))
            .collect();
        let mut diff = self.diff.replace('\n', " ");
        if diff.len() > 300 {
            let mut cut = 300;
            while !diff.is_char_boundary(cut) {
                cut -= 1;
            }
            diff.truncate(cut);
        }
        format!("[{}] {}", failing.join(","), diff)
    }
}

fn run_all(cases: Vec<Value>, threads: usize) -> Vec<CaseResult> {
    let queue = Arc::new(Mutex::new(
        cases.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let queue = Arc::clone(&queue);
        let results = Arc::clone(&results);
        handles.push(std::thread::spawn(move || loop {
            let next = queue.lock().unwrap().pop();
            let Some((index, case)) = next else { break };
            let result = run_one(case);
            results.lock().unwrap().push((index, result));
        }));
    }
    for h in handles {
        h.join().expect("runner thread");
    }
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs one case on its own thread so a hang or a panic fails only that
/// case (a hung thread is left behind; the process ends with the test).
fn run_one(case: Value) -> CaseResult {
    let case = Arc::new(case);
    let (tx, rx) = mpsc::channel();
    let runner_case = Arc::clone(&case);
    std::thread::Builder::new()
        .stack_size(16 * 1024 * 1024)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| execute(&runner_case));
            let _ = tx.send(outcome);
        })
        .expect("spawn case thread");
    let outcome = match rx.recv_timeout(CASE_TIMEOUT) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome::Crash(format!("panic: {text}"))
        }
        Err(_) => Outcome::Crash(format!("no answer within {CASE_TIMEOUT:?}")),
    };
    score(&case, outcome)
}

enum Outcome {
    Ok(Value),
    Rejected(String),
    Crash(String),
}

/// Runs the case exactly as `stepfn run --virtual-time --history` would.
fn execute(case: &Value) -> Outcome {
    let definition = serde_json::to_string(&case["definition"]).expect("definition serialises");
    let machine = match stepfn::StateMachine::from_str(&definition) {
        Ok(m) => m,
        Err(e) => return Outcome::Rejected(e.to_string()),
    };
    let mut options =
        stepfn::testing::RunOptions::new(case.get("input").cloned().unwrap_or(json!({})));
    options.virtual_time = true;
    options.history = true;
    if let Some(execution) = case.get("execution") {
        match stepfn::ExecutionIdentity::from_value(execution) {
            Ok(identity) => options.identity = identity,
            Err(e) => return Outcome::Crash(format!("execution identity rejected: {e}")),
        }
    }
    if let Some(mocks) = case.get("mocks").filter(|m| !m.is_null()) {
        match stepfn::testing::MockConfig::from_value(mocks) {
            Ok(config) => options.mocks = Some((config, "conformance".to_owned())),
            Err(e) => return Outcome::Crash(format!("mock config rejected: {e}")),
        }
    }
    match stepfn::testing::run_case(&machine, options) {
        Ok(report) => Outcome::Ok(report.to_json()),
        Err(e) => Outcome::Crash(format!("run failed: {e}")),
    }
}

// ---------------------------------------------------------------------------- scoring

fn score(case: &Value, outcome: Outcome) -> CaseResult {
    let id = str_of(case, "id").to_owned();
    let category = str_of(case, "category").to_owned();
    let needs: Vec<&str> = case["needs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let target = !needs
        .iter()
        .any(|n| ["jsonata", "activity", "express"].contains(n))
        && !(needs.contains(&"map-distributed")
            && (needs.contains(&"item-reader") || needs.contains(&"result-writer")));
    let expected = &case["expected"];
    let exp_status = str_of(expected, "status");
    let has_history = case.get("history").is_some_and(|h| !h.is_null());
    let mut metrics: BTreeMap<&'static str, Option<bool>> =
        METRICS.iter().map(|m| (*m, None)).collect();
    metrics.insert("status", Some(false));
    metrics.insert("result", Some(false));
    if exp_status != "SUCCEEDED" {
        metrics.insert("cause", Some(false));
    }
    let actual = match outcome {
        Outcome::Ok(actual) => actual,
        Outcome::Rejected(why) | Outcome::Crash(why) => {
            if has_history {
                metrics.insert("history_types", Some(false));
                metrics.insert("history", Some(false));
            }
            return CaseResult {
                id,
                category,
                metrics,
                diff: why,
                target,
            };
        }
    };
    if has_history && actual.get("history").is_some_and(Value::is_array) {
        metrics.insert("history_types", Some(false));
        metrics.insert("history", Some(false));
    }
    let norm = Normaliser::new(case);
    let mut diffs = Vec::new();
    let act = norm.actual_result(&actual, has_history);
    let act_status = act.status.as_deref().unwrap_or("");
    metrics.insert("status", Some(act_status == exp_status));
    if act_status != exp_status {
        diffs.push(format!(
            "status: expected {exp_status} got {act_status} ({}: {})",
            short(act.error.as_ref().map(|(v, _)| v)),
            short(act.cause.as_ref().map(|(v, _)| v))
        ));
    } else {
        let mut b = Bindings::new(&norm.literal);
        if exp_status == "SUCCEEDED" {
            let ok = match &act.output {
                None => Err(("$".to_owned(), "output missing".to_owned())),
                Some((out, alt)) => norm.matches(
                    &norm.symmetric(expected.get("output").unwrap_or(&Value::Null)),
                    &norm.symmetric(out),
                    Some(&norm.symmetric(alt)),
                    &mut b,
                    "$",
                ),
            };
            metrics.insert("result", Some(ok.is_ok()));
            if let Err((p, r)) = ok {
                diffs.push(format!("output {p}: {r}"));
            }
        } else {
            let ok = match (expected.get("error"), &act.error) {
                (None, None) => true,
                (Some(e), Some((a, alt))) => norm.matches(e, a, Some(alt), &mut b, "$").is_ok(),
                _ => false,
            };
            metrics.insert("result", Some(ok));
            if !ok {
                diffs.push(format!(
                    "error: expected {} got {}",
                    short(expected.get("error")),
                    short(act.error.as_ref().map(|(v, _)| v))
                ));
            }
            let cause_ok = match (expected.get("cause"), &act.cause) {
                (None, None) => Ok(()),
                (Some(e), Some((a, alt))) => norm.matches(
                    &norm.symmetric(e),
                    &norm.symmetric(a),
                    Some(&norm.symmetric(alt)),
                    &mut b,
                    "cause",
                ),
                (e, a) => Err((
                    "cause".to_owned(),
                    format!(
                        "expected {} got {}",
                        short(e),
                        short(a.as_ref().map(|(v, _)| v))
                    ),
                )),
            };
            metrics.insert("cause", Some(ok && cause_ok.is_ok()));
            if let (true, Err((p, r))) = (ok, cause_ok) {
                diffs.push(format!("{p}: {r}"));
            }
        }
    }
    if metrics["history_types"].is_some() {
        let multiset = case["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "parallel-branch-events-sorted"));
        let (ah, ah_alt) =
            norm.actual_history(actual["history"].as_array().cloned().unwrap_or_default());
        let ah = norm.symmetric(&Value::Array(ah));
        let ah_alt = norm.symmetric(&Value::Array(ah_alt));
        let eh = norm.symmetric(&case["history"]);
        let (eh, ah, ah_alt) = (
            eh.as_array().cloned().unwrap_or_default(),
            ah.as_array().cloned().unwrap_or_default(),
            ah_alt.as_array().cloned().unwrap_or_default(),
        );
        let types = compare_history_types(&eh, &ah, multiset);
        metrics.insert("history_types", Some(types.is_ok()));
        if let Err(why) = &types {
            diffs.push(format!("history types: {why}"));
        }
        let full = norm.compare_history_full(&eh, &ah, &ah_alt, multiset);
        metrics.insert("history", Some(full.is_ok()));
        if let (Ok(()), Err(why)) = (&types, &full) {
            diffs.push(format!("history: {why}"));
        }
    }
    CaseResult {
        id,
        category,
        metrics,
        diff: diffs.join("; "),
        target,
    }
}

fn short(v: Option<&Value>) -> String {
    let text = match v {
        None => "-".to_owned(),
        Some(v) => v.to_string(),
    };
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &text[..cut])
    } else {
        text
    }
}

fn print_table(results: &[CaseResult]) {
    let mut by_cat: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        by_cat.entry(r.category.as_str()).or_default().push(r);
    }
    let row = |name: &str, rows: &[&CaseResult]| {
        let mut cells = vec![name.to_owned(), rows.len().to_string()];
        for m in METRICS {
            let vals: Vec<bool> = rows.iter().filter_map(|r| r.metrics[m]).collect();
            cells.push(if vals.is_empty() {
                "-".to_owned()
            } else {
                format!("{}/{}", vals.iter().filter(|v| **v).count(), vals.len())
            });
        }
        cells.push(rows.iter().filter(|r| r.passed()).count().to_string());
        cells
    };
    let mut table = vec![{
        let mut h = vec!["category".to_owned(), "cases".to_owned()];
        h.extend(METRICS.iter().map(|m| m.to_string()));
        h.push("pass".to_owned());
        h
    }];
    for (cat, rows) in &by_cat {
        table.push(row(cat, rows));
    }
    let all: Vec<&CaseResult> = results.iter().collect();
    table.push(row("TOTAL", &all));
    let target: Vec<&CaseResult> = results.iter().filter(|r| r.target).collect();
    table.push(row("TARGET (issue 5)", &target));
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| table.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for (n, r) in table.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("| {} |", line.join(" | "));
        if n == 0 {
            let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            println!("| {} |", sep.join(" | "));
        }
    }
}

// ---------------------------------------------------------------------------- normalisation
//
// The recording normalised AWS's answers; these functions put our answer
// through the same pipeline (corpus README "How recorded values were
// normalised"): keys sorted and `{`-strings parsed one level, Parallel
// branch events canonicalised, fixed-word JSONPath replacements, values of
// `*timestamp*` keys, then on the JSON text the case's `normalize` pairs,
// region, partition and ISO-8601 date-times. `<...>` placeholders of the
// recording that do not appear in the case's definition/input/execution
// are consistent wildcards.

const SFN_API_JSONPATHS: [(&str, &str); 6] = [
    ("$..SdkHttpMetadata..Date", "date"),
    ("$..SdkResponseMetadata..RequestId", "RequestId"),
    ("$..X-Amzn-Trace-Id", "X-Amzn-Trace-Id"),
    ("$..x-amz-crc32", "x-amz-crc32"),
    ("$..x-amzn-RequestId", "x-amzn-RequestId"),
    ("$..x-amzn-requestid", "x-amzn-requestid"),
];

struct ActualResult {
    status: Option<String>,
    /// (normalised, normalised without the `normalize` pairs)
    output: Option<(Value, Value)>,
    error: Option<(Value, Value)>,
    cause: Option<(Value, Value)>,
}

enum FixedWord {
    JsonPath(String, Value),
    Key(String, Value),
}

struct Normaliser<'a> {
    case: &'a Value,
    literal: HashSet<String>,
    fixed_words: Vec<FixedWord>,
    parallel_sorted: bool,
}

impl<'a> Normaliser<'a> {
    fn new(case: &'a Value) -> Self {
        let text = serde_json::to_string(&json!([
            case["definition"],
            case["input"],
            case["execution"]
        ]))
        .unwrap_or_default();
        let mut literal: HashSet<String> = placeholders(&text).into_iter().collect();
        literal.insert("<region>".to_owned());
        literal.insert("<partition>".to_owned());
        let mut fixed_words: Vec<FixedWord> = SFN_API_JSONPATHS
            .iter()
            .map(|(p, r)| FixedWord::JsonPath(p.to_string(), json!(r)))
            .collect();
        let mut parallel_sorted = case["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "parallel-branch-events-sorted"));
        for t in case["recorder_transforms"].as_array().into_iter().flatten() {
            match str_of(t, "type") {
                "JsonpathTransformer"
                    if t.get("replace_references") == Some(&Value::Bool(false))
                        && t.get("jsonpath").is_some_and(Value::is_string)
                        && t.get("replacement").is_some_and(|r| !r.is_null()) =>
                {
                    fixed_words.push(FixedWord::JsonPath(
                        str_of(t, "jsonpath").to_owned(),
                        t["replacement"].clone(),
                    ))
                }
                "KeyValueBasedTransformer"
                    if t.get("replace_reference") == Some(&Value::Bool(false))
                        && t["match_on"].get(0).is_some_and(Value::is_string)
                        && t.get("replacement").is_some_and(|r| !r.is_null()) =>
                {
                    fixed_words.push(FixedWord::Key(
                        t["match_on"][0].as_str().unwrap_or("").to_owned(),
                        t["replacement"].clone(),
                    ))
                }
                "SfnNoneRecursiveParallelTransformer" => parallel_sorted = true,
                _ => {}
            }
        }
        Normaliser {
            case,
            literal,
            fixed_words,
            parallel_sorted,
        }
    }

    fn apply_fixed_words(&self, root: &mut Value) {
        for fw in &self.fixed_words {
            match fw {
                FixedWord::JsonPath(path, repl) => jsonpath_set(root, path, repl),
                FixedWord::Key(key, repl) => kv_transform(root, key, repl),
            }
        }
    }

    /// The recorder's pipeline over an actual answer shaped like the recording.
    fn record_like(&self, root: &Value, apply_normalize: bool) -> Value {
        let mut root = root.clone();
        parse_brace_strings(&mut root);
        if self.parallel_sorted {
            if let Some(events) = root.get_mut("events").and_then(Value::as_array_mut) {
                parallel_normalise(events);
            }
        }
        self.apply_fixed_words(&mut root);
        remove_key(&mut root, "x-localstack");
        response_metadata(&mut root);
        kv_timestamp(&mut root);
        let mut text = serde_json::to_string(&root).unwrap_or_default();
        if apply_normalize {
            for pair in self.case["normalize"].as_array().into_iter().flatten() {
                if let (Some(find), Some(repl)) = (pair[0].as_str(), pair[1].as_str()) {
                    text = text.replace(&find.replace('"', "\\\""), repl);
                }
            }
        }
        text = text.replace("us-east-1", "<region>");
        text = text.replace("arn:aws:", "arn:<partition>:");
        text = replace_iso_datetimes(&text);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    fn symmetric(&self, v: &Value) -> Value {
        let mut root = json!({ "v": v });
        self.apply_fixed_words(&mut root);
        root["v"].take()
    }

    fn actual_result(&self, actual: &Value, has_history: bool) -> ActualResult {
        let prim = self.actual_result_once(actual, has_history, true);
        let alt = if self.case["normalize"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            self.actual_result_once(actual, has_history, false)
        } else {
            prim.clone()
        };
        let pair = |k: &str| -> Option<(Value, Value)> {
            let p = prim.get(k)?.clone();
            let a = alt.get(k).cloned().unwrap_or_else(|| p.clone());
            Some((p, a))
        };
        ActualResult {
            status: actual
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            output: pair("output"),
            error: pair("error"),
            cause: pair("cause"),
        }
    }

    fn actual_result_once(
        &self,
        actual: &Value,
        has_history: bool,
        apply_normalize: bool,
    ) -> Map<String, Value> {
        let status = actual.get("status").and_then(Value::as_str).unwrap_or("");
        let mut det = Map::new();
        if status == "SUCCEEDED" {
            if let Some(out) = actual.get("output") {
                det.insert("output".into(), Value::String(out.to_string()));
            }
        } else {
            for f in ["error", "cause"] {
                if let Some(v) = actual.get(f).filter(|v| !v.is_null()) {
                    det.insert(f.into(), v.clone());
                }
            }
        }
        let det = if has_history {
            let etype = match status {
                "SUCCEEDED" => "ExecutionSucceeded",
                "TIMED_OUT" => "ExecutionTimedOut",
                "ABORTED" => "ExecutionAborted",
                _ => "ExecutionFailed",
            };
            let key = format!("{}{}EventDetails", etype[..1].to_lowercase(), &etype[1..]);
            if status == "SUCCEEDED" {
                det.insert("outputDetails".into(), json!({"truncated": false}));
            }
            let root = json!({"events": [{"id": 1, "previousEventId": 0, "timestamp": "timestamp",
                                          "type": etype, key.clone(): det}]});
            let root = self.record_like(&root, apply_normalize);
            root["events"][0][&key]
                .as_object()
                .cloned()
                .unwrap_or_default()
        } else {
            det.insert("status".into(), json!(status));
            self.record_like(&Value::Object(det), apply_normalize)
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        let mut out = Map::new();
        if status == "SUCCEEDED" {
            if let Some(o) = det.get("output") {
                out.insert("output".into(), parse_json_text(o.clone()));
            }
        }
        for f in ["error", "cause"] {
            if let Some(v) = det.get(f) {
                out.insert(f.into(), v.clone());
            }
        }
        out
    }

    fn actual_history(&self, history: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
        let root = json!({ "events": history });
        let fix = |v: Value| {
            let mut events = match v {
                Value::Object(mut m) => m.remove("events").and_then(|e| match e {
                    Value::Array(a) => Some(a),
                    _ => None,
                }),
                _ => None,
            }
            .unwrap_or_default();
            extractor_history_fixup(&mut events);
            events
        };
        let prim = fix(self.record_like(&root, true));
        let alt = if self.case["normalize"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            fix(self.record_like(&root, false))
        } else {
            prim.clone()
        };
        (prim, alt)
    }

    fn compare_history_full(
        &self,
        exp: &[Value],
        act: &[Value],
        alt: &[Value],
        multiset: bool,
    ) -> Result<(), String> {
        let mut b = Bindings::new(&self.literal);
        let (ei, ai, alti) = if multiset {
            (blocks(exp), blocks(act), blocks(alt))
        } else {
            (
                exp.iter().cloned().map(Item::One).collect(),
                act.iter().cloned().map(Item::One).collect(),
                alt.iter().cloned().map(Item::One).collect::<Vec<_>>(),
            )
        };
        if ei.len() != ai.len() {
            return Err(format!("{} events expected, {} got", exp.len(), act.len()));
        }
        for (i, (x, y)) in ei.iter().zip(&ai).enumerate() {
            let y_alt = alti.get(i);
            match (x, y) {
                (Item::Block(xs), Item::Block(ys)) => {
                    if xs.len() != ys.len() {
                        return Err(format!(
                            "item #{}: sorted-branch block differs in size",
                            i + 1
                        ));
                    }
                    let alts: Vec<Value> = match y_alt {
                        Some(Item::Block(a)) if a.len() == ys.len() => a.clone(),
                        _ => ys.clone(),
                    };
                    let mut pool: Vec<(Value, Value)> = ys.iter().cloned().zip(alts).collect();
                    for ex in xs {
                        let ex = strip_ts(ex);
                        let found = pool.iter().position(|(ay, aalt)| {
                            let mut trial = b.clone();
                            if self
                                .matches(&ex, &strip_ts(ay), Some(&strip_ts(aalt)), &mut trial, "$")
                                .is_ok()
                            {
                                b = trial;
                                true
                            } else {
                                false
                            }
                        });
                        match found {
                            Some(j) => {
                                pool.remove(j);
                            }
                            None => {
                                return Err(format!(
                                    "branch block #{}: no actual event matches {}",
                                    i + 1,
                                    short(Some(&ex))
                                ))
                            }
                        }
                    }
                }
                (Item::One(x), Item::One(y)) => {
                    let ya = match y_alt {
                        Some(Item::One(a)) => strip_ts(a),
                        _ => strip_ts(y),
                    };
                    if let Err((p, r)) =
                        self.matches(&strip_ts(x), &strip_ts(y), Some(&ya), &mut b, "$")
                    {
                        return Err(format!("event #{} ({}) {p}: {r}", i + 1, str_of(x, "type")));
                    }
                }
                _ => {
                    return Err(format!(
                        "item #{}: sorted-branch block vs single event",
                        i + 1
                    ))
                }
            }
        }
        Ok(())
    }

    /// Compares an expected value with an actual one (`alt`: the actual
    /// value normalised without the case's `normalize` pairs).
    fn matches(
        &self,
        e: &Value,
        a: &Value,
        alt: Option<&Value>,
        b: &mut Bindings,
        path: &str,
    ) -> Result<(), (String, String)> {
        let fail = || {
            Err((
                path.to_owned(),
                format!("expected {} got {}", short(Some(e)), short(Some(a))),
            ))
        };
        match (e, a) {
            (Value::Bool(x), Value::Bool(y)) if x == y => Ok(()),
            (Value::Bool(_), _) | (_, Value::Bool(_)) => fail(),
            (Value::Number(x), Value::Number(y)) => {
                if numbers_equal(x, y) {
                    Ok(())
                } else {
                    fail()
                }
            }
            (Value::Number(_), _) => fail(),
            (Value::String(es), Value::String(as_)) => {
                if match_str_alt(es, as_, alt.and_then(Value::as_str), b) {
                    return Ok(());
                }
                if is_cause_path(path) {
                    if let Some(je) = json_text(es) {
                        for cand in [Some(as_.as_str()), alt.and_then(Value::as_str)]
                            .into_iter()
                            .flatten()
                        {
                            if let Some(ja) = json_text(cand) {
                                let mut trial = b.clone();
                                if self.matches(&je, &ja, None, &mut trial, path).is_ok() {
                                    *b = trial;
                                    return Ok(());
                                }
                            }
                        }
                    }
                }
                fail()
            }
            (Value::String(_), _) => fail(),
            (Value::Null, Value::Null) => Ok(()),
            (Value::Null, _) => Err((
                path.to_owned(),
                format!("expected null got {}", short(Some(a))),
            )),
            (Value::Array(ea), Value::Array(aa)) => {
                if ea.len() != aa.len() {
                    return Err((
                        path.to_owned(),
                        format!(
                            "array length {} != {}: expected {} got {}",
                            ea.len(),
                            aa.len(),
                            short(Some(e)),
                            short(Some(a))
                        ),
                    ));
                }
                let alt_arr = alt
                    .and_then(Value::as_array)
                    .filter(|x| x.len() == aa.len());
                for (i, (x, y)) in ea.iter().zip(aa).enumerate() {
                    self.matches(x, y, alt_arr.map(|v| &v[i]), b, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            (Value::Array(_), _) => Err((
                path.to_owned(),
                format!("expected array got {}", short(Some(a))),
            )),
            (Value::Object(eo), Value::Object(ao)) => {
                let alt_obj = alt
                    .and_then(Value::as_object)
                    .filter(|m| m.len() == ao.len() && m.keys().all(|k| ao.contains_key(k)));
                let mut left_a: Vec<&String> = ao.keys().filter(|k| !eo.contains_key(*k)).collect();
                for (k, ev) in eo {
                    if let Some(av) = ao.get(k) {
                        self.matches(
                            ev,
                            av,
                            alt_obj.and_then(|m| m.get(k)),
                            b,
                            &format!("{path}.{k}"),
                        )?;
                    }
                }
                for (k, ev) in eo.iter().filter(|(k, _)| !ao.contains_key(*k)) {
                    let mut found = None;
                    for (j, ka) in left_a.iter().enumerate() {
                        let mut trial = b.clone();
                        if match_str(k, ka, &mut trial)
                            && self
                                .matches(ev, &ao[*ka], None, &mut trial, &format!("{path}.{k}"))
                                .is_ok()
                        {
                            *b = trial;
                            found = Some(j);
                            break;
                        }
                    }
                    match found {
                        Some(j) => {
                            left_a.remove(j);
                        }
                        None => {
                            let mut keys: Vec<&String> = ao.keys().collect();
                            keys.sort();
                            return Err((
                                format!("{path}.{k}"),
                                format!("missing key (actual keys {keys:?})"),
                            ));
                        }
                    }
                }
                if let Some(k) = left_a.first() {
                    return Err((
                        format!("{path}.{k}"),
                        format!("unexpected key(s) {left_a:?}"),
                    ));
                }
                Ok(())
            }
            (Value::Object(_), _) => Err((
                path.to_owned(),
                format!("expected object got {}", short(Some(a))),
            )),
        }
    }
}

fn numbers_equal(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return a == b;
    }
    x.as_f64() == y.as_f64()
}

fn is_cause_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower == "cause" || lower.ends_with(".cause")
}

fn json_text(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        serde_json::from_str::<Value>(s)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
    } else {
        None
    }
}

fn parse_json_text(v: Value) -> Value {
    match &v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(v),
        _ => v,
    }
}

fn strip_ts(ev: &Value) -> Value {
    match ev {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "timestamp")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `SnapshotSession._transform_dict_to_parseable_values`: strings that
/// start with `{` inside objects (and objects inside arrays) are parsed,
/// one level.
fn parse_brace_strings(v: &mut Value) {
    let Value::Object(map) = v else { return };
    for (_, val) in map.iter_mut() {
        match val {
            Value::Array(items) => {
                for item in items.iter_mut().filter(|i| i.is_object()) {
                    parse_brace_strings(item);
                }
            }
            Value::Object(_) => parse_brace_strings(val),
            Value::String(s) if s.starts_with('{') => {
                if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                    *val = parsed;
                }
            }
            _ => {}
        }
    }
}

const PARALLEL_CLOSING: [&str; 4] = [
    "ParallelStateSucceeded",
    "ParallelStateAborted",
    "ParallelStateExited",
    "ParallelStateFailed",
];

/// The recording's canonical order of Parallel branch events, with its
/// quirk (see score.py `sfn_parallel_normalise`).
fn parallel_normalise(events: &mut Vec<Value>) {
    let mut collecting = false;
    // None until the first ParallelStateStarted (Python's slice from None)
    let mut block_begin: Option<usize> = None;
    let mut block: Vec<Value> = Vec::new();
    let mut position = 0;
    while position < events.len() {
        let kind = events[position]
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match kind.as_deref() {
            None => collecting = false,
            Some("ParallelStateStarted") => {
                collecting = true;
                block.clear();
                block_begin = Some(position + 1);
            }
            Some(k) if PARALLEL_CLOSING.contains(&k) => {
                // the block is not cleared: a second closing event (e.g.
                // ParallelStateExited after ParallelStateSucceeded) replaces
                // the slice again, dropping the events in between
                let mut ordered = block.clone();
                ordered.sort_by_key(canonical_text);
                let len = events.len();
                let begin = block_begin.unwrap_or(0).min(len);
                let end = position.min(len).max(begin);
                events.splice(begin..end, ordered);
                collecting = false;
            }
            Some(_) if collecting => {
                let ev = &mut events[position];
                ev["id"] = json!([0]);
                ev["previousEventId"] = json!(0);
                block.push(ev.clone());
            }
            _ => {}
        }
        position += 1;
    }
}

fn canonical_text(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

enum JsonPathSeg {
    Child(String),
    Descendant(String),
}

fn parse_jsonpath(path: &str) -> Option<Vec<JsonPathSeg>> {
    let mut rest = path.strip_prefix('$')?;
    let mut segs = Vec::new();
    while !rest.is_empty() {
        let descendant = rest.starts_with("..");
        rest = if descendant {
            &rest[2..]
        } else {
            rest.strip_prefix('.')?
        };
        let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        let name = rest[..end].to_owned();
        rest = &rest[end..];
        if rest.starts_with('[') || rest.starts_with(']') {
            return None;
        }
        segs.push(if descendant {
            JsonPathSeg::Descendant(name)
        } else {
            JsonPathSeg::Child(name)
        });
    }
    Some(segs)
}

/// Sets every value matched by a `$..a.b` style path (jsonpath_ng
/// semantics: descendants include the node itself, arrays are traversed).
fn jsonpath_set(root: &mut Value, path: &str, replacement: &Value) {
    let Some(segs) = parse_jsonpath(path) else {
        return;
    };
    fn walk(node: &mut Value, segs: &[JsonPathSeg], replacement: &Value) {
        let Some((first, rest)) = segs.split_first() else {
            return;
        };
        let (name, descendant) = match first {
            JsonPathSeg::Child(n) => (n, false),
            JsonPathSeg::Descendant(n) => (n, true),
        };
        // match here first (the node itself), then descend
        if let Value::Object(m) = node {
            if let Some(v) = m.get_mut(name) {
                if rest.is_empty() {
                    *v = replacement.clone();
                } else {
                    walk(v, rest, replacement);
                }
            }
        }
        if descendant {
            match node {
                Value::Object(m) => {
                    for v in m.values_mut().filter(|v| v.is_object() || v.is_array()) {
                        walk(v, segs, replacement);
                    }
                }
                Value::Array(a) => {
                    for v in a.iter_mut().filter(|v| v.is_object() || v.is_array()) {
                        walk(v, segs, replacement);
                    }
                }
                _ => {}
            }
        }
    }
    walk(root, &segs, replacement);
}

/// KeyValueBasedTransformer with a fixed word: values of `key` (not null,
/// not empty) become `replacement`.
fn kv_transform(v: &mut Value, key: &str, replacement: &Value) {
    let Value::Object(map) = v else { return };
    for (k, val) in map.iter_mut() {
        let matched = k == key && !val.is_null() && val.as_str() != Some("");
        if matched {
            *val = replacement.clone();
        } else {
            match val {
                Value::Array(items) => {
                    for item in items.iter_mut().filter(|i| i.is_object()) {
                        kv_transform(item, key, replacement);
                    }
                }
                Value::Object(_) => kv_transform(val, key, replacement),
                _ => {}
            }
        }
    }
}

fn kv_timestamp(v: &mut Value) {
    let Value::Object(map) = v else { return };
    for (k, val) in map.iter_mut() {
        let key_matches = k.to_ascii_lowercase().contains("timestamp")
            || k == "creationTime"
            || k == "ingestionTime";
        let text = match &*val {
            Value::String(s) => s.clone(),
            other => python_str(other),
        };
        if key_matches && iso_datetime_at(text.as_bytes(), 0).is_none() {
            *val = json!("timestamp");
        } else {
            match val {
                Value::Array(items) => {
                    for item in items.iter_mut().filter(|i| i.is_object()) {
                        kv_timestamp(item);
                    }
                }
                Value::Object(_) => kv_timestamp(val),
                _ => {}
            }
        }
    }
}

/// Enough of Python's `str()` for the ISO check (only its prefix matters).
fn python_str(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

fn remove_key(v: &mut Value, key: &str) {
    match v {
        Value::Object(m) => {
            m.remove(key);
            for val in m.values_mut() {
                remove_key(val, key);
            }
        }
        Value::Array(a) => {
            for val in a {
                remove_key(val, key);
            }
        }
        _ => {}
    }
}

fn response_metadata(v: &mut Value) {
    let Value::Object(map) = v else { return };
    for (k, val) in map.iter_mut() {
        if k == "ResponseMetadata" && val.is_object() {
            let Some(hh) = val.get("HTTPHeaders").and_then(Value::as_object) else {
                continue;
            };
            let mut headers = Map::new();
            if let Some(ct) = hh.get("content_type").filter(|c| truthy(c)) {
                headers.insert("content_type".into(), ct.clone());
            }
            let mut simp = Map::new();
            simp.insert("HTTPHeaders".into(), Value::Object(headers));
            if let Some(code) = val.get("HTTPStatusCode").filter(|c| truthy(c)) {
                simp.insert("HTTPStatusCode".into(), code.clone());
            }
            *val = Value::Object(simp);
        } else if val.is_object() {
            response_metadata(val);
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn extractor_history_fixup(events: &mut [Value]) {
    for ev in events.iter_mut() {
        let Value::Object(ev) = ev else { continue };
        for (k, det) in ev.iter_mut() {
            if !k.ends_with("EventDetails") {
                continue;
            }
            let Value::Object(det) = det else { continue };
            for f in ["input", "output", "parameters"] {
                if let Some(v) = det.get_mut(f) {
                    *v = parse_json_text(v.take());
                }
            }
            if let Some(Value::Object(av)) = det.get_mut("assignedVariables") {
                for v in av.values_mut() {
                    *v = parse_json_text(v.take());
                }
            }
        }
    }
}

/// The recorder's ISO-8601 date-time at `at`: returns its end. A
/// calendar-valid date, `T`, hh:mm:ss (hh < 24), an optional 1-9 digit
/// fraction, then `Z` or `±hh[:][mm]` (hh < 20).
fn iso_datetime_at(s: &[u8], at: usize) -> Option<usize> {
    let digit = |i: usize| {
        s.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| (c - b'0') as u32)
    };
    let num = |i: usize, n: usize| -> Option<u32> {
        let mut v = 0;
        for k in 0..n {
            v = v * 10 + digit(i + k)?;
        }
        Some(v)
    };
    let ch = |i: usize, c: u8| s.get(i) == Some(&c);
    let year = num(at, 4)?;
    if !ch(at + 4, b'-') {
        return None;
    }
    let month = num(at + 5, 2)?;
    if !ch(at + 7, b'-') {
        return None;
    }
    let day = num(at + 8, 2)?;
    if !ch(at + 10, b'T') {
        return None;
    }
    let hour = num(at + 11, 2)?;
    if hour > 23
        || !ch(at + 13, b':')
        || num(at + 14, 2)? > 59
        || !ch(at + 16, b':')
        || num(at + 17, 2)? > 59
    {
        return None;
    }
    let mut i = at + 19;
    if ch(i, b'.') && digit(i + 1).is_some() {
        let mut n = 0;
        while n < 9 && digit(i + 1 + n).is_some() {
            n += 1;
        }
        i += 1 + n;
    }
    // zone: the regex backtracks over the fraction only if the zone fails;
    // a 10th fraction digit makes the zone fail, so no match
    let end = if ch(i, b'Z') {
        i + 1
    } else if ch(i, b'+') || ch(i, b'-') {
        let h = num(i + 1, 2)?;
        if h > 19 {
            return None;
        }
        let mut j = i + 3;
        if ch(j, b':') {
            j += 1;
        }
        if digit(j).is_some_and(|d| d <= 5) && digit(j + 1).is_some() {
            j += 2;
        }
        j
    } else {
        return None;
    };
    // calendar check
    if year < 1000 || !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][(month - 1) as usize];
    (day <= days).then_some(end)
}

/// Python's `PATTERN_ISO8601.sub("date", text)`.
fn replace_iso_datetimes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            if let Some(end) = iso_datetime_at(bytes, i) {
                out.push_str(&text[last..i]);
                out.push_str("date");
                i = end;
                last = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[last..]);
    out
}

// ---------------------------------------------------------------------------- placeholders

/// `<name>`, `<name:N>` and `<<name>:N>` placeholders in text, in order.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match placeholder_at(text, i) {
            Some(end) => {
                out.push(text[i..end].to_owned());
                i = end;
            }
            None => i += text[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

fn placeholder_at(text: &str, at: usize) -> Option<usize> {
    let b = text.as_bytes();
    let name_end = |start: usize| -> Option<usize> {
        if !b.get(start)?.is_ascii_alphabetic() {
            return None;
        }
        let mut j = start + 1;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b"_:.-".contains(&b[j])) {
            j += 1;
        }
        Some(j)
    };
    if b.get(at) != Some(&b'<') {
        return None;
    }
    // <<name>:N>
    if b.get(at + 1) == Some(&b'<') {
        if let Some(j) = name_end(at + 2) {
            if b.get(j) == Some(&b'>') && b.get(j + 1) == Some(&b':') {
                let mut k = j + 2;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                if k > j + 2 && b.get(k) == Some(&b'>') {
                    return Some(k + 1);
                }
            }
        }
        return None;
    }
    let j = name_end(at + 1)?;
    (b.get(j) == Some(&b'>')).then_some(j + 1)
}

#[derive(Clone)]
struct Bindings {
    literal: Arc<HashSet<String>>,
    map: HashMap<String, String>,
}

impl Bindings {
    fn new(literal: &HashSet<String>) -> Self {
        Bindings {
            literal: Arc::new(literal.clone()),
            map: HashMap::new(),
        }
    }

    fn kind(ph: &str) -> String {
        let inner = ph.trim_matches(|c| c == '<' || c == '>');
        // re.sub(r"[:_]?\d+", "", inner).split(":")[0]
        let mut out = String::new();
        let chars: Vec<char> = inner.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if (c == ':' || c == '_') && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            } else if c.is_ascii_digit() {
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            } else {
                out.push(c);
                i += 1;
            }
        }
        out.split(':').next().unwrap_or("").to_owned()
    }
}

fn match_str_alt(e: &str, a: &str, alt: Option<&str>, b: &mut Bindings) -> bool {
    if match_str(e, a, b) {
        return true;
    }
    if let Some(alt) = alt.filter(|alt| *alt != a) {
        let mut trial = b.clone();
        if match_str(e, alt, &mut trial) {
            *b = trial;
            return true;
        }
    }
    false
}

enum Piece {
    Lit(String),
    Group(String),
}

/// An expected string against an actual one, wildcard placeholders bound
/// consistently (first match in the regex engine's order, as the scorer).
fn match_str(e: &str, a: &str, b: &mut Bindings) -> bool {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let mut any_wild = false;
    while i < e.len() {
        if let Some(end) = placeholder_at(e, i) {
            let ph = &e[i..end];
            if b.literal.contains(ph) {
                lit.push_str(ph);
            } else if let Some(bound) = b.map.get(ph) {
                lit.push_str(bound);
                any_wild = true;
            } else {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                pieces.push(Piece::Group(ph.to_owned()));
                any_wild = true;
            }
            i = end;
        } else {
            let c = e[i..].chars().next().unwrap_or('\0');
            lit.push(c);
            i += c.len_utf8().max(1);
        }
    }
    pieces.push(Piece::Lit(lit));
    if !any_wild {
        return e == a;
    }
    let mut found: Vec<(String, String)> = Vec::new();
    if !match_pieces(&pieces, a, &mut found) {
        return false;
    }
    for (p, val) in &found {
        let k = Bindings::kind(p);
        for (q, qv) in &b.map {
            if q != p && qv == val && Bindings::kind(q) == k {
                return false;
            }
        }
    }
    for (p, val) in found {
        b.map.insert(p, val);
    }
    true
}

fn match_pieces(pieces: &[Piece], a: &str, found: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return a.is_empty();
    };
    match first {
        Piece::Lit(l) => a
            .strip_prefix(l.as_str())
            .is_some_and(|r| match_pieces(rest, r, found)),
        Piece::Group(name) => {
            if let Some((_, bound)) = found.iter().find(|(n, _)| n == name) {
                let bound = bound.clone();
                return a
                    .strip_prefix(bound.as_str())
                    .is_some_and(|r| match_pieces(rest, r, found));
            }
            // non-greedy: shortest non-empty first
            let mut ends: Vec<usize> = a.char_indices().map(|(i, _)| i).skip(1).collect();
            ends.push(a.len());
            for end in ends {
                if end == 0 {
                    continue;
                }
                found.push((name.clone(), a[..end].to_owned()));
                if match_pieces(rest, &a[end..], found) {
                    return true;
                }
                found.pop();
            }
            false
        }
    }
}

// ---------------------------------------------------------------------------- history

enum Item {
    One(Value),
    Block(Vec<Value>),
}

fn blocks(events: &[Value]) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for ev in events {
        if ev.get("id") == Some(&json!([0])) {
            if let Some(Item::Block(b)) = items.last_mut() {
                b.push(ev.clone());
                continue;
            }
            items.push(Item::Block(vec![ev.clone()]));
        } else {
            items.push(Item::One(ev.clone()));
        }
    }
    items
}

fn compare_history_types(exp: &[Value], act: &[Value], multiset: bool) -> Result<(), String> {
    let types =
        |v: &[Value]| -> Vec<String> { v.iter().map(|e| str_of(e, "type").to_owned()).collect() };
    if !multiset {
        let (et, at) = (types(exp), types(act));
        if et == at {
            return Ok(());
        }
        for (i, (x, y)) in et.iter().zip(&at).enumerate() {
            if x != y {
                return Err(format!("event #{}: expected {x} got {y}", i + 1));
            }
        }
        let n = et.len().min(at.len());
        let extra = et.get(n).or(at.get(n)).cloned().unwrap_or_default();
        return Err(format!(
            "{} events expected, {} got (first unmatched: {extra})",
            et.len(),
            at.len()
        ));
    }
    let (ei, ai) = (blocks(exp), blocks(act));
    if ei.len() != ai.len() {
        return Err(format!(
            "{} history items expected, {} got",
            ei.len(),
            ai.len()
        ));
    }
    for (i, (x, y)) in ei.iter().zip(&ai).enumerate() {
        match (x, y) {
            (Item::Block(xs), Item::Block(ys)) => {
                let mut cx = types(xs);
                let mut cy = types(ys);
                cx.sort();
                cy.sort();
                if cx != cy {
                    return Err(format!(
                        "branch block #{}: expected {cx:?} got {cy:?}",
                        i + 1
                    ));
                }
            }
            (Item::One(x), Item::One(y)) => {
                if str_of(x, "type") != str_of(y, "type") {
                    return Err(format!(
                        "item #{}: expected {} got {}",
                        i + 1,
                        str_of(x, "type"),
                        str_of(y, "type")
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "item #{}: sorted-branch block vs single event",
                    i + 1
                ))
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------- self-checks

#[test]
fn iso_datetimes_are_replaced_like_the_recorder() {
    assert_eq!(
        replace_iso_datetimes("at 2024-02-29T10:00:00Z."),
        "at date."
    );
    assert_eq!(
        replace_iso_datetimes("2023-02-29T10:00:00Z"),
        "2023-02-29T10:00:00Z"
    );
    assert_eq!(
        replace_iso_datetimes("2024-01-01T10:00:00.123+01:00x"),
        "datex"
    );
    assert_eq!(
        replace_iso_datetimes("2024-01-01T24:00:00Z"),
        "2024-01-01T24:00:00Z"
    );
    assert_eq!(
        replace_iso_datetimes("2024-01-01T10:00:00"),
        "2024-01-01T10:00:00"
    );
}

#[test]
fn placeholders_are_consistent_wildcards() {
    let lit: HashSet<String> = ["<region>".to_owned()].into_iter().collect();
    let mut b = Bindings::new(&lit);
    assert!(match_str(
        "arn:<region>:<uuid:1>",
        "arn:<region>:abc",
        &mut b
    ));
    assert!(match_str("<uuid:1>/x", "abc/x", &mut b));
    assert!(!match_str("<uuid:1>", "abd", &mut b));
    assert!(
        !match_str("<uuid:2>", "abc", &mut b),
        "two placeholders of one kind differ"
    );
    assert!(!match_str("arn:<region>:x", "arn:us-east-1:x", &mut b));
    assert_eq!(Bindings::kind("<uuid:12>"), "uuid");
    assert_eq!(Bindings::kind("<<task_token>:1>"), "task_token>"); // as the scorer
    assert_eq!(
        placeholders("a<b:1>c<<d>:2>e<f>"),
        vec!["<b:1>", "<<d>:2>", "<f>"]
    );
}

#[test]
fn expected_failures_file_format() {
    let list = parse_expected_failures("# group\nfoo.py::T::t[x]#key  # reason here\n\nbar#k\n");
    assert_eq!(
        list.get("foo.py::T::t[x]#key").map(String::as_str),
        Some("reason here")
    );
    assert_eq!(list.get("bar#k").map(String::as_str), Some(""));
    assert_eq!(list.len(), 2);
}

#[test]
fn jsonpath_and_key_transforms() {
    let mut v = json!({"a": {"SdkHttpMetadata": {"x": {"Date": "Mon"}}}, "l": [{"Date": 1}]});
    jsonpath_set(&mut v, "$..SdkHttpMetadata..Date", &json!("date"));
    assert_eq!(v["a"]["SdkHttpMetadata"]["x"]["Date"], "date");
    assert_eq!(v["l"][0]["Date"], 1);
    let mut v = json!({"k": [{"MD5OfBody": "x"}], "MD5OfBody": ""});
    kv_transform(&mut v, "MD5OfBody", &json!("<md5-hash>"));
    assert_eq!(
        v,
        json!({"k": [{"MD5OfBody": "<md5-hash>"}], "MD5OfBody": ""})
    );
    let mut v = json!({"TimestampValue": 5, "o": {"timestamp": "2024-01-01T00:00:00Z"}});
    kv_timestamp(&mut v);
    assert_eq!(
        v,
        json!({"TimestampValue": "timestamp", "o": {"timestamp": "2024-01-01T00:00:00Z"}})
    );
}
