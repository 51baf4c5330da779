//! The Succeed state: its model, allowed fields, parser and serializer.

use crate::definition::fields::io;
use crate::definition::parse::{Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::{Io, QueryLanguage};

/// A Succeed state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Succeed {
    /// `InputPath`, `OutputPath` / `Output`.
    pub io: Io,
}

/// The fields a Succeed state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &["InputPath", "OutputPath", "Output"];

pub(crate) fn succeed(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Succeed> {
    io(cx, raw, ql, false, loc).map(|io| Succeed { io })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, s: &Succeed) {
    ser::io(m, &s.io);
    ser::io_jsonata(m, &s.io);
}
