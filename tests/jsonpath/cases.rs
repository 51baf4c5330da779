//! Full JSONPath answered as AWS (Jayway JsonPath) answers it: every case of
//! `fixtures/jsonpath-cases.json` (path, document, expected answer, and the
//! source of that answer), plus a differential property test against
//! jsonpath_lib on the grammar where both follow the same rules.

use serde_json::{json, Value};
use stepfn::jsonpath::{Env, Path};

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

/// The differential test against jsonpath_lib. Both libraries follow the
/// same rules on this grammar: documents are objects whose `a` and `b`
/// members are arrays (of such objects and of numbers) and whose `c` member
/// is a number; paths alternate a field step (`.a`, `..a`, `['b']`) with an
/// array step (`[*]`, `[i]`, `[i,j]`, `[s:e]`, `[s:e:k]`, `[?(@.c op n)]`,
/// `[?(@.c)]`) with non-negative indexes, and may end with `.c` or `..c`.
///
/// Known disagreements, kept out of the grammar (the table has a case for
/// each): a negative index or slice bound (jsonpath_lib clamps an index
/// out of range; `$..[-1]` acts like `$..[0]`), an array step right after
/// `..` (jsonpath_lib's `$..[1:]` is empty), an index or filter on an
/// object (jsonpath_lib picks from its array members; Jayway tests the
/// object itself), a union of names (a list in stepfn, one object in
/// Jayway), `!=` with a missing field (true in Jayway), comparisons
/// between a string and a number, and a union naming one index twice
/// (jsonpath_lib gives the item once, Jayway once per index), and a
/// second descent that reaches one node from two matches of the first
/// (`$..b[*]..a` over nested `b`s: jsonpath_lib gives the node once,
/// Jayway once per route), so a path here has at most one descent.
mod differential {
    use super::*;
    use proptest::prelude::*;

    fn document() -> impl Strategy<Value = Value> {
        let leaf = (0i64..6).prop_map(|c| json!({ "c": c }));
        leaf.prop_recursive(4, 48, 4, |inner| {
            let item = prop_oneof![inner, (0i64..6).prop_map(Value::from)];
            (
                prop::collection::vec(item.clone(), 0..5),
                prop::collection::vec(item, 0..5),
                0i64..6,
            )
                .prop_map(|(a, b, c)| json!({ "a": a, "b": b, "c": c }))
        })
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(".a".to_owned()),
            Just(".b".to_owned()),
            Just("['b']".to_owned()),
            Just("..a".to_owned()),
            Just("..b".to_owned()),
        ]
    }

    fn array_step() -> impl Strategy<Value = String> {
        let op = prop_oneof![Just("=="), Just("<"), Just("<="), Just(">"), Just(">=")];
        prop_oneof![
            Just("[*]".to_owned()),
            (0usize..6).prop_map(|i| format!("[{i}]")),
            (0usize..6, 1usize..6).prop_map(|(i, d)| format!("[{i},{}]", (i + d) % 6)),
            (0usize..6, 0usize..7).prop_map(|(s, e)| format!("[{s}:{e}]")),
            (0usize..6, 0usize..7, 1usize..4).prop_map(|(s, e, k)| format!("[{s}:{e}:{k}]")),
            (op, 0i64..6).prop_map(|(op, n)| format!("[?(@.c {op} {n})]")),
            Just("[?(@.c)]".to_owned()),
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        let end = prop_oneof![Just(""), Just(".c"), Just("..c")];
        (prop::collection::vec((field(), array_step()), 1..4), end)
            .prop_map(|(steps, end)| {
                let mut text = "$".to_owned();
                for (field, array) in steps {
                    text.push_str(&field);
                    text.push_str(&array);
                }
                text.push_str(end);
                text
            })
            .prop_filter("at most one descent", |text| {
                text.matches("..").count() <= 1
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn agrees_with_jsonpath_lib(document in document(), path in path()) {
            // A definite path gives its node or fails; jsonpath_lib gives a
            // list either way.
            let definite = Path::parse(&path).expect("valid path").is_definite();
            let ours = match answer(&path, &document) {
                found if definite && found.get("error").is_some() => json!([]),
                found if definite => json!([found]),
                found => found,
            };
            let theirs: Vec<Value> = jsonpath_lib::select(&document, &path)
                .expect("jsonpath_lib reads the path")
                .into_iter()
                .cloned()
                .collect();
            prop_assert_eq!(ours, Value::Array(theirs), "{}", path);
        }
    }
}
