//! The rules of ARCHITECTURE.md, checked on the source itself (parsed with syn, not matched as
//! text): which layer may import which, no two modules importing each other, sea-orm named only
//! inside `store/`, and the size limits — files ≤ 600 lines, functions ≤ 150 lines — with their
//! named exceptions.
//!
//! A module here is a file (`src/store/plans.rs` is `store::plans`); an inline `mod tests` belongs
//! to its file. A reference is any path in a `use`, in code, or inside a macro call's tokens that
//! starts with `crate::`, `super::` or `self::`, resolved to the longest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::Visit;

/// The layer of each top-level module. Every module under `src/` must be listed: a new top-level
/// module is a decision about layers, made here and in ARCHITECTURE.md.
const LAYERS: &[(&str, &str)] = &[
    // The pure core: no storage, HTTP, mail transport or configuration.
    ("domain", "core"),
    ("planner", "core"),
    ("priority", "core"),
    ("email", "core"),
    ("fieldlog", "core"),
    ("auth", "core"),
    ("import", "core"),
    ("clock", "core"),
    // Infrastructure every outer layer may use.
    ("config", "support"),
    ("telemetry", "support"),
    ("heavy", "support"),
    ("store", "store"),
    ("mail", "mail"),
    ("services", "services"),
    ("http", "http"),
    ("cli", "cli"),
    ("app", "app"),
];

/// Which layer may import which (besides itself).
const ALLOWED: &[(&str, &[&str])] = &[
    ("core", &[]),
    ("support", &["core"]),
    ("store", &["core", "support"]),
    ("mail", &["core", "support", "store"]),
    ("services", &["core", "support", "store", "mail"]),
    ("http", &["core", "support", "services"]),
    // The command line is the program's entry: it starts the wiring (`app`).
    ("cli", &["core", "support", "services", "app"]),
    (
        "app",
        &[
            "core", "support", "store", "mail", "services", "http", "cli",
        ],
    ),
];

/// Names the HTTP and CLI shells may take from `store`: the connection handles they pass on to
/// the services (`Probe` is `/health`'s own) and the error they map to a status, nothing that
/// reads or writes.
const SHELL_STORE_NAMES: &[&str] = &["Db", "Probe", "StoreError"];

/// Crates that speak to the database: named only inside `store/` (and the migrations crate).
const DATABASE_CRATES: &[&str] = &["sea_orm", "sqlx", "sea_query", "migration"];
/// Database names that must not leave `store/` even through a re-export.
const DATABASE_NAMES: &[&str] = &["DbErr", "DatabaseConnection", "DatabaseTransaction"];

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 150;
/// Files allowed past the file limit.
const LONG_FILES: &[&str] = &["src/planner/search.rs"];
/// Functions allowed past the function limit: the solver's search loop.
const LONG_FNS: &[(&str, &str)] = &[("src/planner/search.rs", "solve")];

/// Known departures from the rules, one per line, each to be removed as the code is brought in
/// line: the test fails when a new one appears *and* when a listed one is gone, so the list only
/// shrinks.
const KNOWN: &str = include_str!("fixtures/architecture_departures.txt");

type Module = Vec<String>;

