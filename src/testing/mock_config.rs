//! The Step Functions Local mock configuration (`MockConfigFile.json`).
//!
//! ```json
//! {"StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeOk"}}}},
//!  "MockedResponses": {"ChargeOk": {"0": {"Return": {"ok": true}},
//!                                   "1-2": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "boom"}}}}}
//! ```
//!
//! A test case maps Task state names to mocked responses; a mocked response
//! maps 0-based invocation numbers (`"0"`) or inclusive ranges (`"1-2"`) to
//! either a `Return` (the raw task result, before `ResultSelector`) or a
//! `Throw {Error, Cause}`. Invocations are counted per state over the whole
//! execution: retries, loops, Map iterations and Parallel branches all
//! count (a state inside a branch or an iteration is mocked by its name,
//! like any other).

use crate::error::{Error, ErrorKind, ErrorName, StatesError};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A parsed mock configuration file: every state machine's test cases and
/// every mocked response.
#[derive(Clone, Debug, PartialEq)]
pub struct MockConfig {
    state_machines: Vec<(String, Vec<TestCaseEntry>)>,
    responses: HashMap<String, Arc<MockedResponse>>,
}

/// A test case as written: its name and (state, mocked response name) pairs.
type TestCaseEntry = (String, Vec<(String, String)>);

/// What one invocation of a mocked Task answers.
#[derive(Clone, Debug, PartialEq)]
pub enum MockAnswer {
    /// `Return`: the task result.
    Return(Value),
    /// `Throw`: the task fails with this error (`Error` and `Cause` are each
    /// optional in the file; an absent `Error` is an empty name).
    Throw(StatesError),
}

/// An inclusive range of 0-based invocation numbers (`"3"` is `3..=3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InvocationRange {
    /// The first invocation covered.
    pub first: u64,
    /// The last invocation covered (inclusive).
    pub last: u64,
}

impl InvocationRange {
    /// Reads `"N"` or `"A-B"` (`A <= B`, decimal digits only).
    pub fn parse(text: &str) -> Option<InvocationRange> {
        fn number(s: &str) -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        }
        match text.split_once('-') {
            None => number(text).map(|n| InvocationRange { first: n, last: n }),
            Some((a, b)) => {
                let (first, last) = (number(a)?, number(b)?);
                (first <= last).then_some(InvocationRange { first, last })
            }
        }
    }

    /// True when invocation `n` is in the range.
    pub fn contains(&self, n: u64) -> bool {
        self.first <= n && n <= self.last
    }
}

impl fmt::Display for InvocationRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// One entry of `MockedResponses`: answers by invocation number.
#[derive(Clone, Debug, PartialEq)]
pub struct MockedResponse {
    name: String,
    entries: Vec<(InvocationRange, MockAnswer)>,
}

impl MockedResponse {
    /// The response's name (its key in `MockedResponses`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The answer for the 0-based invocation `n`, if the response covers it.
    pub fn answer(&self, n: u64) -> Option<&MockAnswer> {
        self.entries
            .iter()
            .find(|(range, _)| range.contains(n))
            .map(|(_, answer)| answer)
    }

    /// The ranges and their answers, sorted by first invocation.
    pub fn entries(&self) -> &[(InvocationRange, MockAnswer)] {
        &self.entries
    }
}

/// One test case resolved against its mocked responses: state name to
/// response.
#[derive(Clone, Debug, PartialEq)]
pub struct MockTestCase {
    state_machine: String,
    name: String,
    states: HashMap<String, Arc<MockedResponse>>,
}

impl MockTestCase {
    /// The state machine entry this test case belongs to.
    pub fn state_machine(&self) -> &str {
        &self.state_machine
    }

    /// The test case's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The mocked response of a state, if the test case mocks it.
    pub fn response(&self, state: &str) -> Option<&MockedResponse> {
        self.states.get(state).map(|r| r.as_ref())
    }

