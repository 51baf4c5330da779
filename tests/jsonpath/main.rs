//! The JSONPath language through its public façade: paths and payload
//! templates (intrinsic functions included).

#[path = "../common/mod.rs"]
mod common;

mod cases;
mod path;
mod template;
