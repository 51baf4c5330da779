//! Pictures of a state machine: its states and transitions as a Mermaid
//! flowchart or a Graphviz DOT graph, optionally marked with the path an
//! execution took.
//!
//! ```
//! use stepfn::graph::{self, Format};
//! use stepfn::StateMachine;
//!
//! let machine = StateMachine::from_str(r#"{"StartAt": "Greet", "States": {
//!     "Greet": {"Type": "Pass", "Next": "Done"},
//!     "Done": {"Type": "Succeed"}}}"#)?;
//! assert_eq!(graph::mermaid(&machine), "\
//! flowchart TD
//!     start((\"Start\"))
//!     s0(\"Greet\")
//!     s1([\"Done\"])
//!     finish((\"End\"))
//!     start --> s0
//!     s0 --> s1
//!     s1 --> finish
//! ");
//! assert!(graph::render(&machine, Format::Dot, None).starts_with("digraph"));
//! # Ok::<(), stepfn::Error>(())
//! ```
//!
//! # What is drawn
//!
//! Every state is a node labelled with its name, its shape given by its
//! type: Task a rectangle, Pass a rounded rectangle, Choice a rhombus, Wait
//! a hexagon, Succeed a stadium (DOT: an oval), Fail a flag (DOT: an
//! octagon), Parallel and Map a double-edged box (DOT: a 3-D box). The top
//! level starts at a `Start` circle, and its `End: true`, Succeed and Fail
//! states lead to an `End` circle.
//!
//! Edges: `Next` (plain), each Choice rule (labelled with its condition in
//! short: `$.x == 1`, `$.a > $.b`, `$.s matches "a*"`, `$.v is present`,
//! `&&`, `||`, `!(...)` for `And`, `Or`, `Not`; the text of a JSONata
//! `Condition` between `{%` and `%}`; at most 60 characters), the Choice
//! `Default` (labelled `Default`), and each `Catch` (dotted in Mermaid,
//! dashed in DOT, labelled `Catch: ` and its error names).
//!
//! Each Parallel branch and each Map `ItemProcessor` is a group (a Mermaid
//! `subgraph`, a DOT `cluster`) titled with the state's name, nested to any
//! depth; a dotted, unlabelled edge leads from the Parallel or Map node to
//! the start state of each group.
//!
//! State names may hold any character: node identifiers are generated
//! (`s0`, `s3_b1_s0` for the first state of the second branch of the fourth
//! state, `s5_p_s0` for a Map's item processor), and names appear only in
//! labels, escaped for the format (Mermaid entity codes such as `#quot;`,
//! DOT backslash escapes). The output depends only on the definition (its
//! states in definition order) and the marks.
//!
//! # Marking an execution
//!
//! [`Marks`] reads a history (AWS's `GetExecutionHistory` events, as
//! `stepfn run --history` and `stepfn history` print them, or
//! [`Outcome::history`](crate::Outcome::history)) and tells for each state
//! whether the execution passed it, it failed, or it failed and a catcher
//! took over ([`Mark`]); states inside Parallel branches and Map iterations
//! included, and which transitions it took ([`Marks::took`]). The picture
//! gives marked states a style (Mermaid classes `passed`, `caught`,
//! `failed`; DOT fill colours) and draws the transitions taken thicker, in
//! blue (Mermaid `linkStyle`; DOT `color`, `penwidth`).
//!
//! A distributed Map's iterations are child executions with histories of
//! their own: the parent's history leaves the states of its item processor
//! unmarked.

mod condition;
mod dot;
mod history;
mod mermaid;

pub use history::{Mark, Marks};

use crate::definition::{
    ChoiceRules, Definition, JsonataCondition, State, StateKind, SubMachine, Transition,
};
use crate::state_machine::StateMachine;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// The text format of a picture.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// A Mermaid flowchart (GitHub and many Markdown viewers draw it).
    #[default]
    Mermaid,
    /// A Graphviz DOT digraph (`dot -Tsvg`).
    Dot,
}

