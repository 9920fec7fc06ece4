//! The connection loop around the routes: warp's own `serve`, plus what it cannot do from inside a
//! filter — an `X-Request-Id` on every request and response and in the request's log span, the
//! visit-link token taken out of the logged path, a panicking handler answered with a JSON 500
//! (not a dropped connection), and a client that hangs up logged as what it is (not an error).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use futures_util::FutureExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tracing::Instrument;
use warp::http::{HeaderValue, Request, StatusCode};
use warp::reply::Response;

/// The client's socket address, for the handlers that need it (`warp::ext::get`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

pub const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request this task is answering (the handlers run inside `handle`'s task).
    static CURRENT_ID: String;
}

/// The id of the request being answered, for an error body that quotes it.
pub fn current_request_id() -> Option<String> {
    CURRENT_ID.try_with(|id| id.clone()).ok()
}

/// A client's own id is kept when it is short and plain (so that a proxy's id joins the logs);
/// anything else is replaced by a fresh one.
fn request_id(req: &Request<Incoming>) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// The path as it may be logged: the per-visit link `/v/{token}` is a 7-day write credential, so
/// only its first characters are kept; query strings are never logged.
pub fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/v/") {
        Some(rest) => {
            let shown: String = rest.chars().take(6).collect();
            format!("/v/{shown}…[redacted]")
        }
        None => path.to_string(),
    }
}

fn internal_error(id: &str) -> Response {
    let body = serde_json::json!({
        "error": {
            "code": "internal",
            "message": "Terjadi kesalahan di server / internal server error",
            "request_id": id,
        }
    });
    let mut resp = Response::new(body.to_string().into());
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

type Routes = warp::filters::BoxedFilter<(Response,)>;

/// Handle one request: id, span, panic guard, id on the response.
async fn handle(
    routes: Routes,
    remote: Option<SocketAddr>,
    mut req: Request<Incoming>,
) -> Result<Response, Infallible> {
    let id = request_id(&req);
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    if let Some(addr) = remote {
        req.extensions_mut().insert(ClientAddr(addr));
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %loggable_path(req.uri().path()),
    );
    let started = std::time::Instant::now();
    let call = async move {
        let service = warp::service(routes);
        let mut service = service;
        tower_service::Service::call(&mut service, req).await
    };
    let outcome = CURRENT_ID
        .scope(
            id.clone(),
            std::panic::AssertUnwindSafe(call).catch_unwind(),
        )
        .instrument(span.clone())
        .await;
    let mut resp = match outcome {
        Ok(Ok(resp)) => resp,
        Ok(Err(never)) => match never {},
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            span.in_scope(|| tracing::error!(panic = %what, "handler panicked"));
            internal_error(&id)
        }
    };
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "finished processing"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(resp)
}

/// A connection that ended because the client went away is routine under load.
fn log_connection_end(err: &(dyn std::error::Error + 'static)) {
    let hung_up = err
        .downcast_ref::<hyper::Error>()
        .is_some_and(|e| e.is_incomplete_message() || e.is_canceled() || e.is_closed())
        || err.downcast_ref::<std::io::Error>().is_some_and(|e| {
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        });
    if hung_up {
        tracing::debug!(error = %err, "client closed the connection");
    } else {
        tracing::warn!(error = %err, "connection error");
    }
}

/// Accept connections until `shutdown` resolves, then let the open ones finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    routes: Routes,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let routes = routes.clone();
        let service =
            hyper::service::service_fn(move |req| handle(routes.clone(), Some(remote), req));
        let builder = Builder::new(TokioExecutor::new());
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                log_connection_end(&*e);
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::Filter;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_json_500_and_the_server_goes_on() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let boom = warp::path("boom").map(|| -> Response { panic!("a bug in a handler") });
        let fine = warp::path("fine").map(|| Response::new("ok".into()));
        let routes = boom.or(fine).unify().boxed();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, routes, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let resp = client
            .get(format!("http://{addr}/boom"))
            .header(REQUEST_ID, "t-1")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 500);
        assert_eq!(resp.headers()[REQUEST_ID], "t-1");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["request_id"], "t-1");
        let resp = client
            .get(format!("http://{addr}/fine"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// Events as (level, message), for tests that check what is logged and how loudly.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<(tracing::Level, String)>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Captured {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            struct Message(String);
            impl tracing::field::Visit for Message {
                fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                    if f.name() == "message" {
                        self.0 = format!("{v:?}");
                    }
                }
            }
            let mut m = Message(String::new());
            event.record(&mut m);
            self.0
                .lock()
                .unwrap()
                .push((*event.metadata().level(), m.0));
        }
    }

    /// A client that sends half a request's head and hangs up is not a server error: it is logged at
    /// DEBUG (it was an ERROR line per hang-up, 141 after three load runs).
    #[tokio::test]
    async fn a_client_hang_up_is_logged_at_debug_not_as_an_error() {
        use tokio::io::AsyncWriteExt;
        use tracing_subscriber::layer::SubscriberExt;

        let captured = Captured::default();
        // A current-thread runtime: the server's tasks run on this thread, under this subscriber.
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(captured.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = warp::any()
            .and(warp::body::bytes())
            .map(|_| Response::new("ok".into()))
            .boxed();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, routes, async {
            let _ = stopped.await;
        }));
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /x HTTP/1.1\r\nhost: t\r\nx-half-a-hea")
            .await
            .unwrap();
        drop(client);
        let logged = || captured.0.lock().unwrap().clone();
        for _ in 0..200 {
            if logged().iter().any(|(_, m)| m.contains("client closed")) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let events = logged();
        assert!(
            events
                .iter()
                .any(|(l, m)| *l == tracing::Level::DEBUG && m == "client closed the connection"),
            "{events:?}"
        );
        assert!(
            events.iter().all(|(l, _)| *l > tracing::Level::WARN),
            "nothing louder than INFO: {events:?}"
        );
        let _ = stop.send(());
        server.await.unwrap();
    }

    #[test]
    fn visit_tokens_never_reach_the_log() {
        let p = loggable_path("/v/35.12.1764892800.c2lnbmF0dXJlLXNlY3JldA");
        assert!(!p.contains("c2lnbmF0dXJl"), "{p}");
        assert!(p.starts_with("/v/35.12."), "{p}");
        assert_eq!(loggable_path("/api/v1/plans"), "/api/v1/plans");
    }
}
