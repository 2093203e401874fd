//! The bundled demo: a fictional account served on 127.0.0.1 in all three providers' wire formats.
//!
//! The JSON pages and pictures under `assets/demo/` are written by `examples/gen_demo.rs` from
//! [`account::account`] and embedded in the binary, so `xmedia` needs no files to run the demo.
//! Every URL in the payloads uses [`account::PLACEHOLDER_ORIGIN`]; the server swaps in its own
//! origin when answering. Routes:
//!
//! * KeyAPI `GET /v1/twitter/usermedia?screenname=&cursor=`
//! * agntdata `POST /user/medias` and `POST /user/medias/continuation`
//! * X API v2 `GET /2/users/by/username/{handle}` and `GET /2/users/{id}/tweets?pagination_token=`
//! * pictures under `/media/`, `/ext_tw_video_thumb/`, `/tweet_video_thumb/`, `/profile_images/`,
//!   `/profile_banners/`, honouring pbs-style `?name=small|medium|large|orig|thumb` (and
//!   `?format=jpg&name=…`).
//!
//! [`DemoOptions::faults`] makes the server slow, flaky or hostile on demand (429 sequences,
//! stalls, drip-fed or broken bodies, escape payloads, bad pictures): see [`faults`].

pub mod account;
pub mod faults;
pub mod images;
pub mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use include_dir::{Dir, include_dir};
use serde_json::{Value, json};

pub use account::{DEMO_HANDLE, DEMO_USER_ID, PLACEHOLDER_ORIGIN};
pub use faults::Faults;

use crate::domain::ProviderKind;
use crate::provider::ProviderConfig;
use crate::secret::Secret;

/// The key [`DemoServer::provider_config`] hands out; the server accepts any non-empty token.
pub const DEMO_KEY: &str = "xmedia-demo-key";

/// The generated files, embedded at build time.
pub static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/demo");

/// `include_dir!` does not tell cargo to rebuild when the files change; `include_bytes!` does. The
/// manifest changes whenever the data does, `pictures.txt` (checksums) whenever a picture does.
const _TRACK_MANIFEST: &[u8] = include_bytes!("../assets/demo/manifest.json");
const _TRACK_PICTURES: &[u8] = include_bytes!("../assets/demo/pictures.txt");

/// FNV-1a, 64 bit: the checksum `pictures.txt` lists for each generated picture.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// 0 picks a free port.
    pub port: u16,
    /// Added before every API and picture answer (on top of `faults.latency`).
    pub latency: Duration,
    /// Faults to inject; none by default.
    pub faults: Faults,
    /// Make the picture sizes the app asks for in the background from the start, as a CDN has
    /// them ready (`demo::images`). Off by default: tests start many servers and most never
    /// ask for a picture.
    pub prepare_pictures: bool,
}

/// A running demo server; it stops when dropped.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// The end of the background pass of `prepare_pictures`.
    preparing: Option<tokio::sync::oneshot::Receiver<usize>>,
}

