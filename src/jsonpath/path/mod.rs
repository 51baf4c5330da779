//! JSONPath as ASL uses it: [`ReferencePath`] (one node, the hot path) and
//! [`Path`] (full JSONPath), both parsed once and evaluated many times
//! against an [`Env`]: the data (`$`), the context object (`$$`) and the
//! workflow variables (`$name`).
//!
//! # Reference Paths
//!
//! A [`ReferencePath`] selects one node with `.field`, `['field']` (or
//! `["field"]`) and `[index]` steps; it is parsed by hand and walked without
//! allocating. As on AWS (Jayway JsonPath), a dot-notation field name ends at
//! `.` or `[` and may hold characters such as `-` (`$.delivery-partner`);
//! whitespace and the JSONPath operators `( ) ] ? @ , : ' " *` need bracket
//! notation. Inside a quoted bracket name the text is taken as written: a
//! backslash stops the next character from closing the string but is kept
//! (AWS selects the key `a\'b` for `$['a\'b']`). A negative index counts from
//! the end of the array.
//!
//! # Paths
//!
//! A [`Path`] is any JSONPath. One that is a Reference Path is evaluated by
//! the same walker and yields its node. Any other (wildcards, filters,
//! slices, unions, `..`) is compiled once into stepfn's own form and yields
//! an array of the matches in document order, empty when nothing matches
//! (AWS: `$.items[*]` on `{}` gives `[]`). The answers follow Jayway
//! JsonPath: an index out of range, or on something other than an array,
//! matches nothing; a filter on an array keeps the items that pass and on an
//! object keeps the object itself when it passes; `..` visits the value and
//! everything below it, parents first. `fixtures/jsonpath-cases.json` lists
//! the cases with the source of each answer.
//!
//! # Errors
//!
//! A path that matches nothing fails with AWS's text: `Invalid path '$.a.b' :
//! No results for path: $['a']['b']`, or, when a field before the last one is
//! missing, `Invalid path '$.a.b' : Missing property in path $['a']`. The
//! bracket form always starts with `$`, also for `$$` and `$name` paths (the
//! rest of the path is evaluated against the context object or the variable).
//!
//! # Differences from AWS
//!
//! AWS evaluates paths with Jayway JsonPath; where its behaviour is not
//! recorded or depends on Java details, stepfn does this:
//!
//! * Stepping into a value of the wrong type (`$.a.b` where `a` is a number,
//!   `$.a[0]` where `a` is an object) and an index out of range fail with
//!   the "No results for path" wording; Jayway's messages for the first two
//!   name Java classes.
//! * A union of names (`$['a','b']`) yields each value in an array; Jayway
//!   merges them into one object.
//! * A slice `[start:end]` reads its bounds as Jayway does (in `[s:e]` a
//!   negative `e` selects nothing and a negative `s` counts each index from
//!   the end); a step (`[s:e:k]`), which Jayway ignores, is applied. After
//!   `..`, an index or slice step that is not the last applies to each array
//!   found, then the rest of the path (Jayway skips it).
//! * Filters take `@`/`$` paths of `.name` and `['name']` steps, numbers,
//!   quoted strings, `true`/`false`, `==` `!=` `<` `<=` `>` `>=`, `&&`, `||`
//!   and parentheses. Array indexes inside a filter, `=~`, `!`, `null`,
//!   `in`-style operators and functions (`length()`) are rejected at parse
//!   time. In a `$$` or `$name` path, `$` inside a filter is that root value.
//! * A path may have at most two recursive descents (`..`), and the matches
//!   of a full JSONPath may add up to at most [`MAX_MATCH_BYTES`] of JSON
//!   text ([`PathError::TooLarge`]) when they can hold a node twice (a
//!   descent, a union): on deeply nested data each descent copies every
//!   level's subtree again. Matches that are different nodes of the
//!   document (`$.a[*].b`, slices, filters) are not measured: they add up to
//!   at most the document.

mod check;
mod full;
mod jsonpath;
pub(crate) mod reference;

pub use jsonpath::MAX_MATCH_BYTES;
pub use reference::Step;

