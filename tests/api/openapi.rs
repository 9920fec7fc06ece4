//! The OpenAPI document (`src/http/openapi.json`, served at `/api/openapi.json`) against the
//! router (`src/http/routes.rs`) and the authorization matrix
//! (`tests/fixtures/authz_matrix.toml`): every route documented, every documented operation
//! routed, every route in the matrix. Std and serde_json only: the router is read by a small
//! scanner over its source, the matrix by a line parser.

use std::collections::BTreeSet;

use crate::helpers::{Backend, spawn_app};

/// The router: `routes.rs`, and any other module of `src/http` that declares routes.
const HTTP_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
const OPENAPI_JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/openapi.json");
const AUTHZ_MATRIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/authz_matrix.toml"
);

/// (METHOD, template), the template with every parameter as `{}`: `/api/v1/plans/{}/pins`.
type Route = (String, String);

/// The method filters a `warp::path!` is followed by, whitespace removed.
const METHOD_FILTERS: [(&str, &str); 4] = [
    (".and(warp::get())", "GET"),
    (".and(warp::post())", "POST"),
    (".and(warp::put())", "PUT"),
    (".and(warp::delete())", "DELETE"),
];

/// The keys of an OpenAPI path item that are operations.
const OPENAPI_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const PATH_MACRO: &str = "warp::path!(";

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn line_of(src: &str, at: usize) -> usize {
    src[..at].matches('\n').count() + 1
}

