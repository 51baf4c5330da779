//! `$formatNumber`, `$formatInteger`, `$parseInteger` and `$formatBase`, as jsonata-js 2.0.6 runs
//! them (XPath F&O 3.1 `fn:format-number` and `fn:format-integer` pictures).
//!
//! Where jsonata-js never returns (`$formatNumber(0, '0e0')` and every number at or below zero
//! with an exponent picture spin forever; an empty `grouping-separator` loops too), stepfn gives the
//! answer the F&O specification gives, or an error.

use super::picture::{
    analyse_integer_picture, check_picture_length, error, format_integer_with, parse_integer_with,
    regular_positions, RUNAWAY,
};
use super::FnError;
use serde_json::{Map, Value};

/// `$formatInteger(value, picture)`: `value` is floored first.
///
/// `$formatInteger(1234, '#,##0')` is `"1,234"`, `$formatInteger(12, 'w;o')` is `"twelfth"`.
pub(crate) fn format_integer(value: f64, picture: &str) -> Result<String, FnError> {
    let format = analyse_integer_picture(picture)?;
    format_integer_with(value.floor(), &format)
}

/// `$parseInteger(string, picture)`: the inverse of `$formatInteger`.
///
/// Like jsonata-js it does not check the text against the picture: text that does not fit gives
/// `Some(NaN)` (jsonata-js returns NaN) or a meaningless number. `None` is never returned today;
/// the type leaves room for undefined.
pub(crate) fn parse_integer(text: &str, picture: &str) -> Result<Option<f64>, FnError> {
    let format = analyse_integer_picture(picture)?;
    parse_integer_with(&format, text).map(Some)
}

/// `$formatBase(value, radix)`: `value` and `radix` are rounded (half to even), `radix` defaults to
/// 10 and must lie in 2..=36 (`D3100`).
pub(crate) fn format_base(value: f64, radix: Option<f64>) -> Result<String, FnError> {
    let value = jsonata_round(value, 0);
    let radix = radix.map_or(10.0, |r| jsonata_round(r, 0));
    if !(2.0..=36.0).contains(&radix) {
        let given = if radix.is_finite() {
            js_number_to_string(radix)
        } else {
            "null".to_owned()
        };
        return Err(error(
            "D3100",
            format!("The radix of the formatBase function must be between 2 and 36.  It was given {given}"),
        ));
    }
    Ok(to_radix(value, radix as u32))
}

/// JavaScript's `Number.prototype.toString(radix)` for an integral `value`: the digits V8 gives,
/// with the places a double cannot represent written as zeros.
fn to_radix(value: f64, radix: u32) -> String {
    if radix == 10 || !value.is_finite() || value == 0.0 {
        return js_number_to_string(value);
    }
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let base = f64::from(radix);
    let mut integer = value.abs().floor();
    let mut digits = Vec::new();
    while binary_exponent(integer / base) > 0 {
        integer /= base;
        digits.push(b'0');
    }
    loop {
        let remainder = integer % base;
        digits.push(DIGITS[(remainder as usize).min(35)]);
        integer = (integer - remainder) / base;
        if integer <= 0.0 {
            break;
        }
    }
    if value < 0.0 {
        digits.push(b'-');
    }
    digits.iter().rev().map(|&b| char::from(b)).collect()
}

/// The exponent of a double seen as a 53-bit integer times a power of two (V8 `Double::Exponent`).
fn binary_exponent(value: f64) -> i64 {
    let biased = ((value.to_bits() >> 52) & 0x7ff) as i64;
    if biased == 0 {
        -1074
    } else {
        biased - 1075
    }
}

/// JavaScript's `Math.round`: half-way values go towards +∞, and the sign of zero is kept.
fn js_math_round(value: f64) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    let floor = value.floor();
    let rounded = if value - floor >= 0.5 {
        floor + 1.0
    } else {
        floor
    };
    if rounded == 0.0 && value < 0.0 {
        -0.0
    } else {
        rounded
    }
}

