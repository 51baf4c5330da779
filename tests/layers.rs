//! The layer table of ARCHITECTURE.md (beside this repository's README), enforced: every
//! `crate::<module>` path in src/ (outside comments and test modules, inline
//! paths as well as `use` lines, root re-exports such as `crate::StateMachine`
//! resolved to the module that defines them) must point to a module the
//! importing module's layer may depend on.

use std::collections::BTreeMap;
use std::path::Path;

/// (module, layer, modules it may import besides those of lower layers).
/// Layers are compared by number; `None` in `only` means "every module of a
/// lower layer", `Some(list)` restricts it to the list.
struct Rule {
    module: &'static str,
    layer: u32,
    only: Option<&'static [&'static str]>,
}

const LAYER0_MAY: &[&str] = &["error"];

/// The layer table. Siblings of one layer never import each other.
const RULES: &[Rule] = &[
    Rule {
        module: "error",
        layer: 0,
        only: Some(&[]),
    },
    Rule {
        module: "json",
        layer: 0,
        only: Some(LAYER0_MAY),
    },
    Rule {
        module: "timestamp",
        layer: 0,
        only: Some(LAYER0_MAY),
    },
    Rule {
        module: "env",
        layer: 0,
        only: Some(LAYER0_MAY),
    },
    Rule {
        module: "resource",
        layer: 0,
        only: Some(LAYER0_MAY),
    },
    Rule {
        module: "functions",
        layer: 0,
        only: Some(LAYER0_MAY),
    },
    Rule {
        module: "jsonpath",
        layer: 10,
        only: None,
    },
    Rule {
        module: "jsonata",
        layer: 10,
        only: None,
    },
    Rule {
        module: "executor",
        layer: 11,
        only: Some(&["error", "json", "timestamp", "env", "resource", "functions"]),
    },
    Rule {
        module: "clock",
        layer: 11,
        only: Some(&["error", "json", "timestamp", "env", "resource", "functions"]),
    },
    Rule {
        module: "definition",
        layer: 20,
        only: None,
    },
    Rule {
        module: "engine",
        layer: 30,
        only: None,
    },
    Rule {
        module: "state_machine",
        layer: 40,
        only: None,
    },
    Rule {
        module: "durable",
        layer: 41,
        only: Some(&[
            "error",
            "json",
            "timestamp",
            "env",
            "resource",
            "functions",
            "jsonpath",
            "jsonata",
            "executor",
            "clock",
            "definition",
            "engine",
            "state_machine",
        ]),
    },
    // pictures read the definition model and history events only
    Rule {
        module: "graph",
        layer: 42,
        only: Some(&["error", "definition", "engine", "state_machine"]),
    },
    Rule {
        module: "testing",
        layer: 50,
        only: None,
    },
];

fn rule(module: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.module == module)
}

/// Whether `from` may name `to`.
fn allowed(from: &str, to: &str) -> Result<(), String> {
    if from == to {
        return Ok(());
    }
    let (Some(f), Some(t)) = (rule(from), rule(to)) else {
        return Err(format!(
            "module `{}` is not in the layer table",
            if rule(from).is_none() { from } else { to }
        ));
    };
    if let Some(only) = f.only {
        return if only.contains(&to) && t.layer < f.layer {
            Ok(())
        } else {
            Err(format!(
                "`{from}` (layer {}) may not import `{to}` (layer {})",
                f.layer, t.layer
            ))
        };
    }
    // same tens = siblings of one layer (10 jsonpath/jsonata, 11 executor/clock
    // count as layer 1' below layer 2)
    let sibling = f.layer / 10 == t.layer / 10 && f.layer % 10 == t.layer % 10;
    if t.layer < f.layer && !sibling {
        Ok(())
    } else {
        Err(format!(
            "`{from}` (layer {}) may not import `{to}` (layer {})",
            f.layer, t.layer
        ))
    }
}

