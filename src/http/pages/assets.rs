//! The console's static files, inside the binary: the vendored map library (Leaflet, from the npm
//! registry with its licence, see `web/README.md`), the console's own script and stylesheet.

use warp::Filter;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use crate::http::params::{Route, page_route};

/// (name, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "leaflet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/vendor/leaflet-1.9.4/leaflet.js"),
    ),
    (
        "leaflet.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/vendor/leaflet-1.9.4/leaflet.css"),
    ),
    (
        "LICENSE-leaflet.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../../web/vendor/leaflet-1.9.4/LICENSE"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/console.css"),
    ),
];

fn asset(name: &str) -> Response {
    let Some((_, kind, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        let mut resp = Response::new("not found".into());
        *resp.status_mut() = StatusCode::NOT_FOUND;
        return resp;
    };
    let mut resp = Response::new(bytes.to_vec().into());
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(kind));
    // The files change only with the binary; an hour keeps a restarted server's new files near.
    h.insert(
        "cache-control",
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

pub(super) fn routes() -> Vec<Route> {
    let files = warp::path!("app" / "assets" / String)
        .and(warp::get())
        .map(|name: String| asset(&name))
        .boxed();
    vec![page_route("GET", "/app/assets/{name}", files)]
}