/// JSONata's `$round(value, precision)`: half to even, the decimal point shifted in text form.
pub(crate) fn jsonata_round(value: f64, precision: i64) -> f64 {
    let shift = |number: f64, by: i64| -> f64 {
        let text = js_number_to_string(number);
        let (mantissa, exponent) = match text.split_once('e') {
            Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().unwrap_or(0)),
            None => (text.as_str(), 0),
        };
        format!("{mantissa}e{}", exponent + by)
            .parse::<f64>()
            .unwrap_or(f64::NAN)
    };
    let argument = if precision != 0 {
        shift(value, precision)
    } else {
        value
    };
    let mut result = js_math_round(argument);
    if (result - argument).abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    if precision != 0 {
        result = shift(result, -precision);
    }
    if result == 0.0 {
        0.0
    } else {
        result
    }
}

/// JavaScript's `value.toFixed(digits)`: exact decimal expansion, a tie rounds up; `1e21` and
/// above in exponent form.
fn js_to_fixed(value: f64, digits: usize) -> Result<String, FnError> {
    if digits > 100 {
        return Err(error(
            "D1001",
            format!("Number out of range: {digits} fractional digits (at most 100)"),
        ));
    }
    if !value.is_finite() || value.abs() >= 1e21 {
        return Ok(js_number_to_string(value));
    }
    let value = if value == 0.0 { 0.0 } else { value };
    // a double has exactly as many decimal places as binary places; only when that is one more
    // than asked can the value be a tie, which Rust rounds to even and JavaScript rounds up
    if fractional_bits(value) != digits + 1 {
        return Ok(format!("{value:.digits$}"));
    }
    let exact = format!("{:.*}", digits + 1, value.abs());
    let mut chars: Vec<char> = exact.chars().collect();
    chars.pop();
    if chars.last() == Some(&'.') {
        chars.pop();
    }
    let mut carry = true;
    for c in chars.iter_mut().rev() {
        if !carry {
            break;
        }
        if let Some(d) = c.to_digit(10) {
            carry = d == 9;
            *c = char::from_digit((d + 1) % 10, 10).unwrap_or('0');
        }
    }
    let text: String = chars.iter().collect();
    let sign = if value < 0.0 { "-" } else { "" };
    Ok(if carry {
        format!("{sign}1{text}")
    } else {
        format!("{sign}{text}")
    })
}

fn fractional_bits(value: f64) -> usize {
    let bits = value.abs().to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return 0;
    }
    let exponent = exponent + i64::from(mantissa.trailing_zeros());
    if exponent >= 0 {
        0
    } else {
        (-exponent) as usize
    }
}

// ---- JavaScript number rules ----------------------------------------------------------------

/// JavaScript's `\s`.
pub(crate) fn js_is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript's `parseInt(text)` (no radix): leading white space, a sign, then decimal digits or a
/// `0x` hexadecimal literal; NaN when no digit follows.
pub(crate) fn js_parse_int(text: &str) -> f64 {
    let text = text.trim_start_matches(js_is_space);
    let (negative, text) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, text) = match text.get(..2) {
        Some("0x") | Some("0X") => (16, &text[2..]),
        _ => (10, text),
    };
    let end = text
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(text.len());
    let digits = &text[..end];
    if digits.is_empty() {
        return f64::NAN;
    }
    let magnitude = if radix == 10 {
        digits.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        digits.chars().fold(0.0, |n, c| {
            n * 16.0 + f64::from(c.to_digit(16).unwrap_or(0))
        })
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// JavaScript's `Number.prototype.toString()` (ECMA-262 Number::toString, radix 10).
pub(crate) fn js_number_to_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest digits that round-trip, as ECMA-262 asks
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exponent.parse::<i64>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let exponent_sign = if n - 1 < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        format!("{first}{dot}{rest}e{exponent_sign}{}", (n - 1).abs())
    };
    format!("{sign}{body}")
}

// ---- strings indexed as jsonata-js indexes them ----------------------------------------------