pub use crate::env::{Env, Scope, Variables};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Where a path starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`
    Data,
    /// `$$`
    Context,
    /// `$name`
    Variable(String),
}

/// A path that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathSyntaxError {
    /// The path text.
    pub path: String,
    /// What is wrong, lowercase.
    pub message: String,
}

impl PathSyntaxError {
    fn new(path: &str, message: impl Into<String>) -> PathSyntaxError {
        PathSyntaxError {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PathSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid path `{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for PathSyntaxError {}

/// A path that could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// Nothing matched. `normalized` is the path in bracket form as AWS
    /// prints it (`$['a']['b']`).
    NoResults {
        /// The path as written.
        path: String,
        /// The bracket form, e.g. `$['x']`.
        normalized: String,
    },
    /// A `$name` variable is not set.
    UndefinedVariable {
        /// The variable name without `$`.
        name: String,
    },
    /// ResultPath cannot be written into this value.
    CannotWrite {
        /// The path as written.
        path: String,
    },
    /// A field before the last step is missing (AWS words this differently
    /// from [`PathError::NoResults`]).
    MissingProperty {
        /// The path as written.
        path: String,
        /// The bracket form up to and including the missing field, e.g. `$['a']`.
        at: String,
    },
    /// The matches of a full JSONPath add up to more than
    /// [`MAX_MATCH_BYTES`] of JSON text.
    TooLarge {
        /// The path as written.
        path: String,
    },
}

impl PathError {
    /// True when the path matched nothing ([`PathError::NoResults`] or
    /// [`PathError::MissingProperty`]): the case payload templates,
    /// ErrorPath and CausePath report with their own AWS wording.
    pub fn is_no_match(&self) -> bool {
        matches!(
            self,
            PathError::NoResults { .. } | PathError::MissingProperty { .. }
        )
    }

    /// The path as written, when the error names one.
    pub fn path(&self) -> Option<&str> {
        match self {
            PathError::NoResults { path, .. }
            | PathError::CannotWrite { path }
            | PathError::MissingProperty { path, .. }
            | PathError::TooLarge { path } => Some(path),
            PathError::UndefinedVariable { .. } => None,
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NoResults { path, normalized } => {
                write!(
                    f,
                    "Invalid path '{path}' : No results for path: {normalized}"
                )
            }
            PathError::UndefinedVariable { name } => write!(f, "undefined variable `${name}`"),
            PathError::CannotWrite { path } => write!(f, "cannot apply path `{path}`"),
            PathError::MissingProperty { path, at } => {
                write!(f, "Invalid path '{path}' : Missing property in path {at}")
            }
            PathError::TooLarge { path } => write!(
                f,
                "Invalid path '{path}' : the matches add up to more than {MAX_MATCH_BYTES} bytes"
            ),
        }
    }
}

impl std::error::Error for PathError {}

/// The value a root stands for in `env`.
fn resolve_root<'v>(root: &Root, env: &Env<'v>) -> Result<&'v Value, PathError> {
    match root {
        Root::Data => Ok(env.data),
        Root::Context => Ok(env.context),
        Root::Variable(name) => env
            .variables
            .get(name)
            .ok_or_else(|| PathError::UndefinedVariable { name: name.clone() }),
    }
}

/// A Reference Path: `$`, `$$` or `$name` followed by `.field`, `['field']`
/// and `[index]` steps only. Selects exactly one node.
///
/// ```
/// use serde_json::json;
/// use stepfn::jsonpath::{Env, ReferencePath};
///
/// let path = ReferencePath::parse("$.a.b[0]").unwrap();
/// let data = json!({"a": {"b": [7]}});
/// assert_eq!(path.eval(&Env::data(&data)).unwrap(), &json!(7));
/// assert_eq!(path.normalized(), "$['a']['b'][0]");
/// ```
///
/// A `ReferencePath` is one pointer wide: definitions hold many of them.
#[derive(Clone, PartialEq, Eq)]
pub struct ReferencePath(Box<ReferenceInner>);

#[derive(Clone, PartialEq, Eq)]
struct ReferenceInner {
    text: Box<str>,
    root: Root,
    steps: Box<[Step]>,
}

impl ReferencePath {
    /// Parses a Reference Path.
    pub fn parse(text: &str) -> Result<ReferencePath, PathSyntaxError> {
        Self::try_parse(text).map_err(|failure| PathSyntaxError::new(text, failure.message()))
    }

