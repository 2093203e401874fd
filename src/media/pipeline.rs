//! The job API the runtime drives. The app says what the preview pane wants now — the selected
//! picture first, then its neighbours — with [`ImagePipeline::want`]; the runtime awaits
//! [`ImagePipeline::next_event`] in its `select!` and turns each [`ImageEvent`] into a message.
//!
//! Latest selection wins: a job for a picture that is no longer wanted is aborted (its download
//! dropped, its decode told to stop), and a result that was already on its way is never
//! delivered — each job carries an id, and only the id on record for a wanted picture counts.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use ratatui::layout::Size;
use ratatui_image::picker::Picker;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;

use super::MediaError;
use super::cache::{ByteLru, DEFAULT_BUDGET};
use super::contain::contained;
use super::decode::{DecodeLimits, decode_to_fit};
use super::download::Downloader;
use super::encode::{KittyPlacement, encode_with, estimated_bytes, pixel_box};
use super::graphics::protocol_name;
use super::picture::Picture;
use super::size::{choose, sized_url};

/// Identifies a picture for the app, e.g. `"{tweet_id}/{index}"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageKey(pub String);

impl fmt::Display for ImageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One picture the pane wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRequest {
    pub key: ImageKey,
    /// The picture's URL without a size parameter (`Media::url`); the pipeline picks the size.
    pub url: String,
    /// The size the provider reported, which lets the pipeline pick the smallest CDN size.
    pub original: Option<(u32, u32)>,
    /// The preview box in terminal cells.
    pub cells: Size,
    /// Ask the CDN for a size that fits (`?name=`); off for URLs that already name their size
    /// (profile pictures, badges).
    pub cdn_sized: bool,
}

impl ImageRequest {
    pub fn new(key: impl Into<String>, url: impl Into<String>, cells: Size) -> Self {
        Self {
            key: ImageKey(key.into()),
            url: url.into(),
            original: None,
            cells,
            cdn_sized: true,
        }
    }

    /// Fetch the URL exactly as given.
    pub fn as_is(mut self) -> Self {
        self.cdn_sized = false;
        self
    }

    pub fn with_original(mut self, width: Option<u32>, height: Option<u32>) -> Self {
        self.original = width.zip(height);
        self
    }
}

/// What the pipeline tells the app.
#[derive(Clone)]
pub enum ImageEvent {
    /// Draw `picture` (a widget) in a box of `cells`.
    Ready {
        key: ImageKey,
        cells: Size,
        picture: Picture,
        /// The size the file declared.
        original: (u32, u32),
        /// How long the work for this picture took, from starting its job to the encoded
        /// picture (the settle wait, queueing for a download or decode slot, the download,
        /// decode and encode; a download done earlier as a prefetch counts too). `None` when
        /// the encoded picture came from the cache. The picture layer sizes its prefetch by it.
        took: Option<Duration>,
    },
    /// Show `reason` in place of the picture.
    Failed { key: ImageKey, reason: String },
}

impl ImageEvent {
    pub fn key(&self) -> &ImageKey {
        match self {
            Self::Ready { key, .. } | Self::Failed { key, .. } => key,
        }
    }
}