/// `haystack.indexOf(needle, from)`, -1 when absent.
fn index_of(haystack: &[char], needle: &[char], from: usize) -> i64 {
    let from = from.min(haystack.len());
    if needle.is_empty() {
        return from as i64;
    }
    (from..haystack.len())
        .find(|&i| haystack[i..].starts_with(needle))
        .map_or(-1, |i| i as i64)
}

/// `haystack.lastIndexOf(needle)`, -1 when absent.
fn last_index_of(haystack: &[char], needle: &[char]) -> i64 {
    if needle.is_empty() {
        return haystack.len() as i64;
    }
    (0..haystack.len())
        .rev()
        .find(|&i| haystack[i..].starts_with(needle))
        .map_or(-1, |i| i as i64)
}

fn contains(haystack: &[char], needle: &[char]) -> bool {
    index_of(haystack, needle, 0) >= 0
}

/// `text.substring(start, end)`.
fn substring(text: &[char], start: usize, end: usize) -> Vec<char> {
    let (a, b) = (start.min(text.len()), end.min(text.len()));
    text[a.min(b)..a.max(b)].to_vec()
}

/// `text.slice(0, at) + insert + text.slice(at)`.
fn insert_at(text: &mut Vec<char>, at: i64, insert: &[char]) {
    let len = text.len() as i64;
    let at = if at < 0 {
        (len + at).max(0)
    } else {
        at.min(len)
    } as usize;
    text.splice(at..at, insert.iter().copied());
}

fn is_char(symbol: &[char], c: char) -> bool {
    symbol.len() == 1 && symbol[0] == c
}

// ---- $formatNumber ---------------------------------------------------------------------------

/// The decimal-format properties, each overridable through the options object.
struct Symbols {
    decimal: Vec<char>,
    grouping: Vec<char>,
    exponent: Vec<char>,
    minus: Vec<char>,
    percent: Vec<char>,
    per_mille: Vec<char>,
    zero: Vec<char>,
    digit: Vec<char>,
    pattern: Vec<char>,
    /// The ten digits starting at the first UTF-16 unit of `zero`.
    family: Vec<char>,
}

impl Symbols {
    fn new(options: Option<&Map<String, Value>>) -> Self {
        let get = |name: &str, default: &str| -> Vec<char> {
            match options.and_then(|o| o.get(name)) {
                Some(Value::String(s)) => s.chars().collect(),
                // jsonata-js would use the raw value; its text is the closest plain-string reading
                Some(other) => other.to_string().chars().collect(),
                None => default.chars().collect(),
            }
        };
        let zero = get("zero-digit", "0");
        let zero_unit = zero
            .iter()
            .collect::<String>()
            .encode_utf16()
            .next()
            .map(u32::from);
        let family = zero_unit
            .map(|z| (z..z + 10).filter_map(char::from_u32).collect())
            .unwrap_or_default();
        Symbols {
            decimal: get("decimal-separator", "."),
            grouping: get("grouping-separator", ","),
            exponent: get("exponent-separator", "e"),
            minus: get("minus-sign", "-"),
            percent: get("percent", "%"),
            per_mille: get("per-mille", "\u{2030}"),
            zero,
            digit: get("digit", "#"),
            pattern: get("pattern-separator", ";"),
            family,
        }
    }

    fn is_family(&self, c: char) -> bool {
        self.family.contains(&c)
    }

    fn is_digit_sign(&self, c: char) -> bool {
        self.is_family(c) || is_char(&self.digit, c)
    }

    fn is_active(&self, c: char) -> bool {
        self.is_family(c)
            || [
                &self.decimal,
                &self.exponent,
                &self.grouping,
                &self.digit,
                &self.pattern,
            ]
            .iter()
            .any(|s| is_char(s, c))
    }
}

/// A sub-picture cut into its parts (F&O 4.7.3).
struct Parts {
    picture: Vec<char>,
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fraction: Vec<char>,
}

