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
