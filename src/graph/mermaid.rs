//! The scene as a Mermaid flowchart.
//!
//! Every label is a quoted string; inside it the characters Mermaid or the
//! HTML it renders to would read (`"`, `#`, `&`, `<`, `>`, `|`, the
//! backtick of Markdown strings, the `%` of `%%{...}%%` directives, which
//! Mermaid strips wherever they stand) and control characters are written as
//! Mermaid entity codes (`#quot;`, `#35;`...), so any state name shows as
//! written.

use super::{EdgeKind, Item, Mark, Scene, Shape, Step};
use std::fmt::Write;

pub(super) fn write(scene: &Scene) -> String {
    let mut out = String::from("flowchart TD\n");
    let mut marked: [(Mark, Vec<&str>); 3] = [
        (Mark::Passed, Vec::new()),
        (Mark::Caught, Vec::new()),
        (Mark::Failed, Vec::new()),
    ];
    super::walk_items(&scene.items, |step| {
        let (item, level) = match step {
            Step::Item(item, level) => (item, level),
            Step::Close(level) => {
                let _ = writeln!(out, "{}end", "    ".repeat(level));
                return;
            }
        };
        let indent = "    ".repeat(level);
        match item {
            Item::Node(node) => {
                let (open, close) = brackets(node.shape);
                let _ = writeln!(
                    out,
                    "{indent}{}{open}\"{}\"{close}",
                    node.id,
                    escape(&node.label)
                );
                if let Some(mark) = node.mark {
                    if let Some((_, ids)) = marked.iter_mut().find(|(m, _)| *m == mark) {
                        ids.push(&node.id);
                    }
                }
            }
            Item::Group(group) => {
                let _ = writeln!(
                    out,
                    "{indent}subgraph {}[\"{}\"]",
                    group.id,
                    escape(&group.title)
                );
            }
        }
    });
    for edge in &scene.edges {
        let arrow = match edge.kind {
            EdgeKind::Flow => "-->",
            EdgeKind::Catch | EdgeKind::Into => "-.->",
        };
        match &edge.label {
            Some(label) => {
                let _ = writeln!(
                    out,
                    "    {} {arrow}|\"{}\"| {}",
                    edge.from,
                    escape(label),
                    edge.to
                );
            }
            None => {
                let _ = writeln!(out, "    {} {arrow} {}", edge.from, edge.to);
            }
        }
    }
    if scene.marked {
        for (mark, _) in &marked {
            let _ = writeln!(out, "    classDef {} {}", mark.as_str(), style(*mark));
        }
        for (mark, ids) in &marked {
            if !ids.is_empty() {
                let _ = writeln!(out, "    class {} {}", ids.join(","), mark.as_str());
            }
        }
        // the path: links are numbered in the order they were written
        let taken: Vec<String> = scene
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.taken)
            .map(|(i, _)| i.to_string())
            .collect();
        if !taken.is_empty() {
            let _ = writeln!(out, "    linkStyle {} {PATH}", taken.join(","));
        }
    }
    out
}

fn brackets(shape: Shape) -> (&'static str, &'static str) {
    match shape {
        Shape::Start | Shape::End => ("((", "))"),
        Shape::Task => ("[", "]"),
        Shape::Pass => ("(", ")"),
        Shape::Choice => ("{", "}"),
        Shape::Wait => ("{{", "}}"),
        Shape::Succeed => ("([", "])"),
        Shape::Fail => (">", "]"),
        Shape::Parallel | Shape::Map => ("[[", "]]"),
    }
}

/// The style of the links the execution took.
const PATH: &str = "stroke:#0d6efd,stroke-width:3px";

fn style(mark: Mark) -> &'static str {
    match mark {
        Mark::Passed => "fill:#d1e7dd,stroke:#198754,color:#0a3622",
        Mark::Caught => "fill:#fff3cd,stroke:#fd7e14,color:#664d03",
        Mark::Failed => "fill:#f8d7da,stroke:#dc3545,color:#58151c",
    }
}

/// `text` for the inside of a Mermaid quoted string.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            // `%%{...}%%` is a directive wherever it stands
            '%' => out.push_str("#37;"),
            c if c.is_control() => {
                let _ = write!(out, "#{};", u32::from(c));
            }
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
            escape(r#"a "b" #1 & <i> | `c`"#),
            "a #quot;b#quot; #35;1 #amp; #lt;i#gt; #124; #96;c#96;"
        );
        assert_eq!(escape("x\ny\u{7f}"), "x#10;y#127;");
        assert_eq!(escape("-->; end é"), "--#gt;; end é");
        assert_eq!(escape("%%{init: {}}%%"), "#37;#37;{init: {}}#37;#37;");
    }
}
