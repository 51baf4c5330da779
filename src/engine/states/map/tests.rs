//! Unit tests of map.rs: reading ToleratedFailure fields as Java does.

use super::{java_double, java_int};
use serde_json::json;

#[test]
fn integers_read_as_java_parse_int() {
    for (v, n) in [
        (json!(1), Some(1)),
        (json!("1"), Some(1)),
        (json!("+7"), Some(7)),
        (json!("-1"), Some(-1)),
        (json!("2147483647"), Some(2_147_483_647)),
        (json!("-2147483648"), Some(-2_147_483_648)),
        (json!("2147483648"), None),
        (json!("99999999999999999999"), None),
        (json!(1.0), None),
        (json!("1.5"), None),
        (json!(" 1"), None),
        (json!("+"), None),
        (json!("+-1"), None),
        (json!(""), None),
        (json!(true), None),
        (json!(null), None),
    ] {
        assert_eq!(java_int(&v), n, "{v}");
    }
}

#[test]
fn floats_read_as_java_parse_double() {
    for (v, n) in [
        (json!(1.5), Some(1.5)),
        (json!("1.5"), Some(1.5)),
        (json!(" 50 "), Some(50.0)),
        (json!("5."), Some(5.0)),
        (json!(".5"), Some(0.5)),
        (json!("+.5"), Some(0.5)),
        (json!("1e2"), Some(100.0)),
        (json!("-1E-1"), Some(-0.1)),
        (json!("."), None),
        (json!("1e"), None),
        (json!("e1"), None),
        (json!("inf"), None),
        (json!("0x10"), None),
        (json!("1.5.1"), None),
        (json!([]), None),
    ] {
        assert_eq!(java_double(&v), n, "{v}");
    }
    assert!(java_double(&json!("NaN")).is_some_and(f64::is_nan));
    assert_eq!(java_double(&json!("-Infinity")), Some(f64::NEG_INFINITY));
}