impl Format {
    /// `"mermaid"` or `"dot"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Mermaid => "mermaid",
            Format::Dot => "dot",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    /// `mermaid` or `dot` (ASCII case ignored).
    fn from_str(text: &str) -> Result<Format, String> {
        match text.to_ascii_lowercase().as_str() {
            "mermaid" => Ok(Format::Mermaid),
            "dot" => Ok(Format::Dot),
            _ => Err(format!("unknown picture format `{text}` (mermaid or dot)")),
        }
    }
}

/// The picture of `machine` in `format`, its states marked by `marks`
/// when given.
pub fn render(machine: &StateMachine, format: Format, marks: Option<&Marks>) -> String {
    render_definition(machine.definition(), format, marks)
}

/// The picture of a definition (see [`render`]).
pub fn render_definition(definition: &Definition, format: Format, marks: Option<&Marks>) -> String {
    let scene = Scene::of(definition, marks);
    match format {
        Format::Mermaid => mermaid::write(&scene),
        Format::Dot => dot::write(&scene),
    }
}

/// The Mermaid picture of `machine`, unmarked.
pub fn mermaid(machine: &StateMachine) -> String {
    render(machine, Format::Mermaid, None)
}

/// The DOT picture of `machine`, unmarked.
pub fn dot(machine: &StateMachine) -> String {
    render(machine, Format::Dot, None)
}

// ---------------------------------------------------------------------------
// The scene: what both formats draw, built once from the definition.

/// The longest edge label, in characters (longer ones end with `…`).
const MAX_LABEL: usize = 60;

/// The identifiers of the two top-level circles; state identifiers all
/// start with `s` and a digit, so they never collide.
const START: &str = "start";
const FINISH: &str = "finish";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Start,
    End,
    Task,
    Pass,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

struct Node {
    id: String,
    label: String,
    shape: Shape,
    mark: Option<Mark>,
}

/// A Parallel branch or a Map item processor.
struct Group {
    id: String,
    title: String,
    items: Vec<Item>,
}

enum Item {
    Node(Node),
    Group(Group),
}

/// A step of [`walk_items`]: an item at its nesting level (1 at the top
/// level), or the end of a group opened at that level.
#[derive(Clone, Copy)]
enum Step<'a> {
    Item(&'a Item, usize),
    Close(usize),
}

