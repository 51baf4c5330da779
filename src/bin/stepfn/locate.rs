//! Where a diagnostic's location (`/States/A/Choices[0]/Next`, AWS's form)
//! stands in the definition's text, as a 1-based line and column, so that
//! editors can jump to it (`file:line:col`).
//!
//! The text is walked along the location only: the members before the one
//! sought are skipped by counting brackets, never parsed into values, so
//! any text (even very deep or invalid) is walked in linear time without
//! recursion.

/// One step of a location: an object member or an array element.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// `/States/C/Choices[0]/Next` as steps; `None` for another form.
fn steps(location: &str) -> Option<Vec<Step<'_>>> {
    let rest = location.strip_prefix('/')?;
    let mut out = Vec::new();
    for segment in rest.split('/') {
        let (name, mut indexes) = match segment.find('[') {
            Some(at) if segment.ends_with(']') => (&segment[..at], &segment[at..]),
            _ => (segment, ""),
        };
        out.push(Step::Key(name));
        while let Some(inner) = indexes.strip_prefix('[') {
            let close = inner.find(']')?;
            out.push(Step::Index(inner[..close].parse().ok()?));
            indexes = &inner[close + 1..];
        }
    }
    Some(out)
}

/// The line and column (1-based, columns in characters) where `location`
/// is in `text`: the key of the last member named (or the start of the
/// element); `None` when the text does not hold it.
pub fn line_col(text: &str, location: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut at = skip_ws(b, 0);
    let mut found = at;
    for step in steps(location)? {
        match step {
            Step::Key(key) => {
                (b.get(at) == Some(&b'{')).then_some(())?;
                at = skip_ws(b, at + 1);
                loop {
                    let key_at = at;
                    let end = string_end(b, at)?;
                    let name: String = serde_json::from_str(&text[key_at..end]).ok()?;
                    at = skip_ws(b, end);
                    (b.get(at) == Some(&b':')).then_some(())?;
                    at = skip_ws(b, at + 1);
                    if name == key {
                        found = key_at;
                        break;
                    }
                    at = skip_ws(b, value_end(b, at)?);
                    match b.get(at) {
                        Some(b',') => at = skip_ws(b, at + 1),
                        _ => return None,
                    }
                }
            }
            Step::Index(index) => {
                (b.get(at) == Some(&b'[')).then_some(())?;
                at = skip_ws(b, at + 1);
                for _ in 0..index {
                    at = skip_ws(b, value_end(b, at)?);
                    match b.get(at) {
                        Some(b',') => at = skip_ws(b, at + 1),
                        _ => return None,
                    }
                }
                found = at;
            }
        }
    }
    let before = &text[..found];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
}

fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while b.get(at).is_some_and(|c| c.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The end (exclusive) of the string starting at `at`.
fn string_end(b: &[u8], at: usize) -> Option<usize> {
    (b.get(at) == Some(&b'"')).then_some(())?;
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end (exclusive) of the value starting at `at`.
fn value_end(b: &[u8], at: usize) -> Option<usize> {
    match b.get(at)? {
        b'"' => string_end(b, at),
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = at;
            while i < b.len() && !matches!(b[i], b',' | b']' | b'}') && !b[i].is_ascii_whitespace()
            {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "StartAt": "C",
  "States": {
    "P": {"Type": "Pass", "Result": {"x": "}]\"", "Next": 1}, "Next": "C"},
    "C": {
      "Type": "Choice",
      "Choices": [
        {"Variable": "$.a", "IsPresent": true, "Next": "P"},
        {"Variable": "$.b", "IsPresent": true, "Next": "Ω"}
      ]
    }
  }
}"#;

    #[test]
    fn locations_are_found_as_lines_and_columns() {
        assert_eq!(line_col(TEXT, "/States/C"), Some((5, 5)));
        assert_eq!(line_col(TEXT, "/States/P/Next"), Some((4, 63)));
        assert_eq!(line_col(TEXT, "/States/C/Choices[1]"), Some((9, 9)));
        assert_eq!(line_col(TEXT, "/States/C/Choices[1]/Next"), Some((9, 48)));
        assert_eq!(line_col(TEXT, "/StartAt"), Some((2, 3)));
    }

    #[test]
    fn what_is_not_there_has_no_place() {
        assert_eq!(line_col(TEXT, "/States/X"), None);
        assert_eq!(line_col(TEXT, "/States/C/Choices[2]"), None);
        assert_eq!(line_col(TEXT, "line: 1, column: 3"), None);
        assert_eq!(line_col("[", "/States"), None);
        assert_eq!(line_col(r#"{"a": "#, "/b"), None);
        assert_eq!(line_col(&"[".repeat(100_000), "/a"), None);
    }
}