/// The variables of a sub-picture (F&O 4.7.4).
#[derive(Clone)]
struct Analysis {
    integer_grouping: Vec<usize>,
    regular_grouping: usize,
    min_integer: usize,
    scaling: usize,
    prefix: Vec<char>,
    fraction_grouping: Vec<usize>,
    min_fraction: usize,
    max_fraction: usize,
    min_exponent: usize,
    suffix: Vec<char>,
    picture: Vec<char>,
}

fn format_number_error(code: &'static str) -> FnError {
    let message = match code {
        "D3080" => "The picture string must only contain a maximum of two sub-pictures",
        "D3081" => "The sub-picture must not contain more than one instance of the 'decimal-separator' character",
        "D3082" => "The sub-picture must not contain more than one instance of the 'percent' character",
        "D3083" => "The sub-picture must not contain more than one instance of the 'per-mille' character",
        "D3084" => "The sub-picture must not contain both a 'percent' and a 'per-mille' character",
        "D3085" => "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'",
        "D3086" => "The sub-picture must not contain a passive character that is preceded by an active character and that is followed by another active character",
        "D3087" => "The sub-picture must not contain a 'grouping-separator' character that appears adjacent to a 'decimal-separator' character",
        "D3088" => "The sub-picture must not contain a 'grouping-separator' at the end of the integer part",
        "D3089" => "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character",
        "D3090" => "The integer part of the sub-picture must not contain a member of the 'decimal digit family' that is followed by an instance of the 'optional digit character'",
        "D3091" => "The fractional part of the sub-picture must not contain an instance of the 'optional digit character' that is followed by a member of the 'decimal digit family'",
        "D3092" => "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a character treated as an 'exponent-separator'",
        _ => "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'",
    };
    error(code, message)
}

fn split_parts(picture: &[char], symbols: &Symbols) -> Result<Parts, FnError> {
    let is_boundary = |c: char| symbols.is_active(c) && !is_char(&symbols.exponent, c);
    // jsonata-js fails with a TypeError on a sub-picture without any digit sign; D3085 says why
    let first = picture
        .iter()
        .position(|&c| is_boundary(c))
        .ok_or_else(|| format_number_error("D3085"))?;
    let last = picture
        .iter()
        .rposition(|&c| is_boundary(c))
        .unwrap_or(first);
    let prefix = picture[..first].to_vec();
    let suffix = picture[last + 1..].to_vec();
    let active = picture[first..=last].to_vec();
    let exponent_at = index_of(picture, &symbols.exponent, first);
    let (mantissa, exponent) = if exponent_at < 0 || exponent_at as usize > last + 1 {
        (active.clone(), None)
    } else {
        // jsonata-js cuts the active part at the exponent's index in the whole sub-picture
        let at = exponent_at as usize;
        (
            substring(&active, 0, at),
            Some(substring(&active, at + 1, active.len())),
        )
    };
    let decimal_at = index_of(&mantissa, &symbols.decimal, 0);
    let (integer, fraction) = if decimal_at < 0 {
        // jsonata-js takes the suffix as the fractional part when there is no decimal separator
        (mantissa.clone(), suffix.clone())
    } else {
        let at = decimal_at as usize;
        (
            substring(&mantissa, 0, at),
            substring(&mantissa, at + 1, mantissa.len()),
        )
    };
    Ok(Parts {
        picture: picture.to_vec(),
        prefix,
        suffix,
        active,
        mantissa,
        exponent,
        integer,
        fraction,
    })
}

