//! `stepfn eval`: evaluate one JSONata expression, JSONPath path or intrinsic
//! call against an input, for people debugging a definition; or, with
//! `--batch`, answer the JSONata suite harness's one-JSON-line protocol
//! (../shared/tools/jsonata/README.md).

use serde_json::{json, Map, Value};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use stepfn::jsonata::{Env, Expression, Limits};

/// Arguments of `stepfn eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A JSONata expression to evaluate.
    #[arg(long, conflicts_with_all = ["jsonpath", "batch"])]
    jsonata: Option<String>,
    /// A JSONPath path (`$.a`, `$$.Execution.Id`, `$var.x`) or intrinsic call (`States.Format(...)`).
    #[arg(long, conflicts_with = "batch")]
    jsonpath: Option<String>,
    /// The input document, as JSON text.
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// A file holding the input document.
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// Variables, as a JSON object (names without `$`).
    #[arg(long)]
    bindings: Option<String>,
    /// The context object (`$$` in JSONPath, `$states.context` in JSONata), as JSON.
    #[arg(long)]
    context: Option<String>,
    /// Read one JSON request per line on stdin and answer one line each.
    #[arg(long)]
    batch: bool,
}

/// The evaluation runs on a thread with a known, large stack, so the
/// evaluator's stack budget can be generous.
const STACK: usize = 64 * 1024 * 1024;

fn limits() -> Limits {
    Limits {
        max_stack_bytes: 48 * 1024 * 1024,
        ..Limits::default()
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn parse_json(what: &str, text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("--{what} is not JSON: {e}"))
}

pub fn run(args: Args) -> ExitCode {
    let worker = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || if args.batch { batch() } else { single(&args) });
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: the evaluation thread failed");
            ExitCode::from(2)
        }
    }
}

fn single(args: &Args) -> ExitCode {
    let input = match (&args.input, &args.input_file) {
        (Some(t), _) => parse_json("input", t).map(Some),
        (None, Some(p)) => std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read {}: {e}", p.display()))
            .and_then(|t| parse_json("input-file", &t))
            .map(Some),
        (None, None) => Ok(None),
    };
    let bindings = args
        .bindings
        .as_deref()
        .map(|b| parse_json("bindings", b))
        .transpose();
    let context = args
        .context
        .as_deref()
        .map(|c| parse_json("context", c))
        .transpose();
    let (input, bindings, context) = match (input, bindings, context) {
        (Ok(i), Ok(b), Ok(c)) => (i, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let vars = match bindings {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            eprintln!("error: --bindings must be a JSON object");
            return ExitCode::from(2);
        }
    };
    let result = match (&args.jsonata, &args.jsonpath) {
        (Some(expr), _) => eval_jsonata(expr, input.as_ref(), &vars, context.as_ref()),
        (None, Some(path)) => eval_jsonpath(path, input.as_ref(), &vars, context.as_ref()),
        (None, None) => {
            eprintln!("error: give --jsonata EXPR, --jsonpath PATH, or --batch");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(Some(v)) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("note: the result is undefined");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn eval_jsonata(
    expr: &str,
    input: Option<&Value>,
    vars: &Map<String, Value>,
    context: Option<&Value>,
) -> Result<Option<Value>, String> {
    let e = Expression::parse(expr).map_err(|e| e.to_string())?;
    let mut env = Env::new();
    for (k, v) in vars {
        env.bind(k, v);
    }
    let null = Value::Null;
    let mut states = vec![("input", input.unwrap_or(&null))];
    if let Some(c) = context {
        states.push(("context", c));
    }
    if !vars.contains_key("states") {
        env.bind_object("states", states);
    }
    env.set_now_millis(now_millis())
        .set_seed(rand_seed())
        .set_limits(limits());
    e.evaluate(input, &env).map_err(|e| e.to_string())
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn eval_jsonpath(
    path: &str,
    input: Option<&Value>,
    vars: &Map<String, Value>,
    context: Option<&Value>,
) -> Result<Option<Value>, String> {
    let null = Value::Null;
    let env = stepfn::jsonpath::Env {
        data: input.unwrap_or(&null),
        context: context.unwrap_or(&null),
        variables: vars,
    };
    if stepfn::jsonpath::IntrinsicCall::looks_like_call(path) {
        let call = stepfn::jsonpath::IntrinsicCall::parse(path).map_err(|e| e.to_string())?;
        return call.eval(&env).map(Some).map_err(|e| e.to_string());
    }
    let p = stepfn::jsonpath::Path::parse(path).map_err(|e| e.to_string())?;
    p.eval(&env)
        .map(|v| Some(v.into_owned()))
        .map_err(|e| e.to_string())
}

/// Take the `id` out of a request line serde_json cannot read (lone surrogates).
fn salvage_id(line: &str) -> Value {
    let Some(i) = line.find("\"id\"") else {
        return Value::Null;
    };
    let rest = &line[i + 4..];
    let Some(q) = rest.find('"') else {
        return Value::Null;
    };
    let rest = &rest[q + 1..];
    match rest.find('"') {
        Some(end) => Value::String(rest[..end].to_string()),
        None => Value::Null,
    }
}

fn answer(line: &str) -> Value {
    let req: Value = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => {
            return json!({"id": salvage_id(line), "unsupported": format!("request not representable: {e}")})
        }
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let expr = req.get("expr").and_then(Value::as_str).unwrap_or("");
    let empty = Map::new();
    let bindings = req
        .get("bindings")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut env = Env::new();
    for (k, v) in bindings {
        env.bind(k, v);
    }
    let mut lim = limits();
    if let Some(d) = req.get("depth").and_then(Value::as_u64) {
        lim.max_depth = d as usize;
    }
    if let Some(t) = req.get("timelimit").and_then(Value::as_u64) {
        lim.max_steps = t * 1000;
    }
    env.set_now_millis(now_millis())
        .set_seed(rand_seed())
        .set_limits(lim);
    let outcome = Expression::parse(expr).and_then(|e| e.evaluate(req.get("data"), &env));
    match outcome {
        Ok(Some(v)) => json!({"id": id, "result": v}),
        Ok(None) => json!({"id": id, "undefined": true}),
        Err(e) => {
            let mut err = json!({"code": e.code(), "message": e.message()});
            if let Some(p) = e.position() {
                err["position"] = json!(p);
            }
            if let Some(t) = e.token() {
                err["token"] = json!(t);
            }
            if let Some(v) = e.value() {
                err["value"] = v.clone();
            }
            json!({"id": id, "error": err})
        }
    }
}

fn batch() -> ExitCode {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let a = answer(&line);
        if writeln!(out, "{a}").and_then(|_| out.flush()).is_err() {
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
