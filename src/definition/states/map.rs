//! The Map state (inline and distributed: `ItemReader`, `ItemBatcher`, `ResultWriter`):
//! its model, allowed fields, parser and serializer.

use crate::definition::fields::{
    as_object, assign, dynamic, exclusive, field_object, float_field, integer, io, opt_template,
    optional, query_language_fields, reference_path, root_reference, template, type_name, ANY_ROOT,
};
use crate::definition::parse::{nested, Cx, Object};
use crate::definition::raw::{RawItemBatcher, RawItemReader, RawResultWriter, RawState};
use crate::definition::ser;
use crate::definition::states::handlers::result_handling;
use crate::definition::{
    Assign, Dynamic, Io, JsonataTemplate, QueryLanguage, ResultHandling, StateMachineType,
    SubMachine, Transition,
};
use crate::error::Diagnostic;
use crate::jsonpath::path::ReferencePath;
use crate::jsonpath::template::PayloadTemplate;
use serde_json::Value;

/// `ProcessorConfig.Mode`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProcessingMode {
    /// `INLINE` (the default).
    #[default]
    Inline,
    /// `DISTRIBUTED`: iterations run as child executions.
    Distributed,
}

/// `ProcessorConfig` of a Map.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessorConfig {
    /// `Mode`.
    pub mode: ProcessingMode,
    /// `ExecutionType` (distributed only).
    pub execution_type: Option<StateMachineType>,
}

/// `ItemReader` of a distributed Map, kept close to ASL.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ItemReader {
    /// `Resource`, e.g. `arn:aws:states:::s3:getObject`.
    pub resource: String,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// JSONata `Arguments`.
    pub arguments: Option<JsonataTemplate>,
    /// `ReaderConfig` as written (InputType, CSVHeaderLocation, ...).
    pub reader_config: Option<Value>,
    /// `ReaderConfig.MaxItems` / `MaxItemsPath`.
    pub max_items: Option<Dynamic<u64>>,
}

/// `ItemBatcher` of a distributed Map.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ItemBatcher {
    /// `BatchInput`.
    pub batch_input: Option<PayloadTemplate>,
    /// `MaxItemsPerBatch` / `MaxItemsPerBatchPath`.
    pub max_items_per_batch: Option<Dynamic<u64>>,
    /// `MaxInputBytesPerBatch` / `MaxInputBytesPerBatchPath`.
    pub max_input_bytes_per_batch: Option<Dynamic<u64>>,
}

/// `ResultWriter` of a distributed Map.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ResultWriter {
    /// `Resource`, e.g. `arn:aws:states:::s3:putObject`.
    pub resource: Option<String>,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// JSONata `Arguments`.
    pub arguments: Option<JsonataTemplate>,
    /// `WriterConfig` as written.
    pub writer_config: Option<Value>,
}

/// A Map state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    /// `ItemProcessor` (or the legacy `Iterator`).
    pub item_processor: SubMachine,
    /// `ItemProcessor.ProcessorConfig`.
    pub processor_config: ProcessorConfig,
    /// True when the definition used the legacy `Iterator` key.
    pub legacy_iterator: bool,
    /// `ItemsPath` (default `$`).
    pub items_path: Option<ReferencePath>,
    /// JSONata `Items`.
    pub items: Option<JsonataTemplate>,
    /// `ItemSelector` (or the legacy `Parameters`).
    pub item_selector: Option<PayloadTemplate>,
    /// `ItemSelector` of a JSONata state, `{% %}` strings compiled (the
    /// same value as [`item_selector`](Map::item_selector)).
    pub jsonata_item_selector: Option<JsonataTemplate>,
    /// True when the definition used the legacy `Parameters` key.
    pub legacy_parameters: bool,
    /// `MaxConcurrency` / `MaxConcurrencyPath` (0 = unbounded).
    pub max_concurrency: Option<Dynamic<u64>>,
    /// `ItemReader`.
    pub item_reader: Option<ItemReader>,
    /// `ItemBatcher`.
    pub item_batcher: Option<ItemBatcher>,
    /// `ResultWriter`.
    pub result_writer: Option<ResultWriter>,
    /// `ToleratedFailureCount` / `...Path`.
    pub tolerated_failure_count: Option<Dynamic<u64>>,
    /// `ToleratedFailurePercentage` / `...Path`.
    pub tolerated_failure_percentage: Option<Dynamic<f64>>,
    /// `Label`.
    pub label: Option<String>,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath`, `OutputPath` / `Output` (a Map's `Parameters` is its
    /// [`item_selector`](Map::item_selector)).
    pub io: Io,
    /// `ResultSelector`, `ResultPath`, `Retry`, `Catch`.
    pub result_handling: ResultHandling,
    /// `Assign`.
    pub assign: Option<Assign>,
}

/// The longest Map `Label` AWS accepts.
pub(crate) const MAX_LABEL: usize = 40;

/// Characters AWS refuses in a Map `Label` (besides whitespace and control characters).
pub(crate) const LABEL_FORBIDDEN: &str = "?*<>{}[]:;,\\|^~$#%&`\"";

