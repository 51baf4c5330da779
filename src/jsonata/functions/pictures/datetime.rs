//! `$fromMillis` and `$toMillis` (and through them `$now`), as jsonata-js 2.0.6 runs them: XPath
//! F&O 3.1 date/time picture strings (`[Y0001]-[M01]-[D01]`, `[FNn], [D1o] [MNn]`, ...), time
//! zone offsets given as `±hhmm`, and ISO 8601 when there is no picture.
//!
//! Times are JavaScript time values (milliseconds since the epoch, UTC, at most ±8.64e15); a time
//! with no offset of its own is read as UTC, as it is where Step Functions runs jsonata-js.

use super::format::{js_number_to_string, js_parse_int};
use super::picture::{
    analyse_integer_picture, analyse_picture, error, format_integer_with, json_quote, names_error,
    parse_integer_with, part_matcher, substring, word_values, IntegerFormat, LetterCase, Marker,
    Part, PartMatcher, Reader, Token, DAYS, MONTHS, RUNAWAY,
};
use super::FnError;
use std::collections::{BTreeMap, HashSet};

const DAY: f64 = 86_400_000.0;
/// The picture `$fromMillis` uses when it is given none.
const ISO_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

// ---- JavaScript dates ------------------------------------------------------------------------

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400;
    (if month <= 2 { year + 1 } else { year }, month, day)
}

/// ECMA-262 MakeDay, with V8's limit of a million years either way.
fn make_day(year: f64, month: f64, date: f64) -> f64 {
    if !(year.is_finite() && month.is_finite() && date.is_finite()) {
        return f64::NAN;
    }
    let (year, month, date) = (year.trunc(), month.trunc(), date.trunc());
    let year = year + (month / 12.0).floor();
    if year.abs() > 1_000_000.0 {
        return f64::NAN;
    }
    let month = month.rem_euclid(12.0);
    days_from_civil(year as i64, month as i64 + 1, 1) as f64 + date - 1.0
}

/// ECMA-262 MakeTime.
fn make_time(hour: f64, minute: f64, second: f64, milli: f64) -> f64 {
    if !(hour.is_finite() && minute.is_finite() && second.is_finite() && milli.is_finite()) {
        return f64::NAN;
    }
    hour.trunc() * 3_600_000.0 + minute.trunc() * 60_000.0 + second.trunc() * 1000.0 + milli.trunc()
}

/// ECMA-262 TimeClip of MakeDate.
fn time_clip(time: f64) -> f64 {
    if !time.is_finite() || time.abs() > 8.64e15 {
        return f64::NAN;
    }
    time.trunc() + 0.0
}

/// JavaScript's `Date.UTC(year, month, day, hours, minutes, seconds, millis)`: years 0 to 99 mean
/// 1900 to 1999.
fn date_utc(year: f64, month: f64, day: f64, time: [f64; 4]) -> f64 {
    let year = if !year.is_nan() && (0.0..=99.0).contains(&year.trunc()) {
        1900.0 + year.trunc()
    } else {
        year
    };
    let [hour, minute, second, milli] = time;
    let days = make_day(year, month, day);
    time_clip(days * DAY + make_time(hour, minute, second, milli))
}

fn utc_day(year: f64, month: f64, day: f64) -> f64 {
    date_utc(year, month, day, [0.0; 4])
}

/// The UTC fields of a time value (`getUTCFullYear()`, ...): all NaN for an invalid date.
#[derive(Clone, Copy)]
struct Fields {
    time: f64,
    year: f64,
    month: f64,
    day: f64,
    hour: f64,
    minute: f64,
    second: f64,
    milli: f64,
    weekday: f64,
}

fn fields(time: f64) -> Fields {
    // NaN spreads through every field of an invalid date; the calendar is read for day 0 instead
    let days = (time / DAY).floor();
    let in_day = time - days * DAY;
    let (year, month, day) = civil_from_days(if days.is_nan() { 0 } else { days as i64 });
    let calendar = |value: i64| {
        if days.is_nan() {
            f64::NAN
        } else {
            value as f64
        }
    };
    Fields {
        time,
        year: calendar(year),
        month: calendar(month - 1),
        day: calendar(day),
        hour: (in_day / 3_600_000.0).floor(),
        minute: (in_day / 60_000.0).floor() % 60.0,
        second: (in_day / 1000.0).floor() % 60.0,
        milli: in_day % 1000.0,
        weekday: (days + 4.0).rem_euclid(7.0),
    }
}