/// F&O 4.7.3 checks in jsonata-js's order; as there, the last failing check names the error.
fn validate(parts: &Parts, symbols: &Symbols) -> Result<(), FnError> {
    let picture = &parts.picture;
    let mut code = None;
    let decimal_at = index_of(picture, &symbols.decimal, 0);
    if decimal_at != last_index_of(picture, &symbols.decimal) {
        code = Some("D3081");
    }
    if index_of(picture, &symbols.percent, 0) != last_index_of(picture, &symbols.percent) {
        code = Some("D3082");
    }
    if index_of(picture, &symbols.per_mille, 0) != last_index_of(picture, &symbols.per_mille) {
        code = Some("D3083");
    }
    let has_percent = contains(picture, &symbols.percent);
    let has_per_mille = contains(picture, &symbols.per_mille);
    if has_percent && has_per_mille {
        code = Some("D3084");
    }
    if !parts.mantissa.iter().any(|&c| symbols.is_digit_sign(c)) {
        code = Some("D3085");
    }
    if parts.active.iter().any(|&c| !symbols.is_active(c)) {
        code = Some("D3086");
    }
    let grouping_at = |at: i64| {
        at >= 0
            && picture
                .get(at as usize)
                .is_some_and(|&c| is_char(&symbols.grouping, c))
    };
    if decimal_at >= 0 {
        if grouping_at(decimal_at - 1) || grouping_at(decimal_at + 1) {
            code = Some("D3087");
        }
    } else if parts
        .integer
        .last()
        .is_some_and(|&c| is_char(&symbols.grouping, c))
    {
        code = Some("D3088");
    }
    let double_grouping = [symbols.grouping.as_slice(), symbols.grouping.as_slice()].concat();
    if contains(picture, &double_grouping) {
        code = Some("D3089");
    }
    let optional_at = index_of(&parts.integer, &symbols.digit, 0);
    if optional_at >= 0
        && parts.integer[..optional_at as usize]
            .iter()
            .any(|&c| symbols.is_family(c))
    {
        code = Some("D3090");
    }
    let optional_at = last_index_of(&parts.fraction, &symbols.digit);
    if optional_at >= 0
        && parts.fraction[optional_at as usize..]
            .iter()
            .any(|&c| symbols.is_family(c))
    {
        code = Some("D3091");
    }
    if let Some(exponent) = &parts.exponent {
        if !exponent.is_empty() && (has_percent || has_per_mille) {
            code = Some("D3092");
        }
        if exponent.is_empty() || exponent.iter().any(|&c| !symbols.is_family(c)) {
            code = Some("D3093");
        }
    }
    match code {
        Some(code) => Err(format_number_error(code)),
        None => Ok(()),
    }
}

fn analyse(parts: &Parts, symbols: &Symbols) -> Result<Analysis, FnError> {
    if symbols.grouping.is_empty() {
        return Err(error(
            RUNAWAY,
            "The 'grouping-separator' of the formatNumber function must not be empty",
        ));
    }
    let grouping_positions = |part: &[char], to_left: bool| -> Vec<usize> {
        let mut positions = Vec::new();
        let mut at = index_of(part, &symbols.grouping, 0);
        while at >= 0 {
            let side = if to_left {
                substring(part, 0, at as usize)
            } else {
                substring(part, at as usize, part.len())
            };
            positions.push(side.iter().filter(|&&c| symbols.is_digit_sign(c)).count());
            // jsonata-js looks for the next separator in the integer part, whichever part it reads
            at = index_of(&parts.integer, &symbols.grouping, at as usize + 1);
        }
        positions
    };
    let integer_grouping = grouping_positions(&parts.integer, false);
    let regular_grouping = regular_positions(&integer_grouping);
    let fraction_grouping = grouping_positions(&parts.fraction, true);
    let count = |part: &[char], digit_sign: bool| {
        part.iter()
            .filter(|&&c| symbols.is_family(c) || (digit_sign && is_char(&symbols.digit, c)))
            .count()
    };
    let mut min_integer = count(&parts.integer, false);
    let scaling = min_integer;
    let mut min_fraction = count(&parts.fraction, false);
    let mut max_fraction = count(&parts.fraction, true);
    let exponent_present = parts.exponent.is_some();
    if min_integer == 0 && max_fraction == 0 {
        if exponent_present {
            min_fraction = 1;
            max_fraction = 1;
        } else {
            min_integer = 1;
        }
    }
    if exponent_present && min_integer == 0 && contains(&parts.integer, &symbols.digit) {
        min_integer = 1;
    }
    if min_integer == 0 && min_fraction == 0 {
        min_fraction = 1;
    }
    let min_exponent = parts.exponent.as_deref().map_or(0, |e| count(e, false));
    Ok(Analysis {
        integer_grouping,
        regular_grouping,
        min_integer,
        scaling,
        prefix: parts.prefix.clone(),
        fraction_grouping,
        min_fraction,
        max_fraction,
        min_exponent,
        suffix: parts.suffix.clone(),
        picture: parts.picture.clone(),
    })
}