struct SourceFile {
    rel: String,
    module: Module,
    syntax: syn::File,
    lines: usize,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/store/plans.rs` → `store::plans`; `src/store/mod.rs` → `store`; `src/lib.rs` → the root.
fn module_of(rel_to_src: &Path) -> Module {
    let mut parts: Vec<String> = rel_to_src
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn load(dir: &str) -> Vec<SourceFile> {
    let base = root().join(dir);
    let mut paths = Vec::new();
    rust_files(&base, &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rel = p
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("parse {rel}: {e}"));
            SourceFile {
                module: module_of(p.strip_prefix(&base).unwrap()),
                rel,
                syntax,
                lines: text.lines().count(),
            }
        })
        .collect()
}

/// One path a file names, already made absolute (`crate::…`), or an outside crate's path.
#[derive(Debug)]
enum Named {
    Local(Vec<String>),
    Outside(Vec<String>),
}

struct Collector<'a> {
    /// The module the code being visited is in (the file's module plus inline `mod`s).
    here: Module,
    children: &'a BTreeSet<Module>,
    found: Vec<(Named, usize)>,
    fns: Vec<(String, usize)>,
}

impl Collector<'_> {
    fn resolve(&self, segs: &[String]) -> Named {
        let mut base = self.here.clone();
        let mut rest = segs;
        match segs.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &segs[1..];
            }
            Some("self") => rest = &segs[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                // `use child::x` names a child module of the current one (uniform paths).
                let mut child = self.here.clone();
                child.push(first.to_string());
                if !self.children.contains(&child) {
                    return Named::Outside(segs.to_vec());
                }
            }
            None => return Named::Outside(Vec::new()),
        }
        base.extend(rest.iter().cloned());
        Named::Local(base)
    }

    fn note(&mut self, segs: Vec<String>, line: usize) {
        let named = self.resolve(&segs);
        self.found.push((named, line));
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, line: usize) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, line);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.note(full, line);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                self.note(full, line);
            }
            syn::UseTree::Glob(_) => self.note(prefix.clone(), line),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t, line);
                }
            }
        }
    }

    /// Paths inside a macro call (`json!`, `tracing::info!`, …) are tokens, not syntax: find
    /// every `ident :: ident :: …` run among them.
    fn macro_tokens(&mut self, tokens: TokenStream) {
        let flat = flatten(tokens);
        let mut i = 0;
        while i < flat.len() {
            if let Flat::Ident(first, line) = &flat[i] {
                let mut segs = vec![first.clone()];
                let mut j = i + 1;
                while matches!(flat.get(j), Some(Flat::Colon))
                    && matches!(flat.get(j + 1), Some(Flat::Colon))
                {
                    match flat.get(j + 2) {
                        Some(Flat::Ident(s, _)) => {
                            segs.push(s.clone());
                            j += 3;
                        }
                        _ => break,
                    }
                }
                if segs.len() > 1 {
                    self.note(segs, *line);
                }
                i = j;
            } else {
                i += 1;
            }
        }
    }
}

enum Flat {
    Ident(String, usize),
    Colon,
    Other,
}

fn flatten(tokens: TokenStream) -> Vec<Flat> {
    let mut out = Vec::new();
    for t in tokens {
        match t {
            TokenTree::Group(g) => {
                out.push(Flat::Other);
                out.extend(flatten(g.stream()));
                out.push(Flat::Other);
            }
            TokenTree::Ident(i) => out.push(Flat::Ident(i.to_string(), i.span().start().line)),
            TokenTree::Punct(p) if p.as_char() == ':' => out.push(Flat::Colon),
            _ => out.push(Flat::Other),
        }
    }
    out
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.here.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.here.pop();
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let line = u.span().start().line;
        let mut prefix = Vec::new();
        self.use_tree(&mut prefix, &u.tree, line);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        // One segment is a local name (a variable, a type in scope) unless it is a database one.
        if segs.len() > 1 || DATABASE_NAMES.contains(&segs[0].as_str()) {
            self.note(segs, p.span().start().line);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.macro_tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let s = f.span();
        self.fns
            .push((f.sig.ident.to_string(), s.end().line - s.start().line + 1));
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let s = f.span();
        self.fns
            .push((f.sig.ident.to_string(), s.end().line - s.start().line + 1));
        syn::visit::visit_impl_item_fn(self, f);
    }
}

fn layer_of(module: &[String]) -> Option<&'static str> {
    let top = module.first()?;
    Some(
        LAYERS
            .iter()
            .find(|(m, _)| m == top)
            .unwrap_or_else(|| panic!("module `{top}` has no layer in tests/architecture.rs"))
            .1,
    )
}

fn is_prefix(a: &[String], b: &[String]) -> bool {
    a.len() <= b.len() && a == &b[..a.len()]
}

/// The longest known module a path names (`store::plans::load` → `store::plans`).
fn module_named<'m>(path: &[String], modules: &'m BTreeSet<Module>) -> &'m Module {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n].to_vec()))
        .expect("the root module is always known")
}

fn join(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct T<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on: BTreeSet<Module>,
        out: Vec<Vec<Module>>,
    }
    fn visit(t: &mut T, v: &Module) {
        let i = t.index.len();
        t.index.insert(v.clone(), i);
        t.low.insert(v.clone(), i);
        t.stack.push(v.clone());
        t.on.insert(v.clone());
        for w in t.edges.get(v).into_iter().flatten() {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out.sort();
    t.out
}

/// Every departure from the rules, one line each.
fn departures() -> BTreeSet<String> {
    let files: Vec<SourceFile> = load("src")
        .into_iter()
        .filter(|f| f.rel != "src/main.rs")
        .collect();
    let modules: BTreeSet<Module> = files.iter().map(|f| f.module.clone()).collect();
    let mut out = BTreeSet::new();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();

    for f in &files {
        let mut c = Collector {
            here: f.module.clone(),
            children: &modules,
            found: Vec::new(),
            fns: Vec::new(),
        };
        c.visit_file(&f.syntax);
        let from_layer = layer_of(&f.module);
        let in_store = f.module.first().map(String::as_str) == Some("store");

        for (named, _) in &c.found {
            let path = match named {
                Named::Outside(segs) => {
                    let hit = segs
                        .first()
                        .is_some_and(|s| DATABASE_CRATES.contains(&s.as_str()))
                        || segs.iter().any(|s| DATABASE_NAMES.contains(&s.as_str()));
                    if hit && !in_store {
                        out.insert(format!(
                            "{}: names `{}` outside store/",
                            f.rel,
                            segs.join("::")
                        ));
                    }
                    continue;
                }
                Named::Local(path) => path,
            };
            let entity = path.len() > 1 && path[0] == "store" && path[1] == "entity";
            if !in_store && (entity || path.iter().any(|s| DATABASE_NAMES.contains(&s.as_str()))) {
                out.insert(format!("{}: names `{}` outside store/", f.rel, join(path)));
            }
            let target = module_named(path, &modules);
            if target == &f.module || is_prefix(target, &f.module) || is_prefix(&f.module, target) {
                continue;
            }
            edges
                .entry(f.module.clone())
                .or_default()
                .insert(target.clone());
            let (Some(from), Some(to)) = (from_layer, layer_of(target)) else {
                continue;
            };
            if from == to {
                continue;
            }
            let allowed = ALLOWED.iter().find(|(l, _)| *l == from).unwrap().1;
            let shell_handle = matches!(from, "http" | "cli")
                && to == "store"
                && path.len() == 2
                && SHELL_STORE_NAMES.contains(&path[1].as_str());
            if !allowed.contains(&to) && !shell_handle {
                out.insert(format!(
                    "{}: {} layer imports {} layer (`{}`)",
                    f.rel,
                    from,
                    to,
                    join(target)
                ));
            }
        }

        for (name, lines) in &c.fns {
            if *lines > MAX_FN_LINES && !LONG_FNS.contains(&(f.rel.as_str(), name.as_str())) {
                out.insert(format!("{}: fn {name} is {lines} lines", f.rel));
            }
        }
    }

    for comp in cycles(&edges) {
        let names: Vec<String> = comp.iter().map(|m| join(m)).collect();
        out.insert(format!("cycle: {}", names.join(" ⇄ ")));
    }

    for f in files.iter().chain(load("tests").iter()) {
        if f.lines > MAX_FILE_LINES && !LONG_FILES.contains(&f.rel.as_str()) {
            out.insert(format!("{}: file is over {MAX_FILE_LINES} lines", f.rel));
        }
    }
    out
}

#[test]
fn the_source_keeps_the_rules_of_architecture_md() {
    let found = departures();
    let known: BTreeSet<String> = KNOWN
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let new: Vec<&String> = found.difference(&known).collect();
    let gone: Vec<&String> = known.difference(&found).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "ARCHITECTURE.md's rules:\n  new departures (fix them):\n    {}\n  \
         fixed departures still listed in tests/fixtures/architecture_departures.txt (remove them):\n    {}",
        new.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n    "),
        gone.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n    "),
    );
}

#[test]
fn the_checker_sees_a_cycle_a_layer_breach_and_a_long_function() {
    // The checker itself: a cycle of two modules is found, and one through three.
    let m = |s: &str| -> Module { s.split("::").map(String::from).collect() };
    let mut edges = BTreeMap::new();
    edges.insert(m("a"), BTreeSet::from([m("b")]));
    edges.insert(m("b"), BTreeSet::from([m("a"), m("c")]));
    edges.insert(m("c"), BTreeSet::from([m("d")]));
    edges.insert(m("d"), BTreeSet::from([m("e")]));
    edges.insert(m("e"), BTreeSet::from([m("c")]));
    assert_eq!(
        cycles(&edges),
        vec![vec![m("a"), m("b")], vec![m("c"), m("d"), m("e")]]
    );

    // Paths are resolved from `super::`, from a child module and from a macro's tokens.
    let modules = BTreeSet::from([m("store"), m("store::plans"), m("http"), m("http::routes")]);
    let file: syn::File = syn::parse_str(
        "use super::Db;\n\
         fn f() { tracing::info!(\"{}\", crate::store::plans::load()); }\n\
         fn g() { let _ = sea_orm::DbErr::Custom(String::new()); }",
    )
    .unwrap();
    let mut c = Collector {
        here: m("http::routes"),
        children: &modules,
        found: Vec::new(),
        fns: Vec::new(),
    };
    c.visit_file(&file);
    let local: Vec<String> = c
        .found
        .iter()
        .filter_map(|(n, _)| match n {
            Named::Local(p) => Some(join(p)),
            Named::Outside(_) => None,
        })
        .collect();
    assert!(local.contains(&"http::Db".to_string()), "{local:?}");
    assert!(
        local.contains(&"store::plans::load".to_string()),
        "{local:?}"
    );
    assert!(c.found.iter().any(
        |(n, _)| matches!(n, Named::Outside(p) if p.first().map(String::as_str) == Some("sea_orm"))
    ));
    assert_eq!(
        c.fns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["f", "g"]
    );
    assert_eq!(
        module_named(&m("store::plans::load"), &modules),
        &m("store::plans")
    );

    // `use routes::X` inside `http` names its child module.
    let mut c = Collector {
        here: m("http"),
        children: &modules,
        found: Vec::new(),
        fns: Vec::new(),
    };
    c.visit_file(&syn::parse_str("use routes::X;").unwrap());
    assert!(matches!(&c.found[..], [(Named::Local(p), 1)] if join(p) == "http::routes::X"));
    assert_eq!(layer_of(&m("http::routes")), Some("http"));
}
