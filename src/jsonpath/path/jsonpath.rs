//! Full JSONPath through `jsonpath_lib`: the only file that uses it, and only
//! for paths that are not Reference Paths.

use serde_json::Value;

/// The most JSON text (in bytes) the matches of one full JSONPath may add
/// up to: recursive descent on deeply nested data copies each level's
/// subtree again, so a small input can otherwise yield gigabytes.
pub const MAX_MATCH_BYTES: usize = 64 << 20;

/// A compiled non-definite JSONPath, rooted at `$`.
#[derive(Clone)]
pub(crate) struct Query {
    compiled: jsonpath_lib::Compiled,
}

impl Query {
    /// Compiles the steps of a path (the text after its root, which is
    /// `root_len` bytes long).
    pub(crate) fn compile(steps: &str, root_len: usize) -> Result<Query, String> {
        super::check::check(steps, root_len)?;
        let text = format!("${steps}");
        let compiled =
            jsonpath_lib::Compiled::compile(&text).map_err(|e| describe(&e, root_len))?;
        Ok(Query { compiled })
    }

    /// Every match, in document order, as an array; `None` when the
    /// matches are larger than [`MAX_MATCH_BYTES`] of JSON text (they are
    /// measured before anything is copied).
    pub(crate) fn select(&self, value: &Value) -> Option<Value> {
        let Ok(found) = self.compiled.select(value) else {
            return Some(Value::Array(Vec::new()));
        };
        let mut budget = MAX_MATCH_BYTES;
        for node in &found {
            let scan = crate::json::scan(node, Some(budget), None);
            if scan.too_big {
                return None;
            }
            budget = budget.saturating_sub(scan.measure.bytes);
        }
        Some(Value::Array(found.into_iter().cloned().collect()))
    }
}

/// jsonpath_lib's parse error (the path, a newline and carets up to where
/// it stopped) as a lowercase fragment.
fn describe(error: &str, root_len: usize) -> String {
    let carets = error
        .rsplit('\n')
        .next()
        .map_or(0, |line| line.chars().filter(|&c| c == '^').count());
    if carets == 0 {
        "invalid jsonpath syntax".to_owned()
    } else {
        // Carets count characters of `$` + steps, so the last one marks
        // character `carets` of that text.
        let at = carets + root_len.saturating_sub(1);
        format!("invalid jsonpath syntax near character {at}")
    }
}
