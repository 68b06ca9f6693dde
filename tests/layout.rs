//! The shape of the source tree, kept as the architecture needs it: every file under `src/` says
//! what it holds in an opening `//!` comment and stays short enough to read in one sitting, and
//! the modules directly under `src/` (and those under `src/arch/`) import each other without a
//! loop, so that each layer can be read knowing only the layers below it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The longest a file under `src/` may grow, in lines.
const MAX_LINES: usize = 700;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> (PathBuf, Vec<PathBuf>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    assert!(
        files.len() > 10,
        "found too few sources under {}",
        root.display()
    );
    (root, files)
}

#[test]
fn every_source_file_is_short_and_says_what_it_holds() {
    let (root, files) = src();
    let mut problems = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!("src/{name}: {lines} lines (at most {MAX_LINES})"));
        }
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("src/{name}: no opening `//!` comment"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The module (`a` for `src/a.rs` and `src/a/**`) that a path below `base` belongs to.
fn module_of(base: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(base).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "mod" && name != "lib").then_some(name)
}

/// Which modules of `prefix` (`crate::` or `crate::arch::`) the code of each module names.
fn graph(base: &Path, files: &[PathBuf], prefix: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let Some(from) = module_of(base, f) else {
            continue;
        };
        let text = fs::read_to_string(f).unwrap();
        let deps = g.entry(from.clone()).or_default();
        // Code only: comments (doc links included) are not imports. A sibling written as
        // `super::x` from a module's own file counts too.
        for line in text
            .lines()
            .map(str::trim_start)
            .filter(|l| !l.starts_with("//"))
        {
            let is_top = f.parent() == Some(base);
            let mut names = Vec::new();
            for (i, _) in line.match_indices(prefix) {
                names.push(&line[i + prefix.len()..]);
            }
            if is_top {
                for (i, _) in line.match_indices("super::") {
                    names.push(&line[i + "super::".len()..]);
                }
            }
            for rest in names {
                let to: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !to.is_empty() && to != from && to.chars().next().unwrap().is_lowercase() {
                    deps.insert(to);
                }
            }
        }
    }
    g
}

/// A cycle in `g`, if any, as the list of modules along it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(1) => {
                let at = path.iter().position(|p| p == n).unwrap();
                let mut cycle = path[at..].to_vec();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            Some(_) => return None,
            None => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if g.contains_key(m) {
                if let Some(c) = visit(m, g, state, path) {
                    return Some(c);
                }
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    g.keys()
        .find_map(|n| visit(n, g, &mut state, &mut Vec::new()))
}

#[test]
fn modules_import_each_other_without_a_loop() {
    let (root, files) = src();
    let top = graph(&root, &files, "crate::");
    for must in ["arch", "dispatch", "ffi"] {
        assert!(
            top.contains_key(must),
            "no module {must} in {:?}",
            top.keys()
        );
    }
    if let Some(c) = find_cycle(&top) {
        panic!("import loop between modules of src/: {}", c.join(" -> "));
    }
    let arch = root.join("arch");
    let inner = graph(&arch, &files, "crate::arch::");
    if let Some(c) = find_cycle(&inner) {
        panic!(
            "import loop between modules of src/arch/: {}",
            c.join(" -> ")
        );
    }
}

/// The checker itself finds a loop where there is one.
#[test]
fn the_loop_finder_finds_loops() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default();
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
