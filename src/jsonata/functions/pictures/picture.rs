//! Integer picture strings (XPath F&O 3.1 `fn:format-integer`, §4.6.1) as jsonata-js 2.0.6 reads
//! them, shared by `$formatInteger`, `$parseInteger` and the date/time markers of `$fromMillis` and
//! `$toMillis`; and the JavaScript number rules those functions inherit (number to string,
//! `parseInt`, `\s`).
//!
//! Faithfulness notes: jsonata-js indexes strings by UTF-16 code unit; this code indexes by `char`,
//! which only differs for pictures or inputs holding characters outside the Basic Multilingual
//! Plane.

use super::format::{js_is_space, js_number_to_string, js_parse_int};
use super::FnError;

/// Code used where jsonata-js fails without a code of its own or never ends (a roman numeral of a
/// huge number or words for a non-finite one overflow its stack, a digit outside the family is an
/// invalid code point, a name of an invalid date is a TypeError, a date match can take forever):
/// stepfn stops with this code and a plain message instead.
pub(crate) const RUNAWAY: &str = "U1001";

/// The longest number picture stepfn reads: jsonata-js's grouping work grows with the square of
/// a picture's length, which is only reasonable for pictures of a reasonable size.
pub(crate) const MAX_PICTURE: usize = 10_000;

/// Fails for a number picture longer than [`MAX_PICTURE`].
pub(crate) fn check_picture_length(length: usize) -> Result<(), FnError> {
    if length > MAX_PICTURE {
        return Err(error(
            RUNAWAY,
            format!("The picture string is longer than {MAX_PICTURE} characters"),
        ));
    }
    Ok(())
}

/// Builds an error.
pub(crate) fn error(code: &'static str, message: impl Into<String>) -> FnError {
    FnError {
        code,
        message: message.into(),
    }
}

/// `JSON.stringify` of a string, as jsonata-js substitutes `{{value}}` into its messages.
pub(crate) fn json_quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn sequence_error(token: &str) -> FnError {
    error(
        "D3130",
        format!(
            "Formatting or parsing an integer as a sequence starting with {} is not supported by this implementation",
            json_quote(token)
        ),
    )
}

/// The zero of every decimal digit family jsonata-js recognises in a decimal-digit-pattern.
const DECIMAL_GROUPS: [u32; 37] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

#[rustfmt::skip]
const FEW: [&str; 20] = [
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen",
    "Nineteen",
];
#[rustfmt::skip]
const ORDINALS: [&str; 20] = [
    "Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
    "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth",
    "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth",
];
const DECADES: [&str; 9] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];

/// Every word `$parseInteger` knows, lower case, in jsonata-js's order (the order matters: a date
/// picture tries them in this order when it matches words), with its value.
pub(crate) fn word_values() -> Vec<(String, f64)> {
    let mut words = Vec::with_capacity(70);
    for (index, word) in FEW.iter().enumerate() {
        words.push((word.to_lowercase(), index as f64));
    }
    for (index, word) in ORDINALS.iter().enumerate() {
        words.push((word.to_lowercase(), index as f64));
    }
    for (index, word) in DECADES.iter().enumerate() {
        let lower = word.to_lowercase();
        let value = ((index + 2) * 10) as f64;
        // jsonata-js derives the ordinal by replacing the last letter: "hundred" gives "hundreieth"
        let ordinal = format!("{}ieth", &lower[..lower.len() - 1]);
        words.push((lower, value));
        words.push((ordinal, value));
    }
    words.push(("hundredth".to_owned(), 100.0));
    for (index, word) in MAGNITUDES.iter().enumerate() {
        let lower = word.to_lowercase();
        let value = 10f64.powf(((index + 1) * 3) as f64);
        let ordinal = format!("{lower}th");
        words.push((lower, value));
        words.push((ordinal, value));
    }
    words
}