/// `text` without comments (line, doc and block comments) and without
/// string literals, so that only code is scanned.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'r' if b.get(i + 1) == Some(&b'#')
                || (b.get(i + 1) == Some(&b'"')
                    && (i == 0 || !b[i - 1].is_ascii_alphanumeric())) =>
            {
                // raw string r"..." / r#"..."#
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                let closing: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while j < b.len() && !b[j..].starts_with(&closing) {
                    j += 1;
                }
                i = j + closing.len();
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' => {
                // a char literal ('x', '\n', '"'); a lifetime has no closing quote nearby
                let close = (i + 2..(i + 12).min(b.len())).find(|&j| b[j] == b'\'');
                match close {
                    Some(j)
                        if b[i + 1] == b'\\'
                            || j == i
                                + 1
                                + text[i + 1..].chars().next().map_or(1, char::len_utf8) =>
                    {
                        i = j + 1;
                        out.push_str("' '");
                    }
                    _ => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            _ => {
                let c = text[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The code of a file without its trailing `#[cfg(test)] mod ... { }` block:
/// test code may reach anywhere.
fn without_test_module(code: &str) -> &str {
    let mut search = 0;
    while let Some(at) = code[search..].find("#[cfg(test)]") {
        let at = search + at;
        let rest = code[at + "#[cfg(test)]".len()..].trim_start();
        if rest.starts_with("mod ") && rest.split('\n').next().is_some_and(|l| l.contains('{')) {
            return &code[..at];
        }
        search = at + 1;
    }
    code
}

/// Every module name a `crate::` path in `code` starts with; root
/// re-exports (`crate::StateMachine`) are resolved through `reexports`.
fn imports(code: &str, reexports: &BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `my_crate::`
        }
        let mut names = Vec::new();
        if let Some(group) = rest.strip_prefix('{') {
            // crate::{a::b, c, D}
            let mut depth = 0;
            let mut start = 0;
            for (i, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(group[start..i].trim());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(group[start..i].trim());
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(rest);
        }
        for name in names {
            let first: String = name
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if first.is_empty() || first == "self" {
                continue;
            }
            if first.starts_with(char::is_uppercase) || !rule_known_or_module(&first) {
                if let Some(module) = reexports.get(&first) {
                    found.push(module.clone());
                    continue;
                }
            }
            found.push(first);
        }
    }
    found
}

fn rule_known_or_module(name: &str) -> bool {
    rule(name).is_some()
}

/// The root re-exports of lib.rs: `pub use module::{A, B}` -> A, B => module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let code = code_only(lib);
    let mut map = BTreeMap::new();
    for stmt in code.split(';') {
        let stmt = stmt.trim();
        let Some(path) = stmt.strip_prefix("pub use ") else {
            continue;
        };
        let path = path.trim();
        let module: String = path
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let tail = &path[module.len()..];
        let names: Vec<&str> = match (tail.find('{'), tail.rfind('}')) {
            (Some(a), Some(b)) => tail[a + 1..b].split(',').collect(),
            _ => vec![tail.rsplit("::").next().unwrap_or("")],
        };
        for n in names {
            let n = n.trim();
            let n = n.rsplit(" as ").next().unwrap_or(n).trim();
            let n = n.rsplit("::").next().unwrap_or(n);
            if !n.is_empty() {
                map.insert(n.to_owned(), module.clone());
            }
        }
    }
    map
}

/// The top-level module a file under src/ belongs to (`None` for lib.rs and
/// the binaries).
fn module_of(rel: &Path) -> Option<String> {
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let first = parts.next()?;
    if first == "lib.rs" || first == "bin" || first == "main.rs" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_owned())
}

/// Files declared as test-only modules (`#[cfg(test)] mod name;`), by path.
fn test_only_files(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files {
        let code = code_only(text);
        let dir = if path.ends_with("mod.rs") || path.ends_with("lib.rs") {
            Path::new(path).parent().map(Path::to_path_buf)
        } else {
            Some(Path::new(path).with_extension(""))
        };
        let Some(dir) = dir else { continue };
        let mut rest = code.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            rest = &rest[at + "#[cfg(test)]".len()..];
            let line = rest.trim_start().split('\n').next().unwrap_or("");
            if let Some(name) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
                let name = name.trim();
                out.push(
                    dir.join(format!("{name}.rs"))
                        .to_string_lossy()
                        .into_owned(),
                );
                out.push(dir.join(name).join("mod.rs").to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// Every violation of the layer table in `files` ((path relative to src/,
/// text) pairs; `lib.rs` among them for the re-exports).
fn violations(files: &[(String, String)]) -> Vec<String> {
    let lib = files
        .iter()
        .find(|(p, _)| p == "lib.rs")
        .map_or("", |(_, t)| t.as_str());
    let reexports = reexports(lib);
    let tests = test_only_files(files);
    let mut out = Vec::new();
    for (path, text) in files {
        if tests.contains(path) {
            continue;
        }
        let Some(from) = module_of(Path::new(path)) else {
            continue;
        };
        let code = code_only(text);
        for to in imports(without_test_module(&code), &reexports) {
            if let Err(why) = allowed(&from, &to) {
                out.push(format!("src/{path}: {why}"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn read_src() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(&src)
                    .expect("under src")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(&path).expect("readable")));
            }
        }
    }
    out
}

#[test]
fn src_follows_the_layer_table() {
    let files = read_src();
    assert!(files.len() > 20, "src/ has {} files", files.len());
    let found = violations(&files);
    assert!(found.is_empty(), "layer violations:\n{}", found.join("\n"));
}

#[test]
fn every_module_is_in_the_table() {
    let files = read_src();
    for (path, _) in &files {
        if let Some(module) = module_of(Path::new(path)) {
            assert!(
                rule(&module).is_some(),
                "src/{path}: module `{module}` is not in the layer table"
            );
        }
    }
}

/// The checker itself: made-up violations must be found, and what is
/// allowed must pass.
#[test]
fn the_checker_finds_made_up_violations() {
    let lib = (
        "lib.rs".to_owned(),
        "mod engine;\npub use engine::{Execution, Outcome};\npub use state_machine::StateMachine;"
            .to_owned(),
    );
    let case =
        |path: &str, text: &str| violations(&[lib.clone(), (path.to_owned(), text.to_owned())]);
    // a use line, an inline path, a group, a root re-export
    assert_eq!(
        case("json.rs", "use crate::engine::Plan;"),
        ["src/json.rs: `json` (layer 0) may not import `engine` (layer 30)"]
    );
    assert_eq!(
        case("jsonpath/path/mod.rs", "fn f() { crate::jsonata::x(); }"),
        ["src/jsonpath/path/mod.rs: `jsonpath` (layer 10) may not import `jsonata` (layer 10)"]
    );
    assert_eq!(
        case(
            "definition/parse.rs",
            "use crate::{error::Error, engine::Plan};"
        ),
        ["src/definition/parse.rs: `definition` (layer 20) may not import `engine` (layer 30)"]
    );
    assert_eq!(
        case("engine/run.rs", "fn f(m: &crate::StateMachine) {}"),
        ["src/engine/run.rs: `engine` (layer 30) may not import `state_machine` (layer 40)"]
    );
    assert_eq!(
        case("executor.rs", "use crate::definition::Resource;"),
        ["src/executor.rs: `executor` (layer 11) may not import `definition` (layer 20)"]
    );
    // comments, strings and test modules are not code
    assert!(case(
        "json.rs",
        "// crate::engine\n/// [`x`](crate::engine::X)\nconst S: &str = \"crate::engine\";"
    )
    .is_empty());
    assert!(case(
        "json.rs",
        "fn f() {}\n#[cfg(test)]\nmod tests {\n use crate::engine::Plan;\n}"
    )
    .is_empty());
    // what is allowed passes
    assert!(case(
        "engine/run.rs",
        "use crate::definition::State;\nuse crate::{json, jsonpath::Path};"
    )
    .is_empty());
    assert!(case("testing/mod.rs", "use crate::StateMachine;").is_empty());
    // an unknown module is reported
    assert_eq!(case("newthing.rs", "fn f() {}"), Vec::<String>::new());
    assert!(!case("json.rs", "use crate::newthing::X;").is_empty());
}
