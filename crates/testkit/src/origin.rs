//! An HTTP origin in the test process: it answers each request the way
//! the test's handler says (status, headers, body, delays, a body sent in
//! slow chunks) and records when each request arrived.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use tokio::sync::oneshot;

/// What the origin saw of one request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Path and query as received.
    pub target: String,
    /// The `Host` header.
    pub host: Option<String>,
    /// 0 for the first request the origin received, and so on.
    pub index: usize,
    /// Time since the origin started.
    pub since_start: Duration,
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Hit {
    /// When it arrived.
    pub at: Instant,
    /// Path and query.
    pub target: String,
    /// The `Host` header.
    pub host: Option<String>,
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    chunks: usize,
    chunk_delay: Duration,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
            chunks: 1,
            chunk_delay: Duration::ZERO,
        }
    }

    /// `code` with a short body naming it.
    pub fn status(code: u16) -> Reply {
        Reply {
            status: code,
            ..Reply::ok(format!("status {code}"))
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits `delay` before answering.
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Sends the body in `chunks` pieces, `delay` apart (without a
    /// `Content-Length`, as a streaming server would).
    pub fn in_chunks(mut self, chunks: usize, delay: Duration) -> Reply {
        self.chunks = chunks.max(1);
        self.chunk_delay = delay;
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running origin. Dropping it stops the server.
pub struct Origin {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Origin {
    /// Starts an origin on a free loopback port, answering with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Origin {
        let handler: Arc<Handler> = Arc::new(handler);
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the test origin");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("origin address");
        let (shutdown, stop) = oneshot::channel::<()>();
        let started = Instant::now();
        let recorded = Arc::clone(&hits);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("origin runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
                    let handler = Arc::clone(&handler);
                    let recorded = Arc::clone(&recorded);
                    async move { answer(&*handler, &recorded, started, uri, headers).await }
                });
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await;
            });
            // Slow responses still streaming are cut off rather than awaited.
            runtime.shutdown_timeout(Duration::from_millis(100));
        });
        Origin {
            addr,
            hits,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far, in arrival order.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Number of requests so far.
    pub fn count(&self) -> usize {
        self.hits.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Requests for exactly this target.
    pub fn count_of(&self, target: &str) -> usize {
        self.hits().iter().filter(|h| h.target == target).count()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn answer(
    handler: &Handler,
    recorded: &Mutex<Vec<Hit>>,
    started: Instant,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let request = {
        let mut hits = recorded.lock().unwrap_or_else(|e| e.into_inner());
        let index = hits.len();
        hits.push(Hit {
            at: Instant::now(),
            target: target.clone(),
            host: host.clone(),
        });
        Request {
            target,
            host,
            index,
            since_start: started.elapsed(),
        }
    };
    let reply = handler(&request);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let body = if reply.chunks <= 1 {
        Body::from(reply.body)
    } else {
        let size = reply.body.len().div_ceil(reply.chunks).max(1);
        let pieces: Vec<Vec<u8>> = reply.body.chunks(size).map(<[u8]>::to_vec).collect();
        let delay = reply.chunk_delay;
        let stream =
            futures_util::stream::unfold((pieces, 0usize), move |(pieces, i)| async move {
                if i >= pieces.len() {
                    return None;
                }
                if i > 0 {
                    tokio::time::sleep(delay).await;
                }
                let piece = pieces[i].clone();
                Some((Ok::<Vec<u8>, Infallible>(piece), (pieces, i + 1)))
            });
        Body::from_stream(stream)
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