/// The primary format token of an integer picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Primary {
    /// A decimal-digit-pattern such as `#,##0`.
    Decimal,
    /// `A` / `a`: spreadsheet-style letters.
    Letters,
    /// `I` / `i`: roman numerals.
    Roman,
    /// `W` / `w` / `Ww`: English words.
    Words,
    /// Anything else: a numbering sequence, which jsonata-js does not support (D3130).
    Sequence,
}

/// Letter case of letters, numerals, words and names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LetterCase {
    /// All upper case.
    Upper,
    /// All lower case.
    Lower,
    /// Capitalised words.
    Title,
}

/// A grouping-separator-sign: its character and how many digit signs stand to its right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Separator {
    pub(crate) position: usize,
    pub(crate) character: char,
}

/// An analysed integer picture.
#[derive(Clone, Debug)]
pub(crate) struct IntegerFormat {
    pub(crate) primary: Primary,
    pub(crate) case: LetterCase,
    pub(crate) ordinal: bool,
    /// Code point of the zero digit of the decimal digit family (decimal only).
    pub(crate) zero: u32,
    /// Mandatory digits (decimal only; `None` where jsonata-js has `undefined`).
    pub(crate) mandatory: Option<i64>,
    pub(crate) optional: i64,
    /// True when the separators repeat regularly; `separators` then holds the one interval.
    pub(crate) regular: bool,
    /// Separators from right to left.
    pub(crate) separators: Vec<Separator>,
    /// The picture of an unsupported numbering sequence.
    pub(crate) token: String,
}

impl IntegerFormat {
    fn new(primary: Primary, case: LetterCase, ordinal: bool) -> Self {
        IntegerFormat {
            primary,
            case,
            ordinal,
            zero: 0x30,
            mandatory: None,
            optional: 0,
            regular: false,
            separators: Vec::new(),
            token: String::new(),
        }
    }
}

/// Analyses an integer picture such as `#,##0;o`, `w` or `I`.
pub(crate) fn analyse_integer_picture(picture: &str) -> Result<IntegerFormat, FnError> {
    check_picture_length(picture.len())?;
    let (primary, ordinal) = match picture.rfind(';') {
        None => (picture, false),
        Some(at) => (&picture[..at], picture[at + 1..].starts_with('o')),
    };
    let format = |primary, case| IntegerFormat::new(primary, case, ordinal);
    Ok(match primary {
        "A" => format(Primary::Letters, LetterCase::Upper),
        "a" => format(Primary::Letters, LetterCase::Lower),
        "I" => format(Primary::Roman, LetterCase::Upper),
        "i" => format(Primary::Roman, LetterCase::Lower),
        "W" => format(Primary::Words, LetterCase::Upper),
        "Ww" => format(Primary::Words, LetterCase::Title),
        "w" => format(Primary::Words, LetterCase::Lower),
        _ => analyse_digit_pattern(primary, ordinal)?,
    })
}

fn analyse_digit_pattern(primary: &str, ordinal: bool) -> Result<IntegerFormat, FnError> {
    let mut zero: Option<u32> = None;
    let (mut mandatory, mut optional, mut position) = (0i64, 0i64, 0usize);
    let mut separators = Vec::new();
    for character in primary.chars().rev() {
        let code = character as u32;
        if let Some(&group) = DECIMAL_GROUPS
            .iter()
            .find(|&&group| code >= group && code <= group + 9)
        {
            mandatory += 1;
            position += 1;
            match zero {
                None => zero = Some(group),
                Some(known) if known != group => return Err(error(
                    "D3131",
                    "In a decimal digit pattern, all digits must be from the same decimal group",
                )),
                Some(_) => {}
            }
        } else if character == '#' {
            position += 1;
            optional += 1;
        } else {
            separators.push(Separator {
                position,
                character,
            });
        }
    }
    let mut format = IntegerFormat::new(Primary::Decimal, LetterCase::Lower, ordinal);
    if mandatory == 0 {
        format.primary = Primary::Sequence;
        format.token = primary.to_owned();
        return Ok(format);
    }
    format.zero = zero.unwrap_or(0x30);
    format.mandatory = Some(mandatory);
    format.optional = optional;
    let interval = regular_interval(&separators);
    if interval > 0 {
        format.regular = true;
        format.separators = vec![Separator {
            position: interval,
            character: separators[0].character,
        }];
    } else {
        format.separators = separators;
    }
    Ok(format)
}