/// The fields a Map state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "ItemProcessor",
    "Iterator",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "Parameters",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "Label",
    "InputPath",
    "OutputPath",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "Assign",
    "Output",
];

pub(crate) const ITEM_READER: &[&str] = &["Resource", "Parameters", "Arguments", "ReaderConfig"];

pub(crate) const ITEM_BATCHER: &[&str] = &[
    "BatchInput",
    "MaxItemsPerBatch",
    "MaxItemsPerBatchPath",
    "MaxInputBytesPerBatch",
    "MaxInputBytesPerBatchPath",
];

pub(crate) const RESULT_WRITER: &[&str] = &["Resource", "Parameters", "Arguments", "WriterConfig"];

pub(crate) fn label(cx: &mut Cx, text: &str, loc: &str) -> bool {
    let at = format!("{loc}/Label");
    let mut ok = true;
    if text.is_empty() {
        cx.diags.push(Diagnostic::error(
            "INVALID_LABEL_NAME",
            "Label must not be empty",
            at.clone(),
        ));
        ok = false;
    } else if text.chars().count() > MAX_LABEL {
        cx.diags.push(Diagnostic::error(
            "INVALID_LABEL_NAME",
            format!("Label must be at most {MAX_LABEL} characters long"),
            at.clone(),
        ));
        ok = false;
    }
    if let Some(bad) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || LABEL_FORBIDDEN.contains(*c))
    {
        cx.diags.push(Diagnostic::error(
            "INVALID_LABEL_NAME",
            format!("Label contains an invalid character: {bad:?}"),
            at.clone(),
        ));
        ok = false;
    }
    if ok && !cx.labels.insert(text.to_owned()) {
        cx.diags.push(Diagnostic::error(
            "DUPLICATE_LABEL_NAME",
            format!("Duplicate Label: {text}"),
            at,
        ));
        ok = false;
    }
    ok
}

pub(crate) fn item_reader(
    cx: &mut Cx,
    v: &Value,
    ql: QueryLanguage,
    loc: &str,
) -> Option<ItemReader> {
    let (_, raw, mut ok) =
        field_object::<RawItemReader>(cx, v, &["Resource"], ITEM_READER, Some(ql), loc)?;
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    let max_items = match &raw.reader_config {
        None => Some(None),
        Some(config) => {
            let at = format!("{loc}/ReaderConfig");
            match as_object(cx, config, &at) {
                Some(c) => {
                    ok &= query_language_fields(cx, c.keys().cloned(), ql, &at);
                    dynamic(
                        cx,
                        c,
                        ("MaxItems", "MaxItemsPath"),
                        ql,
                        &at,
                        integer(0, Some(100_000_000)),
                    )
                }
                None => None,
            }
        }
    };
    if !ok {
        return None;
    }
    Some(ItemReader {
        resource: raw.resource?,
        parameters: parameters?,
        arguments: raw.arguments.map(JsonataTemplate::new),
        reader_config: raw.reader_config,
        max_items: max_items?,
    })
}