/// The start of week 1 of a year (month 0) or month: the week holding its first Thursday.
fn start_of_first_week(year: f64, month: f64) -> f64 {
    let first = utc_day(year, month, 1.0);
    let mut weekday = fields(first).weekday;
    if weekday == 0.0 {
        weekday = 7.0;
    }
    if weekday > 4.0 {
        first + (8.0 - weekday) * DAY
    } else {
        first - (weekday - 1.0) * DAY
    }
}

fn next_month(year: f64, month: f64) -> (f64, f64) {
    if month == 11.0 {
        (year + 1.0, 0.0)
    } else {
        (year, month + 1.0)
    }
}

fn previous_month(year: f64, month: f64) -> (f64, f64) {
    if month == 0.0 {
        (year - 1.0, 11.0)
    } else {
        (year, month - 1.0)
    }
}

fn delta_weeks(start: f64, end: f64) -> f64 {
    (end - start) / (DAY * 7.0) + 1.0
}

/// What a date/time component is worth (jsonata-js `getDateTimeFragment`).
enum Fragment {
    Number(f64),
    Text(&'static str),
    Undefined,
}

fn fragment(f: &Fields, component: char) -> Fragment {
    let number = match component {
        'Y' => f.year,
        'M' => f.month + 1.0,
        'D' => f.day,
        'd' => (utc_day(f.year, f.month, f.day) - utc_day(f.year, 0.0, 1.0)) / DAY + 1.0,
        'F' if f.weekday == 0.0 => 7.0,
        'F' => f.weekday,
        'W' => {
            let start = start_of_first_week(f.year, 0.0);
            let today = utc_day(f.year, f.month, f.day);
            let mut week = delta_weeks(start, today);
            if week > 52.0 {
                if today >= start_of_first_week(f.year + 1.0, 0.0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(f.year - 1.0, 0.0), today);
            }
            week.floor()
        }
        'w' => {
            let start = start_of_first_week(f.year, f.month);
            let today = utc_day(f.year, f.month, f.day);
            let mut week = delta_weeks(start, today);
            if week > 4.0 {
                let (year, month) = next_month(f.year, f.month);
                if today >= start_of_first_week(year, month) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                let (year, month) = previous_month(f.year, f.month);
                week = delta_weeks(start_of_first_week(year, month), today);
            }
            week.floor()
        }
        'X' => {
            if f.time < start_of_first_week(f.year, 0.0) {
                f.year - 1.0
            } else if f.time >= start_of_first_week(f.year + 1.0, 0.0) {
                f.year + 1.0
            } else {
                f.year
            }
        }
        'x' => {
            let (next_year, next) = next_month(f.year, f.month);
            if f.time < start_of_first_week(f.year, f.month) {
                previous_month(f.year, f.month).1 + 1.0
            } else if f.time >= start_of_first_week(next_year, next) {
                next + 1.0
            } else {
                f.month + 1.0
            }
        }
        'H' => f.hour,
        'h' if f.hour % 12.0 == 0.0 => 12.0,
        'h' => f.hour % 12.0,
        'P' => return Fragment::Text(if f.hour >= 12.0 { "pm" } else { "am" }),
        'm' => f.minute,
        's' => f.second,
        'f' => f.milli,
        'C' | 'E' => return Fragment::Text("ISO"),
        _ => return Fragment::Undefined,
    };
    Fragment::Number(number)
}

// ---- $fromMillis -----------------------------------------------------------------------------

/// `$fromMillis(millis, picture, timezone)`: formats a time value with a date/time picture (ISO
/// 8601 to the millisecond by default) in the zone `timezone` (`±hhmm`, read with `parseInt` as
/// jsonata-js does; UTC by default).
///
/// `$fromMillis(1521801216617, '[FNn], [D1o] [MNn] [Y]')` is `"Friday, 23rd March 2018"`.
/// `$now(picture, timezone)` is `from_millis(<the evaluation's timestamp>, picture, timezone)`.
pub(crate) fn from_millis(
    millis: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> Result<String, FnError> {
    let (offset_hours, offset_minutes) = match timezone {
        Some(zone) => {
            let offset = js_parse_int(zone);
            ((offset / 100.0).floor(), offset % 100.0)
        }
        None => (0.0, 0.0),
    };
    let parts = analyse_picture(picture.unwrap_or(ISO_PICTURE))?;
    let shift = (60.0 * offset_hours + offset_minutes) * 60_000.0;
    let date = fields(time_clip(millis + shift));
    let mut result = String::new();
    for part in &parts {
        match part {
            Part::Literal(text) => result.push_str(text),
            Part::Marker(marker) => result.push_str(&format_component(
                &date,
                marker,
                offset_hours,
                offset_minutes,
            )?),
        }
    }
    Ok(result)
}

fn format_component(
    date: &Fields,
    marker: &Marker,
    offset_hours: f64,
    offset_minutes: f64,
) -> Result<String, FnError> {
    let component = marker.component;
    let value = fragment(date, component);
    let integer = || {
        marker
            .integer
            .as_ref()
            .ok_or_else(|| names_error(component))
    };
    if "YMDdFWwXxHhms".contains(component) {
        let Fragment::Number(mut number) = value else {
            return Ok("undefined".to_owned());
        };
        if component == 'Y' && marker.n != -1 {
            number %= 10f64.powf(marker.n as f64);
        }
        let Some(case) = marker.names else {
            return format_integer_with(number, integer()?);
        };
        let table: &[&str] = match component {
            'M' | 'x' => &MONTHS,
            'F' => &DAYS,
            _ => return Err(names_error(component)),
        };
        let index = if component == 'F' {
            number
        } else {
            number - 1.0
        };
        // an invalid date has no name: jsonata-js writes `undefined`, or fails changing its case
        let Some(name) = (index >= 0.0).then(|| table.get(index as usize)).flatten() else {
            if case == LetterCase::Title {
                return Ok("undefined".to_owned());
            }
            return Err(error(RUNAWAY, "An invalid date has no month or day name"));
        };
        let mut name = match case {
            LetterCase::Upper => name.to_uppercase(),
            LetterCase::Lower => name.to_lowercase(),
            LetterCase::Title => (*name).to_owned(),
        };
        if let Some(max) = marker.width_max {
            if name.chars().count() as i64 > max {
                name = name.chars().take(max.max(0) as usize).collect();
            }
        }
        return Ok(name);
    }
    match (component, value) {
        ('f', Fragment::Number(number)) => format_integer_with(number, integer()?),
        ('Z' | 'z', _) => format_zone(marker, integer()?, offset_hours, offset_minutes),
        ('P', Fragment::Text(text)) if marker.names == Some(LetterCase::Upper) => {
            Ok(text.to_uppercase())
        }
        (_, Fragment::Text(text)) => Ok(text.to_owned()),
        (_, Fragment::Number(number)) => Ok(js_number_to_string(number)),
        (_, Fragment::Undefined) => Ok("undefined".to_owned()),
    }
}

/// F&O §9.8.4.6 as jsonata-js does it: `[Z01:01]` gives `+05:30`, `[Z0]` `+5:30`, `[Z0101]`
/// `+0530`, `[z]` `GMT+05:30`, and a `t` modifier writes `Z` for UTC.
fn format_zone(
    marker: &Marker,
    format: &IntegerFormat,
    hours: f64,
    minutes: f64,
) -> Result<String, FnError> {
    let offset = hours * 100.0 + minutes;
    let mut text = if format.regular {
        format_integer_with(offset, format)?
    } else {
        match format.mandatory {
            Some(1 | 2) => {
                let mut text = format_integer_with(hours, format)?;
                if minutes != 0.0 {
                    let two_digits = analyse_integer_picture("00")?;
                    text.push(':');
                    text.push_str(&format_integer_with(minutes.floor(), &two_digits)?);
                }
                text
            }
            Some(3 | 4) => format_integer_with(offset, format)?,
            _ => {
                return Err(error(
                    "D3134",
                    "The timezone integer format specifier cannot have more than four digits",
                ))
            }
        }
    };
    if offset >= 0.0 {
        text.insert(0, '+');
    }
    if marker.component == 'z' {
        text.insert_str(0, "GMT");
    }
    if offset == 0.0 && marker.presentation2 == Some('t') {
        text = "Z".to_owned();
    }
    Ok(text)
}

// ---- $toMillis -------------------------------------------------------------------------------

/// `$toMillis(timestamp, picture)`: the time value a timestamp stands for. Without a picture the
/// timestamp must be ISO 8601 (`D3110`); with one, components the picture leaves out before the
/// first one it gives come from `now` (the evaluation's timestamp, like `$now()`), those after it
/// are zero (or 1 for month and day).
///
/// `None` is undefined (the text does not match the picture, or the picture has no component).
/// `Some(NaN)` is JavaScript's NaN: a timestamp that passes jsonata-js's ISO 8601 check but that
/// `Date.parse` rejects, such as `2018-13-01`.
pub(crate) fn to_millis_at(
    text: &str,
    picture: Option<&str>,
    now: f64,
) -> Result<Option<f64>, FnError> {
    let Some(picture) = picture else {
        let chars: Vec<char> = text.chars().collect();
        if !iso_shape(&chars) {
            return Err(error(
                "D3110",
                format!(
                    "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {}",
                    json_quote(text)
                ),
            ));
        }
        return Ok(Some(parse_iso(&chars)));
    };
    let parts = analyse_picture(picture)?;
    let matchers = parts
        .iter()
        .map(part_matcher)
        .collect::<Result<Vec<_>, _>>()?;
    let input: Vec<char> = text.chars().collect();
    let Some(captures) = match_parts(&matchers, &input)? else {
        return Ok(None);
    };
    let mut components = BTreeMap::new();
    for (matcher, capture) in matchers.iter().zip(captures) {
        let text: String = input[capture.0..capture.1].iter().collect();
        let value = match &matcher.reader {
            Reader::Literal => continue,
            Reader::Integer(format) => Some(parse_integer_with(format, &text)?),
            Reader::Zone { gmt, separator } => Some(read_zone(&text, *gmt, *separator)),
            Reader::Names(names) => names.iter().find(|(n, _)| *n == text).map(|n| n.1),
        };
        components.insert(matcher.component, value);
    }
    if components.is_empty() {
        return Ok(None);
    }
    resolve(components, &fields(time_clip(now))).map(Some)
}

/// jsonata-js's ISO 8601 check: `^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?
/// ([+-][0-2]\d:?[0-5]\d|Z)?$`.
fn iso_shape(s: &[char]) -> bool {
    let digit = |i: usize| s.get(i).is_some_and(char::is_ascii_digit);
    let within =
        |i: usize, low: char, high: char| s.get(i).is_some_and(|c| (low..=high).contains(c));
    let is = |i: usize, c: char| s.get(i) == Some(&c);
    if !(0..4).all(digit) {
        return false;
    }
    // the two date groups together accept any run of `-[0-3]\d`
    let mut date = 4;
    let mut date_ends = vec![4];
    while is(date, '-') && within(date + 1, '0', '3') && digit(date + 2) {
        date += 3;
        date_ends.push(date);
    }
    let time_group = |i: usize| {
        is(i, 'T')
            && within(i + 1, '0', '2')
            && digit(i + 2)
            && is(i + 3, ':')
            && within(i + 4, '0', '5')
            && digit(i + 5)
            && is(i + 6, ':')
            && within(i + 7, '0', '5')
            && digit(i + 8)
    };
    let tail = |mut i: usize| {
        if is(i, '.') && digit(i + 1) {
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        if i == s.len() || (is(i, 'Z') && i + 1 == s.len()) {
            return true;
        }
        if !(is(i, '+') || is(i, '-')) || !within(i + 1, '0', '2') || !digit(i + 2) {
            return false;
        }
        let minutes = if is(i + 3, ':') { i + 4 } else { i + 3 };
        within(minutes, '0', '5') && digit(minutes + 1) && minutes + 2 == s.len()
    };
    date_ends.iter().any(|&end| {
        let mut time = end;
        loop {
            if tail(time) {
                return true;
            }
            if !time_group(time) {
                return false;
            }
            time += 9;
        }
    })
}

/// `Date.parse` (V8) of a string of jsonata-js's ISO 8601 shape; a time without an offset is UTC.
fn parse_iso(s: &[char]) -> f64 {
    let number = |from: usize, to: usize| -> f64 {
        s.get(from..to).map_or(f64::NAN, |d| {
            d.iter().collect::<String>().parse().unwrap_or(f64::NAN)
        })
    };
    let year = number(0, 4);
    let (mut month, mut day, mut at) = (1.0, 1.0, 4);
    if s.get(at) == Some(&'-') {
        month = number(at + 1, at + 3);
        at += 3;
        if s.get(at) == Some(&'-') {
            day = number(at + 1, at + 3);
            at += 3;
        }
    }
    if !(1.0..=12.0).contains(&month) || !(1.0..=31.0).contains(&day) {
        return f64::NAN;
    }
    let days = make_day(year, month - 1.0, day);
    match s.get(at) {
        None => return time_clip(days * DAY),
        Some('Z') if at + 1 == s.len() => return time_clip(days * DAY),
        Some('T') => {}
        Some(_) => return f64::NAN,
    }
    let (hour, minute, second) = (
        number(at + 1, at + 3),
        number(at + 4, at + 6),
        number(at + 7, at + 9),
    );
    at += 9;
    let mut milli = 0.0;
    if s.get(at) == Some(&'.') {
        let run = s[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let digits: String = s[at + 1..at + 1 + run.min(3)].iter().collect();
        milli = format!("{digits:0<3}").parse().unwrap_or(0.0);
        at += 1 + run;
    }
    if hour > 24.0 || minute > 59.0 || second > 59.0 {
        return f64::NAN;
    }
    if hour == 24.0 && (minute != 0.0 || second != 0.0 || milli != 0.0) {
        return f64::NAN;
    }
    let mut offset = 0.0;
    match s.get(at) {
        None => {}
        Some('Z') if at + 1 == s.len() => {}
        Some(&sign) if sign == '+' || sign == '-' => {
            let rest = &s[at + 1..];
            let run = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            let (hours, minutes) = match run {
                4 if rest.len() == 4 => (number(at + 1, at + 3), number(at + 3, at + 5)),
                2 if rest.len() == 5 && rest[2] == ':' => {
                    (number(at + 1, at + 3), number(at + 4, at + 6))
                }
                _ => return f64::NAN,
            };
            if hours > 23.0 || minutes > 59.0 {
                return f64::NAN;
            }
            offset = (hours * 60.0 + minutes) * 60_000.0;
            if sign == '-' {
                offset = -offset;
            }
        }
        Some(_) => return f64::NAN,
    }
    time_clip(days * DAY + make_time(hour, minute, second, milli) - offset)
}

/// The minutes east of UTC a zone such as `+05:30`, `-0500` or `GMT-5` stands for, read as
/// jsonata-js reads it (so `-05:30` is -270: the minutes keep their own sign).
fn read_zone(text: &str, gmt: bool, separator: Option<char>) -> f64 {
    let text: Vec<char> = text.chars().collect();
    let value = if gmt {
        &text[3.min(text.len())..]
    } else {
        &text[..]
    };
    let part = |a: usize, b: usize| js_parse_int(&substring(value, a, b));
    let (hours, minutes) = match separator.and_then(|s| value.iter().position(|&c| c == s)) {
        Some(at) => (part(0, at), part(at + 1, value.len())),
        None if separator.is_some() => (part(0, 0), part(0, value.len())),
        None if value.len() <= 3 => (part(0, value.len()), 0.0),
        None => (part(0, 3), part(3, value.len())),
    };
    hours * 60.0 + minutes
}

/// At most this many steps (candidate positions tried) go into matching a timestamp against a
/// picture; jsonata-js's backtracking regular expression has no such bound.
const MATCH_STEPS: usize = 5_000_000;

fn canonical(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) if !u.is_ascii() || c.is_ascii() => u,
        _ => c,
    }
}

fn same_letter(a: char, b: char) -> bool {
    a == b || canonical(a) == canonical(b)
}

fn starts_with_blind(input: &[char], at: usize, word: &[char]) -> bool {
    input
        .get(at..at + word.len())
        .is_some_and(|s| s.iter().zip(word).all(|(&a, &b)| same_letter(a, b)))
}

/// The positions `token` can end at when it starts at `at`, most preferred first (the order a
/// backtracking regular expression tries them in).
fn candidates(
    token: &Token,
    input: &[char],
    at: usize,
    words: &[Vec<char>],
    budget: &mut usize,
) -> Result<Vec<usize>, FnError> {
    let ends = match token {
        Token::Literal(literal) => {
            if starts_with_blind(input, at, literal) {
                vec![at + literal.len()]
            } else {
                Vec::new()
            }
        }
        Token::Class(class, min, max) => {
            let run = input[at..]
                .iter()
                .take(*max)
                .take_while(|&&c| class.matches(c))
                .count();
            if run < *min {
                Vec::new()
            } else {
                (*min..=run).rev().map(|k| at + k).collect()
            }
        }
        Token::Ordinal => ["th", "st", "nd", "rd"]
            .iter()
            .filter(|s| starts_with_blind(input, at, &s.chars().collect::<Vec<_>>()))
            .map(|_| at + 2)
            .collect(),
        Token::Words => word_ends(input, at, words, budget)?,
    };
    spend(budget, ends.len() + 1)?;
    Ok(ends)
}

fn spend(budget: &mut usize, steps: usize) -> Result<(), FnError> {
    *budget = budget.checked_sub(steps).ok_or_else(|| {
        error(
            RUNAWAY,
            "The timestamp takes too many steps to match against the date/time picture string",
        )
    })?;
    Ok(())
}

/// Ends of `(?:word|...)+` from `at`, in backtracking order: after each alternative, the longer
/// matches that continue from it come before it. A position already reached is not explored
/// again: what follows it matches or fails the same way each time.
fn word_ends(
    input: &[char],
    at: usize,
    words: &[Vec<char>],
    budget: &mut usize,
) -> Result<Vec<usize>, FnError> {
    let mut ends = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(at, 0usize)];
    while let Some(&(position, next)) = stack.last() {
        spend(budget, 1)?;
        let found = (next..words.len() + 1).find_map(|alternative| {
            let end = match words.get(alternative) {
                Some(word) => {
                    starts_with_blind(input, position, word).then(|| position + word.len())
                }
                None => input
                    .get(position)
                    .is_some_and(|c| matches!(c, '-' | ',' | ' '))
                    .then_some(position + 1),
            }?;
            Some((alternative, end))
        });
        match found {
            Some((alternative, end)) => {
                if let Some(top) = stack.last_mut() {
                    top.1 = alternative + 1;
                }
                if seen.insert(end) {
                    stack.push((end, 0));
                }
            }
            None => {
                stack.pop();
                if !stack.is_empty() {
                    ends.push(position);
                }
            }
        }
    }
    Ok(ends)
}

/// Matches the whole input against the parts in order; the span each part matched.
fn match_parts(
    parts: &[PartMatcher],
    input: &[char],
) -> Result<Option<Vec<(usize, usize)>>, FnError> {
    let tokens: Vec<&Token> = parts.iter().flat_map(|p| p.tokens.iter()).collect();
    let mut words: Vec<Vec<char>> = word_values()
        .into_iter()
        .map(|(w, _)| w.chars().collect())
        .collect();
    words.push(vec!['a', 'n', 'd']);
    let mut budget = MATCH_STEPS;
    let mut failed: HashSet<(usize, usize)> = HashSet::new();
    // frame i: token i starts at `start`, and `ends` are its untried ends
    struct Frame {
        start: usize,
        ends: Vec<usize>,
        next: usize,
    }
    let mut finish: Option<(Vec<usize>, usize)> = None;
    if let Some(first) = tokens.first() {
        let ends = candidates(first, input, 0, &words, &mut budget)?;
        let mut stack = vec![Frame {
            start: 0,
            ends,
            next: 0,
        }];
        while !stack.is_empty() {
            let index = stack.len() - 1;
            let frame = &mut stack[index];
            let Some(&end) = frame.ends.get(frame.next) else {
                failed.insert((index, frame.start));
                stack.pop();
                continue;
            };
            frame.next += 1;
            if index + 1 == tokens.len() {
                if end == input.len() {
                    finish = Some((stack.iter().map(|f| f.start).collect(), end));
                    break;
                }
                continue;
            }
            if failed.contains(&(index + 1, end)) {
                continue;
            }
            let ends = candidates(tokens[index + 1], input, end, &words, &mut budget)?;
            stack.push(Frame {
                start: end,
                ends,
                next: 0,
            });
        }
    } else if input.is_empty() {
        finish = Some((Vec::new(), 0));
    }
    let Some((starts, end)) = finish else {
        return Ok(None);
    };
    let mut spans = Vec::with_capacity(parts.len());
    let mut token = 0;
    for part in parts {
        let from = starts.get(token).copied().unwrap_or(end);
        token += part.tokens.len();
        let to = starts.get(token).copied().unwrap_or(end);
        spans.push((from, to));
    }
    Ok(Some(spans))
}

/// Turns the components a timestamp gave into a time value, filling the gaps as jsonata-js does.
fn resolve(mut components: BTreeMap<char, Option<f64>>, now: &Fields) -> Result<f64, FnError> {
    let value =
        |components: &BTreeMap<char, Option<f64>>, c: char| components.get(&c).copied().flatten();
    let truthy = |v: Option<f64>| v.is_some_and(|v| v != 0.0 && !v.is_nan());
    let mask = |components: &BTreeMap<char, Option<f64>>, letters: &str| {
        letters.chars().fold(0u32, |m, c| {
            (m << 1) | u32::from(truthy(value(components, c)))
        })
    };
    // a combination is present when no other component is given and one of its own is
    let is_type = |kind: u32, mask: u32| (!kind & mask) == 0 && (kind & mask) != 0;
    let date = mask(&components, "YXMxWwdD");
    let date_a = is_type(0b1010_0001, date);
    let date_b = !date_a && is_type(0b1000_0010, date);
    let date_c = is_type(0b0101_0100, date);
    let date_d = !date_c && is_type(0b0100_1000, date);
    let time = mask(&components, "PHhmsf");
    let time_a = is_type(0b01_0111, time);
    let time_b = !time_a && is_type(0b10_1111, time);
    let date_parts = match (date_b, date_c, date_d) {
        (true, _, _) => "YD",
        (_, true, _) => "XxwF",
        (_, _, true) => "XWF",
        _ => "YMD",
    };
    let time_parts = if time_b { "Phmsf" } else { "Hmsf" };
    let missing = || {
        error(
            "D3136",
            "The date/time picture string is missing specifiers required to parse the timestamp",
        )
    };
    let (mut started, mut ended) = (false, false);
    for c in date_parts.chars().chain(time_parts.chars()) {
        if value(&components, c).is_some() {
            started = true;
            if ended {
                return Err(missing());
            }
        } else if started {
            components.insert(c, Some(if "MDd".contains(c) { 1.0 } else { 0.0 }));
            ended = true;
        } else {
            let default = match fragment(now, c) {
                Fragment::Number(n) => Some(n),
                // `am`/`pm` is never the 1 that means pm below
                Fragment::Text(_) => Some(f64::NAN),
                Fragment::Undefined => None,
            };
            components.insert(c, default);
        }
    }
    let get = |c: char| value(&components, c).unwrap_or(f64::NAN);
    let mut month = match value(&components, 'M') {
        Some(m) if m > 0.0 => m - 1.0,
        _ => 0.0,
    };
    let mut day = get('D');
    if date_b {
        let first = utc_day(get('Y'), 0.0, 1.0);
        let derived = fields(time_clip(first + (get('d') - 1.0) * DAY));
        month = derived.month;
        day = derived.day;
    }
    if date_c || date_d {
        return Err(missing());
    }
    let mut hour = get('H');
    if time_b {
        hour = if get('h') == 12.0 { 0.0 } else { get('h') };
        if get('P') == 1.0 {
            hour += 12.0;
        }
    }
    let mut millis = date_utc(get('Y'), month, day, [hour, get('m'), get('s'), get('f')]);
    let zone = [value(&components, 'Z'), value(&components, 'z')]
        .into_iter()
        .find(|&v| truthy(v))
        .flatten();
    if let Some(zone) = zone {
        millis -= zone * 60_000.0;
    }
    Ok(millis)
}

#[cfg(test)]
#[path = "datetime_tests.rs"]
mod tests;