/// The greatest common divisor of two positions (jsonata-js's recursive `gcd`).
pub(crate) fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The interval of regularly spaced grouping positions, or 0 when they are not regular.
pub(crate) fn regular_positions(positions: &[usize]) -> usize {
    let Some((&first, rest)) = positions.split_first() else {
        return 0;
    };
    let factor = rest.iter().fold(first, |acc, &p| gcd(acc, p));
    let regular = (1..=positions.len()).all(|k| positions.contains(&(k * factor)));
    if regular {
        factor
    } else {
        0
    }
}

fn regular_interval(separators: &[Separator]) -> usize {
    let Some(first) = separators.first() else {
        return 0;
    };
    if separators.iter().any(|s| s.character != first.character) {
        return 0;
    }
    let positions: Vec<usize> = separators.iter().map(|s| s.position).collect();
    regular_positions(&positions)
}

/// The longest run of padding stepfn builds; jsonata-js would fail on far less than this with
/// "Invalid string length".
const MAX_PAD: i64 = 1 << 20;

/// Formats `value` (already an integer) with an analysed picture (jsonata-js `_formatInteger`).
pub(crate) fn format_integer_with(value: f64, format: &IntegerFormat) -> Result<String, FnError> {
    let negative = value < 0.0;
    let value = value.abs();
    let text = match format.primary {
        Primary::Letters if value.is_infinite() => {
            // jsonata-js never ends here (no JSON number gets here)
            return Err(error(RUNAWAY, "Infinity cannot be written in letters"));
        }
        Primary::Letters => to_letters(value, format.case == LetterCase::Upper),
        Primary::Roman => {
            let roman = to_roman(value)?;
            if format.case == LetterCase::Upper {
                roman.to_uppercase()
            } else {
                roman
            }
        }
        Primary::Words => {
            let words = to_words(value, format.ordinal)?;
            match format.case {
                LetterCase::Upper => words.to_uppercase(),
                LetterCase::Lower => words.to_lowercase(),
                LetterCase::Title => words,
            }
        }
        Primary::Decimal => to_decimal(value, format)?,
        Primary::Sequence => return Err(sequence_error(&format.token)),
    };
    Ok(if negative { format!("-{text}") } else { text })
}

fn to_decimal(value: f64, format: &IntegerFormat) -> Result<String, FnError> {
    let mut digits: Vec<char> = js_number_to_string(value).chars().collect();
    let pad = format.mandatory.unwrap_or(0) - digits.len() as i64;
    if pad > MAX_PAD {
        return Err(error(
            RUNAWAY,
            "The integer picture asks for too many digits",
        ));
    }
    if pad > 0 {
        let mut padded = vec!['0'; pad as usize];
        padded.append(&mut digits);
        digits = padded;
    }
    if format.zero != 0x30 {
        for digit in &mut digits {
            let shifted = *digit as u32 + format.zero - 0x30;
            *digit = char::from_u32(shifted).unwrap_or(char::REPLACEMENT_CHARACTER);
        }
    }
    if format.regular {
        if let Some(separator) = format.separators.first() {
            let groups = (digits.len() - 1) / separator.position;
            for group in (1..=groups).rev() {
                let at = digits.len() - group * separator.position;
                digits.insert(at, separator.character);
            }
        }
    } else {
        // leftmost separator first, each counted in digits from the right; a separator left of
        // every digit follows JavaScript's `substr` with a negative index, as jsonata-js does
        for separator in format.separators.iter().rev() {
            let at = digits.len() as i64 - separator.position as i64;
            if at >= 0 {
                digits.insert(at as usize, separator.character);
            } else {
                let keep = (digits.len() as i64 + at).max(0) as usize;
                digits.drain(..keep);
                digits.insert(0, separator.character);
            }
        }
    }
    let mut text: String = digits.iter().collect();
    if format.ordinal {
        let last = digits.last().copied();
        let before_last = digits.len().checked_sub(2).map(|i| digits[i]);
        let suffix = match last {
            _ if before_last == Some('1') => "th",
            Some('1') => "st",
            Some('2') => "nd",
            Some('3') => "rd",
            _ => "th",
        };
        text.push_str(suffix);
    }
    Ok(text)
}

