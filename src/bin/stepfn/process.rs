//! A child process run without blocking the execution: its input written,
//! its output read (stdout up to a cap) and its exit awaited on threads of
//! their own, the answer delivered to a future. Dropping the future (a task
//! timeout, an abort) kills the child.

use futures::channel::oneshot;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How a child ended.
#[derive(Debug)]
pub enum Ended {
    /// It exited (or was killed by a signal), with what it printed.
    Exited {
        status: ExitStatus,
        stdout: Vec<u8>,
        /// The last [`STDERR_TAIL`] bytes of stderr.
        stderr: Vec<u8>,
    },
    /// It printed more than the cap on stdout and was killed.
    TooMuchOutput,
    /// Waiting for it failed.
    Lost(String),
}

/// How much of the end of stderr is kept (the error is on its last lines).
pub const STDERR_TAIL: usize = 64 << 10;

/// How often the supervisor looks whether the child ended or must die.
const POLL: Duration = Duration::from_millis(5);

/// Starts `command` with `input` on its stdin. The future answers when the
/// child ends; dropping it before kills the child.
pub fn run(mut command: Command, input: Vec<u8>, max_stdout: usize) -> std::io::Result<Running> {
    #[cfg(unix)]
    {
        // a group of its own, so that killing it kills what it started too
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let kill = Arc::new(AtomicBool::new(false));
    let (tx, rx) = oneshot::channel();
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let too_much = Arc::new(AtomicBool::new(false));
    // writing and reading at once: a child that answers before it has read
    // all of its input never deadlocks on a full pipe
    let writer = std::thread::spawn(move || {
        if let Some(mut pipe) = stdin {
            // a program that does not read its input is fine
            let _ = pipe.write_all(&input);
        }
    });
    let out_reader = {
        let too_much = too_much.clone();
        let kill = kill.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(pipe) = stdout {
                let mut limited = pipe.take(max_stdout as u64 + 1);
                let _ = limited.read_to_end(&mut buf);
                if buf.len() > max_stdout {
                    too_much.store(true, Ordering::SeqCst);
                    kill.store(true, Ordering::SeqCst);
                    buf.clear();
                }
            }
            buf
        })
    };
    let err_reader = std::thread::spawn(move || {
        let mut tail: Vec<u8> = Vec::new();
        if let Some(mut pipe) = stderr {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
        }
        if tail.len() > STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
        tail
    });
    let killer = kill.clone();
    let done = Arc::new(AtomicBool::new(false));
    let reaped = done.clone();
    std::thread::spawn(move || {
        let status = supervise(&mut child, &killer);
        reaped.store(true, Ordering::SeqCst);
        let _ = writer.join();
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        let ended = match status {
            _ if too_much.load(Ordering::SeqCst) => Ended::TooMuchOutput,
            Ok(status) => Ended::Exited {
                status,
                stdout,
                stderr,
            },
            Err(e) => Ended::Lost(e.to_string()),
        };
        let _ = tx.send(ended);
    });
    Ok(Running { rx, kill, done })
}

/// Waits for the child, killing it when asked to.
fn supervise(child: &mut Child, kill: &AtomicBool) -> std::io::Result<ExitStatus> {
    let mut killed = false;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if !killed && kill.load(Ordering::SeqCst) {
            kill_group(child);
            killed = true;
        }
        std::thread::sleep(POLL);
    }
}

/// Kills the child and, on Unix, the process group it leads (what `sh -c`
/// started).
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// How long dropping a [`Running`] waits for its child to be gone.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// A child being run; await [`Running::ended`]. Dropped early, it kills the
/// child.
pub struct Running {
    rx: oneshot::Receiver<Ended>,
    kill: Arc<AtomicBool>,
    /// Set once the child has ended and been reaped.
    done: Arc<AtomicBool>,
}

impl Running {
    /// How the child ended.
    pub async fn ended(mut self) -> Ended {
        let ended = (&mut self.rx)
            .await
            .unwrap_or_else(|_| Ended::Lost("the supervising thread ended".to_owned()));
        ended
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.done.load(Ordering::SeqCst) {
            return;
        }
        self.kill.store(true, Ordering::SeqCst);
        // the child is gone before the execution goes on (or the process
        // exits, which would leave it running)
        let start = std::time::Instant::now();
        while !self.done.load(Ordering::SeqCst) && start.elapsed() < KILL_WAIT {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