    /// The names of the mocked states (in no particular order).
    pub fn states(&self) -> impl Iterator<Item = &str> {
        self.states.keys().map(String::as_str)
    }
}

fn config_error(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidConfig, detail)
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Error> {
    value
        .as_object()
        .ok_or_else(|| config_error(format!("mock config: {what} must be a JSON object")))
}

impl MockConfig {
    /// Reads a mock configuration from JSON text.
    #[allow(clippy::should_implement_trait)] // also implemented: FromStr
    pub fn from_str(text: &str) -> Result<MockConfig, Error> {
        let value = crate::json::from_text(text, crate::json::MAX_TEXT_DEPTH)
            .map_err(|e| config_error(format!("mock config: not valid JSON: {e}")))?;
        MockConfig::from_value(&value)
    }

    /// Reads a mock configuration from a JSON value. Every problem is an
    /// [`ErrorKind::InvalidConfig`] error naming the offending entry.
    pub fn from_value(value: &Value) -> Result<MockConfig, Error> {
        // checked before anything recursive (cloning a result) sees it
        const MAX_DEPTH: usize = 1000;
        if crate::json::too_deep(value, MAX_DEPTH) {
            return Err(config_error(format!(
                "mock config: arrays and objects are nested more than {MAX_DEPTH} levels deep"
            )));
        }
        let root = object(value, "the file")?;
        for key in root.keys() {
            if key != "StateMachines" && key != "MockedResponses" {
                return Err(config_error(format!(
                    "mock config: unknown top-level field `{key}`"
                )));
            }
        }
        let mut responses = HashMap::new();
        if let Some(value) = root.get("MockedResponses") {
            for (name, entries) in object(value, "`MockedResponses`")? {
                let response = parse_response(name, entries)?;
                responses.insert(name.clone(), Arc::new(response));
            }
        }
        let mut state_machines = Vec::new();
        if let Some(value) = root.get("StateMachines") {
            for (machine, body) in object(value, "`StateMachines`")? {
                let body = object(body, &format!("state machine `{machine}`"))?;
                let mut test_cases = Vec::new();
                if let Some(cases) = body.get("TestCases") {
                    let what = format!("`TestCases` of state machine `{machine}`");
                    for (case, states) in object(cases, &what)? {
                        let what = format!("test case `{case}` of state machine `{machine}`");
                        let mut mocked = Vec::new();
                        for (state, response) in object(states, &what)? {
                            let response = response.as_str().ok_or_else(|| {
                                config_error(format!(
                                    "mock config: state `{state}` in {what} must name a mocked response"
                                ))
                            })?;
                            if !responses.contains_key(response) {
                                return Err(config_error(format!(
                                    "mock config: state `{state}` in {what} uses mocked response `{response}`, which is not in `MockedResponses`"
                                )));
                            }
                            mocked.push((state.clone(), response.to_owned()));
                        }
                        test_cases.push((case.clone(), mocked));
                    }
                }
                state_machines.push((machine.clone(), test_cases));
            }
        }
        Ok(MockConfig {
            state_machines,
            responses,
        })
    }

    /// The state machine names in the file.
    pub fn state_machines(&self) -> impl Iterator<Item = &str> {
        self.state_machines.iter().map(|(name, _)| name.as_str())
    }

    /// The mocked response named `name`.
    pub fn response(&self, name: &str) -> Option<&MockedResponse> {
        self.responses.get(name).map(|r| r.as_ref())
    }

