//! Timestamps: the one RFC 3339 parser and formatter of the crate (Choice
//! `Timestamp*` operators, Wait `Timestamp`, history event times, the
//! context object's start time).

use std::time::{Duration, SystemTime};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parses an RFC 3339 timestamp (zone required, fractional seconds allowed).
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Parses an RFC 3339 date-time (`None` also when this platform's
/// `SystemTime` cannot represent it).
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let nanos = parse_rfc3339_nanos(text)?;
    let magnitude = nanos.unsigned_abs();
    let since_epoch = Duration::new(
        u64::try_from(magnitude / 1_000_000_000).ok()?,
        (magnitude % 1_000_000_000) as u32,
    );
    if nanos >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(since_epoch)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(since_epoch)
    }
}

/// Parses an RFC 3339 date-time into nanoseconds since the Unix epoch
/// (any RFC 3339 date-time fits, whatever the platform).
pub(crate) fn parse_rfc3339_nanos(text: &str) -> Option<i128> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

/// True when `text` is an RFC 3339 `date-time`: `YYYY-MM-DD`, `T` (or
/// `t`), `hh:mm:ss`, an optional fraction of one or more digits, and `Z`
/// (or `z`) or `+hh:mm`/`-hh:mm`; the date must exist and second 60 (a leap
/// second) is allowed, as RFC 3339 allows it. This is the load-time check
/// of a Wait `Timestamp`: AWS refuses `2016-12-05 21:29:29Z` there
/// (recorded), although RFC 3339 lets applications use a space.
pub(crate) fn is_rfc3339(text: &str) -> bool {
    let mut c = Cursor::new(text);
    let date = c.date(false);
    let ok = date.is_some()
        && c.byte_in(b"Tt")
        && c.two_digits(23).is_some()
        && c.byte(b':')
        && c.two_digits(59).is_some()
        && c.byte(b':')
        && c.two_digits(60).is_some();
    if !ok {
        return false;
    }
    if c.byte(b'.') && c.digits(1, usize::MAX).is_none() {
        return false;
    }
    let offset_ok = c.byte_in(b"Zz")
        || (c.byte_in(b"+-")
            && c.two_digits(23).is_some()
            && c.byte(b':')
            && c.two_digits(59).is_some());
    offset_ok && c.at_end()
}

/// Parses a date-time as AWS reads a Wait `TimestampPath` value (and a
/// `Timestamp` at run time), into nanoseconds since the Unix epoch. AWS's
/// error names "the ISO-8601 extended offset date-time format" (Java's
/// `DateTimeFormatter.ISO_OFFSET_DATE_TIME`), so this follows that format:
/// `YYYY-MM-DD` (a year past 9999 needs a `+`), `T` or `t`, `hh:mm`, then
/// optionally `:ss` and a fraction of 1 to 9 digits, then `Z`/`z` or an
/// offset `+hh:mm` or `+hh:mm:ss` (at most 18 hours). A space instead of
/// `T` is refused (recorded); the other details are inferred from the
/// format's specification (see the Compatibility section).
pub(crate) fn parse_iso_offset_nanos(text: &str) -> Option<i128> {
    let mut c = Cursor::new(text);
    let (year, month, day) = c.date(true)?;
    if !c.byte_in(b"Tt") {
        return None;
    }
    let hour = c.two_digits(23)?;
    if !c.byte(b':') {
        return None;
    }
    let minute = c.two_digits(59)?;
    let mut second = 0;
    let mut nanos: i128 = 0;
    if c.byte(b':') {
        second = c.two_digits(59)?;
        if c.byte(b'.') {
            let (value, width) = c.digits(1, 9)?;
            nanos = i128::from(value) * 10i128.pow(9 - width as u32);
        }
    }
    let offset_seconds: i64 = if c.byte_in(b"Zz") {
        0
    } else {
        let negative = match c.peek() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return None,
        };
        c.pos += 1;
        let h = c.two_digits(18)?;
        if !c.byte(b':') {
            return None;
        }
        let m = c.two_digits(59)?;
        let s = if c.byte(b':') { c.two_digits(59)? } else { 0 };
        let total = i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
        if total > 18 * 3600 {
            return None;
        }
        if negative {
            -total
        } else {
            total
        }
    };
    if !c.at_end() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
            - offset_seconds;
    Some(i128::from(seconds) * 1_000_000_000 + nanos)
}