impl fmt::Debug for ImageEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready {
                key,
                cells,
                original,
                picture,
                took,
            } => f
                .debug_struct("Ready")
                .field("key", key)
                .field("cells", cells)
                .field("original", original)
                .field("took", took)
                .field("picture", picture)
                .finish(),
            Self::Failed { key, reason } => f
                .debug_struct("Failed")
                .field("key", key)
                .field("reason", reason)
                .finish(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Cache budget in bytes, shared by downloaded files and encoded previews.
    pub cache_budget: usize,
    /// How many of the wanted pictures (from the front) are decoded and encoded ahead; the rest
    /// are only downloaded.
    pub encode_ahead: usize,
    /// Decodes running at once (CPU-bound, on the blocking pool).
    pub decode_concurrency: usize,
    pub limits: DecodeLimits,
    /// Ask the CDN for the smallest size that fills the pane (`?name=small|medium|large`).
    pub sized_urls: bool,
    /// Wait this long before starting a download. While the user holds a key down, each new
    /// selection cancels the last one inside this window, so nothing is fetched (and no
    /// keep-alive connection is torn down mid-response) for pictures flashing past.
    pub settle: Duration,
    /// How kitty pictures are placed (unicode placeholders unless the terminal lacks them).
    pub kitty: KittyPlacement,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            cache_budget: DEFAULT_BUDGET,
            encode_ahead: 8,
            decode_concurrency: std::thread::available_parallelism()
                .map(|n| n.get().clamp(1, 4))
                .unwrap_or(2),
            limits: DecodeLimits::default(),
            sized_urls: true,
            settle: Duration::from_millis(30),
            kitty: KittyPlacement::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CacheKey {
    Bytes(String),
    Preview {
        key: ImageKey,
        url: String,
        cells: (u16, u16),
        protocol: &'static str,
    },
}

#[derive(Clone)]
enum Cached {
    Bytes(Bytes),
    Preview(Picture, (u32, u32)),
}

type Cache = Arc<Mutex<ByteLru<CacheKey, Cached>>>;

fn lock(cache: &Cache) -> MutexGuard<'_, ByteLru<CacheKey, Cached>> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

enum Outcome {
    Encoded(Picture, (u32, u32)),
    Downloaded,
    Failed(MediaError),
}

struct Done {
    key: ImageKey,
    job: u64,
    outcome: Outcome,
    /// From spawning the job to its outcome.
    took: Duration,
}

enum State {
    Running {
        abort: AbortHandle,
        cancel: Arc<AtomicBool>,
        encode: Arc<AtomicBool>,
    },
    /// Bytes are cached; not encoded (beyond `encode_ahead`).
    Prefetched,
    Delivered,
    Failed {
        reason: String,
        delivered: bool,
    },
}

struct Entry {
    req: ImageRequest,
    url: String,
    encode: bool,
    job: u64,
    state: State,
    /// How long the prefetch job that downloaded this picture's bytes took.
    fetched_in: Option<Duration>,
}

impl Entry {
    fn stop(&self) {
        if let State::Running { abort, cancel, .. } = &self.state {
            cancel.store(true, Ordering::Relaxed);
            abort.abort();
        }
    }
}

/// See the module docs. Must be used inside a tokio runtime.
pub struct ImagePipeline {
    downloader: Downloader,
    picker: Picker,
    config: PipelineConfig,
    cache: Cache,
    decode_permits: Arc<Semaphore>,
    entries: HashMap<ImageKey, Entry>,
    ready: VecDeque<ImageEvent>,
    tx: mpsc::UnboundedSender<Done>,
    rx: mpsc::UnboundedReceiver<Done>,
    next_job: Arc<AtomicU64>,
}

impl ImagePipeline {
    pub fn new(downloader: Downloader, picker: Picker, config: PipelineConfig) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            downloader,
            picker,
            cache: Arc::new(Mutex::new(ByteLru::new(config.cache_budget))),
            decode_permits: Arc::new(Semaphore::new(config.decode_concurrency.max(1))),
            config,
            entries: HashMap::new(),
            ready: VecDeque::new(),
            tx,
            rx,
            next_job: Arc::new(AtomicU64::new(1)),
        }
    }

    pub fn picker(&self) -> &Picker {
        &self.picker
    }

    /// Switches protocol or cell size: all work is dropped; call [`ImagePipeline::want`] again.
    pub fn set_picker(&mut self, picker: Picker) {
        for e in self.entries.values() {
            e.stop();
        }
        self.entries.clear();
        self.ready.clear();
        self.picker = picker;
    }

    /// The pixel box a pane of `cells` gets under the current protocol.
    pub fn pixel_box(&self, cells: Size) -> (u32, u32) {
        pixel_box(&self.picker, cells)
    }

    /// Bytes held by the cache.
    pub fn cache_bytes(&self) -> usize {
        lock(&self.cache).len_bytes()
    }

    /// Jobs still running.
    pub fn in_flight(&self) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e.state, State::Running { .. }))
            .count()
    }

    /// The URL (with its size parameter) the pipeline fetches for `req`.
    pub fn fetch_url(&self, req: &ImageRequest) -> String {
        if !self.config.sized_urls || !req.cdn_sized {
            return req.url.clone();
        }
        let size = choose(pixel_box(&self.picker, req.cells), req.original);
        sized_url(&req.url, size)
    }

    /// Declares what the pane wants now, most important first: the selected picture, then the
    /// next and previous few. The first `encode_ahead` are decoded and encoded, the rest only
    /// downloaded. Anything wanted before but not now is cancelled. Safe to call on every
    /// selection change or resize; pictures already delivered for the same box are not resent.
    /// Forgets pictures that failed, so the next [`Self::want`] fetches them again (the user
    /// asked to retry). Returns how many.
    pub fn retry_failed(&mut self) -> usize {
        let before = self.entries.len();
        self.entries
            .retain(|_, e| !matches!(e.state, State::Failed { .. }));
        before - self.entries.len()
    }

    pub fn want(&mut self, wanted: Vec<ImageRequest>) {
        let keys: HashSet<&ImageKey> = wanted.iter().map(|r| &r.key).collect();
        self.entries.retain(|k, e| {
            let keep = keys.contains(k);
            if !keep {
                e.stop();
            }
            keep
        });
        let mut seen = HashSet::new();
        for (rank, req) in wanted.into_iter().enumerate() {
            if !seen.insert(req.key.clone()) {
                continue;
            }
            let encode = rank < self.config.encode_ahead;
            let url = self.fetch_url(&req);
            if let Some(e) = self.entries.get_mut(&req.key) {
                if e.url == url && e.req.cells == req.cells {
                    if encode && !e.encode {
                        e.encode = true;
                        match &mut e.state {
                            State::Running { encode, .. } => encode.store(true, Ordering::Relaxed),
                            State::Prefetched => {
                                let key = req.key.clone();
                                self.start(key);
                            }
                            State::Failed { reason, delivered } if !*delivered => {
                                *delivered = true;
                                self.ready.push_back(ImageEvent::Failed {
                                    key: req.key.clone(),
                                    reason: reason.clone(),
                                });
                            }
                            _ => {}
                        }
                    }
                    continue;
                }
                e.stop();
            }
            let key = req.key.clone();
            self.entries.insert(
                key.clone(),
                Entry {
                    req,
                    url,
                    encode,
                    job: 0,
                    state: State::Prefetched,
                    fetched_in: None,
                },
            );
            self.start(key);
        }
        // Queued answers for pictures no longer wanted (or wanted at another size) go.
        let entries = &self.entries;
        self.ready.retain(|ev| match ev {
            ImageEvent::Ready { key, cells, .. } => {
                entries.get(key).is_some_and(|e| e.req.cells == *cells)
            }
            ImageEvent::Failed { key, .. } => entries.contains_key(key),
        });
    }

    /// Answers from the cache when it can, otherwise spawns the job.
    fn start(&mut self, key: ImageKey) {
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        let preview_key = CacheKey::Preview {
            key: key.clone(),
            url: e.url.clone(),
            cells: (e.req.cells.width, e.req.cells.height),
            protocol: protocol_name(self.picker.protocol_type()),
        };
        {
            let mut cache = lock(&self.cache);
            if e.encode
                && let Some(Cached::Preview(picture, original)) = cache.get(&preview_key)
            {
                self.ready.push_back(ImageEvent::Ready {
                    key,
                    cells: e.req.cells,
                    picture: picture.clone(),
                    original: *original,
                    took: None,
                });
                e.state = State::Delivered;
                return;
            }
            if !e.encode && cache.get(&CacheKey::Bytes(e.url.clone())).is_some() {
                e.state = State::Prefetched;
                return;
            }
        }
        let job = self.next_job.fetch_add(1, Ordering::Relaxed);
        let cancel = Arc::new(AtomicBool::new(false));
        let encode_flag = Arc::new(AtomicBool::new(e.encode));
        let ctx = Job {
            key: key.clone(),
            job,
            url: e.url.clone(),
            cells: e.req.cells,
            preview_key,
            downloader: self.downloader.clone(),
            picker: self.picker.clone(),
            kitty: self.config.kitty,
            limits: self.config.limits.clone(),
            settle: self.config.settle,
            cache: self.cache.clone(),
            decode_permits: self.decode_permits.clone(),
            cancel: cancel.clone(),
            encode: encode_flag.clone(),
        };
        let tx = self.tx.clone();
        let handle = tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            let outcome = ctx.run().await;
            let _ = tx.send(Done {
                key: ctx.key,
                job: ctx.job,
                outcome,
                took: started.elapsed(),
            });
        });
        e.job = job;
        e.state = State::Running {
            abort: handle.abort_handle(),
            cancel,
            encode: encode_flag,
        };
    }

    /// The next answer for a picture that is still wanted. Pends forever when nothing is under
    /// way, so it fits a `select!` arm; cancel-safe.
    pub async fn next_event(&mut self) -> ImageEvent {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return ev;
            }
            // `self.tx` keeps the channel open, so `None` never comes; pend like an idle arm.
            let Some(done) = self.rx.recv().await else {
                std::future::pending::<()>().await;
                continue;
            };
            if let Some(ev) = self.settle(done) {
                return ev;
            }
        }
    }

    /// Like [`ImagePipeline::next_event`] without waiting: for draining after a wake.
    pub fn try_next_event(&mut self) -> Option<ImageEvent> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Some(ev);
            }
            let done = self.rx.try_recv().ok()?;
            if let Some(ev) = self.settle(done) {
                return Some(ev);
            }
        }
    }

    /// Records a finished job; returns what to deliver, if it is still wanted.
    fn settle(&mut self, done: Done) -> Option<ImageEvent> {
        let e = self.entries.get_mut(&done.key)?;
        if e.job != done.job || !matches!(e.state, State::Running { .. }) {
            return None; // superseded: never delivered
        }
        match done.outcome {
            Outcome::Encoded(picture, original) => {
                e.state = State::Delivered;
                let took = done.took + e.fetched_in.take().unwrap_or_default();
                Some(ImageEvent::Ready {
                    key: done.key,
                    cells: e.req.cells,
                    picture,
                    original,
                    took: Some(took),
                })
            }
            Outcome::Downloaded => {
                e.state = State::Prefetched;
                e.fetched_in = Some(done.took);
                if e.encode {
                    // Promoted while the download finished: the bytes are cached now.
                    self.start(done.key);
                }
                None
            }
            Outcome::Failed(MediaError::Cancelled) => {
                e.state = State::Prefetched;
                None
            }
            Outcome::Failed(err) => {
                let reason = err.to_string();
                e.state = State::Failed {
                    reason: reason.clone(),
                    delivered: e.encode,
                };
                e.encode.then_some(ImageEvent::Failed {
                    key: done.key,
                    reason,
                })
            }
        }
    }
}