    /// Selects a test case. The state machine entry used is the only one in
    /// the file, else the one named `state_machine` (when given).
    pub fn test_case(
        &self,
        state_machine: Option<&str>,
        test_case: &str,
    ) -> Result<MockTestCase, Error> {
        let (machine, cases) = match (self.state_machines.as_slice(), state_machine) {
            ([only], _) => only,
            ([], _) => {
                return Err(config_error(
                    "mock config: the file has no entry in `StateMachines`",
                ))
            }
            (all, Some(name)) => all.iter().find(|(m, _)| m == name).ok_or_else(|| {
                config_error(format!(
                    "mock config: no entry for state machine `{name}` in `StateMachines`"
                ))
            })?,
            (_, None) => {
                return Err(config_error(
                    "mock config: the file has several state machines; name the one to use",
                ))
            }
        };
        let (_, states) = cases.iter().find(|(c, _)| c == test_case).ok_or_else(|| {
            config_error(format!(
                "mock config: state machine `{machine}` has no test case `{test_case}`"
            ))
        })?;
        let states = states
            .iter()
            .filter_map(|(state, response)| {
                self.responses
                    .get(response)
                    .map(|r| (state.clone(), Arc::clone(r)))
            })
            .collect();
        Ok(MockTestCase {
            state_machine: machine.clone(),
            name: test_case.to_owned(),
            states,
        })
    }
}

impl std::str::FromStr for MockConfig {
    type Err = Error;

    fn from_str(text: &str) -> Result<MockConfig, Error> {
        MockConfig::from_str(text)
    }
}

fn parse_response(name: &str, entries: &Value) -> Result<MockedResponse, Error> {
    let what = format!("mocked response `{name}`");
    let mut parsed: Vec<(InvocationRange, MockAnswer)> = Vec::new();
    for (key, entry) in object(entries, &what)? {
        let range = InvocationRange::parse(key).ok_or_else(|| {
            config_error(format!(
                "mock config: {what}: `{key}` is not an invocation number or range like `0` or `1-2`"
            ))
        })?;
        if let Some((other, _)) = parsed
            .iter()
            .find(|(r, _)| r.first <= range.last && range.first <= r.last)
        {
            return Err(config_error(format!(
                "mock config: {what}: invocations `{key}` overlap `{other}`"
            )));
        }
        let entry = object(entry, &format!("{what}, invocation `{key}`,"))?;
        let answer = match (entry.get("Return"), entry.get("Throw"), entry.len()) {
            (Some(value), None, 1) => MockAnswer::Return(value.clone()),
            (None, Some(throw), 1) => MockAnswer::Throw(parse_throw(throw).ok_or_else(|| {
                config_error(format!(
                    "mock config: {what}, invocation `{key}`: `Throw` must be an object with string `Error` and `Cause`"
                ))
            })?),
            _ => {
                return Err(config_error(format!(
                    "mock config: {what}, invocation `{key}`: needs exactly one of `Return` or `Throw`"
                )))
            }
        };
        parsed.push((range, answer));
    }
    parsed.sort_by_key(|(r, _)| r.first);
    Ok(MockedResponse {
        name: name.to_owned(),
        entries: parsed,
    })
}

fn parse_throw(value: &Value) -> Option<StatesError> {
    let throw = value.as_object()?;
    let text = |key: &str| match throw.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    };
    let error = text("Error")?;
    let cause = text("Cause")?;
    if throw.keys().any(|k| k != "Error" && k != "Cause") {
        return None;
    }
    Some(StatesError {
        name: ErrorName::new(error.as_deref().unwrap_or("")),
        cause,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_parse() {
        assert_eq!(
            InvocationRange::parse("3"),
            Some(InvocationRange { first: 3, last: 3 })
        );
        assert_eq!(
            InvocationRange::parse("1-2"),
            Some(InvocationRange { first: 1, last: 2 })
        );
        assert_eq!(InvocationRange::parse("2-1"), None);
        assert_eq!(InvocationRange::parse("-1"), None);
        assert_eq!(InvocationRange::parse("a"), None);
        assert_eq!(InvocationRange::parse(""), None);
        assert_eq!(InvocationRange::parse("+1"), None);
    }

    #[test]
    fn overlapping_ranges_are_rejected() {
        let err = MockConfig::from_value(&json!({
            "MockedResponses": {"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}
        }))
        .unwrap_err();
        assert_eq!(
            err.detail(),
            "mock config: mocked response `R`: invocations `2` overlap `0-2`"
        );
    }
}
