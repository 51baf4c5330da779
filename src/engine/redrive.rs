//! RedriveExecution in the engine: a failed, aborted or timed-out line of
//! states re-armed at the state it stopped in.
//!
//! A durable line of states is checkpointed before each state it enters,
//! when a Wait starts to sleep and when a retry starts to back off, so the
//! last checkpoint of a line that failed names the state that failed (a
//! Catch that moves on is a transition, checkpointed before the catcher's
//! state). AWS restarts a redriven execution "from the unsuccessful step":
//! that state is entered again with its state input and the variables the
//! line had then; its retriers start from zero, so `$$.State.RetryCount`
//! does too; a Wait starts its whole delay again. The history continues
//! after the store's `ExecutionRedriven` event, to which the state entered
//! again is linked. A Parallel or Map state the line failed in goes on
//! with its branches or iterations: those that ended keep their results,
//! the others are re-armed as lines of their own (AWS reruns only the
//! unsuccessful ones).

use super::checkpoint::{Checkpoint, Position};

/// `checkpoint` (the last of a line, taken before the execution's
/// `redrive_count`-th redrive) re-armed for that redrive: about to enter
/// the state it was in, after event `last_event` (`ExecutionRedriven`);
/// a line that ended stays ended, a Parallel or Map attempt goes on with
/// its retriers from zero.
pub(crate) fn rearm(
    checkpoint: Checkpoint,
    redrive_count: u32,
    last_event: u64,
) -> Option<Checkpoint> {
    let (state, input) = match checkpoint.at {
        // a child execution of a distributed Map that failed runs again
        // from its start, as AWS reruns it
        Position::Failed => return None,
        // a child execution's ids are its own
        _ if checkpoint.child_execution => return rearm_child(checkpoint, redrive_count),
        Position::Done => {
            return Some(Checkpoint {
                events: last_event,
                redrives: redrive_count,
                ..checkpoint
            })
        }
        Position::Inside {
            state,
            entered,
            before_entered,
            entered_time,
            started,
            last,
            prev_start,
            ..
        } => {
            let at = Position::Inside {
                state,
                entered,
                before_entered,
                entered_time,
                started,
                counters: Vec::new(),
                retry_count: 0,
                last,
                prev_start,
            };
            return Some(Checkpoint {
                at,
                events: last_event,
                wake_at: None,
                redrives: redrive_count,
                ..checkpoint
            });
        }
        // a callback awaited starts a new attempt (a new token; the old
        // one was closed when the execution ended); a call in flight is
        // made again
        Position::Enter { state }
        | Position::BackingOff { state, .. }
        | Position::Callback { state, .. }
        | Position::Calling { state, .. } => (state, checkpoint.input),
        Position::Waiting {
            state, state_input, ..
        } => (state, state_input.unwrap_or(checkpoint.input)),
    };
    Some(Checkpoint {
        at: Position::Enter { state },
        input,
        events: last_event,
        cursor: last_event,
        wake_at: None,
        redrives: redrive_count,
        ..checkpoint
    })
}

/// A line of a child execution of a distributed Map re-armed: as any
/// line, except that its event ids stay its own.
fn rearm_child(checkpoint: Checkpoint, redrive_count: u32) -> Option<Checkpoint> {
    let (events, cursor) = (checkpoint.events, checkpoint.cursor);
    let done = checkpoint.at == Position::Done;
    let own = Checkpoint {
        child_execution: false,
        ..checkpoint
    };
    let rearmed = rearm(own, redrive_count, events)?;
    Some(Checkpoint {
        events,
        cursor: if done { cursor } else { events },
        child_execution: true,
        ..rearmed
    })
}
