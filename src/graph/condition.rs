//! A JSONPath Choice condition in short, from the rule as written:
//! `$.x == 1`, `$.a < $.b`, `$.s matches "a*"`, `$.v is present`,
//! `a && b`, `a || b`, `!(a)`.

use serde_json::{Map, Value};

/// Nesting past this depth is written `…` (loading already refuses rules
/// nested deeper than the engine's limit; this keeps the writer bounded on
/// its own).
const MAX_DEPTH: usize = 80;

/// The short text of a condition written as a JSON object.
pub(super) fn json_path(rule: &Value) -> String {
    let mut out = String::new();
    write(&mut out, rule, 0);
    out
}

fn write(out: &mut String, rule: &Value, depth: usize) {
    let Some(object) = rule.as_object() else {
        out.push_str(&rule.to_string());
        return;
    };
    if depth > MAX_DEPTH {
        out.push('…');
        return;
    }
    if let Some(Value::Array(all)) = object.get("And") {
        join(out, all, " && ", depth);
    } else if let Some(Value::Array(any)) = object.get("Or") {
        join(out, any, " || ", depth);
    } else if let Some(inner) = object.get("Not") {
        out.push_str("!(");
        write(out, inner, depth + 1);
        out.push(')');
    } else {
        test(out, object);
    }
}

/// The operands of `And`/`Or` with `separator`, a compound operand in
/// parentheses.
fn join(out: &mut String, rules: &[Value], separator: &str, depth: usize) {
    for (i, rule) in rules.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        let compound = rule
            .as_object()
            .is_some_and(|o| o.contains_key("And") || o.contains_key("Or"));
        if compound {
            out.push('(');
        }
        write(out, rule, depth + 1);
        if compound {
            out.push(')');
        }
    }
}

/// One data test: `Variable` and its operator.
fn test(out: &mut String, object: &Map<String, Value>) {
    let variable = object
        .get("Variable")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let Some((operator, operand)) = object
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "Variable" | "Comment" | "Next" | "Assign"))
    else {
        out.push_str(variable);
        return;
    };
    out.push_str(variable);
    if let Some(kind) = operator.strip_prefix("Is") {
        let negated = operand == &Value::Bool(false);
        out.push_str(if negated { " is not " } else { " is " });
        out.push_str(&kind.to_ascii_lowercase());
        return;
    }
    let (comparison, is_path) = match operator.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (operator.as_str(), false),
    };
    let symbol = ["String", "Numeric", "Boolean", "Timestamp"]
        .iter()
        .find_map(|t| comparison.strip_prefix(t))
        .and_then(|rest| match rest {
            "Equals" => Some("=="),
            "LessThan" => Some("<"),
            "GreaterThan" => Some(">"),
            "LessThanEquals" => Some("<="),
            "GreaterThanEquals" => Some(">="),
            "Matches" => Some("matches"),
            _ => None,
        });
    out.push(' ');
    out.push_str(symbol.unwrap_or(operator));
    out.push(' ');
    match operand {
        Value::String(path) if is_path => out.push_str(path),
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::json_path;
    use serde_json::json;

    #[test]
    fn tests_in_short() {
        let short = |v| json_path(&v);
        assert_eq!(
            short(json!({"Variable": "$.x", "NumericEquals": 1})),
            "$.x == 1"
        );
        assert_eq!(
            short(json!({"Variable": "$.s", "StringEquals": "a\"b"})),
            r#"$.s == "a\"b""#
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "NumericLessThanPath": "$.b"})),
            "$.a < $.b"
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "TimestampGreaterThanEquals": "2020-01-01T00:00:00Z"})),
            r#"$.a >= "2020-01-01T00:00:00Z""#
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "StringLessThanEquals": "m"})),
            r#"$.a <= "m""#
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "NumericGreaterThan": 2.5})),
            "$.a > 2.5"
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "BooleanEquals": true})),
            "$.a == true"
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "StringMatches": "*.log"})),
            r#"$.a matches "*.log""#
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "IsPresent": true})),
            "$.a is present"
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "IsNull": false})),
            "$.a is not null"
        );
        assert_eq!(
            short(json!({"Variable": "$.a", "IsTimestamp": true})),
            "$.a is timestamp"
        );
    }

    #[test]
    fn and_or_not_in_short() {
        let a = json!({"Variable": "$.a", "NumericEquals": 1});
        let b = json!({"Variable": "$.b", "IsNull": true});
        let short = |v| json_path(&v);
        assert_eq!(short(json!({"And": [a, b]})), "$.a == 1 && $.b is null");
        assert_eq!(
            short(json!({"Or": [a, {"And": [a, b]}]})),
            "$.a == 1 || ($.a == 1 && $.b is null)"
        );
        assert_eq!(
            short(json!({"Not": {"Or": [a, b]}})),
            "!($.a == 1 || $.b is null)"
        );
        assert_eq!(short(json!({"Not": a})), "!($.a == 1)");
    }

    #[test]
    fn deep_nesting_is_cut() {
        let mut rule = json!({"Variable": "$.a", "IsPresent": true});
        for _ in 0..100 {
            rule = json!({"Not": rule});
        }
        let text = json_path(&rule);
        assert!(text.contains('…') && !text.contains("$.a"), "{text}");
    }
}
