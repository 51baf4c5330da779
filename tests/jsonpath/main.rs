//! The JSONPath language through its public façade: paths and payload
//! templates (intrinsic functions included).

mod path;
mod template;
