//! What the engine precomputes from a definition: transitions resolved to
//! state indexes, which states need the context object, the names of the
//! history events of each Task.

use crate::definition::{
    Assign, Dynamic, Io, ResourceKind, ResultHandling, State, StateKind, SubMachine, Transition,
    WaitFor,
};
use crate::json::{json_len, str_len, Measure};
use crate::jsonpath::path::ReferencePath;
use crate::jsonpath::template::{Expression, PayloadTemplate};
use serde_json::Value;
use std::collections::HashMap;

/// Where a state goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    State(usize),
    End,
    /// A name that is not a state of this sub-machine (a definition the
    /// validator should have refused): a runtime error if taken.
    Missing,
}

#[derive(Debug)]
pub(crate) struct SubPlan {
    pub start: Next,
    pub states: Vec<StatePlan>,
    /// No state waits (Pass, Choice, Succeed and Fail only): the engine
    /// runs the sub-machine without a future.
    pub settles: bool,
}

#[derive(Debug)]
pub(crate) struct StatePlan {
    /// `Next`/`End`.
    pub next: Next,
    /// The `Next` of each catcher.
    pub catch_next: Vec<Next>,
    /// The `Next` of each choice rule.
    pub choice_next: Vec<Next>,
    /// The Choice `Default`.
    pub default: Option<Next>,
    /// Some field reads `$$`: build the context object for this state.
    pub needs_context: bool,
    /// The ItemSelector reads `$$` (Map only).
    pub selector_needs_context: bool,
    /// A JSONata state (its expressions read the time it was entered).
    pub jsonata: bool,
    /// Parallel branches, or the Map item processor.
    pub children: Vec<SubPlan>,
    /// Task history naming.
    pub task: Option<TaskNames>,
    /// When a Task may move its effective input out of the state input.
    pub task_move: Option<Move>,
    /// A Pass whose Parameters may take their values out of the state
    /// input instead of copying them.
    pub pass_move: Option<MoveTemplate>,
    /// A ResultSelector (Task, Parallel, Map) that may take its values out
    /// of the result instead of copying them.
    pub selector_move: Option<MoveTemplate>,
    /// The measure of a Pass `Result`.
    pub result_measure: Option<Measure>,
}

/// A flat Parameters template of literals and `$.a.b` paths, evaluated by
/// moving values out of an input nobody reads afterwards.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MoveTemplate {
    /// InputPath as keys (empty for `$`).
    pub input: Vec<String>,
    /// ResultPath as keys (a prefix of `input`).
    pub result: Vec<String>,
    pub fields: Vec<(String, MoveField)>,
    /// The JSON length of the result with every taken value counted as
    /// nothing: braces, commas, keys, literals.
    pub skeleton_bytes: usize,
    /// The output (ResultPath `$`) is measured, rather than bounded from
    /// the input's bound: set for the first state of a Map iteration
    /// without ItemSelector, whose item is bounded by its whole array.
    pub measure_result: bool,
}

