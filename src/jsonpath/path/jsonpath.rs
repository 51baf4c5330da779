//! Full JSONPath (paths that are not Reference Paths): parsed once by
//! [`super::check`] into [`super::full`]'s compiled form, evaluated by it.

use serde_json::Value;

/// The most JSON text (in bytes) the matches of one full JSONPath may add
/// up to: recursive descent on deeply nested data copies each level's
/// subtree again, so a small input can otherwise yield gigabytes.
pub const MAX_MATCH_BYTES: usize = 64 << 20;

/// A compiled non-definite JSONPath, rooted at `$`.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    compiled: super::full::Query,
    /// Every match is a different node of the document, none inside
    /// another (no `..`, no union that can name a node twice): the
    /// matches add up to at most the document, so they are not measured.
    disjoint: bool,
}

impl Query {
    /// Compiles the steps of a path (the text after its root, which is
    /// `root_len` bytes long).
    pub(crate) fn compile(steps: &str, root_len: usize) -> Result<Query, String> {
        let compiled = super::check::parse(steps, root_len)?;
        let disjoint = compiled.steps.iter().all(|step| {
            !step.descend
                && !matches!(
                    step.selector,
                    super::full::Selector::Names(_) | super::full::Selector::Indexes(_)
                )
        });
        Ok(Query { compiled, disjoint })
    }

    /// Every match, in document order, as an array; `None` when the
    /// matches are larger than [`MAX_MATCH_BYTES`] of JSON text (they are
    /// measured as they are found, before anything is copied).
    pub(crate) fn select(&self, value: &Value) -> Option<Value> {
        let found = self.matches(value)?;
        Some(Value::Array(found.into_iter().cloned().collect()))
    }

    /// Every match, in document order; `None` as for [`Query::select`].
    pub(crate) fn matches<'v>(&self, value: &'v Value) -> Option<Vec<&'v Value>> {
        if self.disjoint {
            return super::full::select(&self.compiled, value, MAX_MATCH_BYTES, |_, _| Some(0));
        }
        super::full::select(&self.compiled, value, MAX_MATCH_BYTES, |node, budget| {
            // Strings, booleans and null directly (most matches are
            // strings); anything else by the payload measure.
            let bytes = match node {
                Value::String(s) => crate::json::str_len(s),
                Value::Null | Value::Bool(true) => 4,
                Value::Bool(false) => 5,
                _ => {
                    let scan = crate::json::scan(node, Some(budget), None);
                    return (!scan.too_big).then_some(scan.measure.bytes);
                }
            };
            (bytes <= budget).then_some(bytes)
        })
    }
}