/// Every item of `items` in document order, a group's items after it and
/// before its [`Step::Close`], without recursion (groups nest to any
/// depth).
fn walk_items<'a>(items: &'a [Item], mut visit: impl FnMut(Step<'a>)) {
    let mut stack: Vec<Step<'a>> = items.iter().rev().map(|i| Step::Item(i, 1)).collect();
    while let Some(step) = stack.pop() {
        if let Step::Item(Item::Group(group), level) = step {
            stack.push(Step::Close(level));
            stack.extend(group.items.iter().rev().map(|i| Step::Item(i, level + 1)));
        }
        visit(step);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EdgeKind {
    /// `Next`, a Choice rule, `Default`, the start, the end.
    Flow,
    /// A `Catch`.
    Catch,
    /// From a Parallel or Map state into one of its groups.
    Into,
}

struct Edge {
    from: String,
    to: String,
    label: Option<String>,
    kind: EdgeKind,
    /// The marked execution went this way.
    taken: bool,
}

struct Scene {
    items: Vec<Item>,
    edges: Vec<Edge>,
    /// True when the picture is marked (the styles are written).
    marked: bool,
}

impl Scene {
    fn of(definition: &Definition, marks: Option<&Marks>) -> Scene {
        let mut scene = Scene {
            items: Vec::new(),
            edges: Vec::new(),
            marked: marks.is_some(),
        };
        let mut items = vec![Item::Node(Node {
            id: START.into(),
            label: "Start".into(),
            shape: Shape::Start,
            mark: None,
        })];
        let machine = &definition.machine;
        if let Some(i) = machine.start_index() {
            let taken = mark_of(marks, &machine.start_at).is_some();
            scene.flow(START.into(), format!("s{i}"), None, taken);
        }
        scene.machine(machine, "", true, marks, &mut items);
        items.push(Item::Node(Node {
            id: FINISH.into(),
            label: "End".into(),
            shape: Shape::End,
            mark: None,
        }));
        scene.items = items;
        scene
    }

    fn flow(&mut self, from: String, to: String, label: Option<String>, taken: bool) {
        self.edges.push(Edge {
            from,
            to,
            label,
            kind: EdgeKind::Flow,
            taken,
        });
    }

    /// The states of `machine` (identifiers prefixed by `prefix`) into
    /// `items`, their edges into the scene. Recursion follows the nesting
    /// of the definition, which loading bounds.
    fn machine(
        &mut self,
        machine: &SubMachine,
        prefix: &str,
        top: bool,
        marks: Option<&Marks>,
        items: &mut Vec<Item>,
    ) {
        let ids: HashMap<&str, String> = machine
            .states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), format!("{prefix}s{i}")))
            .collect();
        let id_of = |name: &str| ids.get(name).cloned();
        for (i, state) in machine.states.iter().enumerate() {
            let id = format!("{prefix}s{i}");
            items.push(Item::Node(Node {
                id: id.clone(),
                label: state.name.clone(),
                shape: shape(state),
                mark: marks.and_then(|m| m.get(&state.name)),
            }));
            self.state(state, &id, top, &id_of, marks, items);
        }
    }

    fn state(
        &mut self,
        state: &State,
        id: &str,
        top: bool,
        id_of: &dyn Fn(&str) -> Option<String>,
        marks: Option<&Marks>,
        items: &mut Vec<Item>,
    ) {
        let name = state.name.as_str();
        let mark = mark_of(marks, name);
        let took = |next: &str| marks.is_some_and(|m| m.took(name, next));
        let catchers = match &state.kind {
            StateKind::Task(t) => &t.result_handling.catch[..],
            StateKind::Parallel(p) => &p.result_handling.catch[..],
            StateKind::Map(m) => &m.result_handling.catch[..],
            _ => &[],
        };
        let transition = |scene: &mut Scene, t: &Transition| match t {
            Transition::Next(next) => {
                if let Some(to) = id_of(next) {
                    // a caught state that went where a catcher leads took the catcher
                    let caught_there =
                        mark == Some(Mark::Caught) && catchers.iter().any(|c| &c.next == next);
                    scene.flow(id.into(), to, None, took(next) && !caught_there);
                }
            }
            Transition::End if top => {
                scene.flow(id.into(), FINISH.into(), None, mark == Some(Mark::Passed))
            }
            Transition::End => {}
        };
        match &state.kind {
            StateKind::Pass(p) => transition(self, &p.transition),
            StateKind::Wait(w) => transition(self, &w.transition),
            StateKind::Task(t) => transition(self, &t.transition),
            StateKind::Succeed(_) | StateKind::Fail(_) => {
                if top {
                    self.flow(id.into(), FINISH.into(), None, mark.is_some());
                }
            }
            StateKind::Choice(c) => {
                for (next, label) in choice_edges(&c.choices) {
                    if let Some(to) = id_of(next) {
                        self.flow(id.into(), to, Some(label), took(next));
                    }
                }
                if let Some(next) = c.default.as_deref() {
                    if let Some(to) = id_of(next) {
                        self.flow(id.into(), to, Some("Default".into()), took(next));
                    }
                }
            }
            // a container's groups first, then where it goes
            StateKind::Parallel(p) => {
                for (j, branch) in p.branches.iter().enumerate() {
                    let title = format!("{}: branch {}", state.name, j + 1);
                    self.group(branch, id, &format!("{id}_b{j}"), title, marks, items);
                }
                transition(self, &p.transition);
            }
            StateKind::Map(m) => {
                let title = format!("{}: each item", state.name);
                self.group(
                    &m.item_processor,
                    id,
                    &format!("{id}_p"),
                    title,
                    marks,
                    items,
                );
                transition(self, &m.transition);
            }
        }
        for (next, label) in catch_edges(catchers) {
            if let Some(to) = id_of(next) {
                self.edges.push(Edge {
                    from: id.into(),
                    to,
                    label: Some(label),
                    kind: EdgeKind::Catch,
                    taken: mark == Some(Mark::Caught) && took(next),
                });
            }
        }
    }

    /// A Parallel branch or Map processor `machine` as the group `id` of
    /// the state `owner`.
    fn group(
        &mut self,
        machine: &SubMachine,
        owner: &str,
        id: &str,
        title: String,
        marks: Option<&Marks>,
        items: &mut Vec<Item>,
    ) {
        let prefix = format!("{id}_");
        if let Some(i) = machine.start_index() {
            self.edges.push(Edge {
                from: owner.into(),
                to: format!("{prefix}s{i}"),
                label: None,
                kind: EdgeKind::Into,
                taken: mark_of(marks, &machine.start_at).is_some(),
            });
        }
        let mut inner = Vec::new();
        self.machine(machine, &prefix, false, marks, &mut inner);
        items.push(Item::Group(Group {
            id: id.into(),
            title,
            items: inner,
        }));
    }
}

