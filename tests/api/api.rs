//! The read API over the demo data, and the one error envelope.

use crate::helpers::TestApp;
use crate::on_both_backends;

pub async fn regions_sites_and_teams_are_served(app: &TestApp) {
    app.run_demo().await;

    let (status, body) = app.get("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));

    let (status, kab) = app.get("/api/v1/regions/35.09?year=2026").await;
    assert_eq!(status, 200);
    assert_eq!(kab["name"], "Kabupaten Jember");
    assert_eq!(kab["time_zone"], "Asia/Jakarta");
    assert_eq!(kab["children"].as_array().unwrap().len(), 31);
    assert!(kab.get("boundary").is_none(), "boundaries only on request");
    let by = |ind: &str| {
        kab["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["indicator"] == ind)
            .unwrap()
            .clone()
    };
    let ktp = by("ktp_el");
    assert_eq!(
        (ktp["percent"].as_f64(), ktp["basis"].as_str()),
        (Some(98.6), Some("rollup"))
    );
    assert_eq!(ktp["regions_counted"], 31);
    assert_eq!(
        (ktp["target_percent"].as_f64(), ktp["gap_points"].as_f64()),
        (Some(99.4), Some(0.8))
    );
    assert_eq!(by("kia")["percent"].as_f64(), Some(49.66));

    let (_, kec) = app.get("/api/v1/regions/35.09.01").await;
    assert_eq!(kec["level"], "kecamatan");
    assert_eq!(kec["coverage"][0]["basis"], "snapshot");
    assert!(
        kec["children"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["code"].as_str().unwrap().starts_with("35.09.01."))
    );

    let (status, page) = app
        .get("/api/v1/sites?region=35.09.01&kind=sma,smk&page=1&per_page=5")
        .await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= 5);
    assert!(items.iter().all(
        |s| s["region_code"].as_str().unwrap().starts_with("35.09.01")
            && ["sma", "smk"].contains(&s["kind"].as_str().unwrap())
    ));
    let total = page["total"].as_u64().unwrap();
    let (_, all) = app
        .get(&format!(
            "/api/v1/sites?region=35.09.01&kind=sma,smk&per_page={total}"
        ))
        .await;
    assert_eq!(all["items"].as_array().unwrap().len() as u64, total);
    let (_, beyond) = app
        .get("/api/v1/sites?region=35.09.01&kind=sma&page=999")
        .await;
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);

    let (_, teams) = app.get("/api/v1/teams").await;
    let teams = teams["items"].as_array().unwrap();
    assert_eq!(teams.len(), 4);
    assert!(
        teams
            .iter()
            .all(|t| !t["members"].as_array().unwrap().is_empty())
    );
}

pub async fn every_error_uses_one_envelope(app: &TestApp) {
    for (path, status, code) in [
        ("/api/v1/nothing", 404, "no_route"),
        ("/api/v1/regions/35.09", 404, "not_found"),
        ("/api/v1/regions/35.9x", 400, "bad_request"),
        ("/api/v1/sites?page=0", 400, "bad_request"),
        ("/api/v1/sites?per_page=100000", 400, "bad_request"),
        ("/api/v1/sites?kind=universitas", 400, "bad_request"),
        ("/api/v1/sites?region=abc", 400, "bad_request"),
        ("/api/v1/regions/35?year=soon", 400, "bad_request"),
    ] {
        let (got, body) = app.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}");
        assert!(
            !body["error"]["message"].as_str().unwrap().is_empty(),
            "{path}"
        );
    }
    // Without a token: 401 in the same envelope, with a Bearer challenge.
    let resp = app
        .anonymous
        .get(app.url("/api/v1/teams"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let resp = app
        .client
        .delete(app.url("/api/v1/teams"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
}

/// Hostile or careless input gets the right status, never a 405 or a panic: a body over
/// `server.max_body_bytes` is 413 on every route that reads one, a page number past the
/// documented bound is 400. Every response carries an X-Request-Id (the client's own when it sent
/// a plain one).
pub async fn limits_and_request_ids(app: &TestApp) {
    // Over a raw connection: the request announces a body one byte over the limit and the
    // answer is read before any body is sent (a client streaming the body would race the
    // server's early answer and its closing of the connection).
    let too_big = app.settings.server.max_body_bytes + 1;
    for (method, path) in [
        ("POST", "/api/v1/plans"),
        ("PUT", "/api/v1/plans/1/pins"),
        ("POST", "/api/v1/visits/1/logs"),
        ("POST", "/api/v1/outbox/retry"),
    ] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        conn.write_all(
            format!(
                "{method} {path} HTTP/1.1\r\nHost: jemput\r\nContent-Type: application/json\r\nContent-Length: {too_big}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut head = vec![0u8; 4096];
        let n = conn.read(&mut head).await.unwrap();
        let head = String::from_utf8_lossy(&head[..n]).to_lowercase();
        assert!(head.starts_with("http/1.1 413"), "{method} {path}: {head}");
        assert!(head.contains("x-request-id:"), "{head}");
    }
    let (status, body) = app.get("/api/v1/sites?page=1000000000000000000").await;
    assert_eq!(status, 400, "{body}");

    let resp = app.client.get(app.url("/health")).send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.len() >= 16, "{id}");
    let resp = app
        .client
        .get(app.url("/no/such/route"))
        .header("x-request-id", "proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(resp.headers()["x-request-id"], "proxy-42");
    let resp = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(resp.headers()["x-request-id"], "bad id with spaces");
}

on_both_backends!(
    limits_and_request_ids,
    regions_sites_and_teams_are_served,
    every_error_uses_one_envelope
);
