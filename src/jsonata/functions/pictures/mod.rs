//! The picture-string engines behind `$formatNumber`, `$formatInteger`,
//! `$parseInteger`, `$formatBase`, `$fromMillis` and `$toMillis` (XPath
//! F&O 3.1 pictures as jsonata-js 2.0.6 reads them): pure functions over
//! plain values; `format.rs` and `datetime.rs` one level up register them.

pub(crate) mod datetime;
pub(crate) mod format;
pub(crate) mod picture;

pub(crate) use super::FnError;