    fn try_parse(text: &str) -> Result<ReferencePath, reference::Failure> {
        let (root, start) = reference::parse_root(text)?;
        let steps = reference::parse_steps(&text[start..])?;
        Ok(ReferencePath(Box::new(ReferenceInner {
            text: text.into(),
            root,
            steps: steps.into_boxed_slice(),
        })))
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// Where the path starts.
    pub fn root(&self) -> &Root {
        &self.0.root
    }

    /// The steps after the root.
    pub fn steps(&self) -> &[Step] {
        &self.0.steps
    }

    /// True for the bare root `$` (select everything).
    #[inline]
    pub fn is_identity(&self) -> bool {
        self.0.root == Root::Data && self.0.steps.is_empty()
    }

    /// The path in bracket form with its root as written:
    /// `$.a.b[0]` is `$['a']['b'][0]`, `$$.Execution.Id` is
    /// `$$['Execution']['Id']`.
    pub fn normalized(&self) -> String {
        let mut root = String::new();
        // Writing to a String cannot fail.
        let _ = reference::write_root(&self.0.root, &mut root);
        reference::bracketed(&root, &self.0.steps)
    }

    /// The selected node.
    pub fn eval<'v>(&self, env: &Env<'v>) -> Result<&'v Value, PathError> {
        let start = resolve_root(&self.0.root, env)?;
        self.select(start)
    }

    /// Walks the steps (ignoring the root) from `value`, with AWS's error
    /// when nothing is there.
    pub fn select<'v>(&self, value: &'v Value) -> Result<&'v Value, PathError> {
        reference::walk(&self.0.steps, value).map_err(|miss| self.miss_error(miss))
    }

    fn miss_error(&self, miss: reference::Miss) -> PathError {
        if miss.missing_field && miss.step + 1 < self.0.steps.len() {
            PathError::MissingProperty {
                path: self.0.text.to_string(),
                at: reference::bracketed("$", &self.0.steps[..=miss.step]),
            }
        } else {
            PathError::NoResults {
                path: self.0.text.to_string(),
                normalized: reference::bracketed("$", &self.0.steps),
            }
        }
    }

    /// Walks the steps (ignoring the root) from `value`.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        reference::walk(&self.0.steps, value).ok()
    }

    /// Walks the steps (ignoring the root) from `value`, mutably.
    pub fn get_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        reference::walk_mut(&self.0.steps, value)
    }

    /// Moves the selected node out of `value` (steps only, root ignored).
    pub fn take(&self, mut value: Value) -> Option<Value> {
        if self.0.steps.is_empty() {
            return Some(value);
        }
        reference::walk_mut(&self.0.steps, &mut value).map(std::mem::take)
    }

    /// Writes `value` at this path inside `target` as ResultPath does,
    /// creating intermediate objects.
    ///
    /// The root is ignored (ResultPath only allows `$`). `$` replaces
    /// `target`. A missing field on the way is created as an empty object and
    /// the last field is inserted or overwritten. An index step writes into an
    /// existing array element (negative counts from the end); arrays are never
    /// created or extended. Anything else (a scalar or `null` on the way, an
    /// index out of range, a non-object target) is
    /// [`PathError::CannotWrite`] and leaves `target` untouched.
    pub fn write(&self, target: &mut Value, value: Value) -> Result<(), PathError> {
        if reference::write(&self.0.steps, target, value) {
            Ok(())
        } else {
            Err(PathError::CannotWrite {
                path: self.0.text.to_string(),
            })
        }
    }
}

impl fmt::Display for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl fmt::Debug for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReferencePath")
            .field(&&*self.0.text)
            .finish()
    }
}

impl std::str::FromStr for ReferencePath {
    type Err = PathSyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ReferencePath::parse(text)
    }
}

/// A full JSONPath (wildcards, filters, slices, unions, recursive descent).
/// A definite path yields its node; any other yields an array of matches.
///
/// ```
/// use serde_json::json;
/// use stepfn::jsonpath::{Env, Path};
///
/// let data = json!({"items": [{"v": 1}, {"v": 2}]});
/// let all = Path::parse("$.items[*].v").unwrap();
/// assert_eq!(all.eval(&Env::data(&data)).unwrap().into_owned(), json!([1, 2]));
/// let one = Path::parse("$.items[1].v").unwrap();
/// assert_eq!(one.eval(&Env::data(&data)).unwrap().into_owned(), json!(2));
/// ```
///
/// A `Path` is one pointer wide: definitions hold many of them.
#[derive(Clone)]
pub struct Path {
    kind: Box<PathKind>,
}

