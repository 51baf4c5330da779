//! The JSONata side of a loaded state: every `{% %}` expression of every
//! JSONata field, with the field it sits in, and the load-time checks:
//! each one compiles (AWS's `INVALID_JSONATA_EXPRESSION`), reads no field
//! of an input it does not have, nor `$$`, nor `$states.errorOutput`
//! outside a catcher (`UNSUPPORTED_JSONATA_EXPRESSION`).

use super::parse::Cx;
use super::{
    Assign, ChoiceRules, Dynamic, Io, JsonataCondition, JsonataExpression, JsonataTemplate,
    ResultHandling, StateKind, WaitFor,
};
use crate::error::Diagnostic;

/// Visits every JSONata expression of a state: `f(field, expression)`,
/// `field` relative to the state as AWS writes locations (`Output`,
/// `Output/result`, `Choices[0]/Condition`, `Catch[1]/Assign/x`).
pub(crate) fn each_expression(kind: &StateKind, f: &mut dyn FnMut(&str, &JsonataExpression)) {
    let mut w = Walker { f };
    match kind {
        StateKind::Pass(s) => {
            w.io(&s.io);
            w.assign("Assign", s.assign.as_ref());
        }
        StateKind::Task(s) => {
            w.io(&s.io);
            w.assign("Assign", s.assign.as_ref());
            w.dynamic("TimeoutSeconds", s.timeout_seconds.as_ref());
            w.dynamic("HeartbeatSeconds", s.heartbeat_seconds.as_ref());
            w.dynamic(
                "Credentials/RoleArn",
                s.credentials.as_ref().map(|c| &c.role_arn),
            );
            w.handling(&s.result_handling);
        }
        StateKind::Choice(s) => {
            w.io(&s.io);
            w.assign("Assign", s.assign.as_ref());
            if let ChoiceRules::Jsonata(rules) = &s.choices {
                for (i, r) in rules.iter().enumerate() {
                    if let JsonataCondition::Expression(e) = &r.condition {
                        w.expression(&format!("Choices[{i}]/Condition"), e);
                    }
                    w.template(&format!("Choices[{i}]/Assign"), r.assign.as_ref());
                    w.template(&format!("Choices[{i}]/Output"), r.output.as_ref());
                }
            }
        }
        StateKind::Wait(s) => {
            w.io(&s.io);
            w.assign("Assign", s.assign.as_ref());
            match &s.wait {
                WaitFor::Seconds(d) => w.dynamic("Seconds", Some(d)),
                WaitFor::Timestamp(d) => w.dynamic("Timestamp", Some(d)),
            }
        }
        StateKind::Succeed(s) => w.io(&s.io),
        StateKind::Fail(s) => {
            w.dynamic("Error", s.error.as_ref());
            w.dynamic("Cause", s.cause.as_ref());
        }
        StateKind::Parallel(s) => {
            w.io(&s.io);
            w.assign("Assign", s.assign.as_ref());
            w.handling(&s.result_handling);
        }
        StateKind::Map(s) => {
            w.io(&s.io);
            w.assign("Assign", s.assign.as_ref());
            w.template("Items", s.items.as_ref());
            w.template("ItemSelector", s.jsonata_item_selector.as_ref());
            w.dynamic("MaxConcurrency", s.max_concurrency.as_ref());
            w.dynamic("ToleratedFailureCount", s.tolerated_failure_count.as_ref());
            w.dynamic(
                "ToleratedFailurePercentage",
                s.tolerated_failure_percentage.as_ref(),
            );
            if let Some(r) = &s.item_reader {
                w.template("ItemReader/Arguments", r.arguments.as_ref());
                w.dynamic("ItemReader/ReaderConfig/MaxItems", r.max_items.as_ref());
            }
            if let Some(b) = &s.item_batcher {
                let items = b.max_items_per_batch.as_ref();
                w.dynamic("ItemBatcher/MaxItemsPerBatch", items);
                let bytes = b.max_input_bytes_per_batch.as_ref();
                w.dynamic("ItemBatcher/MaxInputBytesPerBatch", bytes);
            }
            if let Some(r) = &s.result_writer {
                w.template("ResultWriter/Arguments", r.arguments.as_ref());
            }
            w.handling(&s.result_handling);
        }
    }
}

struct Walker<'f> {
    f: &'f mut dyn FnMut(&str, &JsonataExpression),
}

impl Walker<'_> {
    fn expression(&mut self, field: &str, e: &JsonataExpression) {
        (self.f)(field, e);
    }

    fn template(&mut self, field: &str, t: Option<&JsonataTemplate>) {
        for (pointer, e) in t.map(JsonataTemplate::located).unwrap_or_default() {
            (self.f)(&format!("{field}{pointer}"), e);
        }
    }

    fn io(&mut self, io: &Io) {
        if let Io::Jsonata { arguments, output } = io {
            self.template("Arguments", arguments.as_ref());
            self.template("Output", output.as_ref());
        }
    }

    fn assign(&mut self, field: &str, a: Option<&Assign>) {
        if let Some(Assign::Jsonata(t)) = a {
            self.template(field, Some(t));
        }
    }

    fn dynamic<T, P>(&mut self, field: &str, d: Option<&Dynamic<T, P>>) {
        if let Some(Dynamic::Jsonata(e)) = d {
            (self.f)(field, e);
        }
    }

    fn handling(&mut self, h: &ResultHandling) {
        for (i, c) in h.catch.iter().enumerate() {
            self.assign(&format!("Catch[{i}]/Assign"), c.assign.as_ref());
            self.template(&format!("Catch[{i}]/Output"), c.output.as_ref());
        }
    }
}

/// Reports every expression of the state at `loc` that does not compile;
/// true when all do.
pub(crate) fn check(cx: &mut Cx, kind: &StateKind, loc: &str) -> bool {
    let mut found = Vec::new();
    each_expression(kind, &mut |field, e| match e.compiled() {
        Err(err) => found.push(Diagnostic::error(
            "INVALID_JSONATA_EXPRESSION",
            err.message().to_owned(),
            format!("{loc}/{field}"),
        )),
        Ok(compiled) => {
            let unsupported = |message: String| {
                Diagnostic::error(
                    "UNSUPPORTED_JSONATA_EXPRESSION",
                    message,
                    format!("{loc}/{field}"),
                )
            };
            match compiled.top_level_field() {
                Some("$$") => found.push(unsupported("Reference to '$$' is not supported.".into())),
                Some(name) => found.push(unsupported(format!(
                    "Reference to '{name}' at the top level is not supported."
                ))),
                None => {}
            }
            let error_output = compiled.states_members().contains(&"errorOutput");
            if error_output && !in_catcher_output_or_assign(field) {
                found.push(unsupported(
                    "Field '$states.errorOutput' does not exist.".into(),
                ));
            }
        }
    });
    let ok = found.is_empty();
    cx.diags.extend(found);
    ok
}

/// Whether `field` is a catcher's Output or Assign (or inside one), the
/// only fields where `$states.errorOutput` exists. (`$states.result` and
/// names `$states` does not have are not checked: AWS accepts
/// `$states.error` at load, and its answer for `result` outside the Output
/// and Assign of a Task, Parallel or Map is not recorded.)
fn in_catcher_output_or_assign(field: &str) -> bool {
    let within = |field: &str, name: &str| {
        field
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    field
        .strip_prefix("Catch[")
        .and_then(|rest| rest.split_once("]/"))
        .is_some_and(|(_, rest)| within(rest, "Output") || within(rest, "Assign"))
}