impl DemoServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A provider configuration pointing at this server (all three APIs share the origin; the
    /// routes carry the API paths) with a dummy key, `page_size` 20.
    pub fn provider_config(&self, kind: ProviderKind) -> std::io::Result<ProviderConfig> {
        let base_url = url::Url::parse(&self.base_url()).map_err(|e| invalid(e.to_string()))?;
        let key = Secret::new(DEMO_KEY).ok_or_else(|| invalid("demo key rejected"))?;
        Ok(ProviderConfig {
            kind,
            base_url,
            key,
            page_size: 20,
            include_retweets: false,
        })
    }

    /// Requests answered so far (API, pictures and errors alike).
    pub fn requests_served(&self) -> u64 {
        self.state.served.load(Ordering::Relaxed)
    }

    /// The faults this server injects.
    pub fn faults(&self) -> &Faults {
        self.state.faults.faults()
    }

    /// Picture answers made in the background or on request so far; each size of each picture
    /// is made at most once.
    pub fn pictures_made(&self) -> usize {
        self.state.images.made()
    }

    /// How many picture sizes `prepare_pictures` makes, and how many of them are ready.
    pub fn pictures_prepared(&self) -> (usize, usize) {
        (self.state.images.prepared(), self.state.images.to_prepare())
    }

    /// Stops preparing pictures after the one being made and waits for that; returns how many
    /// the pass made ready (0 without `prepare_pictures`).
    pub async fn stop_preparing(&mut self) -> usize {
        self.state.images.stop();
        match self.preparing.take() {
            Some(h) => h.await.unwrap_or(0),
            None => 0,
        }
    }

    /// Timeline page requests received so far, including failed and stalled ones.
    pub fn page_requests(&self) -> usize {
        self.state.faults.page_requests()
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.state.images.stop();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// Which files answer a provider's pages.
#[derive(Debug, Default)]
struct Pages {
    first: String,
    by_cursor: HashMap<String, String>,
    /// File → page number, from 1.
    number: HashMap<String, u32>,
}

#[derive(Debug)]
struct ServerState {
    latency: Duration,
    faults: faults::FaultState,
    served: AtomicU64,
    /// JSON files with the placeholder origin already replaced.
    json: HashMap<String, Bytes>,
    keyapi: Pages,
    agntdata: Pages,
    xapi: Pages,
    xapi_user: String,
    images: images::ImageStore,
}

fn invalid(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn read_pages(manifest: &Value, provider: &str) -> std::io::Result<Pages> {
    let list = manifest["providers"][provider]["pages"]
        .as_array()
        .ok_or_else(|| invalid(format!("manifest: no pages for {provider}")))?;
    let mut pages = Pages::default();
    for (i, p) in list.iter().enumerate() {
        let file = p["file"]
            .as_str()
            .ok_or_else(|| invalid("manifest: page without file"))?
            .to_string();
        pages
            .number
            .insert(file.clone(), u32::try_from(i + 1).unwrap_or(u32::MAX));
        match p["cursor"].as_str() {
            Some(c) => {
                pages.by_cursor.insert(c.to_string(), file);
            }
            None => pages.first = file,
        }
    }
    if pages.first.is_empty() {
        return Err(invalid(format!("manifest: no first page for {provider}")));
    }
    Ok(pages)
}

/// Lowers the calling thread's CPU priority to the least (nice 19) where a thread can have its
/// own (Linux); elsewhere it runs at normal priority.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority only read their integer arguments; on Linux a thread id
    // with PRIO_PROCESS changes that one thread.
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
    }
}

/// Starts the demo server on 127.0.0.1.
pub async fn start(options: DemoOptions) -> std::io::Result<DemoServer> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");

    let manifest_file = ASSETS
        .get_file("manifest.json")
        .ok_or_else(|| invalid("demo assets have no manifest.json"))?;
    let manifest: Value = serde_json::from_slice(manifest_file.contents())
        .map_err(|e| invalid(format!("manifest.json: {e}")))?;

    let mut json_files = HashMap::new();
    collect_json(&ASSETS, &base, &mut json_files);

    let state = Arc::new(ServerState {
        latency: options.latency + options.faults.latency,
        faults: faults::FaultState::new(options.faults),
        served: AtomicU64::new(0),
        keyapi: read_pages(&manifest, "keyapi")?,
        agntdata: read_pages(&manifest, "agntdata")?,
        xapi: read_pages(&manifest, "xapi")?,
        xapi_user: manifest["providers"]["xapi"]["user"]
            .as_str()
            .unwrap_or("xapi/user.json")
            .to_string(),
        json: json_files,
        images: images::ImageStore::new(&ASSETS),
    });

    let app = Router::new()
        .route("/v1/twitter/usermedia", get(keyapi_usermedia))
        .route("/user/medias", post(agnt_medias))
        .route("/user/medias/continuation", post(agnt_continuation))
        .route("/2/users/by/username/{handle}", get(xapi_user_by_name))
        .route("/2/users/{id}/tweets", get(xapi_tweets))
        .fallback(get(serve_picture))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_and_delay,
        ))
        .with_state(state.clone());

    let preparing = if options.prepare_pictures {
        let st = state.clone();
        let (done, finished) = tokio::sync::oneshot::channel();
        // Its own thread at the lowest CPU priority: the pass only uses CPU nothing else wants,
        // so it holds up neither the pages, nor the pictures asked for, nor the app's decoding
        // in the same process or beside it.
        std::thread::Builder::new()
            .name("demo-prepare".into())
            .spawn(move || {
                lowest_priority();
                let started = std::time::Instant::now();
                let n = st.images.prepare_all();
                let ms = started.elapsed().as_millis();
                tracing::info!(n, ms, "demo picture sizes prepared");
                let _ = done.send(n);
            })?;
        Some(finished)
    } else {
        None
    };

    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(DemoServer {
        addr,
        state,
        shutdown: Some(tx),
        task,
        preparing,
    })
}