fn to_letters(mut value: f64, upper: bool) -> String {
    let base = if upper { 'A' } else { 'a' } as u32 as f64;
    let mut letters = Vec::new();
    while value > 0.0 {
        let code = (value - 1.0) % 26.0 + base;
        letters.push(char::from_u32(code as u32).unwrap_or(char::REPLACEMENT_CHARACTER));
        value = ((value - 1.0) / 26.0).floor();
    }
    letters.iter().rev().collect()
}

#[rustfmt::skip]
const ROMAN: [(f64, &str); 13] = [
    (1000.0, "m"), (900.0, "cm"), (500.0, "d"), (400.0, "cd"), (100.0, "c"), (90.0, "xc"),
    (50.0, "l"), (40.0, "xl"), (10.0, "x"), (9.0, "ix"), (5.0, "v"), (4.0, "iv"), (1.0, "i"),
];

/// The largest number written in roman numerals; jsonata-js recurses once per numeral and runs out
/// of stack somewhere above this.
const MAX_ROMAN: f64 = 10_000_000.0;

fn to_roman(mut value: f64) -> Result<String, FnError> {
    if value > MAX_ROMAN {
        return Err(error(
            RUNAWAY,
            format!(
                "The number {} is too large to be written in roman numerals",
                js_number_to_string(value)
            ),
        ));
    }
    let mut roman = String::new();
    for (number, numeral) in ROMAN {
        while value >= number {
            roman.push_str(numeral);
            value -= number;
        }
    }
    Ok(roman)
}

fn to_words(value: f64, ordinal: bool) -> Result<String, FnError> {
    if !value.is_finite() {
        return Err(error(
            RUNAWAY,
            format!(
                "The number {} cannot be written in words",
                js_number_to_string(value)
            ),
        ));
    }
    Ok(words_lookup(value, false, ordinal))
}

/// jsonata-js `numberToWords`'s `lookup`; its recursion depth is bounded by the magnitude of a
/// finite double (about 30 levels), not by any input length.
fn words_lookup(num: f64, prev: bool, ordinal: bool) -> String {
    let small = |n: f64| (n.max(0.0) as usize).min(19);
    if num <= 19.0 {
        let table = if ordinal { &ORDINALS } else { &FEW };
        let and = if prev { " and " } else { "" };
        return format!("{and}{}", table[small(num)]);
    }
    if num < 100.0 {
        let tens = (num / 10.0).floor() as usize;
        let remainder = num % 10.0;
        let and = if prev { " and " } else { "" };
        let mut words = format!("{and}{}", DECADES[tens.saturating_sub(2).min(8)]);
        if remainder > 0.0 {
            words.push('-');
            words.push_str(&words_lookup(remainder, false, ordinal));
        } else if ordinal {
            words.pop();
            words.push_str("ieth");
        }
        return words;
    }
    let comma = if prev { ", " } else { "" };
    if num < 1000.0 {
        let hundreds = (num / 100.0).floor();
        let remainder = num % 100.0;
        let mut words = format!("{comma}{} Hundred", FEW[small(hundreds)]);
        if remainder > 0.0 {
            words.push_str(&words_lookup(remainder, true, ordinal));
        } else if ordinal {
            words.push_str("th");
        }
        return words;
    }
    let magnitude = ((num.log10() / 3.0).floor() as usize).clamp(1, MAGNITUDES.len());
    let factor = 10f64.powf((magnitude * 3) as f64);
    let mantissa = (num / factor).floor();
    let remainder = num - mantissa * factor;
    let mut words = format!(
        "{comma}{} {}",
        words_lookup(mantissa, false, false),
        MAGNITUDES[magnitude - 1]
    );
    if remainder > 0.0 {
        words.push_str(&words_lookup(remainder, true, ordinal));
    } else if ordinal {
        words.push_str("th");
    }
    words
}