impl MoveTemplate {
    /// An upper bound on the depth of the object built (scalar literals and
    /// values taken out of a payload of depth at most `taken`).
    pub fn depth(&self, taken: usize) -> usize {
        crate::json::add(1, taken)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MoveField {
    Literal(Value),
    Take(Vec<String>),
}

fn pass_move(s: &crate::definition::Pass) -> Option<MoveTemplate> {
    if s.result.is_some() {
        return None;
    }
    let input = simple_steps(s.io.input_path()?.as_str())?;
    let result = simple_steps(s.result_path.as_ref()?.as_str())?;
    // the effective input must be overwritten by the result
    if !is_prefix(&result, &input) {
        return None;
    }
    move_template(s.io.parameters()?, input, result)
}

/// A ResultSelector that may take its values out of the result (nothing
/// reads the result after it: Assign is evaluated before).
fn selector_move(selector: Option<&PayloadTemplate>) -> Option<MoveTemplate> {
    move_template(selector?, Vec::new(), Vec::new())
}

/// `template` as a [`MoveTemplate`] when it is flat: `.$` fields with
/// distinct, non-nested `$.a.b` paths and scalar literals.
fn move_template(
    template: &PayloadTemplate,
    input: Vec<String>,
    result: Vec<String>,
) -> Option<MoveTemplate> {
    let Value::Object(template) = template.to_value() else {
        return None;
    };
    let mut fields = Vec::new();
    let mut taken: Vec<Vec<String>> = Vec::new();
    for (key, value) in template {
        match key.strip_suffix(".$") {
            Some(name) => {
                let steps = simple_steps(value.as_str()?)?;
                if steps.is_empty()
                    || taken
                        .iter()
                        .any(|t| is_prefix(t, &steps) || is_prefix(&steps, t))
                {
                    return None;
                }
                taken.push(steps.clone());
                fields.push((name.to_owned(), MoveField::Take(steps)));
            }
            None => {
                if value_ctx(&value) || matches!(value, Value::Object(_) | Value::Array(_)) {
                    return None;
                }
                fields.push((key, MoveField::Literal(value)));
            }
        }
    }
    let skeleton_bytes = 1
        + fields.len().max(1)
        + fields
            .iter()
            .map(|(key, field)| {
                str_len(key)
                    + 1
                    + match field {
                        MoveField::Literal(v) => json_len(v),
                        MoveField::Take(_) => 0,
                    }
            })
            .sum::<usize>();
    Some(MoveTemplate {
        input,
        result,
        fields,
        skeleton_bytes,
        measure_result: false,
    })
}

/// How a Task takes its effective input without copying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Move {
    /// The whole state input (`InputPath` and `ResultPath` are `$`).
    Whole,
    /// The node at these keys (`InputPath` `$.a.b`).
    Node(Vec<String>),
}

/// `$.a.b` as `["a", "b"]`; `Some([])` for `$`; `None` for anything else.
fn simple_steps(text: &str) -> Option<Vec<String>> {
    if text == "$" {
        return Some(Vec::new());
    }
    let rest = text.strip_prefix("$.")?;
    let steps: Vec<String> = rest.split('.').map(str::to_owned).collect();
    steps
        .iter()
        .all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .then_some(steps)
}

fn is_prefix(a: &[String], b: &[String]) -> bool {
    a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Whether moving the effective input out of the state input is invisible:
/// no Retry (it needs the input again), no Catch (it merges into the raw
/// input), and the moved node is overwritten by ResultPath or outside
/// what OutputPath keeps.
fn task_move(s: &crate::definition::Task) -> Option<Move> {
    if !s.result_handling.retry.is_empty()
        || !s.result_handling.catch.is_empty()
        || s.io.parameters().is_some()
    {
        return None;
    }
    let input = simple_steps(s.io.input_path()?.as_str())?;
    let result = (s.result_handling.result_path.as_ref()).map(|p| simple_steps(p.as_str()));
    match result {
        // ResultPath `$`: the state input is not needed after the call
        Some(Some(r)) if r.is_empty() => Some(if input.is_empty() {
            Move::Whole
        } else {
            Move::Node(input)
        }),
        Some(Some(r)) if !input.is_empty() && !is_prefix(&input, &r) => {
            let output = simple_steps(s.io.output_path()?.as_str())?;
            let overwritten = is_prefix(&r, &input);
            let dropped =
                !output.is_empty() && !is_prefix(&output, &input) && !is_prefix(&input, &output);
            (overwritten || dropped).then_some(Move::Node(input))
        }
        _ => None,
    }
}

/// How a Task's events are named in the history.
#[derive(Debug, Clone)]
pub(crate) struct TaskNames {
    pub family: TaskFamily,
    /// `resourceType` (e.g. `lambda`, `aws-sdk:s3`).
    pub resource_type: String,
    /// `resource` (action with its pattern suffix, or the ARN).
    pub resource: String,
    pub callback: bool,
    /// `.sync` / `.sync:2`: a job run to its end.
    pub sync: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskFamily {
    Lambda,
    Activity,
    Service,
}

fn resolve(sm: &SubMachine, index: &HashMap<&str, usize>, name: &str) -> Next {
    let _ = sm;
    index.get(name).map_or(Next::Missing, |&i| Next::State(i))
}

fn transition(sm: &SubMachine, index: &HashMap<&str, usize>, t: &Transition) -> Next {
    match t {
        Transition::End => Next::End,
        Transition::Next(name) => resolve(sm, index, name),
    }
}

pub(crate) fn plan(sm: &SubMachine) -> SubPlan {
    let index: HashMap<&str, usize> = sm
        .states
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let states = sm
        .states
        .iter()
        .map(|s| plan_state(sm, &index, s))
        .collect();
    SubPlan {
        start: resolve(sm, &index, &sm.start_at),
        states,
        settles: sm
            .states
            .iter()
            .all(|s| super::walk::settles_at_once(&s.kind)),
    }
}

/// A Map iteration's input without ItemSelector is its item, bounded by
/// the bound of the whole array: a Pass starting the iteration that moves
/// its Parameters into its output (ResultPath `$`) measures that output,
/// so that it leaves with an exact bound instead (which the Map's results
/// then add up).
fn measure_first_result(processor: &mut SubPlan) {
    if let Next::State(i) = processor.start {
        let first = processor
            .states
            .get_mut(i)
            .and_then(|p| p.pass_move.as_mut());
        if let Some(m) = first.filter(|m| m.result.is_empty()) {
            m.measure_result = true;
        }
    }
}

fn plan_state(sm: &SubMachine, index: &HashMap<&str, usize>, state: &State) -> StatePlan {
    let mut p = StatePlan {
        next: Next::End,
        catch_next: Vec::new(),
        choice_next: Vec::new(),
        default: None,
        needs_context: false,
        selector_needs_context: false,
        jsonata: state.query_language == crate::definition::QueryLanguage::Jsonata,
        children: Vec::new(),
        task: None,
        task_move: None,
        pass_move: None,
        selector_move: None,
        result_measure: None,
    };
    let json_path = state.query_language == crate::definition::QueryLanguage::JsonPath;
    let mut ctx = false;
    match &state.kind {
        StateKind::Pass(s) => {
            p.next = transition(sm, index, &s.transition);
            ctx |= io_ctx(&s.io);
            ctx |= tpl_ctx(s.io.parameters());
            ctx |= assign_ctx(s.assign.as_ref());
            if json_path {
                p.pass_move = pass_move(s);
            }
            p.result_measure = s.result.as_ref().map(crate::json::measure_exact);
        }
        StateKind::Task(s) => {
            let fields = (&s.transition, &s.io, &s.result_handling, s.assign.as_ref());
            ctx |= plan_handled(&mut p, (sm, index), fields, json_path);
            ctx |= tpl_ctx(s.io.parameters());
            if let Some(Dynamic::Path(e)) = s.credentials.as_ref().map(|c| &c.role_arn) {
                ctx |= expr_ctx(e);
            }
            p.task = Some(task_names(&s.resource));
            if json_path {
                p.task_move = task_move(s);
            }
        }
        StateKind::Choice(s) => {
            p.choice_next = (s.choices.nexts().into_iter())
                .map(|next| resolve(sm, index, next))
                .collect();
            p.default = s.default.as_deref().map(|d| resolve(sm, index, d));
            ctx |= io_ctx(&s.io);
            ctx |= assign_ctx(s.assign.as_ref());
            ctx |= (s.choices.json_path().iter()).any(|r| value_ctx(&r.to_value()));
        }
        StateKind::Wait(s) => {
            p.next = transition(sm, index, &s.transition);
            ctx |= io_ctx(&s.io);
            ctx |= assign_ctx(s.assign.as_ref());
            ctx |= match &s.wait {
                WaitFor::Seconds(Dynamic::Path(r)) | WaitFor::Timestamp(Dynamic::Path(r)) => {
                    ref_ctx(r)
                }
                _ => false,
            };
        }
        StateKind::Succeed(s) => {
            ctx |= io_ctx(&s.io);
        }
        StateKind::Fail(s) => {
            for f in [&s.error, &s.cause].into_iter().flatten() {
                if let Dynamic::Path(e) = f {
                    ctx |= expr_ctx(e);
                }
            }
        }
        StateKind::Parallel(s) => {
            let fields = (&s.transition, &s.io, &s.result_handling, s.assign.as_ref());
            ctx |= plan_handled(&mut p, (sm, index), fields, json_path);
            ctx |= tpl_ctx(s.io.parameters());
            p.children = s.branches.iter().map(plan).collect();
        }
        StateKind::Map(s) => {
            let fields = (&s.transition, &s.io, &s.result_handling, s.assign.as_ref());
            ctx |= plan_handled(&mut p, (sm, index), fields, json_path);
            ctx |= s.items_path.as_ref().is_some_and(ref_ctx);
            p.selector_needs_context = tpl_ctx(s.item_selector.as_ref());
            p.children = vec![plan(&s.item_processor)];
            if s.item_selector.is_none() {
                measure_first_result(&mut p.children[0]);
            }
        }
    }
    if p.jsonata {
        crate::definition::jsonata::each_expression(&state.kind, &mut |field, e| {
            if super::jsonata::reads_context(e) {
                if field.starts_with("ItemSelector") {
                    p.selector_needs_context = true;
                } else {
                    ctx = true;
                }
            }
        });
    }
    p.needs_context = ctx;
    p
}

/// What a Task, Parallel or Map state plans alike: the state after it, its
/// Catchers' states and, in JSONPath, its ResultSelector moved out of the
/// result when it can be; gives whether its paths, ResultSelector, Assign
/// or Catchers' Assign read the context object.
fn plan_handled(
    p: &mut StatePlan,
    (sm, index): (&SubMachine, &HashMap<&str, usize>),
    (next, io, handling, assign): (&Transition, &Io, &ResultHandling, Option<&Assign>),
    json_path: bool,
) -> bool {
    p.next = transition(sm, index, next);
    let catch = &handling.catch;
    p.catch_next = catch.iter().map(|c| resolve(sm, index, &c.next)).collect();
    if json_path {
        p.selector_move = selector_move(handling.result_selector.as_ref());
    }
    io_ctx(io)
        || tpl_ctx(handling.result_selector.as_ref())
        || assign_ctx(assign)
        || catch.iter().any(|c| assign_ctx(c.assign.as_ref()))
}

fn text_ctx(s: &str) -> bool {
    s.contains("$$")
}

fn io_ctx(io: &Io) -> bool {
    io.input_path().is_some_and(|p| text_ctx(p.as_str()))
        || io.output_path().is_some_and(|p| text_ctx(p.as_str()))
}

fn ref_ctx(r: &ReferencePath) -> bool {
    text_ctx(r.as_str())
}

fn expr_ctx(e: &Expression) -> bool {
    text_ctx(e.as_str())
}

fn tpl_ctx(t: Option<&PayloadTemplate>) -> bool {
    t.is_some_and(|t| value_ctx(&t.to_value()))
}

fn assign_ctx(a: Option<&Assign>) -> bool {
    match a {
        Some(Assign::JsonPath(t)) => value_ctx(&t.to_value()),
        Some(Assign::Jsonata(_)) | None => false,
    }
}

/// True when some string in `v` mentions `$$` (conservative: literal
/// strings count too).
fn value_ctx(v: &Value) -> bool {
    match v {
        Value::String(s) => text_ctx(s),
        Value::Array(a) => a.iter().any(value_ctx),
        Value::Object(o) => o.iter().any(|(k, v)| text_ctx(k) || value_ctx(v)),
        _ => false,
    }
}

pub(crate) fn task_names(resource: &crate::resource::Resource) -> TaskNames {
    match &resource.kind {
        ResourceKind::Lambda { .. } => TaskNames {
            family: TaskFamily::Lambda,
            resource_type: "lambda".into(),
            resource: resource.arn.clone(),
            callback: false,
            sync: false,
        },
        ResourceKind::Activity { .. } => TaskNames {
            family: TaskFamily::Activity,
            resource_type: "activity".into(),
            resource: resource.arn.clone(),
            callback: false,
            sync: false,
        },
        ResourceKind::Service {
            service,
            action,
            pattern,
        } => TaskNames {
            family: TaskFamily::Service,
            resource_type: service.clone(),
            resource: format!("{action}{}", pattern.suffix()),
            callback: *pattern == crate::resource::IntegrationPattern::WaitForTaskToken,
            sync: matches!(
                pattern,
                crate::resource::IntegrationPattern::Sync
                    | crate::resource::IntegrationPattern::Sync2
            ),
        },
        ResourceKind::AwsSdk {
            service,
            action,
            pattern,
        } => TaskNames {
            family: TaskFamily::Service,
            resource_type: format!("aws-sdk:{service}"),
            resource: format!("{action}{}", pattern.suffix()),
            callback: *pattern == crate::resource::IntegrationPattern::WaitForTaskToken,
            sync: matches!(
                pattern,
                crate::resource::IntegrationPattern::Sync
                    | crate::resource::IntegrationPattern::Sync2
            ),
        },
        _ => {
            // arn:aws:states:::<service>:<action> that the loader did not
            // classify, or any other URI
            let arn = resource.arn.as_str();
            let callback = arn.ends_with(".waitForTaskToken");
            match arn.strip_prefix("arn:aws:states:::") {
                Some(rest) => {
                    let (service, action) = rest.split_once(':').unwrap_or((rest, ""));
                    TaskNames {
                        family: TaskFamily::Service,
                        resource_type: service.to_owned(),
                        resource: action.to_owned(),
                        callback,
                        sync: action.ends_with(".sync") || action.ends_with(".sync:2"),
                    }
                }
                None => TaskNames {
                    family: TaskFamily::Service,
                    resource_type: String::new(),
                    resource: arn.to_owned(),
                    callback,
                    sync: false,
                },
            }
        }
    }
}