pub(crate) fn item_batcher(
    cx: &mut Cx,
    v: &Value,
    ql: QueryLanguage,
    loc: &str,
) -> Option<ItemBatcher> {
    let (obj, raw, ok) = field_object::<RawItemBatcher>(cx, v, &[], ITEM_BATCHER, Some(ql), loc)?;
    let batch_input = match (&raw.batch_input, ql) {
        (None, _) => Some(None),
        (Some(v), QueryLanguage::JsonPath) => {
            template(cx, v, &format!("{loc}/BatchInput")).map(Some)
        }
        (Some(v), QueryLanguage::Jsonata) => PayloadTemplate::compile(v).ok().map(Some),
    };
    let per_batch = dynamic(
        cx,
        obj,
        ("MaxItemsPerBatch", "MaxItemsPerBatchPath"),
        ql,
        loc,
        integer(0, None),
    );
    let bytes = dynamic(
        cx,
        obj,
        ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"),
        ql,
        loc,
        integer(0, None),
    );
    if !ok {
        return None;
    }
    Some(ItemBatcher {
        batch_input: batch_input?,
        max_items_per_batch: per_batch?,
        max_input_bytes_per_batch: bytes?,
    })
}

pub(crate) fn result_writer(
    cx: &mut Cx,
    v: &Value,
    ql: QueryLanguage,
    loc: &str,
) -> Option<ResultWriter> {
    let (_, raw, ok) = field_object::<RawResultWriter>(cx, v, &[], RESULT_WRITER, Some(ql), loc)?;
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    if !ok {
        return None;
    }
    Some(ResultWriter {
        resource: raw.resource,
        parameters: parameters?,
        arguments: raw.arguments.map(JsonataTemplate::new),
        writer_config: raw.writer_config,
    })
}