/// Reads `value` with an analysed picture, as jsonata-js's `parseInteger` does: without checking
/// that the text matches the picture (text that does not gives NaN or a meaningless number).
pub(crate) fn parse_integer_with(format: &IntegerFormat, value: &str) -> Result<f64, FnError> {
    let upper = format.case == LetterCase::Upper;
    Ok(match format.primary {
        Primary::Letters => letters_to_number(value, upper),
        Primary::Roman => {
            if upper {
                roman_to_number(value)
            } else {
                roman_to_number(&value.to_uppercase())
            }
        }
        Primary::Words => words_to_number(&value.to_lowercase()),
        Primary::Decimal => {
            let mut digits: Vec<char> = value.chars().collect();
            if format.ordinal {
                digits.truncate(digits.len().saturating_sub(2));
            }
            if format.regular {
                // jsonata-js strips commas here whatever the separator is
                digits.retain(|&c| c != ',');
            } else {
                digits.retain(|c| !format.separators.iter().any(|s| s.character == *c));
            }
            let mut shifted = String::with_capacity(digits.len());
            for c in digits {
                // below the family's zero, jsonata-js asks for a negative code point and fails
                let code = (c as u32 + 0x30).checked_sub(format.zero).ok_or_else(|| {
                    error(
                        RUNAWAY,
                        format!("Invalid code point for {}", json_quote(&c.to_string())),
                    )
                })?;
                shifted.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            js_parse_int(&shifted)
        }
        Primary::Sequence => return Err(sequence_error(&format.token)),
    })
}

fn letters_to_number(letters: &str, upper: bool) -> f64 {
    let base = f64::from(if upper { b'A' } else { b'a' });
    let units: Vec<u16> = letters.encode_utf16().collect();
    let mut number = 0.0;
    for (power, unit) in units.iter().rev().enumerate() {
        number += (f64::from(*unit) - base + 1.0) * 26f64.powf(power as f64);
    }
    number
}

fn roman_to_number(roman: &str) -> f64 {
    let mut number = 0.0;
    let mut max = 1.0;
    for numeral in roman.chars().rev() {
        let value = match numeral {
            'M' => 1000.0,
            'D' => 500.0,
            'C' => 100.0,
            'L' => 50.0,
            'X' => 10.0,
            'V' => 5.0,
            'I' => 1.0,
            // an unknown numeral is `undefined` in jsonata-js, which makes the sum NaN
            _ => return f64::NAN,
        };
        if value < max {
            number -= value;
        } else {
            max = value;
            number += value;
        }
    }
    number
}

/// jsonata-js `wordsToNumber` over lower-case text.
fn words_to_number(text: &str) -> f64 {
    let words = word_values();
    let mut segments = vec![0.0f64];
    for part in split_words(text) {
        let value = words.iter().find(|(word, _)| *word == part).map(|w| w.1);
        let top = segments.pop().unwrap_or(0.0);
        match value {
            Some(value) if value < 100.0 => {
                if top >= 1000.0 {
                    segments.push(top);
                    segments.push(value);
                } else {
                    segments.push(top + value);
                }
            }
            Some(value) => segments.push(top * value),
            None => segments.push(f64::NAN),
        }
    }
    segments.iter().fold(0.0, |sum, s| sum + s)
}

/// Splits like `text.split(/,\s|\sand\s|[\s\\-]/)`.
fn split_words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < chars.len() {
        let c = chars[i];
        let length = if c == ',' && at(i + 1).is_some_and(js_is_space) {
            2
        } else if js_is_space(c)
            && chars.get(i + 1..i + 4) == Some(&['a', 'n', 'd'][..])
            && at(i + 4).is_some_and(js_is_space)
        {
            5
        } else if js_is_space(c) || c == '\\' || c == '-' {
            1
        } else {
            0
        };
        if length == 0 {
            i += 1;
        } else {
            parts.push(chars[start..i].iter().collect());
            i += length;
            start = i;
        }
    }
    parts.push(chars[start..].iter().collect());
    parts
}

