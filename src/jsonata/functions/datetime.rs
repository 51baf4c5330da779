//! Date-time functions: `$now`, `$millis` (the current time comes from the
//! caller's environment, never from a clock here), `$fromMillis`, `$toMillis`.
//!
//! REGISTRATION POINT: `from_millis` and `to_millis` are placeholders with the
//! final signatures; the picture-string implementations written separately
//! replace their bodies (this file), and the table needs no change.

use super::{num_arg, str_arg, Args, Entry, FnError, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::value::Val;
use crate::jsonata::eval::{Ev, R};

pub(crate) const TABLE: &[Entry] = &[
    ("now", "<s?s?:s>", 2, now),
    ("millis", "<:n>", 0, millis),
    ("fromMillis", "<n-s?s?:s>", 3, from_millis_fn),
    ("toMillis", "<s-s?:n>", 2, to_millis_fn),
];

fn not_yet(name: &str) -> FnError {
    FnError {
        code: "D3199",
        message: format!("${name}() with a picture is not yet available in stepfn"),
    }
}

/// `$fromMillis(ms, picture, timezone)`.
pub(crate) fn from_millis(
    ms: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> Result<String, FnError> {
    match (picture, timezone) {
        (None, None) => iso(ms).ok_or_else(|| not_yet("fromMillis")),
        _ => Err(not_yet("fromMillis")),
    }
}

/// `$toMillis(timestamp, picture)`.
pub(crate) fn to_millis(_s: &str, _picture: Option<&str>) -> Result<Option<f64>, FnError> {
    Err(not_yet("toMillis"))
}

/// `new Date(ms).toISOString()`.
pub(crate) fn iso(ms: f64) -> Option<String> {
    if !ms.is_finite() {
        return None;
    }
    let nanos = (ms.trunc() as i128).checked_mul(1_000_000)?;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    let year = t.year();
    let y = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -year)
    } else {
        format!("+{year:06}")
    };
    Some(format!(
        "{y}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

fn current(ev: &Ev<'_>) -> R<f64> {
    ev.now_ms.ok_or_else(|| {
        Raw::new("U1003")
            .msg("The current time was not given to the evaluation ($now and $millis need it)")
    })
}

fn now<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let ms = current(ev)?;
    let picture = str_arg(&args, 0);
    let tz = str_arg(&args, 1);
    let s = match (&picture, &tz) {
        (None, None) => iso(ms).ok_or_else(|| Raw::new("D3199").msg("time out of range"))?,
        _ => from_millis(ms, picture.as_deref(), tz.as_deref())?,
    };
    Ok(Some(Val::str(s)))
}

fn millis<'a>(ev: &Ev<'a>, _: &Focus<'a>, _: Args<'a>) -> R<Option<Val<'a>>> {
    Ok(Some(Val::Num(current(ev)?)))
}

fn from_millis_fn<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(ms) = num_arg(&args, 0) else {
        return Ok(None);
    };
    let picture = str_arg(&args, 1);
    let tz = str_arg(&args, 2);
    Ok(Some(Val::str(from_millis(
        ms,
        picture.as_deref(),
        tz.as_deref(),
    )?)))
}

fn to_millis_fn<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let picture = str_arg(&args, 1);
    Ok(to_millis(&s, picture.as_deref())?.map(Val::Num))
}
