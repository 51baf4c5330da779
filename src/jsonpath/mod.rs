//! The JSONPath query language of ASL: paths, payload templates, intrinsic
//! functions and Choice rules, each parsed once (when a definition is
//! loaded) and evaluated many times against an [`Env`].
//!
//! This is the small public face of the language, for tooling and
//! benchmarks; the engine runs the data flow of a state (InputPath ->
//! Parameters -> ResultSelector -> ResultPath -> OutputPath) from the same
//! pieces.
//!
//! ```
//! use serde_json::json;
//! use stepfn::jsonpath::{Env, Path, PayloadTemplate};
//!
//! let data = json!({"order": {"id": "A-1", "items": [{"sku": "x"}, {"sku": "y"}]}});
//! let path = Path::parse("$.order.items[*].sku").unwrap();
//! assert_eq!(*path.eval(&Env::data(&data)).unwrap(), json!(["x", "y"]));
//!
//! let template = PayloadTemplate::compile(&json!({
//!     "id.$": "$.order.id",
//!     "count.$": "States.ArrayLength($.order.items)",
//! }))
//! .unwrap();
//! assert_eq!(template.eval(&Env::data(&data)).unwrap(), json!({"id": "A-1", "count": 2}));
//! ```

pub(crate) mod choice;
pub(crate) mod data_flow;
pub(crate) mod intrinsics;
pub(crate) mod path;
pub(crate) mod template;

pub use crate::env::{BuildLimits, Env, NoVariables, Scope, Variables};
pub use choice::{ChoiceRule, Condition};
pub use intrinsics::{IntrinsicCall, IntrinsicSyntaxError};
pub use path::{Path, PathError, PathSyntaxError, ReferencePath, Root, Step, MAX_MATCH_BYTES};
pub use template::{Expression, PayloadTemplate, TemplateError};