/// Day names, Monday being 1.
pub(crate) const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
#[rustfmt::skip]
/// Month names.
pub(crate) const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];

// ---- date/time pictures -----------------------------------------------------------------------------

/// A variable marker such as `[D1o]` or `[MNn,3-3]`.
#[derive(Debug)]
pub(crate) struct Marker {
    pub(crate) component: char,
    pub(crate) width_max: Option<i64>,
    pub(crate) presentation2: Option<char>,
    pub(crate) names: Option<LetterCase>,
    pub(crate) integer: Option<IntegerFormat>,
    /// The number of year digits (`-1`: all); digits to match for `Y`, `M` and `D` when parsing.
    pub(crate) n: i64,
}

#[derive(Debug)]
pub(crate) enum Part {
    Literal(String),
    Marker(Marker),
}

/// `text.substring(start, end)` over chars.
pub(crate) fn substring(text: &[char], start: usize, end: usize) -> String {
    let (a, b) = (start.min(text.len()), end.min(text.len()));
    text[a.min(b)..a.max(b)].iter().collect()
}

fn default_presentation(component: char) -> Option<&'static str> {
    Some(match component {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

/// Analyses a date/time picture (F&O §9.8.4.1) into literals and markers.
pub(crate) fn analyse_picture(picture: &str) -> Result<Vec<Part>, FnError> {
    let chars: Vec<char> = picture.chars().collect();
    let mut parts = Vec::new();
    let add_literal = |parts: &mut Vec<Part>, start: usize, end: usize| {
        if end > start {
            let literal: String = chars[start..end].iter().collect();
            parts.push(Part::Literal(literal.replace("]]", "]")));
        }
    };
    let (mut start, mut pos) = (0, 0);
    while pos < chars.len() {
        if chars[pos] == '[' {
            if chars.get(pos + 1) == Some(&'[') {
                add_literal(&mut parts, start, pos);
                parts.push(Part::Literal("[".to_owned()));
                pos += 2;
                start = pos;
                continue;
            }
            add_literal(&mut parts, start, pos);
            start = pos;
            pos = match chars[start..].iter().position(|&c| c == ']') {
                Some(offset) => start + offset,
                None => {
                    return Err(error(
                        "D3135",
                        "No matching closing bracket ']' in date/time picture string",
                    ))
                }
            };
            let marker: Vec<char> = chars[start + 1..pos]
                .iter()
                .copied()
                .filter(|&c| !js_is_space(c))
                .collect();
            parts.push(Part::Marker(analyse_marker(&marker)?));
            start = pos + 1;
        }
        pos += 1;
    }
    add_literal(&mut parts, start, pos);
    Ok(parts)
}

/// A width given as `*` or as something `parseInt` cannot read is no width. (jsonata-js carries
/// NaN on, with effects no picture relies on.)
fn parse_width(text: Option<String>) -> Option<i64> {
    let text = text?;
    if text == "*" {
        return None;
    }
    let width = js_parse_int(&text);
    if width.is_nan() {
        None
    } else {
        Some(width as i64)
    }
}

fn analyse_marker(marker: &[char]) -> Result<Marker, FnError> {
    let component = marker.first().copied();
    let comma = marker.iter().rposition(|&c| c == ',');
    let (mut width_min, mut width_max) = (None, None);
    let presentation: Vec<char> = match comma {
        Some(comma) => {
            let width: Vec<char> = marker[comma + 1..].to_vec();
            let (min, max) = match width.iter().position(|&c| c == '-') {
                None => (Some(width.iter().collect()), None),
                Some(dash) => (
                    Some(width[..dash].iter().collect()),
                    Some(width[dash + 1..].iter().collect()),
                ),
            };
            width_min = parse_width(min);
            width_max = parse_width(max);
            substring(marker, 1, comma).chars().collect()
        }
        None => substring(marker, 1, marker.len()).chars().collect(),
    };
    let mut presentation2 = None;
    let presentation1: String = match presentation.len() {
        0 => component
            .and_then(default_presentation)
            .unwrap_or("")
            .to_owned(),
        1 => presentation.iter().collect(),
        len => {
            let last = presentation[len - 1];
            if "atco".contains(last) {
                presentation2 = Some(last);
                presentation[..len - 1].iter().collect()
            } else {
                presentation.iter().collect()
            }
        }
    };
    let component = match component {
        Some(c) if !presentation1.is_empty() => c,
        _ => {
            let name = component.map(String::from).unwrap_or_default();
            return Err(error(
                "D3132",
                format!(
                    "Unknown component specifier {} in date/time picture string",
                    json_quote(&name)
                ),
            ));
        }
    };
    let mut spec = Marker {
        component,
        width_max,
        presentation2,
        names: None,
        integer: None,
        n: -1,
    };
    let mut first = presentation1.chars();
    match (first.next(), first.next()) {
        (Some('n'), _) => spec.names = Some(LetterCase::Lower),
        (Some('N'), Some('n')) => spec.names = Some(LetterCase::Title),
        (Some('N'), _) => spec.names = Some(LetterCase::Upper),
        _ if "YMDdFWwXxHhmsf".contains(component) => {
            let mut pattern = presentation1.clone();
            if let Some(modifier) = presentation2 {
                pattern.push(';');
                pattern.push(modifier);
            }
            let mut integer = analyse_integer_picture(&pattern)?;
            if let (Some(min), Some(mandatory)) = (width_min, integer.mandatory) {
                if mandatory < min {
                    integer.mandatory = Some(min);
                }
            }
            if "YMD".contains(component) {
                if let Some(max) = width_max {
                    spec.n = max;
                    integer.mandatory = Some(max);
                } else if let Some(mandatory) = integer.mandatory {
                    let digits = mandatory + integer.optional;
                    if digits >= 2 {
                        spec.n = digits;
                    }
                }
            }
            spec.integer = Some(integer);
        }
        _ => {}
    }
    if component == 'Z' || component == 'z' {
        spec.integer = Some(analyse_integer_picture(&presentation1)?);
    }
    Ok(spec)
}

pub(crate) fn names_error(component: char) -> FnError {
    error(
        "D3133",
        format!(
            "The 'name' modifier can only be applied to months and days in the date/time picture string, not {}",
            json_quote(&component.to_string())
        ),
    )
}

// ---- the regular expression a picture stands for (jsonata-js generateRegex) -----------------

/// How the text a marker matched becomes a component value.
pub(crate) enum Reader {
    Literal,
    Integer(IntegerFormat),
    Zone { gmt: bool, separator: Option<char> },
    Names(Vec<(String, f64)>),
}

/// One piece of the regular expression jsonata-js builds from a picture (matched case-blind).
#[derive(Debug)]
pub(crate) enum Token {
    Literal(Vec<char>),
    /// A character class repeated between `.1` and `.2` times, greedily.
    Class(Class, usize, usize),
    /// `(?:th|st|nd|rd)`
    Ordinal,
    /// `(?:<any number word>|and|[\-, ])+`
    Words,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Class {
    Digit,
    Letter,
    Roman,
    Sign,
    /// `.`: anything but a line terminator
    Any,
}

impl Class {
    pub(crate) fn matches(self, c: char) -> bool {
        match self {
            Class::Digit => c.is_ascii_digit(),
            Class::Letter => c.is_ascii_alphabetic(),
            Class::Roman => c.is_ascii() && "MDCLXVI".contains(c.to_ascii_uppercase()),
            Class::Sign => c == '+' || c == '-',
            Class::Any => !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'),
        }
    }
}

pub(crate) struct PartMatcher {
    pub(crate) tokens: Vec<Token>,
    pub(crate) reader: Reader,
    pub(crate) component: char,
}

pub(crate) fn part_matcher(part: &Part) -> Result<PartMatcher, FnError> {
    let marker = match part {
        Part::Literal(text) => {
            return Ok(PartMatcher {
                tokens: vec![Token::Literal(text.chars().collect())],
                reader: Reader::Literal,
                component: ' ',
            })
        }
        Part::Marker(marker) => marker,
    };
    let component = marker.component;
    let any = |class| Token::Class(class, 1, usize::MAX);
    let (tokens, reader) = match (&marker.integer, component) {
        (Some(format), 'Z' | 'z') => {
            // the separator goes into jsonata-js's regular expression unescaped
            let separator = format
                .separators
                .first()
                .filter(|_| format.regular)
                .map(|s| s.character);
            let mut tokens = Vec::new();
            if component == 'z' {
                tokens.push(Token::Literal(vec!['G', 'M', 'T']));
            }
            tokens.push(Token::Class(Class::Sign, 1, 1));
            tokens.push(any(Class::Digit));
            if let Some(separator) = separator {
                tokens.push(if separator == '.' {
                    Token::Class(Class::Any, 1, 1)
                } else {
                    Token::Literal(vec![separator])
                });
                tokens.push(any(Class::Digit));
            }
            let gmt = component == 'z';
            (tokens, Reader::Zone { gmt, separator })
        }
        (Some(format), _) => (
            integer_tokens(format, marker.n)?,
            Reader::Integer(format.clone()),
        ),
        (None, _) => {
            let names: Vec<(String, f64)> = match component {
                'M' | 'x' => name_table(&MONTHS, marker.width_max),
                'F' => name_table(&DAYS[1..], marker.width_max),
                'P' => [("am", 0.0), ("AM", 0.0), ("pm", 1.0), ("PM", 1.0)]
                    .map(|(name, value)| (name.to_owned(), value))
                    .to_vec(),
                _ => return Err(names_error(component)),
            };
            (vec![any(Class::Letter)], Reader::Names(names))
        }
    };
    Ok(PartMatcher {
        tokens,
        reader,
        component,
    })
}

pub(crate) fn integer_tokens(format: &IntegerFormat, n: i64) -> Result<Vec<Token>, FnError> {
    let any = |class| Token::Class(class, 1, usize::MAX);
    Ok(match format.primary {
        Primary::Letters => vec![any(Class::Letter)],
        Primary::Roman => vec![any(Class::Roman)],
        Primary::Words => vec![Token::Words],
        Primary::Decimal => {
            let digits = if n > 0 {
                let max = n as usize;
                let min = (n - format.optional).max(0) as usize;
                Token::Class(Class::Digit, min, max)
            } else {
                any(Class::Digit)
            };
            if format.ordinal {
                vec![digits, Token::Ordinal]
            } else {
                vec![digits]
            }
        }
        Primary::Sequence => {
            // reuse the formatting error: parsing fails the same way
            return format_integer_with(0.0, format).map(|_| Vec::new());
        }
    })
}

/// Names to look up (exactly, case and all), cut to the width's maximum when there is one; a later
/// name wins over an earlier one it shares a prefix with, as in jsonata-js's lookup object.
pub(crate) fn name_table(names: &[&str], width_max: Option<i64>) -> Vec<(String, f64)> {
    let mut table: Vec<(String, f64)> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let key: String = match width_max {
            Some(max) if max > 0 => name.chars().take(max as usize).collect(),
            _ => (*name).to_owned(),
        };
        let value = index as f64 + 1.0;
        match table.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => table.push((key, value)),
        }
    }
    table
}

#[cfg(test)]
#[path = "picture_tests.rs"]
mod tests;
