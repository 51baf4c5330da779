//! Full JSONPath through `jsonpath_lib`: the only file that uses it, and only
//! for paths that are not Reference Paths.

use serde_json::Value;

/// A compiled non-definite JSONPath, rooted at `$`.
#[derive(Clone)]
pub(crate) struct Query {
    compiled: jsonpath_lib::Compiled,
}

impl Query {
    /// Compiles the steps of a path (the text after its root, which is
    /// `root_len` bytes long).
    pub(crate) fn compile(steps: &str, root_len: usize) -> Result<Query, String> {
        guard(steps)?;
        let text = format!("${steps}");
        let compiled =
            jsonpath_lib::Compiled::compile(&text).map_err(|e| describe(&e, root_len))?;
        Ok(Query { compiled })
    }

    /// Every match, in document order, as an array.
    pub(crate) fn select(&self, value: &Value) -> Value {
        match self.compiled.select(value) {
            Ok(found) => Value::Array(found.into_iter().cloned().collect()),
            Err(_) => Value::Array(Vec::new()),
        }
    }
}

/// At most this many `.`, `[` and `(` in a path given to jsonpath_lib: its
/// parser and selector recurse once per step and overflow the stack on a few
/// thousand.
const MAX_NESTING: usize = 256;

/// Rejects what jsonpath_lib would accept and then panic or overflow on.
fn guard(steps: &str) -> Result<(), String> {
    let nesting = steps
        .bytes()
        .filter(|b| matches!(b, b'.' | b'[' | b'('))
        .count();
    if nesting > MAX_NESTING {
        return Err(format!(
            "a path may have at most {MAX_NESTING} steps and nested parentheses"
        ));
    }
    if zero_slice_step(steps) {
        return Err("a slice step must not be 0".to_owned());
    }
    Ok(())
}

/// True when a slice `[a:b:0]` has a step of zero (jsonpath_lib panics on it).
fn zero_slice_step(steps: &str) -> bool {
    let mut quote = None;
    let mut colons = 0;
    let mut step = String::new();
    for c in steps.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' => {
                colons = 0;
                step.clear();
            }
            ':' => {
                colons += 1;
                step.clear();
            }
            ']' => {
                if colons >= 2 && step.trim().parse::<u64>() == Ok(0) {
                    return true;
                }
                colons = 0;
            }
            c => step.push(c),
        }
    }
    false
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
