//! The scene as a Graphviz DOT digraph.
//!
//! Every label is a quoted string; inside it `"` and `\` are backslash
//! escaped (so Graphviz's own `\n`, `\N`, `\G` escapes never fire on a
//! name), `&` is `&amp;` (Graphviz reads entities in labels), line breaks
//! are `\n`, tabs stay, and other control characters, which SVG output cannot carry,
//! become U+FFFD.

use super::{EdgeKind, Item, Mark, Scene, Shape, Step};
use std::fmt::Write;

pub(super) fn write(scene: &Scene) -> String {
    let mut out = String::from("digraph stepfn {\n");
    out.push_str("    graph [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("    node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("    edge [fontname=\"Helvetica\", fontsize=9];\n");
    super::walk_items(&scene.items, |step| {
        let (item, level) = match step {
            Step::Item(item, level) => (item, level),
            Step::Close(level) => {
                let _ = writeln!(out, "{}}}", "    ".repeat(level));
                return;
            }
        };
        let indent = "    ".repeat(level);
        match item {
            Item::Node(node) => {
                let (shape, rounded) = shape(node.shape);
                let mut styles = Vec::new();
                if rounded {
                    styles.push("rounded");
                }
                let colours = node.mark.map(colours);
                if colours.is_some() {
                    styles.push("filled");
                }
                let _ = write!(
                    out,
                    "{indent}{} [label=\"{}\", shape={shape}",
                    node.id,
                    escape(&node.label)
                );
                if !styles.is_empty() {
                    let _ = write!(out, ", style=\"{}\"", styles.join(","));
                }
                if let Some((fill, stroke)) = colours {
                    let _ = write!(out, ", fillcolor=\"{fill}\", color=\"{stroke}\"");
                }
                out.push_str("];\n");
            }
            Item::Group(group) => {
                let _ = writeln!(out, "{indent}subgraph cluster_{} {{", group.id);
                let _ = writeln!(
                    out,
                    "{indent}    label=\"{}\";\n{indent}    style=dashed;",
                    escape(&group.title)
                );
            }
        }
    });
    for edge in &scene.edges {
        let mut attributes = Vec::new();
        if let Some(label) = &edge.label {
            attributes.push(format!("label=\"{}\"", escape(label)));
        }
        match edge.kind {
            EdgeKind::Flow => {}
            EdgeKind::Catch => attributes.push("style=dashed".into()),
            EdgeKind::Into => attributes.push("style=dotted, arrowhead=empty".into()),
        }
        if edge.taken {
            attributes.push("color=\"#0d6efd\", penwidth=2.5".into());
        }
        if attributes.is_empty() {
            let _ = writeln!(out, "    {} -> {};", edge.from, edge.to);
        } else {
            let _ = writeln!(
                out,
                "    {} -> {} [{}];",
                edge.from,
                edge.to,
                attributes.join(", ")
            );
        }
    }
    out.push_str("}\n");
    out
}

/// The Graphviz shape of a state type, and whether its corners are rounded.
fn shape(shape: Shape) -> (&'static str, bool) {
    match shape {
        Shape::Start => ("circle", false),
        Shape::End => ("doublecircle", false),
        Shape::Task => ("box", false),
        Shape::Pass => ("box", true),
        Shape::Choice => ("diamond", false),
        Shape::Wait => ("hexagon", false),
        Shape::Succeed => ("oval", false),
        Shape::Fail => ("octagon", false),
        Shape::Parallel | Shape::Map => ("box3d", false),
    }
}

/// Fill and line colour of a mark.
fn colours(mark: Mark) -> (&'static str, &'static str) {
    match mark {
        Mark::Passed => ("#d1e7dd", "#198754"),
        Mark::Caught => ("#fff3cd", "#fd7e14"),
        Mark::Failed => ("#f8d7da", "#dc3545"),
    }
}

/// `text` for the inside of a DOT quoted string used as a label.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            escape(r#"a "b" \n \N & <i> -> {x|y}"#),
            r#"a \"b\" \\n \\N &amp; <i> -> {x|y}"#
        );
        assert_eq!(escape("x\ny\r\u{1}é"), "x\\ny\u{fffd}\u{fffd}é");
    }
}