#[derive(Clone)]
enum PathKind {
    Reference(ReferencePath),
    Query(Query),
}

#[derive(Clone)]
struct Query {
    text: String,
    root: Root,
    query: jsonpath::Query,
}

impl Path {
    /// Parses a Path.
    pub fn parse(text: &str) -> Result<Path, PathSyntaxError> {
        let feature = match ReferencePath::try_parse(text) {
            Ok(reference) => {
                return Ok(Path {
                    kind: Box::new(PathKind::Reference(reference)),
                })
            }
            Err(reference::Failure::Syntax(message)) => {
                return Err(PathSyntaxError::new(text, message))
            }
            Err(reference::Failure::Feature(feature)) => feature,
        };
        if feature == reference::Feature::Function {
            return Err(PathSyntaxError::new(text, "functions are not supported"));
        }
        // The root parsed when the steps did not.
        let (root, start) = reference::parse_root(text)
            .map_err(|failure| PathSyntaxError::new(text, failure.message()))?;
        let query = jsonpath::Query::compile(&text[start..], start)
            .map_err(|message| PathSyntaxError::new(text, message))?;
        Ok(Path {
            kind: Box::new(PathKind::Query(Query {
                text: text.to_owned(),
                root,
                query,
            })),
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        match &*self.kind {
            PathKind::Reference(reference) => reference.as_str(),
            PathKind::Query(query) => &query.text,
        }
    }

    /// Where the path starts.
    pub fn root(&self) -> &Root {
        match &*self.kind {
            PathKind::Reference(reference) => reference.root(),
            PathKind::Query(query) => &query.root,
        }
    }

    /// The Reference Path this is, when it is one.
    #[inline]
    pub fn as_reference(&self) -> Option<&ReferencePath> {
        match &*self.kind {
            PathKind::Reference(reference) => Some(reference),
            PathKind::Query(_) => None,
        }
    }

    /// True when the path selects at most one node (it is a Reference Path);
    /// otherwise it yields an array.
    pub fn is_definite(&self) -> bool {
        self.as_reference().is_some()
    }

    /// True for the bare root `$` (select everything).
    #[inline]
    pub fn is_identity(&self) -> bool {
        self.as_reference().is_some_and(ReferencePath::is_identity)
    }

    /// Evaluates the path.
    pub fn eval<'v>(&self, env: &Env<'v>) -> Result<Cow<'v, Value>, PathError> {
        match &*self.kind {
            PathKind::Reference(reference) => reference.eval(env).map(Cow::Borrowed),
            PathKind::Query(query) => {
                let start = resolve_root(&query.root, env)?;
                match query.query.select(start) {
                    Some(matches) => Ok(Cow::Owned(matches)),
                    None => Err(PathError::TooLarge {
                        path: query.text.clone(),
                    }),
                }
            }
        }
    }

    /// The nodes the path matches, in document order, without copying them:
    /// a definite path its one node (or the error [`Path::eval`] gives), any
    /// other path every match (possibly none). The matches are held to
    /// [`MAX_MATCH_BYTES`] as in [`Path::eval`].
    ///
    /// ```
    /// use serde_json::json;
    /// use stepfn::jsonpath::{Env, Path};
    ///
    /// let data = json!({"items": [{"v": 1}, {"v": 2}]});
    /// let path = Path::parse("$.items[*].v").unwrap();
    /// assert_eq!(path.select(&Env::data(&data)).unwrap(), [&json!(1), &json!(2)]);
    /// ```
    pub fn select<'v>(&self, env: &Env<'v>) -> Result<Vec<&'v Value>, PathError> {
        match &*self.kind {
            PathKind::Reference(reference) => reference.eval(env).map(|node| vec![node]),
            PathKind::Query(query) => {
                let start = resolve_root(&query.root, env)?;
                query
                    .query
                    .matches(start)
                    .ok_or_else(|| PathError::TooLarge {
                        path: query.text.clone(),
                    })
            }
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Path").field(&self.as_str()).finish()
    }
}

/// Two paths are equal when they are written the same.
impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::str::FromStr for Path {
    type Err = PathSyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Path::parse(text)
    }
}