fn collect_json(dir: &Dir<'static>, base: &str, out: &mut HashMap<String, Bytes>) {
    for f in dir.files() {
        let path = f.path().to_string_lossy().replace('\\', "/");
        if path.ends_with(".json") {
            let text = String::from_utf8_lossy(f.contents()).replace(PLACEHOLDER_ORIGIN, base);
            out.insert(path, Bytes::from(text));
        }
    }
    for d in dir.dirs() {
        collect_json(d, base, out);
    }
}

async fn count_and_delay(
    State(state): State<Arc<ServerState>>,
    req: Request,
    next: Next,
) -> Response {
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let resp = next.run(req).await;
    state.served.fetch_add(1, Ordering::Relaxed);
    resp
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            Some(scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        })
        .unwrap_or(false)
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

fn json_value(status: StatusCode, v: Value) -> Response {
    json_response(status, Bytes::from(v.to_string()))
}

fn missing(file: &str) -> Response {
    json_value(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"error": format!("demo file {file} missing")}),
    )
}

/// A JSON file that is not a timeline page (the X user lookup).
fn file_response(state: &ServerState, file: &str) -> Response {
    match state.json.get(file) {
        Some(b) => state.faults.json(StatusCode::OK, b.clone()),
        None => missing(file),
    }
}

/// A timeline page, through the fault injector.
async fn page_response(
    state: &ServerState,
    kind: ProviderKind,
    cursor: Option<&str>,
    file: &str,
) -> Response {
    let pages = match kind {
        ProviderKind::Keyapi => &state.keyapi,
        ProviderKind::Agntdata => &state.agntdata,
        ProviderKind::Xapi => &state.xapi,
    };
    let (Some(body), Some(page)) = (state.json.get(file), pages.number.get(file)) else {
        return missing(file);
    };
    let req = faults::PageRequest {
        kind,
        page: *page,
        cursor,
    };
    state.faults.page(req, body.clone()).await
}

// ---------------------------------------------------------------- KeyAPI

fn keyapi_error(status: StatusCode, message: &str) -> Response {
    json_value(
        status,
        json!({"code": status.as_u16(), "data": null, "message": message}),
    )
}

async fn keyapi_usermedia(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&headers) {
        return keyapi_error(StatusCode::UNAUTHORIZED, "apiKey is null");
    }
    let screenname = q
        .get("screenname")
        .map(|s| s.trim().trim_start_matches('@'));
    let Some(screenname) = screenname.filter(|s| !s.is_empty()) else {
        return keyapi_error(StatusCode::BAD_REQUEST, "Missing required parameter");
    };
    let rest_id_ok = q
        .get("rest_id")
        .map(|r| r.is_empty() || r == DEMO_USER_ID)
        .unwrap_or(true);
    if !screenname.eq_ignore_ascii_case(DEMO_HANDLE) || !rest_id_ok {
        return keyapi_error(StatusCode::BAD_REQUEST, "User not found");
    }
    match q.get("cursor").filter(|c| !c.is_empty()) {
        None => page_response(&state, ProviderKind::Keyapi, None, &state.keyapi.first).await,
        Some(c) => match state.keyapi.by_cursor.get(c) {
            Some(f) => page_response(&state, ProviderKind::Keyapi, Some(c), f).await,
            None => keyapi_error(StatusCode::BAD_REQUEST, "Invalid cursor"),
        },
    }
}

// ---------------------------------------------------------------- agntdata

fn agnt_validation(loc: &str, msg: &str, kind: &str) -> Response {
    json_value(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"detail": [{"loc": ["body", loc], "msg": msg, "type": kind}]}),
    )
}

/// Validates auth, body and user; the parsed body or the error response.
#[allow(clippy::result_large_err)]
fn agnt_check(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    if !bearer_ok(headers) {
        return Err(json_value(
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Not authenticated"}),
        ));
    }
    let v: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return Err(agnt_validation(
                "__root__",
                "value is not a valid dict",
                "type_error.dict",
            ));
        }
        Err(_) => {
            return Err(json_value(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"detail": [{"loc": ["body", 0], "msg": "Expecting value", "type": "value_error.jsondecode"}]}),
            ));
        }
    };
    let user_id = match &v["user_id"] {
        Value::Null => {
            return Err(agnt_validation(
                "user_id",
                "field required",
                "value_error.missing",
            ));
        }
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() => s.clone(),
        _ => {
            return Err(agnt_validation(
                "user_id",
                "value is not a valid integer",
                "type_error.integer",
            ));
        }
    };
    if user_id != DEMO_USER_ID {
        return Err(json_value(
            StatusCode::NOT_FOUND,
            json!({"detail": "User not found"}),
        ));
    }
    Ok(v)
}

