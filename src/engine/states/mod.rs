//! One module per state type, each running its state from the
//! [`StateCx`](super::walk::StateCx) the state loop hands it. Succeed is
//! with Fail (the states that end a line), Retry and Catch are in
//! [`retry`](super::retry).

pub(crate) mod callback;
pub(crate) mod choice;
pub(crate) mod distributed_map;
pub(crate) mod fail;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod task;
pub(crate) mod wait;