impl Drop for ImagePipeline {
    fn drop(&mut self) {
        for e in self.entries.values() {
            e.stop();
        }
    }
}

struct Job {
    key: ImageKey,
    job: u64,
    url: String,
    cells: Size,
    preview_key: CacheKey,
    downloader: Downloader,
    picker: Picker,
    kitty: KittyPlacement,
    limits: DecodeLimits,
    settle: Duration,
    cache: Cache,
    decode_permits: Arc<Semaphore>,
    cancel: Arc<AtomicBool>,
    encode: Arc<AtomicBool>,
}

impl Job {
    async fn run(&self) -> Outcome {
        match self.try_run().await {
            Ok(o) => o,
            Err(e) => Outcome::Failed(e),
        }
    }

    async fn try_run(&self) -> Result<Outcome, MediaError> {
        let bytes_key = CacheKey::Bytes(self.url.clone());
        let cached = match lock(&self.cache).get(&bytes_key) {
            Some(Cached::Bytes(b)) => Some(b.clone()),
            _ => None,
        };
        let bytes = match cached {
            Some(b) => b,
            None => {
                if !self.settle.is_zero() {
                    tokio::time::sleep(self.settle).await;
                }
                let b = self.downloader.fetch(&self.url).await?;
                lock(&self.cache).insert(bytes_key, Cached::Bytes(b.clone()), b.len());
                b
            }
        };
        if !self.encode.load(Ordering::Relaxed) {
            return Ok(Outcome::Downloaded);
        }
        let permit = self
            .decode_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| MediaError::Cancelled)?;
        let picker = self.picker.clone();
        let limits = self.limits.clone();
        let cancel = self.cancel.clone();
        let cells = self.cells;
        let kitty = self.kitty;
        let (picture, original, pixels) = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // A decoder/encoder bug on this picture fails this picture only.
            contained(|| {
                test_panic_in_decoder();
                let stop = || cancel.load(Ordering::Relaxed);
                let target = pixel_box(&picker, cells);
                let fitted = decode_to_fit(&bytes, target, &limits, &stop)?;
                if stop() {
                    return Err(MediaError::Cancelled);
                }
                let pixels = (fitted.image.width(), fitted.image.height());
                let picture = encode_with(&picker, kitty, fitted.image, cells)?;
                Ok((picture, fitted.original, pixels))
            })
        })
        .await
        .map_err(|e| MediaError::Encode(format!("decoder task failed: {e}")))??;
        let held = match &picture {
            Picture::Kitty(kitty) => kitty.held_bytes(),
            Picture::Protocol(_) => {
                estimated_bytes(self.picker.protocol_type(), pixels, self.cells)
            }
        };
        lock(&self.cache).insert(
            self.preview_key.clone(),
            Cached::Preview(picture.clone(), original),
            held,
        );
        Ok(Outcome::Encoded(picture, original))
    }
}

/// Test-only: `XMEDIA_TEST_PANIC=decoder` makes every picture's decode panic, the way a decoder
/// bug on a hostile file would, for the end-to-end test that the app survives it.
fn test_panic_in_decoder() {
    if std::env::var_os("XMEDIA_TEST_PANIC").is_some_and(|v| v == "decoder") {
        panic!("XMEDIA_TEST_PANIC=decoder: forced panic in the picture decoder");
    }
}
