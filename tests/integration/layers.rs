//! The layers of docs/architecture.md, checked on the source: no module imports one of a
//! higher layer, and no two modules import each other, directly or round a circle. Comments
//! are left out (a doc may name a module above it).

use std::collections::{BTreeMap, BTreeSet};

/// Each top-level module of src/ with its layer, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "numbers and formats",
        &[
            "error",
            "exact",
            "period",
            "instrument",
            "engine",
            "text",
            "messages",
            "csv_input",
            "spreadsheet",
            "metrics",
        ],
    ),
    ("storage", &["db"]),
    (
        "domain",
        &[
            "auth",
            "access",
            "directory",
            "tokens",
            "abuse",
            "quality",
            "archive",
            "tallies",
            "reporting",
            "followup",
            "domain",
            "signals",
            "collect",
            "import",
            "writer",
            "demo",
            "config",
        ],
    ),
    ("documents", &["export"]),
    ("HTTP", &["state", "extract", "pages", "api"]),
    ("process", &["server", "cli", "main"]),
];

/// The modules one module's source names as `crate::module`, outside comments.
fn imports(path: &std::path::Path, out: &mut BTreeSet<String>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            imports(&entry.unwrap().path(), out);
        }
        return;
    }
    if path.extension().is_none_or(|e| e != "rs") {
        return;
    }
    let text = std::fs::read_to_string(path).unwrap();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + 7..];
            // `crate::{a, b::c}` names a and b; `crate::a::b` names a.
            let names = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for name in names {
                let name: String = name
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_it_or_goes_round_a_circle() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer_of: BTreeMap<&str, (usize, &str)> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, (name, modules))| modules.iter().map(move |m| (*m, (i, *name))))
        .collect();
    let mut graph: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if module == "lib" {
            continue;
        }
        let module = layer_of
            .keys()
            .find(|m| **m == module)
            .unwrap_or_else(|| panic!("src/{module} is in no layer of this test"));
        let mut used = BTreeSet::new();
        imports(&path, &mut used);
        used.remove(*module);
        graph.entry(module).or_default().extend(used);
    }
    let mut upward = Vec::new();
    for (module, used) in &graph {
        let (mine, _) = layer_of[module];
        for other in used {
            let (theirs, name) = *layer_of
                .get(other.as_str())
                .unwrap_or_else(|| panic!("{module} imports crate::{other}, in no layer"));
            if theirs > mine {
                upward.push(format!("{module} imports {other} ({name})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a higher layer: {upward:#?}"
    );
    // No circle: a depth-first walk never meets a module still on its path.
    fn walk<'a>(
        at: &'a str,
        graph: &'a BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(start) = path.iter().position(|m| *m == at) {
            panic!("a circle of imports: {:?}", &path[start..]);
        }
        if !done.insert(at) {
            return;
        }
        path.push(at);
        for next in graph.get(at).into_iter().flatten() {
            walk(next, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        walk(module, &graph, &mut Vec::new(), &mut done);
    }
}