/// A byte cursor over a date-time text.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// Takes `b` if it is next.
    fn byte(&mut self, b: u8) -> bool {
        self.byte_in(&[b])
    }

    /// Takes the next byte if it is one of `set`.
    fn byte_in(&mut self, set: &[u8]) -> bool {
        match self.peek() {
            Some(b) if set.contains(&b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// `min..=max` ASCII digits (as many as there are, up to `max`): their
    /// value (saturating) and how many were read.
    fn digits(&mut self, min: usize, max: usize) -> Option<(u64, usize)> {
        let start = self.pos;
        let mut value: u64 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
                    self.pos += 1;
                }
                _ => break,
            }
        }
        let width = self.pos - start;
        (width >= min).then_some((value, width))
    }

    /// Exactly two digits, at most `max`.
    fn two_digits(&mut self, max: u32) -> Option<u32> {
        let (v, _) = self.digits(2, 2)?;
        let v = v as u32;
        (v <= max).then_some(v)
    }

    /// `YYYY-MM-DD`, a date that exists; with `signed_years`, also a year
    /// of 5 to 9 digits after `+` and of 4 to 9 digits after `-` (Java's
    /// ISO year).
    fn date(&mut self, signed_years: bool) -> Option<(i64, u32, u32)> {
        let year = match self.peek() {
            Some(sign @ (b'+' | b'-')) if signed_years => {
                self.pos += 1;
                let (v, width) = self.digits(4, 9)?;
                if sign == b'+' && width < 5 {
                    return None;
                }
                let v = v as i64;
                if sign == b'-' {
                    -v
                } else {
                    v
                }
            }
            _ => self.digits(4, 4)?.0 as i64,
        };
        if !self.byte(b'-') {
            return None;
        }
        let month = self.two_digits(12).filter(|&m| m >= 1)?;
        if !self.byte(b'-') {
            return None;
        }
        let day = self.two_digits(31).filter(|&d| d >= 1)?;
        (day <= days_in_month(year, month)).then_some((year, month, day))
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year.rem_euclid(4) == 0
            && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0) =>
        {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `t` in nanoseconds since the Unix epoch.
pub(crate) fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// `2024-02-07T13:52:02.123Z`.
pub(crate) fn format_rfc3339_millis(t: SystemTime) -> String {
    let mut s = String::with_capacity(24);
    write_rfc3339_millis(&mut s, t);
    s
}

/// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC) to `out`, without the `time`
/// crate's formatting machinery (this runs once per state).
pub(crate) fn write_rfc3339_millis(out: &mut String, t: SystemTime) {
    let total_millis: i128 = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    };
    let secs = total_millis.div_euclid(1000) as i64;
    let millis = total_millis.rem_euclid(1000) as u32;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem / 60) % 60, rem % 60);
    use std::fmt::Write;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z"
    );
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_offset_agrees_with_rfc3339_on_common_forms() {
        for t in [
            "2016-03-14T01:59:00Z",
            "2016-03-05T21:29:29.243167252Z",
            "2024-02-29T23:59:59.5+01:00",
            "1969-12-31T23:59:59-00:30",
            "0001-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_iso_offset_nanos(t), parse_rfc3339_nanos(t), "{t}");
            assert!(is_rfc3339(t), "{t}");
        }
        let far = parse_iso_offset_nanos("+10000-01-01T00:00:00Z").unwrap();
        assert_eq!(far, 253_402_300_800_000_000_000);
    }

    #[test]
    fn formats_like_aws() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_707_313_922_123);
        assert_eq!(format_rfc3339_millis(t), "2024-02-07T13:52:02.123Z");
        assert_eq!(
            format_rfc3339_millis(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
        let leap = parse_rfc3339("2024-02-29T23:59:59.5+00:00").unwrap();
        assert_eq!(format_rfc3339_millis(leap), "2024-02-29T23:59:59.500Z");
    }
}
