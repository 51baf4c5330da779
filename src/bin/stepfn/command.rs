//! Local programs standing in for Task states (`stepfn run --task-command`).

use crate::process::{self, Ended};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use stepfn::definition::ResourceKind;
use stepfn::{ErrorName, StatesError, TaskExecutor, TaskRequest, TaskResult};

/// One `RESOURCE_OR_STATE=COMMAND` binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskCommand {
    /// What it stands for: a state name, a `Resource` ARN as written, or a
    /// Lambda function name (of a Lambda ARN resource, or the
    /// `FunctionName` of an `arn:aws:states:::lambda:invoke` task).
    pub target: String,
    /// The command line, run with `sh -c`.
    pub command: String,
}

impl TaskCommand {
    /// Reads `TARGET=COMMAND` (split at the first `=`).
    pub fn parse(text: &str) -> Option<TaskCommand> {
        let (target, command) = text.split_once('=')?;
        (!target.is_empty() && !command.trim().is_empty()).then(|| TaskCommand {
            target: target.to_owned(),
            command: command.to_owned(),
        })
    }
}

/// Runs a local program per task: the protocol of `stepfn run
/// --task-command`.
///
/// * The program is chosen by state name first, then by `Resource` ARN,
///   then by Lambda function name (see [`TaskCommand::target`]).
/// * It runs with `sh -c COMMAND` and gets the task's effective parameters
///   as JSON on stdin; for `arn:aws:states:::lambda:invoke` it gets the
///   `Payload` parameter instead (the Lambda event). The environment holds
///   `STEPFN_STATE_NAME`, `STEPFN_RESOURCE`, `STEPFN_RETRY_COUNT`,
///   `STEPFN_TASK_TOKEN` (callback tasks), `STEPFN_IDEMPOTENCY_KEY` (the
///   same for every call of one task attempt: see
///   `TaskRequest::idempotency_key`; empty outside a durable execution)
///   and `STEPFN_CONTEXT_FILE`, the
///   path of a file holding the context object as JSON (removed when the
///   program ends; a file, because Linux caps one environment variable at
///   128 KiB and the context holds the execution input).
/// * Exit 0: stdout is the JSON result (empty stdout is `null`); for
///   `lambda:invoke` it is wrapped as Lambda's answer
///   `{"ExecutedVersion": "$LATEST", "Payload": <result>, "StatusCode": 200}`.
/// * A non-zero exit fails the task. stderr's last line that is a JSON
///   object gives the error name (`errorType`, else `error`) and the cause
///   (`errorMessage`, else `cause`), Lambda's and Step Functions' field
///   names; without one the error is `States.TaskFailed` with the whole
///   stderr text (or the exit status) as the cause.
///
/// * stdout may hold at most the payload limit (256 KiB): a program that
///   prints more is killed and the task fails with
///   `States.DataLimitExceeded`; of stderr the last 64 KiB are kept.
///
/// Programs run beside the execution, not in its way: concurrent Map
/// iterations and Parallel branches run their programs at once, and a
/// state's `TimeoutSeconds` (or an abort) kills its program.
#[derive(Clone, Debug)]
pub struct CommandExecutor {
    commands: Vec<TaskCommand>,
    max_output: usize,
}

impl CommandExecutor {
    /// An executor over these bindings.
    pub fn new(commands: Vec<TaskCommand>) -> Self {
        CommandExecutor {
            commands,
            max_output: 256 * 1024,
        }
    }

    fn find(&self, request: &TaskRequest<'_>) -> Option<&TaskCommand> {
        let by = |key: &str| self.commands.iter().find(|c| c.target == key);
        by(request.state_name)
            .or_else(|| by(&request.resource.arn))
            .or_else(|| function_name(request).and_then(|name| by(&name)))
    }
}

fn is_lambda_invoke(request: &TaskRequest<'_>) -> bool {
    matches!(&request.resource.kind,
        ResourceKind::Service { service, action, .. } if service == "lambda" && action == "invoke")
}

fn function_name(request: &TaskRequest<'_>) -> Option<String> {
    let name = match &request.resource.kind {
        ResourceKind::Lambda { function } => function.clone(),
        _ if is_lambda_invoke(request) => request
            .parameters
            .get("FunctionName")
            .and_then(Value::as_str)?
            .to_owned(),
        _ => return None,
    };
    // an ARN `...:function:NAME[:QUALIFIER]` names NAME
    match name.split_once(":function:") {
        Some((_, rest)) => Some(rest.split(':').next().unwrap_or(rest).to_owned()),
        None => Some(name),
    }
}