pub(crate) fn map(
    cx: &mut Cx,
    raw: &RawState,
    obj: &Object,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
    depth: usize,
) -> Option<Map> {
    let mut ok = true;
    let io = io(cx, raw, ql, false, loc);
    let processor = processor(cx, raw, loc, depth);
    ok &= exclusive(cx, obj, &["ItemSelector", "Parameters"], loc);
    let selector_value = raw.item_selector.as_ref().or(raw.parameters.as_ref());
    let selector_loc = if raw.item_selector.is_some() {
        format!("{loc}/ItemSelector")
    } else {
        format!("{loc}/Parameters")
    };
    let item_selector = opt_template(cx, selector_value, &selector_loc);
    let items_path = items_path(cx, raw, loc);
    let max_concurrency = dynamic(
        cx,
        obj,
        ("MaxConcurrency", "MaxConcurrencyPath"),
        ql,
        loc,
        integer(0, None),
    );
    let item_reader = optional(raw.item_reader.as_ref(), |v| {
        item_reader(cx, v, ql, &format!("{loc}/ItemReader"))
    });
    let item_batcher = optional(raw.item_batcher.as_ref(), |v| {
        item_batcher(cx, v, ql, &format!("{loc}/ItemBatcher"))
    });
    let result_writer = optional(raw.result_writer.as_ref(), |v| {
        result_writer(cx, v, ql, &format!("{loc}/ResultWriter"))
    });
    let tolerated_count = dynamic(
        cx,
        obj,
        ("ToleratedFailureCount", "ToleratedFailureCountPath"),
        ql,
        loc,
        integer(0, None),
    );
    let tolerated_percentage = dynamic(
        cx,
        obj,
        (
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
        ),
        ql,
        loc,
        |cx, v, at| float_field(cx, v, 0.0, Some(100.0), at),
    );
    if let Some(text) = &raw.label {
        ok &= label(cx, text, loc);
    }
    let result_handling = result_handling(cx, raw, ql, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    let (item_processor, processor_config) = processor?;
    Some(Map {
        item_processor,
        processor_config,
        legacy_iterator: raw.iterator.is_some(),
        items_path: items_path?,
        items: raw.items.clone().map(JsonataTemplate::new),
        item_selector: item_selector?,
        jsonata_item_selector: selector_value
            .filter(|_| ql == QueryLanguage::Jsonata)
            .cloned()
            .map(JsonataTemplate::new),
        legacy_parameters: raw.parameters.is_some(),
        max_concurrency: max_concurrency?,
        item_reader: item_reader?,
        item_batcher: item_batcher?,
        result_writer: result_writer?,
        tolerated_failure_count: tolerated_count?,
        tolerated_failure_percentage: tolerated_percentage?,
        label: raw.label.clone(),
        transition,
        io: io?,
        result_handling: result_handling?,
        assign: assign?,
    })
}

/// `ItemProcessor` or the legacy `Iterator`, with its `ProcessorConfig`.
fn processor(
    cx: &mut Cx,
    raw: &RawState,
    loc: &str,
    depth: usize,
) -> Option<(SubMachine, ProcessorConfig)> {
    match (&raw.item_processor, &raw.iterator) {
        (Some(_), Some(_)) => {
            cx.schema(
                "There should only be one of the following fields: [ItemProcessor, Iterator]",
                loc,
            );
            None
        }
        (Some(v), None) => nested(cx, v, &format!("{loc}/ItemProcessor"), depth, true),
        (None, Some(v)) => nested(cx, v, &format!("{loc}/Iterator"), depth, true),
        (None, None) => {
            cx.schema("These fields are required: [ItemProcessor]", loc);
            None
        }
    }
}

/// `ItemsPath`: absent = `$`.
fn items_path(cx: &mut Cx, raw: &RawState, loc: &str) -> Option<Option<ReferencePath>> {
    match &raw.items_path {
        None => root_reference().map(Some),
        Some(Value::String(s)) => {
            reference_path(cx, s, ANY_ROOT, &format!("{loc}/ItemsPath")).map(Some)
        }
        Some(other) => {
            cx.schema(
                format!("expected a string, found {}", type_name(other)),
                format!("{loc}/ItemsPath"),
            );
            None
        }
    }
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, map: &Map) {
    let key = if map.legacy_iterator {
        "Iterator"
    } else {
        "ItemProcessor"
    };
    let processor = ser::processor(&map.item_processor, &map.processor_config);
    m.insert(key.into(), processor);
    ser::transition(m, &map.transition);
    ser::io(m, &map.io);
    match &map.items_path {
        Some(p) if p.as_str() != "$" => {
            m.insert("ItemsPath".into(), Value::from(p.as_str()));
        }
        _ => {}
    }
    ser::put(m, "Items", map.items.as_ref().map(|i| i.to_value()));
    let key = if map.legacy_parameters {
        "Parameters"
    } else {
        "ItemSelector"
    };
    ser::template(m, key, &map.item_selector);
    let concurrency = map.max_concurrency.as_ref();
    ser::dynamic(m, "MaxConcurrency", "MaxConcurrencyPath", concurrency);
    if let Some(r) = &map.item_reader {
        let mut o = Object::new();
        o.insert("Resource".into(), Value::from(r.resource.as_str()));
        ser::template(&mut o, "Parameters", &r.parameters);
        ser::put(
            &mut o,
            "Arguments",
            r.arguments.as_ref().map(|a| a.to_value()),
        );
        ser::put(&mut o, "ReaderConfig", r.reader_config.clone());
        m.insert("ItemReader".into(), Value::Object(o));
    }
    if let Some(b) = &map.item_batcher {
        let mut o = Object::new();
        ser::template(&mut o, "BatchInput", &b.batch_input);
        let items = b.max_items_per_batch.as_ref();
        ser::dynamic(&mut o, "MaxItemsPerBatch", "MaxItemsPerBatchPath", items);
        let bytes = b.max_input_bytes_per_batch.as_ref();
        ser::dynamic(
            &mut o,
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            bytes,
        );
        m.insert("ItemBatcher".into(), Value::Object(o));
    }
    if let Some(w) = &map.result_writer {
        let mut o = Object::new();
        ser::put(&mut o, "Resource", w.resource.clone());
        ser::template(&mut o, "Parameters", &w.parameters);
        ser::put(
            &mut o,
            "Arguments",
            w.arguments.as_ref().map(|a| a.to_value()),
        );
        ser::put(&mut o, "WriterConfig", w.writer_config.clone());
        m.insert("ResultWriter".into(), Value::Object(o));
    }
    let count = map.tolerated_failure_count.as_ref();
    ser::dynamic(
        m,
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        count,
    );
    let percentage = map.tolerated_failure_percentage.as_ref();
    ser::dynamic(
        m,
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        percentage,
    );
    ser::put(m, "Label", map.label.clone());
    ser::result_handling(m, &map.result_handling);
    ser::assign(m, &map.assign);
    ser::io_jsonata(m, &map.io);
}