fn mark_of(marks: Option<&Marks>, state: &str) -> Option<Mark> {
    marks.and_then(|m| m.get(state))
}

fn shape(state: &State) -> Shape {
    match &state.kind {
        StateKind::Pass(_) => Shape::Pass,
        StateKind::Choice(_) => Shape::Choice,
        StateKind::Wait(_) => Shape::Wait,
        StateKind::Succeed(_) => Shape::Succeed,
        StateKind::Fail(_) => Shape::Fail,
        StateKind::Parallel(_) => Shape::Parallel,
        StateKind::Map(_) => Shape::Map,
        StateKind::Task(_) => Shape::Task,
    }
}

/// The target and label of each Choice rule, in order.
fn choice_edges(rules: &ChoiceRules) -> Vec<(&str, String)> {
    match rules {
        ChoiceRules::JsonPath(rules) => rules
            .iter()
            .map(|r| {
                let text = condition::json_path(&r.condition.to_value());
                (r.next.as_str(), shorten(&text))
            })
            .collect(),
        ChoiceRules::Jsonata(rules) => rules
            .iter()
            .map(|r| {
                let text = match &r.condition {
                    JsonataCondition::Literal(b) => b.to_string(),
                    JsonataCondition::Expression(e) => e.source().to_owned(),
                };
                (r.next.as_str(), shorten(&text))
            })
            .collect(),
    }
}

/// The target and label of each catcher, in order.
fn catch_edges(catchers: &[crate::definition::Catcher]) -> Vec<(&str, String)> {
    catchers
        .iter()
        .map(|c| {
            let names: Vec<&str> = c.error_equals.iter().map(|e| e.as_str()).collect();
            (
                c.next.as_str(),
                shorten(&format!("Catch: {}", names.join(", "))),
            )
        })
        .collect()
}

/// `text` on one line (runs of whitespace become one space), at most
/// [`MAX_LABEL`] characters (else cut, ending with `…`).
fn shorten(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX_LABEL {
        return line;
    }
    let mut out: String = line.chars().take(MAX_LABEL - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn labels_are_one_line_and_short() {
        assert_eq!(shorten("  a \n\t b  "), "a b");
        let long = "x".repeat(100);
        assert_eq!(shorten(&long), format!("{}…", "x".repeat(59)));
        assert_eq!(shorten(&"y".repeat(60)), "y".repeat(60));
    }
}
