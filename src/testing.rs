//! A scripted HTTP server on 127.0.0.1 for tests: it answers each request with the next canned
//! response queued for that path and records what it received, so tests can assert both what the
//! client did with the answer and exactly what it sent (headers, query, body).
//!
//! Public (not `cfg(test)`) so integration tests, benches and the fuzz harness share it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (timeouts, latency).
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// What the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Raw query string, without `?`.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn json_body(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[derive(Default)]
struct Shared {
    queues: HashMap<String, VecDeque<Reply>>,
    log: Vec<Recorded>,
}

/// The running server. Dropping it stops it.
pub struct ScriptedServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    /// Starts on a random free port. Must be called inside a tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues `reply` for the next request to `path` (path only, no query). Requests to a path
    /// with nothing queued get a 599 with a body naming the path, which no client treats as data.
    pub fn push(&self, path: &str, reply: Reply) -> &Self {
        self.lock()
            .queues
            .entry(path.to_string())
            .or_default()
            .push_back(reply);
        self
    }

    /// Everything received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().log.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A panicking test thread must not hide the log from the others.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let reply = {
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        s.log.push(Recorded {
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_string),
            headers: parts.headers.clone(),
            body: body.to_vec(),
        });
        s.queues.get_mut(&path).and_then(VecDeque::pop_front)
    };
    let reply = reply.unwrap_or_else(|| Reply::text(599, format!("nothing scripted for {path}")));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::IM_A_TEAPOT);
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

/// What a [`RawServer`] does with every connection, below HTTP: for faults a well-behaved server
/// cannot produce (silence, a trickle, a lying `Content-Length`, a reset mid-body).
#[derive(Debug, Clone)]
pub enum RawReply {
    /// Reads the request, then sends nothing and keeps the connection open.
    Silent,
    /// Writes these bytes (status line, headers and body, verbatim), then closes.
    Bytes(Vec<u8>),
    /// Writes `head`, then `body` one byte at a time, one every `every`, then closes.
    Drip {
        head: Vec<u8>,
        body: Vec<u8>,
        every: Duration,
    },
    /// Writes these bytes, then resets the connection (TCP RST) instead of closing it.
    Reset(Vec<u8>),
    /// Writes `head`, then `chunk` over and over until the client hangs up; counts what was sent.
    Endless { head: Vec<u8>, chunk: Vec<u8> },
    /// Waits `delay`, then writes these bytes and closes (slow but well-formed answers).
    After { delay: Duration, bytes: Vec<u8> },
}

impl RawReply {
    /// `HTTP/1.1 {status}` with the given headers and body, with no `Content-Length` added: put
    /// one (true or false) in `headers` when the test needs it.
    pub fn http(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {status} X\r\n").into_bytes();
        for (k, v) in headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"connection: close\r\n\r\n");
        out.extend_from_slice(body);
        out
    }
}

/// A TCP server on 127.0.0.1 that answers every connection with one [`RawReply`] and records the
/// request heads it read. Dropping it stops it (open connections are closed).
pub struct RawServer {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    sent: Arc<std::sync::atomic::AtomicUsize>,
    open: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    /// Starts on a random free port. Must be called inside a tokio runtime.
    pub async fn start(reply: RawReply) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let heads = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (h, s, o) = (heads.clone(), sent.clone(), open.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((sock, _)) = listener.accept().await {
                o.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (reply, h, s, o) = (reply.clone(), h.clone(), s.clone(), o.clone());
                conns.spawn(async move {
                    raw_connection(sock, reply, h, s).await;
                    o.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
        });
        Ok(Self {
            addr,
            heads,
            sent,
            open,
            task,
        })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request heads (request line and headers) received so far, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Connections accepted and not yet finished (the server closes its side when its reply is
    /// done; [`RawReply::Silent`] and [`RawReply::Endless`] wait for the client to hang up).
    pub fn open_connections(&self) -> usize {
        self.open.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Body bytes written so far by [`RawReply::Drip`] and [`RawReply::Endless`].
    pub fn body_bytes_sent(&self) -> usize {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn raw_connection(
    mut sock: tokio::net::TcpStream,
    reply: RawReply,
    heads: Arc<Mutex<Vec<String>>>,
    sent: Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Read up to the end of the head (requests here carry no body worth reading).
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    heads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(String::from_utf8_lossy(&head).into_owned());
    match reply {
        RawReply::Silent => {
            // Hold the connection open until the client gives up.
            while let Ok(n) = sock.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
        RawReply::Bytes(bytes) => {
            let _ = sock.write_all(&bytes).await;
            let _ = sock.shutdown().await;
        }
        RawReply::Drip { head, body, every } => {
            if sock.write_all(&head).await.is_err() {
                return;
            }
            for b in body {
                tokio::time::sleep(every).await;
                if sock.write_all(&[b]).await.is_err() {
                    return;
                }
                sent.fetch_add(1, Relaxed);
            }
            let _ = sock.shutdown().await;
        }
        RawReply::Reset(bytes) => {
            let _ = sock.write_all(&bytes).await;
            let _ = sock.flush().await;
            // Let the bytes leave before the RST overtakes them.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = sock.set_zero_linger();
            drop(sock);
        }
        RawReply::After { delay, bytes } => {
            tokio::time::sleep(delay).await;
            let _ = sock.write_all(&bytes).await;
            let _ = sock.shutdown().await;
        }
        RawReply::Endless { head, chunk } => {
            if sock.write_all(&head).await.is_err() {
                return;
            }
            while sock.write_all(&chunk).await.is_ok() {
                sent.fetch_add(chunk.len(), Relaxed);
            }
        }
    }
}