#[async_trait]
impl TaskExecutor for CommandExecutor {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        let Some(command) = self.find(&request) else {
            return Err(StatesError::runtime(format!(
                "no mocked response or task command for state '{}' (resource '{}')",
                request.state_name, request.resource.arn
            )));
        };
        let lambda_invoke = is_lambda_invoke(&request);
        let stdin = if lambda_invoke {
            request
                .parameters
                .get("Payload")
                .cloned()
                .unwrap_or(Value::Null)
        } else {
            request.parameters.clone()
        };
        let context = ContextFile::write(&request.context()).map_err(|e| {
            StatesError::new(
                ErrorName::TaskFailed,
                format!(
                    "cannot write the context object for `{}`: {e}",
                    command.command
                ),
            )
        })?;
        let mut process = Command::new("sh");
        process
            .arg("-c")
            .arg(&command.command)
            .env("STEPFN_STATE_NAME", request.state_name)
            .env("STEPFN_RESOURCE", &request.resource.arn)
            .env("STEPFN_RETRY_COUNT", request.retry_count.to_string())
            .env("STEPFN_TASK_TOKEN", request.task_token.unwrap_or(""))
            .env(
                "STEPFN_IDEMPOTENCY_KEY",
                request.idempotency_key().unwrap_or_default(),
            )
            .env("STEPFN_CONTEXT_FILE", &context.0);
        let running = process::run(process, stdin.to_string().into_bytes(), self.max_output)
            .map_err(|e| {
                StatesError::new(
                    ErrorName::TaskFailed,
                    format!("cannot start task command `{}`: {e}", command.command),
                )
            })?;
        let (status, stdout, stderr) = match running.ended().await {
            Ended::Exited {
                status,
                stdout,
                stderr,
            } => (status, stdout, stderr),
            Ended::TooMuchOutput => {
                return Err(StatesError::new(
                    ErrorName::DataLimitExceeded,
                    format!(
                        "task command `{}` printed more than {} bytes on stdout",
                        command.command, self.max_output
                    ),
                ))
            }
            Ended::Lost(e) => {
                return Err(StatesError::new(
                    ErrorName::TaskFailed,
                    format!("task command `{}` failed: {e}", command.command),
                ))
            }
        };
        drop(context);
        if !status.success() {
            return Err(command_error(
                &String::from_utf8_lossy(&stderr),
                status.code(),
            ));
        }
        let stdout = String::from_utf8_lossy(&stdout);
        let result = if stdout.trim().is_empty() {
            Value::Null
        } else {
            stepfn::testing::parse_json(stdout.trim()).map_err(|e| {
                StatesError::new(
                    ErrorName::TaskFailed,
                    format!(
                        "task command `{}` printed no JSON result on stdout: {}",
                        command.command,
                        e.detail()
                    ),
                )
            })?
        };
        Ok(if lambda_invoke {
            json!({"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200})
        } else {
            result
        })
    }
}

/// The context object of one task, in a temporary file removed on drop.
struct ContextFile(PathBuf);

impl ContextFile {
    fn write(context: &Value) -> std::io::Result<ContextFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "stepfn-context-{}-{}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, context.to_string())?;
        Ok(ContextFile(path))
    }
}

impl Drop for ContextFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The error of a failed command from its stderr.
pub(crate) fn command_error(stderr: &str, code: Option<i32>) -> StatesError {
    let object = stderr
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(Value::is_object);
    if let Some(object) = object {
        let text = |keys: [&str; 2]| {
            keys.iter()
                .find_map(|k| object.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
        };
        if let Some(name) = text(["errorType", "error"]) {
            return StatesError {
                name: ErrorName::new(&name),
                cause: text(["errorMessage", "cause"]),
            };
        }
    }
    let text = stderr.trim();
    let cause = if text.is_empty() {
        match code {
            Some(code) => format!("task command exited with status {code}"),
            None => "task command was killed by a signal".to_owned(),
        }
    } else {
        text.to_owned()
    };
    StatesError::new(ErrorName::TaskFailed, cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_json_names_the_error() {
        let e = command_error(
            "log line\n{\"errorType\": \"ValueError\", \"errorMessage\": \"bad\"}\n",
            Some(1),
        );
        assert_eq!(e, StatesError::new("ValueError", "bad"));
        let e = command_error("{\"error\": \"E\", \"cause\": \"c\"}", Some(1));
        assert_eq!(e, StatesError::new("E", "c"));
        let e = command_error("Traceback: boom\n", Some(1));
        assert_eq!(e, StatesError::new("States.TaskFailed", "Traceback: boom"));
        let e = command_error("", Some(3));
        assert_eq!(
            e,
            StatesError::new("States.TaskFailed", "task command exited with status 3")
        );
    }

    #[test]
    fn bindings_parse() {
        assert_eq!(
            TaskCommand::parse("Charge=python3 charge.py"),
            Some(TaskCommand {
                target: "Charge".into(),
                command: "python3 charge.py".into()
            })
        );
        assert_eq!(TaskCommand::parse("=x"), None);
        assert_eq!(TaskCommand::parse("Charge"), None);
    }
}
