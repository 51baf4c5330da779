//! Date-time functions: `$now`, `$millis` (the current time comes from the
//! caller's environment, never from a clock here), `$fromMillis`, `$toMillis`.
//!
//! The picture engines are in [`super::pictures`]; this file registers them.

use super::{num_arg, str_arg, Args, Entry, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::value::Val;
use crate::jsonata::eval::{Ev, R};

pub(crate) const TABLE: &[Entry] = &[
    ("now", "<s?s?:s>", 2, now),
    ("millis", "<:n>", 0, millis),
    ("fromMillis", "<n-s?s?:s>", 3, from_millis_fn),
    ("toMillis", "<s-s?:n>", 2, to_millis_fn),
];

use super::pictures::datetime::{from_millis, to_millis_at};

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

fn to_millis_fn<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let picture = str_arg(&args, 1);
    // a picture that leaves out the date takes it from the evaluation's "now"
    let now = match picture {
        Some(_) => current(ev)?,
        None => 0.0,
    };
    Ok(to_millis_at(&s, picture.as_deref(), now)?.map(Val::Num))
}
