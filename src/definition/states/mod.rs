//! One module per state type: its model, the fields it allows, its parser
//! and its serializer. `handlers` holds `Retry` and `Catch`.

pub(crate) mod choice;
pub(crate) mod fail;
pub(crate) mod handlers;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod succeed;
pub(crate) mod task;
pub(crate) mod wait;