/// The text between the macro's `(` (just before `from`) and its matching `)`, and the index
/// just past that `)`. String literals may hold parentheses.
fn macro_args(src: &str, from: usize) -> Option<(&str, usize)> {
    let bytes = src.as_bytes();
    let mut depth = 1usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&src[from..i], i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `"api" / "v1" / "plans" / i64 / "pins"` → `/api/v1/plans/{}/pins`.
fn path_template(args: &str) -> Result<String, String> {
    // Split on `/` outside string literals.
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in args.chars() {
        if in_string {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                current.push(c);
            }
            '/' => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    let mut parts = Vec::new();
    for segment in &segments {
        let s = segment.trim();
        if s.is_empty() {
            return Err(format!("empty segment in warp::path!({args})"));
        }
        if s == ".." {
            return Err(format!(
                "prefix paths (`..`) are not understood by this scanner: warp::path!({args})"
            ));
        }
        if let Some(inner) = s.strip_prefix('"') {
            let literal = inner
                .strip_suffix('"')
                .ok_or_else(|| format!("unterminated literal {s} in warp::path!({args})"))?;
            if literal.contains('\\') || literal.contains('"') {
                return Err(format!("escapes in {s} are not understood by this scanner"));
            }
            parts.push(literal.to_string());
        } else if s
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
        {
            // A type segment: i64, String, u32, some::Type.
            parts.push("{}".to_string());
        } else {
            return Err(format!(
                "segment {s:?} of warp::path!({args}) is neither a literal nor a type"
            ));
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

fn scan_routes(name: &str, src: &str, routes: &mut BTreeSet<Route>, problems: &mut Vec<String>) {
    let mut from = 0;
    while let Some(found) = src[from..].find(PATH_MACRO) {
        let start = from + found;
        let line = line_of(src, start);
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        if src[line_start..start].contains("//") {
            // In a comment.
            from = start + PATH_MACRO.len();
            continue;
        }
        let Some((args, end)) = macro_args(src, start + PATH_MACRO.len()) else {
            panic!("{name}:{line}: warp::path!( without its closing parenthesis");
        };
        from = end;
        let template = match path_template(args) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{name}:{line}: {e}"));
                continue;
            }
        };
        // The rest of the macro's line and the next three, cut at the next route.
        let window: String = src[end..].split_inclusive('\n').take(4).collect();
        let window = match window.find(PATH_MACRO) {
            Some(next) => &window[..next],
            None => window.as_str(),
        };
        let compact: String = window.chars().filter(|c| !c.is_whitespace()).collect();
        let method = METHOD_FILTERS
            .iter()
            .filter_map(|(filter, method)| compact.find(filter).map(|at| (at, *method)))
            .min();
        match method {
            Some((_, method)) => {
                routes.insert((method.to_string(), template));
            }
            None => problems.push(format!(
                "{name}:{line}: warp::path!({args}) has no .and(warp::get|post|put|delete()) \
                 within the next 3 lines"
            )),
        }
    }
}

/// Every route of the router (`src/http/routes.rs`, and any other `src/http/*.rs` that has
/// one): each `warp::path!(...)` with the method filter that follows it within three lines.
fn router_routes() -> BTreeSet<Route> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(HTTP_DIR)
        .unwrap_or_else(|e| panic!("read {HTTP_DIR}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    assert!(
        files.iter().any(|p| p.ends_with("routes.rs")),
        "no src/http/routes.rs"
    );
    let mut routes = BTreeSet::new();
    let mut problems = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        scan_routes(
            &name,
            &read(&file.to_string_lossy()),
            &mut routes,
            &mut problems,
        );
    }
    assert!(
        problems.is_empty(),
        "routes this test cannot read:\n  {}",
        problems.join("\n  ")
    );
    assert!(
        routes.contains(&("GET".to_string(), "/health".to_string())),
        "the scanner found no GET /health in src/http; it found {routes:?}"
    );
    routes
}

fn document() -> serde_json::Value {
    serde_json::from_str(&read(OPENAPI_JSON)).expect("src/http/openapi.json is JSON")
}

/// `/api/v1/plans/{id}/pins` → `/api/v1/plans/{}/pins`.
fn template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match (in_param, c) {
            (false, '{') => {
                in_param = true;
                out.push_str("{}");
            }
            (true, '}') => in_param = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

/// Every operation of the document: (METHOD, path as written there).
fn documented_operations(doc: &serde_json::Value) -> Vec<(String, String)> {
    let paths = doc["paths"]
        .as_object()
        .expect("the document has a paths object");
    let mut ops = Vec::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("path item {path} is an object"));
        for key in item.keys() {
            if OPENAPI_METHODS.contains(&key.as_str()) {
                ops.push((key.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn document_routes() -> BTreeSet<Route> {
    documented_operations(&document())
        .into_iter()
        .map(|(method, path)| (method, template(&path)))
        .collect()
}

/// The first quoted string of a TOML value: `"GET"`, `'GET'`, `"GET" # comment`.
fn quoted(value: &str) -> Option<String> {
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &value[1..];
    let end = rest.find(quote)?;
    Some(rest[..end].to_string())
}

/// The `[[route]]` blocks of the matrix, each with its `method = "X"` and `path = "Y"`.
fn matrix_routes() -> BTreeSet<Route> {
    let text = read(AUTHZ_MATRIX);
    // (line of the header, method, path)
    let mut blocks: Vec<(usize, Option<String>, Option<String>)> = Vec::new();
    // Keys count only right under a `[[route]]` header, not under other tables or sub-tables.
    let mut in_route = false;
    for (n, raw) in text.lines().enumerate() {
        let n = n + 1;
        let line = raw.trim();
        if line.starts_with('[') {
            in_route = line.starts_with("[[route]]");
            if in_route {
                blocks.push((n, None, None));
            }
            continue;
        }
        if !in_route {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key != "method" && key != "path" {
            continue;
        }
        let value = quoted(value.trim()).unwrap_or_else(|| {
            panic!("authz_matrix.toml:{n}: {key} is not a quoted string: {raw}")
        });
        let block = blocks.last_mut().expect("in a [[route]] block");
        let slot = if key == "method" {
            &mut block.1
        } else {
            &mut block.2
        };
        assert!(
            slot.is_none(),
            "authz_matrix.toml:{n}: a second {key} in the [[route]] of line {}",
            block.0
        );
        *slot = Some(value);
    }
    assert!(
        !blocks.is_empty(),
        "authz_matrix.toml has no [[route]] block"
    );
    blocks
        .into_iter()
        .map(|(n, method, path)| match (method, path) {
            (Some(method), Some(path)) => (method.to_ascii_uppercase(), template(&path)),
            _ => panic!("authz_matrix.toml:{n}: a [[route]] needs both method and path"),
        })
        .collect()
}

fn assert_same_routes(
    left_name: &str,
    left: &BTreeSet<Route>,
    right_name: &str,
    right: &BTreeSet<Route>,
) {
    let show = |set: Vec<&Route>| {
        if set.is_empty() {
            "(none)".to_string()
        } else {
            set.iter()
                .map(|(m, p)| format!("{m} {p}"))
                .collect::<Vec<_>>()
                .join("\n  ")
        }
    };
    let only_left: Vec<&Route> = left.difference(right).collect();
    let only_right: Vec<&Route> = right.difference(left).collect();
    assert!(
        only_left.is_empty() && only_right.is_empty(),
        "{left_name} and {right_name} differ.\nonly in {left_name}:\n  {}\nonly in {right_name}:\n  {}",
        show(only_left),
        show(only_right)
    );
}

#[test]
fn router_and_document_agree() {
    assert_same_routes(
        "the router (src/http)",
        &router_routes(),
        "src/http/openapi.json",
        &document_routes(),
    );
}

#[test]
fn matrix_covers_every_route() {
    assert_same_routes(
        "the router (src/http)",
        &router_routes(),
        "tests/fixtures/authz_matrix.toml",
        &matrix_routes(),
    );
}

/// What the fuzzing script (.ci/schemathesis.sh) relies on: unique operation ids, a summary and
/// responses everywhere, and the two operations it excludes by id (they would revoke its token).
#[test]
fn document_operations_are_complete() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut ids = BTreeSet::new();
    for (method, path) in documented_operations(&doc) {
        let op = &doc["paths"][&path][method.to_ascii_lowercase()];
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} twice");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}: no summary"
        );
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
    }
    assert_eq!(
        doc["paths"]["/api/v1/auth/logout"]["post"]["operationId"],
        "logout"
    );
    assert_eq!(
        doc["paths"]["/api/v1/auth/password"]["post"]["operationId"],
        "changePassword"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_document_is_the_file() {
    let app = spawn_app(Backend::Sqlite).await;
    let resp = reqwest::Client::new()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("GET /api/openapi.json");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let served: serde_json::Value = resp.json().await.expect("a JSON body");
    app.teardown().await;
    assert_eq!(status, 200, "GET /api/openapi.json without a token");
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}"
    );
    assert!(
        served == document(),
        "the served document is not src/http/openapi.json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_path_is_routed() {
    let app = spawn_app(Backend::Sqlite).await;
    let anonymous = reqwest::Client::new();
    let mut unrouted = Vec::new();
    for (method, path) in documented_operations(&document()) {
        let concrete = path
            .replace("{id}", "1")
            .replace("{code}", "35.09")
            .replace("{token}", "x");
        assert!(
            !concrete.contains('{'),
            "{method} {path}: a path parameter this test does not fill in"
        );
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = anonymous.request(verb, app.url(&concrete));
        if method == "POST" || method == "PUT" {
            request = request
                .header("content-type", "application/json")
                .body("{}");
        }
        let resp = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {concrete}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let code = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
        match (status, code.as_deref()) {
            (404, Some("no_route")) => unrouted.push(format!("{method} {concrete}: 404 no_route")),
            // The path is routed, but not for this method.
            (405, _) => unrouted.push(format!("{method} {concrete}: 405 {text}")),
            _ => {}
        }
    }
    app.teardown().await;
    assert!(
        unrouted.is_empty(),
        "documented in src/http/openapi.json but not routed:\n  {}",
        unrouted.join("\n  ")
    );
}