/// `$formatNumber(value, picture, options)` (XPath F&O 3.1 `fn:format-number`).
///
/// `$formatNumber(12345.6, '#,###.00')` is `"12,345.60"`; `options` overrides the decimal-format
/// properties (`decimal-separator`, `grouping-separator`, `exponent-separator`, `minus-sign`,
/// `percent`, `per-mille`, `zero-digit`, `digit`, `pattern-separator`).
pub(crate) fn format_number(
    value: f64,
    picture: &str,
    options: Option<&Map<String, Value>>,
) -> Result<String, FnError> {
    let symbols = Symbols::new(options);
    let picture: Vec<char> = picture.chars().collect();
    check_picture_length(picture.len())?;
    let sub_pictures = split_pattern(&picture, &symbols.pattern);
    if sub_pictures.len() > 2 {
        return Err(format_number_error("D3080"));
    }
    let parts = sub_pictures
        .iter()
        .map(|p| split_parts(p, &symbols))
        .collect::<Result<Vec<_>, _>>()?;
    for part in &parts {
        validate(part, &symbols)?;
    }
    let mut variables = parts
        .iter()
        .map(|p| analyse(p, &symbols))
        .collect::<Result<Vec<_>, _>>()?;
    if variables.len() == 1 {
        let mut negative = variables[0].clone();
        negative.prefix = [symbols.minus.as_slice(), &negative.prefix].concat();
        variables.push(negative);
    }
    let picture = if value >= 0.0 {
        &variables[0]
    } else {
        &variables[1]
    };
    render(value, picture, &symbols)
}

