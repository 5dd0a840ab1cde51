//! Faults the sandbox can be told to inject, per route, so that tests can
//! show the client ends in a defined state for each: a typed error or a
//! successful retry, never a panic, a hang or a partial answer taken as whole.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a GitHub-style error body.
    Status(u16),
    /// Wait this long before answering normally.
    Slow(Duration),
    /// Start the body, then drop the connection.
    ResetConnection,
    /// 403 with `x-ratelimit-remaining: 0` and a reset time `reset_in` seconds ahead.
    PrimaryRateLimit { reset_in: u64 },
    /// 429 with `retry-after`.
    SecondaryRateLimit { retry_after: u64 },
    /// 200 with a body that is not JSON.
    MalformedJson,
    /// 200 with the real body cut in half (and a matching Content-Length).
    TruncatedJson,
    /// The real body labelled `text/html`, as a captive portal would send.
    WrongContentType,
    /// 200 with a body of this many bytes.
    HugeBody { bytes: usize },
    /// Do the work, then answer 502: the write happened but the client never
    /// hears so, as when a connection drops or the client crashes mid-push.
    LostResponse,
}

/// A fault for requests whose path contains `path_contains`, for the next
/// `times` requests (`None`: until removed).
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub path_contains: String,
    pub fault: Fault,
    pub times: Option<u32>,
}

impl Store {
    pub fn inject(&mut self, path_contains: &str, fault: Fault, times: Option<u32>) {
        self.faults.push(FaultRule {
            path_contains: path_contains.to_owned(),
            fault,
            times,
        });
    }

    fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let at = self
            .faults
            .iter()
            .position(|r| path.contains(&r.path_contains) && r.times != Some(0))?;
        let rule = &mut self.faults[at];
        if let Some(n) = rule.times.as_mut() {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }
}

fn github_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"message": message, "documentation_url": "https://docs.github.com/rest"});
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Middleware: count the request, add the configured latency, apply a fault.
pub async fn apply(
    State(store): State<Arc<RwLock<Store>>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().to_string();
    let (fault, latency, offset) = {
        let mut s = store.write().unwrap();
        s.requests += 1;
        (s.take_fault(&path), s.latency, s.clock_offset)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(fault) = fault else {
        let mut response = next.run(request).await;
        {
            let mut s = store.write().unwrap();
            if response.status() == StatusCode::NOT_MODIFIED {
                s.not_modified += 1;
            }
            // Content-Length is added later, by the server: the body knows its size.
            let bytes = axum::body::HttpBody::size_hint(response.body())
                .exact()
                .unwrap_or(0);
            s.served.push(crate::Served {
                method,
                path,
                status: response.status().as_u16(),
                bytes,
            });
        }
        // The forge's clock, as GitHub sends it (IMF-fixdate).
        let date = (chrono::Utc::now() + offset)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        if let Ok(v) = header::HeaderValue::from_str(&date) {
            response.headers_mut().insert(header::DATE, v);
        }
        return response;
    };
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            github_error(status, status.canonical_reason().unwrap_or("error"))
        }
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Fault::ResetConnection => {
            let chunks: Vec<Result<&'static [u8], std::io::Error>> = vec![
                Ok(b"{\"login\": \"bob"),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset",
                )),
            ];
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, "4096")
                .body(Body::from_stream(futures_stream(chunks)))
                .expect("response")
        }
        Fault::PrimaryRateLimit { reset_in } => {
            let mut r = github_error(StatusCode::FORBIDDEN, "API rate limit exceeded");
            let reset = chrono::Utc::now().timestamp() + reset_in as i64;
            let h = r.headers_mut();
            h.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
            h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
            h.insert(
                "x-ratelimit-reset",
                HeaderValue::from_str(&reset.to_string()).expect("digits"),
            );
            r
        }
        Fault::SecondaryRateLimit { retry_after } => {
            let mut r = github_error(
                StatusCode::TOO_MANY_REQUESTS,
                "You have exceeded a secondary rate limit",
            );
            r.headers_mut().insert(
                "retry-after",
                HeaderValue::from_str(&retry_after.to_string()).expect("digits"),
            );
            r
        }
        Fault::MalformedJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"login\": bob-qa,}",
        )
            .into_response(),
        Fault::TruncatedJson => {
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(cut.len()));
            parts.headers.remove(header::ETAG);
            Response::from_parts(parts, Body::from(cut))
        }
        Fault::WrongContentType => {
            let mut response = next.run(request).await;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response.headers_mut().remove(header::ETAG);
            response
        }
        Fault::LostResponse => {
            let _applied = next.run(request).await;
            github_error(StatusCode::BAD_GATEWAY, "Bad Gateway")
        }
        Fault::HugeBody { bytes } => {
            let mut body = vec![b' '; bytes];
            body[0] = b'[';
            body[bytes - 1] = b']';
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
    }
}

fn futures_stream(
    chunks: Vec<Result<&'static [u8], std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<&'static [u8], std::io::Error>> {
    tokio_stream::iter(chunks)
}
