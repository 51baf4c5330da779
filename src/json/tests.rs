//! Unit tests of json.rs: measuring, depth, bounded text parsing.

use super::text::{text_depth, TextError};
use super::*;

fn nested(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn text_is_read_up_to_the_depth_limit() {
    let value = from_text(&nested(MAX_TEXT_DEPTH), MAX_TEXT_DEPTH).expect("1000 levels");
    assert_eq!(
        scan(&value, None, Some(MAX_TEXT_DEPTH)).measure.depth,
        MAX_TEXT_DEPTH
    );
    dismantle(value);
    let deeper = from_text(&nested(MAX_TEXT_DEPTH + 1), MAX_TEXT_DEPTH).unwrap_err();
    assert_eq!(
        deeper.to_string(),
        "arrays and objects are nested more than 1000 levels deep"
    );
    // far deeper text is refused before the parser sees it
    assert!(matches!(
        from_text(&nested(1_000_000), MAX_TEXT_DEPTH),
        Err(TextError::TooDeep(1000))
    ));
}

#[test]
fn brackets_inside_strings_do_not_count() {
    let text = format!(r#"{{"a": "{}\"[", "b": [1]}}"#, "[".repeat(2000));
    assert_eq!(from_text(&text, 2).unwrap()["b"], serde_json::json!([1]));
    assert_eq!(
        from_text("[1,", 10).unwrap_err().to_string(),
        "EOF while parsing a value at line 1 column 3"
    );
    assert_eq!(
        from_text("[1] x", 10).unwrap_err().to_string(),
        "trailing characters at line 1 column 5"
    );
}
#[test]
fn escapes_inside_strings_are_skipped_whole() {
    // an escaped backslash ends before the quote: the brackets after count
    assert_eq!(text_depth(br#"["\\", [[]]]"#, 10), Some(3));
    assert!(matches!(
        from_text(r#"["\\", [[]]]"#, 2),
        Err(TextError::TooDeep(2))
    ));
    // an escaped quote does not end the string
    assert_eq!(text_depth(br#"["\"[[", []]"#, 10), Some(2));
    // an unterminated string hides what follows (the parser then fails)
    assert_eq!(text_depth(br#"[["[[[["#, 10), Some(2));
}

#[test]
fn text_reads_as_serde_json_reads_it() {
    for text in [
        r#"{"a": 1, "b": [true, null, -0, 1.5e300, 18446744073709551615, -9223372036854775808]}"#,
        r#"{"k": 1, "j": 2, "k": 3}"#,
        r#""\u00e9\n\"[""#,
        "  [ [] , {} ]  ",
        "0.1",
        "-0.0",
    ] {
        let ours = from_text(text, 10).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs, "{text}");
        assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
    }
}

#[test]
fn too_deep_wins_over_not_json() {
    // refused for its depth even though it is not JSON either, inline or not
    assert!(matches!(
        from_text(&format!("[1,,{}", nested(2000)), MAX_TEXT_DEPTH),
        Err(TextError::TooDeep(1000))
    ));
    assert!(matches!(
        from_text(&format!("[1,,{}", nested(10)), 5),
        Err(TextError::TooDeep(5))
    ));
    // a limit below the inline depth holds
    assert!(from_text(&nested(5), 5).is_ok());
    // deep text (read on a thread) that is not JSON: the parser's error
    assert_eq!(
        from_text(&format!("{}x", "[".repeat(100)), MAX_TEXT_DEPTH)
            .unwrap_err()
            .to_string(),
        "expected value at line 1 column 101"
    );
}

use proptest::prelude::*;
use serde_json::json;

/// The depth as defined for [`Measure`], recursively.
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn text_len(v: &Value) -> usize {
    serde_json::to_string(v).unwrap().len()
}

fn samples() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(7),
        json!(10),
        json!(-1),
        json!(-12),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1.5),
        json!(-0.25),
        json!(0.1),
        json!(1e300),
        json!(-1e-7),
        json!(123456789.125),
        json!(f64::MAX),
        json!(f64::MIN_POSITIVE),
        json!(""),
        json!("plain"),
        json!("a\"b\\c\n\u{1}é"),
        json!("\u{0}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f} tail"),
        json!("ümlaut, 漢字, 🦀 and \"quotes\" in a string longer than eight bytes"),
        json!("12345678"),
        json!("1234567\""),
        json!({"k\"": [1, {"x": null}], "": ""}),
        json!({"\n": {"\t": ["\\", -3, 2.5e-3, false]}}),
        json!([]),
        json!({}),
        json!([[]]),
        json!([{}, [], [[{}]]]),
        json!({"a": {"b": {"c": {"d": []}}}, "e": [1, [2, [3, [4]]]]}),
    ]
}

#[test]
fn the_measure_is_serde_json_length_and_the_nesting_depth() {
    for v in samples() {
        let m = measure_exact(&v);
        assert_eq!(m.bytes, text_len(&v), "bytes of {v}");
        assert_eq!(m.depth, depth(&v), "depth of {v}");
        assert_eq!(json_len(&v), text_len(&v), "json_len of {v}");
        assert_eq!(
            bound(&v, Some(usize::MAX - 1), Some(usize::MAX - 1)),
            m,
            "bound of {v}"
        );
    }
}

#[test]
fn len_within_and_counted_bound_every_sample() {
    let bounds = Bounds {
        max_bytes: Some(262_144),
        max_depth: Some(1000),
    };
    let deep = serde_json::from_str::<Value>(&nested(63)).unwrap();
    for v in samples().into_iter().chain([deep]) {
        let bytes = text_len(&v);
        assert_eq!(len_within(&v, bytes), Some(bytes), "len_within of {v}");
        assert_eq!(len_within(&v, bytes - 1), None, "len_within of {v}");
        // a short value is bounded by its size, a long one walked: never
        // below the real measure
        let bound = bounds.counted((v.clone(), Some(bytes))).bound;
        assert_eq!(bound.bytes, bytes, "counted bytes of {v}");
        assert!(bound.depth >= depth(&v), "counted depth of {v}: {bound:?}");
    }
}

#[test]
fn str_len_is_the_length_of_the_string_literal() {
    for s in [
        "",
        "a",
        "abcdefgh",
        "abcdefghi",
        "\u{1f}",
        "x\u{7f}",
        "\"\"",
        "\\",
    ] {
        assert_eq!(str_len(s), text_len(&json!(s)), "{s:?}");
    }
    // a special byte in every position of a word and of the tail
    for i in 0..20 {
        for special in ["\"", "\\", "\n", "\u{1}"] {
            let mut s = "x".repeat(20);
            s.replace_range(i..=i, special);
            assert_eq!(str_len(&s), text_len(&json!(s)), "{s:?}");
        }
    }
}

#[test]
fn scan_passes_the_byte_limit_only_above_it() {
    let v = json!({"a": [1, 2, "three"], "b": {"c": null}});
    let len = text_len(&v);
    let at = scan(&v, Some(len), None);
    assert!(!at.too_big);
    assert_eq!(at.measure.bytes, len);
    let below = scan(&v, Some(len - 1), None);
    assert!(below.too_big);
    assert!(!below.too_deep);
    assert_eq!(below.measure.bytes, usize::MAX);
}

#[test]
fn scan_passes_the_depth_limit_only_above_it() {
    let v = json!([[[1]], {"a": []}]);
    assert_eq!(depth(&v), 3);
    let at = scan(&v, None, Some(3));
    assert!(!at.too_deep);
    assert_eq!(at.measure.depth, 3);
    assert_eq!(at.measure.bytes, usize::MAX);
    assert!(scan(&v, None, Some(2)).too_deep);
    assert!(too_deep(&v, 2));
    assert!(!too_deep(&v, 3));
    assert!(!too_deep(&json!(1), 0));
    assert!(too_deep(&json!([]), 0));
}

#[test]
fn depth_wins_over_size_when_both_are_passed() {
    let v = json!([[["a long enough string"]]]);
    let s = scan(&v, Some(3), Some(2));
    assert!(s.too_deep);
    assert!(!s.too_big);
    let s = scan(&v, Some(3), Some(3));
    assert!(!s.too_deep);
    assert!(s.too_big);
    assert_eq!(s.measure.depth, 3);
}

#[test]
fn without_limits_nothing_is_measured() {
    let s = scan(&json!([1, 2, 3]), None, None);
    assert_eq!(s.measure, Measure::UNKNOWN);
    assert!(!s.too_big && !s.too_deep);
    assert_eq!(bound(&json!([1]), None, None), Measure::UNKNOWN);
}

#[test]
fn unknown_stays_unknown() {
    assert_eq!(sub(usize::MAX, 10), usize::MAX);
    assert_eq!(add(usize::MAX, 10), usize::MAX);
    assert_eq!(sub(10, 20), 0);
}

#[test]
fn a_very_deep_value_is_measured_without_recursion() {
    let mut v = json!(1);
    for _ in 0..200_000 {
        v = Value::Array(vec![v]);
    }
    assert!(too_deep(&v, 1000));
    assert_eq!(json_len(&v), 400_001);
    assert_eq!(measure_exact(&v).depth, 200_000);
    // dropped without recursion
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        if let Value::Array(a) = v {
            stack.extend(a);
        }
    }
}

#[test]
fn values_nested_around_the_inline_frames_are_measured_exactly() {
    for levels in 0..INLINE_FRAMES * 3 {
        let mut v = json!({"leaf": "x\n"});
        for i in 0..levels {
            v = if i % 2 == 0 {
                json!([1, v, {}])
            } else {
                json!({"k": v, "z": []})
            };
        }
        let m = measure_exact(&v);
        assert_eq!(m.bytes, text_len(&v), "{levels} levels");
        assert_eq!(m.depth, depth(&v), "{levels} levels");
        assert!(too_deep(&v, m.depth - 1));
        assert!(!too_deep(&v, m.depth));
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\a-c]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn the_measure_matches_serde_json_on_any_value(v in any_json()) {
        let m = measure_exact(&v);
        prop_assert_eq!(m.bytes, text_len(&v));
        prop_assert_eq!(m.depth, depth(&v));
        let len = m.bytes;
        prop_assert!(!scan(&v, Some(len), Some(m.depth)).too_big);
        prop_assert!(scan(&v, Some(len - 1), None).too_big);
        if m.depth > 0 {
            prop_assert!(scan(&v, None, Some(m.depth - 1)).too_deep);
        }
    }
}

/// The measure of object `o` as a template builds it: its keys' text is
/// known beforehand, its values are counted one by one.
fn built(o: &serde_json::Map<String, Value>, bounds: Bounds) -> Measure {
    let skeleton = 1 + o.len().max(1) + o.keys().map(|k| str_len(k) + 1).sum::<usize>();
    let mut b = Built::new(bounds, skeleton);
    for v in o.values() {
        b.add(v);
    }
    b.measure()
}

proptest! {
    #[test]
    fn an_object_measured_as_it_is_built_measures_as_a_walk_of_it(
        entries in prop::collection::vec((any::<String>(), any_json()), 0..8)
    ) {
        let o: serde_json::Map<String, Value> = entries.into_iter().collect();
        let v = Value::Object(o.clone());
        let exact = measure_exact(&v);
        for max_bytes in [None, Some(exact.bytes), Some(exact.bytes - 1)] {
            for max_depth in [None, Some(exact.depth), Some(exact.depth - 1)] {
                let bounds = Bounds { max_bytes, max_depth };
                prop_assert_eq!(built(&o, bounds), bounds.measure(&v), "{:?}", bounds);
            }
        }
    }
}