/// `picture.split(separator)`.
fn split_pattern(picture: &[char], separator: &[char]) -> Vec<Vec<char>> {
    if separator.is_empty() {
        return picture.iter().map(|&c| vec![c]).collect();
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut at = index_of(picture, separator, 0);
    while at >= 0 {
        pieces.push(picture[start..at as usize].to_vec());
        start = at as usize + separator.len();
        at = index_of(picture, separator, start);
    }
    pieces.push(picture[start..].to_vec());
    pieces
}

/// F&O 4.7.5, bullet by bullet as jsonata-js does it.
fn render(value: f64, pic: &Analysis, symbols: &Symbols) -> Result<String, FnError> {
    let adjusted = if contains(&pic.picture, &symbols.percent) {
        value * 100.0
    } else if contains(&pic.picture, &symbols.per_mille) {
        value * 1000.0
    } else {
        value
    };
    let (mantissa, exponent) = if pic.min_exponent == 0 {
        (adjusted, None)
    } else {
        // jsonata-js scales the signed number and so never ends for zero or a negative number;
        // the magnitude gives the specified answer (the sign comes from the prefix either way)
        let max = 10f64.powf(pic.scaling as f64);
        let min = 10f64.powf(pic.scaling as f64 - 1.0);
        let mut mantissa = adjusted.abs();
        let mut exponent = 0i64;
        if mantissa != 0.0 && mantissa.is_finite() {
            while mantissa < min {
                mantissa *= 10.0;
                exponent -= 1;
            }
            while mantissa > max {
                mantissa /= 10.0;
                exponent += 1;
            }
        }
        (mantissa, Some(exponent))
    };
    let rounded = jsonata_round(mantissa, pic.max_fraction as i64);
    let mut text = make_string(rounded, pic.max_fraction, symbols)?;
    let decimal = &symbols.decimal;
    match text.iter().position(|&c| c == '.') {
        None => text.extend_from_slice(decimal),
        Some(at) => {
            text.splice(at..=at, decimal.iter().copied());
        }
    }
    let zero_char = if symbols.zero.len() == 1 {
        Some(symbols.zero[0])
    } else {
        None
    };
    if let Some(zero) = zero_char {
        let leading = text.iter().take_while(|&&c| c == zero).count();
        text.drain(..leading);
        let trailing = text.iter().rev().take_while(|&&c| c == zero).count();
        text.truncate(text.len() - trailing);
    }
    let decimal_at = index_of(&text, decimal, 0);
    let pad_left = pic.min_integer as i64 - decimal_at;
    let pad_right = pic.min_fraction as i64 - (text.len() as i64 - decimal_at - 1);
    let zeros = |count: i64| -> Vec<char> {
        (0..count.max(0))
            .flat_map(|_| symbols.zero.iter().copied())
            .collect()
    };
    text = [zeros(pad_left), text, zeros(pad_right)].concat();
    let mut decimal_at = index_of(&text, decimal, 0);
    if pic.regular_grouping > 0 {
        let step = pic.regular_grouping as i64;
        let groups = (decimal_at - 1).div_euclid(step);
        for group in 1..=groups {
            insert_at(&mut text, decimal_at - group * step, &symbols.grouping);
        }
    } else {
        for &position in &pic.integer_grouping {
            insert_at(&mut text, decimal_at - position as i64, &symbols.grouping);
            decimal_at += 1;
        }
    }
    let decimal_at = index_of(&text, decimal, 0);
    for &position in &pic.fraction_grouping {
        insert_at(
            &mut text,
            position as i64 + decimal_at + 1,
            &symbols.grouping,
        );
    }
    let decimal_at = index_of(&text, decimal, 0);
    if !contains(&pic.picture, decimal) || decimal_at == text.len() as i64 - 1 {
        text.pop();
    }
    if let Some(exponent) = exponent {
        let mut digits = make_string(exponent as f64, 0, symbols)?;
        let pad = pic.min_exponent as i64 - digits.len() as i64;
        digits = [zeros(pad), digits].concat();
        text.extend_from_slice(&symbols.exponent);
        if exponent < 0 {
            text.extend_from_slice(&symbols.minus);
        }
        text.extend(digits);
    }
    Ok([pic.prefix.as_slice(), &text, &pic.suffix]
        .concat()
        .into_iter()
        .collect())
}

/// `Math.abs(value).toFixed(places)` written in the digit family of `zero-digit`.
fn make_string(value: f64, places: usize, symbols: &Symbols) -> Result<Vec<char>, FnError> {
    let fixed = js_to_fixed(value.abs(), places)?;
    if is_char(&symbols.zero, '0') {
        return Ok(fixed.chars().collect());
    }
    Ok(fixed
        .chars()
        .flat_map(|c| match c.to_digit(10) {
            // a family cut short (a zero-digit near the end of the code space) drops the digit,
            // as joining `undefined` does in jsonata-js
            Some(d) => symbols.family.get(d as usize).copied(),
            None => Some(c),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(value: f64, picture: &str) -> String {
        format_number(value, picture, None).unwrap()
    }

    #[test]
    fn number_to_string_follows_javascript() {
        let cases = [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123.456, "123.456"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (-2.5, "-2.5"),
            (-0.0, "0"),
            (1.2345e25, "1.2345e+25"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (value, text) in cases {
            assert_eq!(js_number_to_string(value), text);
        }
    }

    #[test]
    fn parse_int_follows_javascript() {
        assert_eq!(js_parse_int("  -0500"), -500.0);
        assert_eq!(js_parse_int("+0100"), 100.0);
        assert_eq!(js_parse_int("12abc"), 12.0);
        assert_eq!(js_parse_int("0x1A"), 26.0);
        assert!(js_parse_int("abc").is_nan());
        assert!(js_parse_int("").is_nan());
    }

    #[test]
    fn suite_cases_with_computed_arguments() {
        let picture = "000,000.000###;###,###.000###";
        assert_eq!(number(2392.14 * (-36.58), picture), "87,504.4812");
        let picture = "PREFIX##00.000###SUFFIX";
        assert_eq!(number(2.14 * 86.58, picture), "PREFIX185.2812SUFFIX");
    }

    #[test]
    fn exponent_pictures_end_for_zero_and_negatives() {
        assert_eq!(number(0.0, "0e0"), "0e0");
        assert_eq!(number(0.0, "00.000e0"), "00.000e0");
        assert_eq!(number(-1234.5678, "00.000e0"), "-12.346e2");
        assert_eq!(number(-0.234, "0.0e0"), "-2.3e-1");
    }

    #[test]
    fn javascript_number_rules() {
        assert_eq!(number(1e21, "#"), "1e+21");
        assert_eq!(number(0.5, "0"), "0");
        assert_eq!(number(1.5, "0"), "2");
        assert_eq!(number(2.5, "0"), "2");
        assert_eq!(number(-6.0, "000"), "-006");
        assert_eq!(number(1234.5, "#,##0.0;(#)"), "1,234.5");
        assert_eq!(number(-1234.5, "#,##0.0;(#)"), "(1234)");
        assert_eq!(js_to_fixed(0.5, 0).unwrap(), "1");
        assert_eq!(js_to_fixed(2.5, 0).unwrap(), "3");
        assert_eq!(js_to_fixed(1.005, 2).unwrap(), "1.00");
        assert_eq!(js_to_fixed(0.125, 2).unwrap(), "0.13");
    }

    use super::super::picture::MAX_PICTURE;

    #[test]
    fn pictures_jsonata_cannot_read() {
        assert_eq!(format_number(1.0, "abc", None).unwrap_err().code, "D3085");
        assert_eq!(format_number(1.0, "#;", None).unwrap_err().code, "D3085");
        let mut options = Map::new();
        options.insert("grouping-separator".into(), Value::String(String::new()));
        // an empty separator doubled is still in the picture: jsonata-js stops at D3089
        assert_eq!(
            format_number(1.0, "#0", Some(&options)).unwrap_err().code,
            "D3089"
        );
        let long = "#,".repeat(MAX_PICTURE / 2) + "0";
        assert_eq!(format_number(1.0, &long, None).unwrap_err().code, RUNAWAY);
        let many = format!("0.{}", "0".repeat(101));
        assert_eq!(format_number(1.0, &many, None).unwrap_err().code, "D1001");
    }

    #[test]
    fn base_conversion_follows_v8() {
        assert_eq!(format_base(255.0, Some(16.0)).unwrap(), "ff");
        assert_eq!(format_base(-0.4, Some(2.0)).unwrap(), "0");
        assert_eq!(format_base(2.5, None).unwrap(), "2");
        assert_eq!(format_base(1e21, None).unwrap(), "1e+21");
        assert_eq!(
            format_base(2f64.powi(60), Some(2.0)).unwrap(),
            format!("1{}", "0".repeat(60))
        );
        assert_eq!(format_base(1e21, Some(16.0)).unwrap(), "3635c9adc5dea00000");
        let err = format_base(1.0, Some(36.6)).unwrap_err();
        assert_eq!(
            err.message,
            "The radix of the formatBase function must be between 2 and 36.  It was given 37"
        );
    }

    #[test]
    fn parse_integer_returns_nan_for_text_off_the_picture() {
        assert!(parse_integer("abc", "0").unwrap().unwrap().is_nan());
        assert!(parse_integer("١٢", "#0").unwrap().unwrap().is_nan());
        assert_eq!(parse_integer("١٢", "٠").unwrap(), Some(12.0));
        assert_eq!(parse_integer("12", "٠").unwrap_err().code, RUNAWAY);
        assert_eq!(parse_integer("12", "#,##0").unwrap(), Some(12.0));
        let err = parse_integer("50", "#").unwrap_err();
        assert_eq!(
            err.message,
            "Formatting or parsing an integer as a sequence starting with \"#\" is not supported by this implementation"
        );
    }

    #[test]
    fn irregular_separators_left_of_every_digit() {
        assert_eq!(format_integer(12.0, "#:###,##0").unwrap(), ",:12");
        assert_eq!(format_integer(1e21, "0").unwrap(), "1e+21");
    }
}