async fn agnt_medias(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match agnt_check(&headers, &body) {
        Ok(_) => page_response(&state, ProviderKind::Agntdata, None, &state.agntdata.first).await,
        Err(r) => r,
    }
}

async fn agnt_continuation(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match agnt_check(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(token) = v["continuation_token"].as_str().filter(|t| !t.is_empty()) else {
        return agnt_validation(
            "continuation_token",
            "field required",
            "value_error.missing",
        );
    };
    match state.agntdata.by_cursor.get(token) {
        Some(f) => page_response(&state, ProviderKind::Agntdata, Some(token), f).await,
        None => json_value(
            StatusCode::BAD_REQUEST,
            json!({"detail": "Invalid continuation_token"}),
        ),
    }
}

// ---------------------------------------------------------------- X API v2

fn xapi_unauthorized() -> Response {
    json_value(
        StatusCode::UNAUTHORIZED,
        json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
    )
}

/// X answers an unknown user with HTTP 200 and only an `errors` array (no `data`).
fn xapi_not_found(parameter: &str, value: &str) -> Response {
    json_value(
        StatusCode::OK,
        json!({"errors": [{
            "value": value,
            "detail": format!("Could not find user with {parameter}: [{value}]."),
            "title": "Not Found Error",
            "resource_type": "user",
            "parameter": parameter,
            "resource_id": value,
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }]}),
    )
}

async fn xapi_user_by_name(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Response {
    if !bearer_ok(&headers) {
        return xapi_unauthorized();
    }
    let valid = !handle.is_empty()
        && handle.len() <= 15
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return json_value(
            StatusCode::BAD_REQUEST,
            json!({
                "errors": [{
                    "parameters": {"username": [handle]},
                    "message": format!("The `username` query parameter value [{handle}] does not match ^[A-Za-z0-9_]{{1,15}}$"),
                }],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            }),
        );
    }
    if handle.eq_ignore_ascii_case(DEMO_HANDLE) {
        file_response(&state, &state.xapi_user)
    } else {
        xapi_not_found("username", &handle)
    }
}

async fn xapi_tweets(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&headers) {
        return xapi_unauthorized();
    }
    if id != DEMO_USER_ID {
        return xapi_not_found("id", &id);
    }
    match q.get("pagination_token").filter(|t| !t.is_empty()) {
        None => page_response(&state, ProviderKind::Xapi, None, &state.xapi.first).await,
        Some(t) => match state.xapi.by_cursor.get(t) {
            Some(f) => page_response(&state, ProviderKind::Xapi, Some(t), f).await,
            None => json_value(
                StatusCode::BAD_REQUEST,
                json!({
                    "errors": [{
                        "parameters": {"pagination_token": [t]},
                        "message": format!("The `pagination_token` query parameter value [{t}] is not valid"),
                    }],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                }),
            ),
        },
    }
}

// ---------------------------------------------------------------- pictures

fn text_response(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn serve_picture(
    State(state): State<Arc<ServerState>>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let path = req.uri().path().trim_start_matches('/').to_string();
    if path.ends_with(".mp4")
        || path.ends_with(".m3u8")
        || path.starts_with("ext_tw_video/")
        || path.starts_with("tweet_video/")
    {
        return text_response(
            StatusCode::NOT_FOUND,
            "The xmedia demo ships no video files: the variants in the demo data are placeholders. \
             The poster frame is served at the media's preview URL.\n"
                .to_string(),
        );
    }
    let image_latency = state.faults.image_latency();
    if !image_latency.is_zero() {
        tokio::time::sleep(image_latency).await;
    }
    let st = state.clone();
    let answer_path = path.clone();
    let result = tokio::task::spawn_blocking(move || {
        st.images.answer(
            &answer_path,
            q.get("name").map(String::as_str),
            q.get("format").map(String::as_str),
        )
    })
    .await;
    match result {
        Ok(Ok(pic)) => state.faults.picture(&path, pic.content_type, pic.bytes),
        Ok(Err(images::PictureError::NotFound)) => {
            text_response(StatusCode::NOT_FOUND, "Not found\n".to_string())
        }
        Ok(Err(images::PictureError::BadRequest(m))) => {
            text_response(StatusCode::BAD_REQUEST, format!("{m}\n"))
        }
        Ok(Err(images::PictureError::Internal(m))) => {
            text_response(StatusCode::INTERNAL_SERVER_ERROR, format!("{m}\n"))
        }
        Err(e) => text_response(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}
