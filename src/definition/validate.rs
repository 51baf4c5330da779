//! Graph checks over every (sub-)machine: transition targets inside their
//! container, a terminal state, reachability.

use super::parse::{Cx, Graph};
use crate::error::{Diagnostic, Severity};
use std::collections::HashMap;

const MISSING_TARGET: &str = "MISSING_TRANSITION_TARGET";

/// Runs the graph checks on every machine recorded while parsing.
pub(crate) fn graphs(cx: &mut Cx) {
    let graphs = std::mem::take(&mut cx.graphs);
    for graph in &graphs {
        check(cx, graph);
    }
}

fn check(cx: &mut Cx, graph: &Graph) {
    if graph.nodes.is_empty() {
        return;
    }
    let index: HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let mut start = None;
    if let Some(name) = &graph.start_at {
        match index.get(name.as_str()) {
            Some(i) => start = Some(*i),
            None => cx.diags.push(Diagnostic::error(
                MISSING_TARGET,
                format!("Missing 'Next' target: {name}"),
                format!("{}/StartAt", graph.loc),
            )),
        }
    }
    // AWS says `Next` whatever the field (Default, Choices[i].Next, Catch[i].Next).
    for node in &graph.nodes {
        for (target, at) in &node.edges {
            if !index.contains_key(target.as_str()) {
                cx.diags.push(Diagnostic::error(
                    MISSING_TARGET,
                    format!("Missing 'Next' target: {target}"),
                    at.clone(),
                ));
            }
        }
    }
    if !graph.nodes.iter().any(|n| n.terminal) {
        // AWS gives this one no location, and skips the reachability walk.
        cx.diags.push(Diagnostic {
            severity: Severity::Error,
            code: "MISSING_END_STATE",
            message: "Workflow has no terminal state".to_owned(),
            location: None,
        });
        return;
    }
    let start = match start {
        Some(s) => s,
        None => return,
    };
    let mut seen = vec![false; graph.nodes.len()];
    let mut stack = vec![start];
    seen[start] = true;
    while let Some(i) = stack.pop() {
        for (target, _) in &graph.nodes[i].edges {
            if let Some(&j) = index.get(target.as_str()) {
                if !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    for (node, reached) in graph.nodes.iter().zip(seen) {
        if !reached {
            cx.diags.push(Diagnostic::error(
                MISSING_TARGET,
                format!("State \"{}\" is not reachable.", node.name),
                node.loc.clone(),
            ));
        }
    }
}
