//! The REST and WebSocket API (axum), a thin layer over [`EngineHandle`].
//!
//! Every mutating request is one signed [`Command`] in its canonical borsh encoding — the bytes
//! the state transition and the zkVM guests decode — sent either as the raw body
//! (`Content-Type: application/octet-stream`) or as JSON `{"command": "0x<hex>"}`. The server
//! checks, in order: size (at most [`MAX_BODY_BYTES`], else 413), decoding (the whole body must
//! be one command, else 400), that the route matches the action (a cancel sent to `/v1/orders`
//! is 400), the signature (401), the per-account rate limit (429), the queue (503). The engine
//! then refuses unknown accounts (403) and wrong nonces (409) without journaling, or journals
//! and applies the command: 200 when applied, 422 with the reason when the transition
//! rejected it (a journaled rejection changes nothing and consumes no nonce).
//!
//! Reads are public: every command is published to L1 in the batch data anyway.
//! The API is described in `docs/openapi.yaml`.

use std::collections::HashMap;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zkclob_core::{AssetId, MarketId};
use zkclob_state::command::MAX_COMMAND_BYTES;
use zkclob_state::{Action, Address, Command, Crypto, Receipt, RejectCode, SignedCommand};

use crate::crypto::{verify_command, verify_signed_counted, FastCrypto};
use crate::engine::{Answering, EngineHandle, Outcome, SubmitError, Update};
use crate::index::{valid_client_id, Index};

/// Largest request body accepted, bytes (a JSON-wrapped hex command is about twice its size).
pub const MAX_BODY_BYTES: usize = 2 * MAX_COMMAND_BYTES + 64;
/// Largest WebSocket message accepted, bytes.
pub const MAX_WS_MESSAGE_BYTES: usize = 2 * MAX_COMMAND_BYTES + 256;

/// Settings of the API that may change while it runs (hot reload).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Commands per second per account (token bucket refill).
    pub rate_per_sec: f64,
    /// Bucket size: commands an account may send at once.
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { rate_per_sec: 2_000.0, burst: 4_000.0 }
    }
}

/// Names of markets and assets for humans (not part of the state).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Names {
    /// Market id → symbol.
    pub markets: Vec<(u32, String)>,
    /// Asset id → symbol.
    pub assets: Vec<(u32, String)>,
}

/// Shared API state.
#[derive(Clone)]
pub struct Api {
    engine: EngineHandle,
    limits: Arc<RwLock<Limits>>,
    buckets: Arc<Mutex<HashMap<Address, (f64, Instant)>>>,
    names: Arc<Names>,
    faucet: bool,
    index: Option<Index>,
    l1: Option<Arc<crate::l1::L1Bridge>>,
    checker: Option<Checker>,
}

impl Api {
    /// An API over a running engine. `faucet` enables the development deposit endpoint.
    pub fn new(engine: EngineHandle, limits: Arc<RwLock<Limits>>, names: Names, faucet: bool) -> Api {
        Api {
            engine,
            limits,
            buckets: Arc::new(Mutex::new(HashMap::new())),
            names: Arc::new(names),
            faucet,
            index: None,
            l1: None,
            checker: None,
        }
    }

    /// Checks signatures eight at a time on threads of their own where this CPU can
    /// ([`crate::secp_x8::available`]) once order entry sees `from` commands per second or more
    /// (0: always; `None`: [`inline_limit`], measured here); below that, and elsewhere (or if
    /// the thread cannot start), order entry checks each command itself. Returns the rate from
    /// which batched checks are used, `None` where they are off.
    pub fn with_batched_checks(mut self, from: Option<u64>) -> (Api, Option<u64>) {
        #[cfg(not(target_arch = "x86_64"))]
        let _ = from;
        #[cfg(target_arch = "x86_64")]
        if crate::secp_x8::available() {
            let from = from.unwrap_or_else(inline_limit);
            match spawn_checker(self.clone(), from) {
                Ok(c) => {
                    self.checker = Some(c);
                    return (self, Some(from));
                }
                Err(e) => tracing::warn!(error = %e, "no signature-check thread; checking on API workers"),
            }
        }
        (self, None)
    }

    /// Uses `index` for idempotent retries and client order ids.
    pub fn with_index(mut self, index: Index) -> Api {
        self.index = Some(index);
        self
    }

    /// L1 mode: the faucet deposits on L1, and `/v1/l1...` report the rollup.
    pub fn with_l1(mut self, l1: Option<Arc<crate::l1::L1Bridge>>) -> Api {
        self.l1 = l1;
        self
    }

    /// The original outcome of an identical command already journaled, if any: a command whose
    /// nonce is already used may be a retry (a client that timed out and sent it again). The
    /// engine answers a used nonce only once the group holding it is handed to the index, and
    /// the original was journaled before it, so one lookup settles it, however far behind the
    /// index's writer is. Looked up only after the engine refused the nonce, so the common path
    /// never touches the index.
    fn duplicate(&self, command: &Command) -> Option<Outcome> {
        let index = self.index.as_ref()?;
        let Command::Signed(s) = command else { return None };
        // Its signature was checked before the engine refused its nonce.
        let a = index.ack(&FastCrypto.address_of(&s.signer), s).ok()??;
        Some(Outcome::Journaled { seq: a.seq, batch: a.batch, receipt: a.receipt })
    }

    /// The router.
    pub fn router(self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .route("/v1/info", get(info))
            .route("/v1/markets", get(markets))
            .route("/v1/markets/{id}/depth", get(depth))
            .route("/v1/markets/{id}/trades", get(trades))
            .route("/v1/markets/{id}/bbo", get(bbo))
            .route("/v1/accounts/{address}", get(account))
            .route("/v1/accounts/{address}/orders", get(orders))
            .route("/v1/accounts/{address}/fills", get(fills))
            .route("/v1/accounts/{address}/orders/by-client-id/{id}", get(by_client_id))
            .route("/v1/batches", get(batches))
            .route("/v1/batches/{n}", get(batch))
            .route("/v1/commands", post(|s, h, b| submit(s, h, b, Route::Any)))
            .route("/v1/orders", post(|s, h, b| submit(s, h, b, Route::Place)))
            .route("/v1/orders/cancel", post(|s, h, b| submit(s, h, b, Route::Cancel)))
            .route("/v1/orders/amend", post(|s, h, b| submit(s, h, b, Route::Amend)))
            .route("/v1/orders/mass-cancel", post(|s, h, b| submit(s, h, b, Route::MassCancel)))
            .route("/v1/withdrawals", post(|s, h, b| submit(s, h, b, Route::Withdraw)))
            .route("/v1/dev/faucet", post(faucet))
            .route("/v1/l1", get(l1_status))
            .route("/v1/l1/claims/{address}", get(l1_claims))
            .route("/v1/ws", get(ws))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(axum::middleware::map_response(too_large_as_json))
            .with_state(self)
    }

    fn allow(&self, who: &Address) -> bool {
        let limits = *self.limits.read().expect("limits lock");
        let mut b = self.buckets.lock().expect("rate buckets lock");
        let now = Instant::now();
        let (tokens, at) = b.entry(*who).or_insert((limits.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * limits.rate_per_sec).min(limits.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Acks are small and latency-bound: no Nagle delay on accepted sockets.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// An API error: HTTP status, a stable code, a message for humans.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": {"code": self.code, "message": self.message}}))).into_response()
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        match e {
            SubmitError::Overloaded => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", e.to_string())
            }
            SubmitError::Stopped => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "stopped", e.to_string()),
        }
    }
}

/// A stable code and a message for a rejection.
pub fn reject_text(code: &RejectCode) -> (&'static str, String) {
    match code {
        RejectCode::BadSignature => {
            ("bad_signature", "the signature does not verify for the signer's key".into())
        }
        RejectCode::NonceReused { expected } => {
            ("nonce_reused", format!("this nonce was already used; the account's next nonce is {expected}"))
        }
        RejectCode::NonceGap { expected } => {
            ("nonce_gap", format!("this nonce skips ahead; the account's next nonce is {expected}"))
        }
        RejectCode::UnknownAccount => {
            ("unknown_account", "the signer's account has never received a deposit".into())
        }
        RejectCode::UnknownMarket => ("unknown_market", "no such market".into()),
        RejectCode::NotYourOrder => {
            ("not_your_order", "the order belongs to another account or market".into())
        }
        RejectCode::NotOperator => ("not_operator", "only the operator may do this".into()),
        RejectCode::InsufficientBalance => ("insufficient_balance", "available balance is too low".into()),
        RejectCode::ZeroAmount => ("zero_amount", "the amount is zero".into()),
        RejectCode::MarketExists => ("market_exists", "the market id is taken".into()),
        RejectCode::InvalidSpec => ("invalid_spec", "the market spec is invalid".into()),
        RejectCode::InvalidFees => ("invalid_fees", "the fee schedule is too high".into()),
        RejectCode::Overflow => ("overflow", "an amount would overflow".into()),
        RejectCode::Book(r) => ("book_rejected", format!("the order book refused it: {r:?}")),
    }
}

fn refused_status(code: &RejectCode) -> StatusCode {
    match code {
        RejectCode::BadSignature => StatusCode::UNAUTHORIZED,
        RejectCode::UnknownAccount => StatusCode::FORBIDDEN,
        RejectCode::NonceReused { .. } | RejectCode::NonceGap { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The JSON of an outcome, as REST and WebSocket acks carry it.
pub fn outcome_json(out: &Outcome) -> (StatusCode, Value) {
    match out {
        Outcome::Journaled { seq, batch, receipt: Receipt::Applied(a) } => (
            StatusCode::OK,
            json!({
                "status": "applied", "seq": seq, "batch": batch,
                "order_id": a.order_id.map(|o| o.0), "filled": a.filled.0, "resting": a.resting.0, "fills": a.fills,
            }),
        ),
        Outcome::Journaled { seq, batch, receipt: Receipt::Rejected(code) } => {
            let (c, m) = reject_text(code);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"status": "rejected", "seq": seq, "batch": batch, "error": {"code": c, "message": m}}),
            )
        }
        Outcome::Refused(code) => {
            let (c, m) = reject_text(code);
            (refused_status(code), json!({"status": "refused", "error": {"code": c, "message": m}}))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    Any,
    Place,
    Cancel,
    Amend,
    MassCancel,
    Withdraw,
}

/// The body limit's refusal (axum answers it in plain text) as the API's JSON error, like every
/// other refusal: `413 too_large`.
async fn too_large_as_json(r: Response) -> Response {
    let json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if r.status() != StatusCode::PAYLOAD_TOO_LARGE || json {
        return r;
    }
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the request body is over {MAX_BODY_BYTES} bytes (a command is at most {MAX_COMMAND_BYTES})"),
    )
    .into_response()
}

/// Decodes a request body into one command: raw borsh, or JSON `{"command": "0x.."}`.
pub fn decode_body(headers: &HeaderMap, body: &[u8]) -> Result<Command, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "malformed", m);
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let raw;
    let bytes: &[u8] = if is_json {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wrapped {
            command: String,
        }
        let w: Wrapped = serde_json::from_slice(body)
            .map_err(|e| bad(format!("not a JSON {{\"command\": \"0x..\"}}: {e}")))?;
        raw = hex::decode(w.command.trim_start_matches("0x"))
            .map_err(|e| bad(format!("command is not hex: {e}")))?;
        &raw
    } else {
        body
    };
    decode_command(bytes).map_err(bad)
}

/// Decodes one canonical command; the bytes must hold exactly one.
pub fn decode_command(bytes: &[u8]) -> Result<Command, String> {
    if bytes.len() > MAX_COMMAND_BYTES {
        return Err(format!("a command is at most {MAX_COMMAND_BYTES} bytes, got {}", bytes.len()));
    }
    borsh::from_slice::<Command>(bytes).map_err(|e| format!("not a canonical command: {e}"))
}

fn route_matches(route: Route, c: &Command) -> bool {
    let Command::Signed(s) = c else { return route == Route::Any };
    matches!(
        (route, &s.action),
        (Route::Any, _)
            | (Route::Place, Action::Place(_))
            | (Route::Cancel, Action::Cancel { .. })
            | (Route::Amend, Action::Amend { .. })
            | (Route::MassCancel, Action::MassCancel { .. })
            | (Route::Withdraw, Action::Withdraw { .. })
    )
}

/// Checks one command (it must be signed, the signature valid, the account within its rate)
/// and queues it; shared by REST and WebSocket order entry. Queuing happens in the caller's
/// order, so a client's pipelined commands reach the engine in the order it sent them: here,
/// or through the one [`Checker`] thread, which takes commands first in, first out.
fn check_and_queue(api: &Api, command: Command, client_id: Option<String>) -> Result<Pending, ApiError> {
    if !matches!(command, Command::Signed(_)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "deposit_not_allowed",
            "deposits come from L1 through the sequencer, not from the API",
        ));
    }
    if let Some(checker) = &api.checker {
        let mut rate = checker.order.lock().expect("checker order lock");
        rate.count(Instant::now(), 1);
        checker.rate.store(rate.per_sec as u64, Relaxed);
        // Light traffic and nothing at the checker: check here and save the hand-over (the
        // lock keeps this command from overtaking any the checker is handing on).
        if checker.pending.load(Acquire) > 0 || rate.per_sec >= checker.inline_below {
            checker.pending.fetch_add(1, AcqRel);
            let (answer, rx) = tokio::sync::oneshot::channel();
            return match checker.tx.0.push(Job { command, client_id, answer }) {
                Ok(()) => {
                    api.engine.metrics().sig_queue_depth.fetch_add(1, Relaxed);
                    Ok(Pending::Checking(rx))
                }
                Err(_) => {
                    checker.pending.fetch_sub(1, AcqRel);
                    api.engine.metrics().overloaded.fetch_add(1, Relaxed);
                    Err(SubmitError::Overloaded.into())
                }
            };
        }
    }
    let verified = verify_command(api.engine.chain_id(), &command);
    admit(api, &command, verified)?;
    Ok(Pending::Queued(api.engine.submit_labelled(command, true, client_id)?))
}

/// Whether a command whose signature check gave `verified` may be queued: its signer's address,
/// or why not (a failed check, or the account over its rate).
fn admit(api: &Api, command: &Command, verified: bool) -> Result<Address, ApiError> {
    if !verified {
        let (c, m) = reject_text(&RejectCode::BadSignature);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, c, m));
    }
    let Command::Signed(s) = command else { unreachable!("only signed commands are checked") };
    let signer = crate::crypto::address_of_signer(&s.signer);
    if !api.allow(&signer) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many commands from this account; slow down",
        ));
    }
    Ok(signer)
}

/// A command on its way to the engine.
enum Pending {
    /// Checked and queued: the engine's answer comes.
    Queued(tokio::sync::oneshot::Receiver<Outcome>),
    /// At the [`Checker`]: its refusal comes, or (if it passed) the engine's answer.
    Checking(tokio::sync::oneshot::Receiver<Result<Outcome, ApiError>>),
}

impl Pending {
    async fn outcome(self) -> Result<Outcome, ApiError> {
        match self {
            Pending::Queued(rx) => rx.await.map_err(|_| ApiError::from(SubmitError::Stopped)),
            Pending::Checking(rx) => rx.await.map_err(|_| ApiError::from(SubmitError::Stopped))?,
        }
    }
}

/// One command for the [`Checker`].
struct Job {
    command: Command,
    client_id: Option<String>,
    answer: tokio::sync::oneshot::Sender<Result<Outcome, ApiError>>,
}

/// How many commands may wait for the [`Checker`] before order entry answers `overloaded`.
const CHECKER_QUEUE: usize = 8_192;

/// The longest a command waits for others to fill its group of eight; only when commands arrive
/// fast enough that two or more are expected within it (10,000/s and up), so that groups reach
/// the three from which the eight-lane check pays (at 20,000/s without the wait, most groups
/// were of one or two: 21 µs of checker CPU per command instead of 9). Below that a group is
/// checked as soon as a thread is free.
const CHECK_WAIT: std::time::Duration = std::time::Duration::from_micros(200);

/// The share of a core order entry may spend checking signatures itself before they go to the
/// checker, when `engine.batched_signature_checks_from` is unset: about 11,000 commands/s where
/// libsecp256k1 takes 23 µs a check (12,000 was the best rate found by hand on such a machine),
/// about 7,000/s where it takes 34 µs (on such a machine 10,000/s checked on order entry had a
/// p99 of 5.6–6.1 ms, against 1.8–2.6 ms through the checker).
#[cfg(target_arch = "x86_64")]
const INLINE_CORE_SHARE: f64 = 0.25;

/// The rate below which order entry checks signatures itself: [`INLINE_CORE_SHARE`] of a core
/// over the time one libsecp256k1 check takes on this machine (the fastest of five rounds of 32
/// after one to warm up, so that a busy moment at start-up does not count; about 6 ms in all).
#[cfg(target_arch = "x86_64")]
fn inline_limit() -> u64 {
    use zkclob_state::Crypto;
    let sk = secp256k1::SecretKey::from_byte_array([7; 32]).expect("a valid key");
    let pk = secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, &sk).serialize_uncompressed();
    let key: [u8; 64] = pk[1..].try_into().expect("an uncompressed key");
    let hash = [9u8; 32];
    let sig = secp256k1::SECP256K1.sign_ecdsa(secp256k1::Message::from_digest(hash), &sk).serialize_compact();
    let one = (0..6)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..32 {
                assert!(crate::crypto::FastCrypto.secp256k1_verify(&key, &hash, &sig), "a valid signature");
            }
            t.elapsed() / 32
        })
        .skip(1) // a warm-up
        .min()
        .expect("five rounds");
    (INLINE_CORE_SHARE / one.as_secs_f64().max(1e-7)) as u64
}

/// The most commands a checker thread takes at once (checked in groups of eight, handed on
/// together).
#[cfg(target_arch = "x86_64")]
const MAX_TAKE: usize = 64;

/// Commands per second reaching order entry, over the last completed 10 ms window.
#[derive(Default)]
struct ArrivalRate {
    window: Option<Instant>,
    in_window: u64,
    per_sec: f64,
}

impl ArrivalRate {
    fn count(&mut self, now: Instant, n: u64) {
        let start = *self.window.get_or_insert(now);
        let span = now.duration_since(start);
        if span >= std::time::Duration::from_millis(10) {
            self.per_sec = self.in_window as f64 / span.as_secs_f64();
            self.window = Some(now);
            self.in_window = 0;
        }
        self.in_window += n;
    }
}

/// Signature checks eight at a time ([`crate::secp_x8`], where the CPU has AVX-512 IFMA) on
/// [`CHECKER_THREADS`] threads: a thread takes what is queued (up to [`MAX_TAKE`]; under load it
/// first sleeps until about eight are there, at most [`CHECK_WAIT`]), checks it in groups of up
/// to eight that share one scalar inversion, with the tables of keys that sign again
/// ([`crate::secp_x8::Verifier`]; a group too small to pay is checked one by one with
/// libsecp256k1), and hands it to the engine in one request. Takes reach the engine in the order
/// they were taken, whichever thread finishes first. Under load a check of a known key's
/// signature costs about a sixth of libsecp256k1's.
///
/// Below `inline_below` commands/s (`engine.batched_signature_checks_from`), when nothing is at
/// the checker, order entry checks a command itself: the checker's groups would be of one or
/// two, checked with libsecp256k1 all the same, and the hand-over costs latency.
#[derive(Clone)]
struct Checker {
    tx: Arc<IntakeSender>,
    /// Commands sent to the checker and not yet handed on to the engine (or refused).
    pending: Arc<std::sync::atomic::AtomicU64>,
    /// Commands per second reaching order entry, for the checker's waiting rule.
    rate: Arc<std::sync::atomic::AtomicU64>,
    /// Below this rate order entry checks signatures itself when nothing is at the checker.
    inline_below: f64,
    /// Held while order entry decides where a command goes and while the checker hands a group
    /// on, so that a command checked on order entry's thread never overtakes one at the checker.
    order: Arc<Mutex<ArrivalRate>>,
}

#[cfg(target_arch = "x86_64")]
fn spawn_checker(api: Api, inline_below: u64) -> std::io::Result<Checker> {
    let queue = Arc::new(IntakeQueue::default());
    let checker = Checker {
        tx: Arc::new(IntakeSender(queue.clone())),
        pending: Default::default(),
        rate: Default::default(),
        inline_below: inline_below as f64,
        order: Default::default(),
    };
    let shared = Arc::new(CheckerThreads {
        intake: queue,
        reorder: Mutex::new(Reorder::default()),
        api,
        pending: checker.pending.clone(),
        rate: checker.rate.clone(),
        order: checker.order.clone(),
    });
    for _ in 0..CHECKER_THREADS {
        let shared = shared.clone();
        std::thread::Builder::new().name("zkclob-sigcheck".into()).spawn(move || shared.run())?;
    }
    Ok(checker)
}

/// Threads that check signatures: two, so that a burst, or one of them waiting for a core,
/// does not hold the next take back (on the load bench at 50,000/s, median p99 3.8 ms against
/// 4.7 ms with one thread).
#[cfg(target_arch = "x86_64")]
const CHECKER_THREADS: usize = 2;

/// The checker's queue, first in, first out, and the one thread at a time that takes from it
/// (the one that *holds the intake*).
///
/// Only a thread with something to do is woken. While one thread checks a take, the other
/// waits for the intake on `turn`, and order entry wakes it only when a command arrives that
/// nobody is there to take; when the checking thread is done first, it takes the intake itself
/// and nobody is woken. (With a channel behind a mutex, every take woke the other thread just to
/// wait on the channel instead: about 7,700 needless wake-ups a second at 50,000 commands/s.)
#[derive(Default)]
struct IntakeQueue {
    state: Mutex<Intake>,
    /// The thread holding the intake waits here for a first command.
    jobs: std::sync::Condvar,
    /// Threads wait here for the intake.
    turn: std::sync::Condvar,
}

#[derive(Default)]
struct Intake {
    queue: std::collections::VecDeque<Job>,
    /// The number of the next take: takes are handed on in this order.
    next_ticket: u64,
    /// A thread holds the intake.
    held: bool,
    /// The thread holding it waits on `jobs` and has not been woken yet.
    holder_waiting: bool,
    /// Threads waiting on `turn`.
    idle: usize,
    /// A thread on `turn` was woken and has not run yet.
    turn_signalled: bool,
    /// Order entry is gone: the threads end once the queue is empty.
    closed: bool,
}

impl IntakeQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Intake> {
        self.state.lock().expect("checker intake lock")
    }

    /// Queues a command, or refuses it when [`CHECKER_QUEUE`] wait already.
    fn push(&self, job: Job) -> Result<(), IntakeFull> {
        let mut s = self.lock();
        if s.queue.len() >= CHECKER_QUEUE {
            return Err(IntakeFull);
        }
        s.queue.push_back(job);
        let wake = if s.holder_waiting {
            s.holder_waiting = false;
            Some(&self.jobs)
        } else if !s.held && s.idle > 0 && !s.turn_signalled {
            s.turn_signalled = true;
            Some(&self.turn)
        } else {
            None
        };
        drop(s);
        if let Some(cv) = wake {
            cv.notify_one();
        }
        Ok(())
    }

    /// On a checker thread: waits for the intake, then for a first command, and takes what is
    /// queued (up to [`MAX_TAKE`]; with commands arriving at `per_sec`, first sleeping until
    /// about eight are there, at most [`CHECK_WAIT`]). The take's ticket and its commands, in
    /// order; `None` once order entry is gone and the queue is empty.
    #[cfg(target_arch = "x86_64")]
    fn take(&self, per_sec: f64) -> Option<(u64, Vec<Job>)> {
        use crate::secp_x8::LANES;
        let drain = |s: &mut Intake, jobs: &mut Vec<Job>| {
            let n = s.queue.len().min(MAX_TAKE - jobs.len());
            jobs.extend(s.queue.drain(..n));
        };
        let mut s = self.lock();
        while s.held {
            s.idle += 1;
            s = self.turn.wait(s).expect("checker intake lock");
            s.idle -= 1;
            s.turn_signalled = false;
        }
        s.held = true;
        while s.queue.is_empty() {
            if s.closed {
                s.held = false;
                drop(s);
                self.turn.notify_all();
                return None;
            }
            s.holder_waiting = true;
            s = self.jobs.wait(s).expect("checker intake lock");
            s.holder_waiting = false;
        }
        let opened = Instant::now();
        let mut jobs = Vec::with_capacity(MAX_TAKE);
        drain(&mut s, &mut jobs);
        // Under load, wait a little for a fuller group: eight cost what three do. Asleep
        // (holding the intake, not its lock), the thread is not woken by each command that
        // arrives meanwhile.
        if jobs.len() < LANES && per_sec * CHECK_WAIT.as_secs_f64() >= 2.0 {
            // As long as the rest of the group takes to arrive, at most CHECK_WAIT.
            let fill = std::time::Duration::from_secs_f64((LANES - jobs.len()) as f64 / per_sec);
            if let Some(left) = fill.min(CHECK_WAIT).checked_sub(opened.elapsed()) {
                drop(s);
                std::thread::sleep(left);
                s = self.lock();
            }
            drain(&mut s, &mut jobs);
        }
        let ticket = s.next_ticket;
        s.next_ticket += 1;
        s.held = false;
        // Commands already wait: a thread waiting for the intake takes them while this one
        // checks. Otherwise nobody is woken; the next command wakes one if need be.
        let wake = !s.queue.is_empty() && s.idle > 0 && !s.turn_signalled;
        s.turn_signalled |= wake;
        drop(s);
        if wake {
            self.turn.notify_one();
        }
        Some((ticket, jobs))
    }
}

/// The checker's queue holds [`CHECKER_QUEUE`] commands already.
#[derive(Debug)]
struct IntakeFull;

/// Order entry's end of the checker's queue, shared by the [`Checker`] of every `Api`: when
/// the last is gone, the checker threads finish what is queued and end.
struct IntakeSender(Arc<IntakeQueue>);

impl Drop for IntakeSender {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.jobs.notify_all();
        self.0.turn.notify_all();
    }
}

/// What the checker threads share.
#[cfg(target_arch = "x86_64")]
struct CheckerThreads {
    intake: Arc<IntakeQueue>,
    reorder: Mutex<Reorder>,
    api: Api,
    pending: Arc<std::sync::atomic::AtomicU64>,
    rate: Arc<std::sync::atomic::AtomicU64>,
    order: Arc<Mutex<ArrivalRate>>,
}

/// Checked takes that wait for an earlier one to be handed on first.
#[cfg(target_arch = "x86_64")]
#[derive(Default)]
struct Reorder {
    /// The ticket of the next take to hand on.
    next: u64,
    /// Takes checked ahead of it, by ticket, with their verdicts.
    ready: std::collections::BTreeMap<u64, Vec<(Job, bool)>>,
}

#[cfg(target_arch = "x86_64")]
impl CheckerThreads {
    fn run(&self) {
        crate::sched::precise_sleeps();
        crate::sched::ack_path(
            self.api.engine.realtime_priority(),
            "signature checker",
            self.api.engine.metrics(),
        );
        let chain_id = self.api.engine.chain_id();
        loop {
            let Some((ticket, jobs)) = self.intake.take(self.rate.load(Relaxed) as f64) else { return };
            let n = jobs.len() as u64;
            let verdicts = check_take(&self.api, chain_id, &jobs);
            let checked: Vec<(Job, bool)> = jobs.into_iter().zip(verdicts).collect();
            self.api.engine.metrics().sig_queue_depth.fetch_sub(n, Relaxed);
            // Hand on every take that is next in order, this one or those checked ahead of it.
            let mut reorder = self.reorder.lock().expect("checker reorder lock");
            reorder.ready.insert(ticket, checked);
            loop {
                let next = reorder.next;
                let Some(list) = reorder.ready.remove(&next) else { break };
                reorder.next += 1;
                let n = list.len() as u64;
                hand_on(&self.api, list, &self.order);
                self.pending.fetch_sub(n, AcqRel);
            }
        }
    }
}

/// Checks a take's signatures in groups of eight that share one scalar inversion
/// ([`verify_signed_counted`]): the verdicts, in order.
#[cfg(target_arch = "x86_64")]
fn check_take(api: &Api, chain_id: u64, take: &[Job]) -> Vec<bool> {
    let signed: Vec<&SignedCommand> = take
        .iter()
        .map(|j| match &j.command {
            Command::Signed(c) => c,
            Command::Deposit { .. } => unreachable!("deposits are refused before"),
        })
        .collect();
    // A fault in the vector code must not take order entry down: that take is then checked
    // one by one with libsecp256k1, and the fault is logged.
    let (verdicts, counts) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verify_signed_counted(chain_id, &signed)))
            .unwrap_or_else(|_| {
                tracing::error!(
                    "signature checker: the eight-lane check panicked; these commands are checked one by one"
                );
                let verdicts = signed.iter().map(|c| crate::crypto::verify_one(chain_id, c)).collect();
                (verdicts, Default::default())
            });
    let m = api.engine.metrics();
    m.sig_groups.fetch_add(take.len().div_ceil(crate::secp_x8::LANES) as u64, Relaxed);
    m.sig_checked.fetch_add(take.len() as u64, Relaxed);
    m.sig_checked_x8.fetch_add(counts.in_lanes, Relaxed);
    m.sig_checked_keyed.fetch_add(counts.keyed, Relaxed);
    verdicts
}

/// Hands checked commands to the engine in one request, in order; refusals are answered here.
#[cfg(target_arch = "x86_64")]
fn hand_on(api: &Api, checked: Vec<(Job, bool)>, order: &Mutex<ArrivalRate>) {
    let mut passed = Vec::with_capacity(checked.len());
    let _order = order.lock().expect("checker order lock");
    for (job, verified) in checked {
        match admit(api, &job.command, verified) {
            Err(e) => {
                let _ = job.answer.send(Err(e));
            }
            Ok(signer) => passed.push(Answering {
                command: job.command,
                signer,
                client_id: job.client_id,
                answer: job.answer,
            }),
        }
    }
    api.engine.submit_answering(passed);
}

async fn check_and_submit(
    api: &Api,
    command: Command,
    client_id: Option<String>,
) -> Result<Outcome, ApiError> {
    let retry = api.index.is_some().then(|| command.clone());
    let out = check_and_queue(api, command, client_id)?.outcome().await?;
    Ok(match (out, retry) {
        (Outcome::Refused(RejectCode::NonceReused { .. }), Some(c)) => api.duplicate(&c).unwrap_or(out),
        _ => out,
    })
}

async fn submit(State(api): State<Api>, headers: HeaderMap, body: Bytes, route: Route) -> Response {
    let command = match decode_body(&headers, &body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if !route_matches(route, &command) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "wrong_route",
            format!("this route takes {route:?} commands"),
        )
        .into_response();
    }
    let client_id = match headers.get("x-client-order-id") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(id) if route == Route::Place && valid_client_id(id) => Some(id.to_string()),
            _ => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_client_id",
                    "X-Client-Order-Id goes with POST /v1/orders and is 1-64 of A-Z a-z 0-9 _ - . :",
                )
                .into_response()
            }
        },
    };
    let out = match check_and_submit(&api, command, client_id).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let (status, body) = outcome_json(&out);
    (status, Json(body)).into_response()
}

async fn read<T: Send + 'static>(
    api: &Api,
    f: impl FnOnce(&crate::engine::Engine) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let rx = api.engine.read(f)?;
    rx.await.map_err(|_| ApiError::from(SubmitError::Stopped))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(api): State<Api>) -> Response {
    let probe = read(&api, |e| e.state().batch_number);
    match tokio::time::timeout(std::time::Duration::from_secs(2), probe).await {
        Ok(Ok(b)) => (StatusCode::OK, format!("ready (batch {b})\n")).into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "engine not responding\n").into_response(),
    }
}

async fn metrics(State(api): State<Api>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], api.engine.metrics().render()).into_response()
}

async fn info(State(api): State<Api>) -> Result<Json<Value>, ApiError> {
    let names = api.names.clone();
    read(&api, move |e| {
        let s = e.state();
        Json(json!({
            "chain_id": s.chain_id,
            "operator": s.operator.to_string(),
            "batch": s.batch_number,
            "root": format!("0x{}", hex::encode(e.cut_root())),
            "markets": names.markets,
            "assets": names.assets,
            // Trading fees collected and not yet taken by the operator (`CollectFees`), atoms.
            "fees_collected": names
                .assets
                .iter()
                .map(|(id, _)| (id.to_string(), s.fees_collected(zkclob_core::AssetId(*id)).to_string()))
                .collect::<std::collections::BTreeMap<String, String>>(),
            "recovery": e.recovery(),
        }))
    })
    .await
}

fn market_json(m: &zkclob_state::Market, names: &Names) -> Value {
    let s = &m.spec;
    let name = names.markets.iter().find(|(id, _)| *id == s.market_id.0).map(|(_, n)| n.clone());
    json!({
        "id": s.market_id.0, "name": name, "base_asset": s.base_asset.0, "quote_asset": s.quote_asset.0,
        "tick_size": s.tick_size, "lot_size": s.lot_size, "min_qty": s.min_qty.0, "max_qty": s.max_qty.0,
        "min_price": s.min_price.0, "max_price": s.max_price.0,
        "base_atoms_per_lot": s.base_atoms_per_lot.to_string(),
        "quote_atoms_per_tick_lot": s.quote_atoms_per_tick_lot.to_string(),
        "maker_bps": m.fees.maker_bps, "taker_bps": m.fees.taker_bps,
    })
}

async fn markets(State(api): State<Api>) -> Result<Json<Value>, ApiError> {
    let names = api.names.clone();
    read(&api, move |e| Json(Value::Array(e.state().markets().map(|m| market_json(m, &names)).collect())))
        .await
}

fn market_id(id: &str) -> Result<MarketId, ApiError> {
    id.parse::<u32>()
        .map(MarketId)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "malformed", "a market id is a number"))
}

async fn known_market(api: &Api, id: MarketId) -> Result<(), ApiError> {
    if read(api, move |e| e.state().market(id).is_some()).await? {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_market", "no such market"))
    }
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn depth(State(api): State<Api>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = market_id(&id)?;
    known_market(&api, id).await?;
    read(&api, move |e| Json(json!(e.market_data().snapshot(id)))).await
}

async fn trades(
    State(api): State<Api>,
    Path(id): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let id = market_id(&id)?;
    known_market(&api, id).await?;
    let limit = q.limit.unwrap_or(100).min(1_000);
    read(&api, move |e| Json(json!(e.market_data().trades(id, limit)))).await
}

async fn bbo(State(api): State<Api>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = market_id(&id)?;
    known_market(&api, id).await?;
    read(&api, move |e| Json(json!(e.market_data().bbo(id)))).await
}

/// Parses `0x` + 40 hex digits.
pub fn parse_address(s: &str) -> Result<Address, String> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    let v = hex::decode(h).map_err(|e| format!("address is not hex: {e}"))?;
    let a: [u8; 20] = v.try_into().map_err(|_| "an address is 20 bytes (40 hex digits)".to_string())?;
    Ok(Address(a))
}

fn address(s: &str) -> Result<Address, ApiError> {
    parse_address(s).map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "malformed", m))
}

async fn account(State(api): State<Api>, Path(a): Path<String>) -> Result<Json<Value>, ApiError> {
    let who = address(&a)?;
    let found = read(&api, move |e| {
        e.state().account(&who).map(|acc| {
            let balances: Vec<Value> = acc
                .balances
                .iter()
                .map(|(asset, b)| {
                    json!({"asset": asset.0, "available": b.available.to_string(), "locked": b.locked.to_string()})
                })
                .collect();
            json!({"address": who.to_string(), "nonce": acc.nonce, "balances": balances})
        })
    })
    .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_account", "no account at this address"))
}

async fn orders(State(api): State<Api>, Path(a): Path<String>) -> Result<Json<Value>, ApiError> {
    let who = address(&a)?;
    read(&api, move |e| {
        let s = e.state();
        let Some(id) = s.account_id(&who) else { return Json(json!([])) };
        Json(Value::Array(
            s.orders_of(id)
                .into_iter()
                .map(|(oid, o)| {
                    json!({"order_id": oid.0, "market": o.market.0, "side": crate::market_data::side_str(o.side),
                           "price": o.price.0, "remaining": o.remaining.0})
                })
                .collect(),
        ))
    })
    .await
}

async fn fills(
    State(api): State<Api>,
    Path(a): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let who = address(&a)?;
    let limit = q.limit.unwrap_or(100).min(1_000);
    read(&api, move |e| Json(json!(e.fills_of(&who, limit)))).await
}

async fn by_client_id(
    State(api): State<Api>,
    Path((a, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let who = address(&a)?;
    let index = api
        .index
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no_index", "this node keeps no index"))?;
    let found = index
        .client_order(&who, &id)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "index", e.to_string()))?;
    let Some(order_id) = found else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_client_id",
            "no order with this client id",
        ));
    };
    let live = read(&api, move |e| {
        e.state().order(zkclob_core::OrderId(order_id)).map(|o| {
            json!({"market": o.market.0, "side": crate::market_data::side_str(o.side), "price": o.price.0, "remaining": o.remaining.0})
        })
    })
    .await?;
    Ok(Json(json!({"order_id": order_id, "client_id": id, "live": live})))
}

async fn batches(State(api): State<Api>, Query(q): Query<LimitQuery>) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(20).min(1_000);
    read(&api, move |e| {
        let all: Vec<_> = e.batches().collect();
        let start = all.len().saturating_sub(limit);
        Json(json!(all[start..]))
    })
    .await
}

async fn batch(State(api): State<Api>, Path(n): Path<u64>) -> Result<Json<Value>, ApiError> {
    let found = read(&api, move |e| e.batches().find(|b| b.batch == n).cloned()).await?;
    found.map(|b| Json(json!(b))).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_batch", "no such batch in the recent history")
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaucetRequest {
    address: String,
    asset: u32,
    /// Atoms, as a decimal string (amounts can exceed JSON's safe integers).
    amount: String,
}

/// Development only: credits an account as an L1 deposit would (off unless configured).
async fn faucet(State(api): State<Api>, body: Bytes) -> Result<Response, ApiError> {
    if !api.faucet {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "faucet_disabled", "the development faucet is off"));
    }
    let r: FaucetRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("faucet request: {e}")))?;
    let to = address(&r.address)?;
    let amount: u128 = r.amount.parse().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", "amount is a decimal number of atoms")
    })?;
    if let Some(l1) = api.l1.clone() {
        // L1 mode: a real deposit on the in-process L1, credited by the next batch.
        let deposited = blocking(&api, move || l1.faucet_deposit(to.0, r.asset, amount))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
        return match deposited {
            Ok((index, block)) => Ok((
                StatusCode::ACCEPTED,
                Json(json!({
                    "status": "deposited_on_l1",
                    "deposit_index": index,
                    "l1_block": block,
                    "message": "queued on L1; the next batch credits it",
                })),
            )
                .into_response()),
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "l1_deposit_failed", e.to_string())),
        };
    }
    let cmd = Command::Deposit { to, asset: AssetId(r.asset), amount: zkclob_core::Amount(amount) };
    let out = api.engine.submit(cmd, true)?.await.map_err(|_| ApiError::from(SubmitError::Stopped))?;
    let (status, body) = outcome_json(&out);
    Ok((status, Json(body)).into_response())
}

/// Runs `f` on tokio's blocking threads, in the ordinary scheduling class (they may have
/// started real-time, as the workers do: [`crate::sched`]).
fn blocking<T: Send + 'static>(
    api: &Api,
    f: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    let metrics = api.engine.metrics().clone();
    tokio::task::spawn_blocking(move || {
        crate::sched::ordinary(&metrics);
        f()
    })
}

fn no_l1() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "l1_off", "this node runs without an L1 (rollup.l1 = \"off\")")
}

/// L1 mode: the rollup contract's state (proposals, settlements, queues).
async fn l1_status(State(api): State<Api>) -> Result<Json<Value>, ApiError> {
    let l1 = api.l1.clone().ok_or_else(no_l1)?;
    let status = blocking(&api, move || l1.status())
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "l1", e.to_string()))?;
    Ok(Json(json!(status)))
}

/// L1 mode: an account's withdrawals in settled batches, each with the Merkle proof that
/// `Rollup.claimWithdrawal` takes.
async fn l1_claims(State(api): State<Api>, Path(who): Path<String>) -> Result<Json<Value>, ApiError> {
    let l1 = api.l1.clone().ok_or_else(no_l1)?;
    let who = address(&who)?;
    let claims = blocking(&api, move || l1.claims_of(&who.0))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "l1", e.to_string()))?;
    Ok(Json(json!(claims)))
}

/// A WebSocket's read buffer. tungstenite zeroes the free part of it before every socket read
/// (128 KiB by default: a `memset` that was a fifth of the API workers' CPU under load); 16 KiB
/// still holds a burst of a hundred orders.
pub const WS_READ_BUFFER: usize = 16 << 10;

async fn ws(State(api): State<Api>, up: WebSocketUpgrade) -> Response {
    up.max_message_size(MAX_WS_MESSAGE_BYTES)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        .read_buffer_size(WS_READ_BUFFER)
        .on_upgrade(move |s| ws_session(api, s))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WsRequest {
    op: String,
    channel: Option<String>,
    market: Option<u32>,
    account: Option<String>,
    id: Option<u64>,
    command: Option<String>,
}

#[derive(Default)]
struct Subs {
    /// The engine's updates, taken with the first subscription: a session that only enters
    /// orders is not woken by every group's market data.
    rx: Option<tokio::sync::broadcast::Receiver<Arc<Vec<Update>>>>,
    depth: Vec<(u32, u64)>,
    trades: Vec<u32>,
    bbo: Vec<u32>,
    orders: Vec<Address>,
    batches: bool,
}

impl Subs {
    /// Starts listening to the engine's updates (before any snapshot is read, so that no diff
    /// after it is missed).
    fn listen(&mut self, api: &Api) {
        if self.rx.is_none() {
            self.rx = Some(api.engine.subscribe());
        }
    }

    /// The next group of updates; never, before the first subscription.
    async fn next(
        rx: &mut Option<tokio::sync::broadcast::Receiver<Arc<Vec<Update>>>>,
    ) -> Result<Arc<Vec<Update>>, tokio::sync::broadcast::error::RecvError> {
        match rx {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    }

    fn wants(&mut self, u: &Update) -> bool {
        match u {
            Update::Depth(d) => match self.depth.iter_mut().find(|(m, _)| *m == d.market) {
                Some((_, after)) if d.seq > *after => {
                    *after = d.seq;
                    true
                }
                _ => false,
            },
            Update::Trade(t) => self.trades.contains(&t.market),
            Update::Bbo(b) => self.bbo.contains(&b.market),
            Update::Order(o) => self.orders.contains(&o.account),
            Update::Batch(_) => self.batches,
        }
    }
}

/// One WebSocket client: subscriptions (text JSON) and order entry (text JSON
/// `{"op":"submit","id":n,"command":"0x.."}`, or binary frames: 8-byte little-endian request id
/// then the borsh command). Acks are JSON `{"channel":"ack","id":n,...}`, possibly out of order.
async fn ws_session(api: Api, socket: WebSocket) {
    use futures_util::{SinkExt, StreamExt};
    api.engine.metrics().ws_clients.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<String>(4_096);
    let writer = tokio::spawn(async move {
        // Everything queued goes out with one flush: one write per burst, not per message.
        while let Some(m) = out_rx.recv().await {
            if sink.feed(Message::Text(m.into())).await.is_err() {
                return;
            }
            while let Ok(m) = out_rx.try_recv() {
                if sink.feed(Message::Text(m.into())).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let mut subs = Subs::default();
    let mut acks = Acks::new();
    loop {
        tokio::select! {
            Some(ack) = acks.next(), if !acks.is_empty() => {
                if out_tx.send(ack).await.is_err() { break; }
            }
            msg = stream.next() => {
                let Some(Ok(msg)) = msg else { break };
                let reply = match msg {
                    Message::Text(t) => ws_text(&api, &mut subs, t.as_str(), &mut acks).await,
                    Message::Binary(b) => ws_binary(&api, &b, &mut acks),
                    Message::Close(_) => break,
                    _ => None,
                };
                if let Some(r) = reply {
                    if out_tx.send(r).await.is_err() { break; }
                }
            }
            u = Subs::next(&mut subs.rx) => match u {
                Ok(list) => {
                    for u in list.iter() {
                        if subs.wants(u) && out_tx.send(serde_json::to_string(u).expect("updates serialize")).await.is_err() {
                            break;
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    // The client missed updates: say so; depth subscribers resubscribe to get a
                    // fresh snapshot (their diff sequence shows the gap too).
                    let m = json!({"channel": "lagged", "missed_groups": n, "action": "resubscribe to get fresh snapshots"});
                    let _ = out_tx.send(m.to_string()).await;
                    for (_, after) in subs.depth.iter_mut() { *after = u64::MAX; }
                }
                Err(_) => break,
            }
        }
    }
    if !subs.orders.is_empty() {
        api.engine.order_interest(-1);
    }
    // Commands already queued are answered even after the client's close frame.
    while let Some(ack) = acks.next().await {
        if out_tx.send(ack).await.is_err() {
            break;
        }
    }
    drop(out_tx);
    let _ = writer.await;
    api.engine.metrics().ws_clients.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

fn ws_error(id: Option<u64>, code: &str, message: impl Into<String>) -> String {
    json!({"channel": "error", "id": id, "error": {"code": code, "message": message.into()}}).to_string()
}

/// A session's acks in flight: each resolves to the text to send. Polled by the session's own
/// task, so a command costs no task of its own, and acks completed together go out together.
type Acks = futures_util::stream::FuturesUnordered<
    std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>,
>;

/// Queues `command` and adds its ack to `acks`; an immediate refusal is returned instead.
fn queue_ack(api: &Api, id: Option<u64>, command: Command, acks: &mut Acks) -> Option<String> {
    let retry = api.index.is_some().then(|| command.clone());
    let pending = match check_and_queue(api, command, None) {
        Ok(p) => p,
        Err(e) => return Some(ws_error(id, e.code, e.message)),
    };
    let api = api.clone();
    acks.push(Box::pin(async move {
        match pending.outcome().await {
            Ok(Outcome::Refused(RejectCode::NonceReused { expected })) => {
                let o = match retry {
                    Some(c) => api.duplicate(&c),
                    None => None,
                };
                ack_text(id, &o.unwrap_or(Outcome::Refused(RejectCode::NonceReused { expected })))
            }
            Ok(o) => ack_text(id, &o),
            Err(e) => ws_error(id, e.code, e.message),
        }
    }));
    None
}

/// A WebSocket ack: the REST answer's fields plus `channel` and `id`. Written directly for the
/// common applied case (the order-entry hot path), through `serde_json` otherwise.
fn ack_text(id: Option<u64>, o: &Outcome) -> String {
    use std::fmt::Write;
    if let (Some(id), Outcome::Journaled { seq, batch, receipt: Receipt::Applied(a) }) = (id, o) {
        let mut s = String::with_capacity(160);
        let _ = write!(
            s,
            r#"{{"channel":"ack","id":{id},"status":"applied","seq":{seq},"batch":{batch},"order_id":"#
        );
        match a.order_id {
            Some(oid) => {
                let _ = write!(s, "{}", oid.0);
            }
            None => s.push_str("null"),
        }
        let _ = write!(s, r#","filled":{},"resting":{},"fills":{}}}"#, a.filled.0, a.resting.0, a.fills);
        return s;
    }
    let (_, mut body) = outcome_json(o);
    body["channel"] = json!("ack");
    body["id"] = json!(id);
    body.to_string()
}

fn ws_binary(api: &Api, b: &[u8], acks: &mut Acks) -> Option<String> {
    if b.len() < 8 {
        return Some(ws_error(None, "malformed", "a binary frame is an 8-byte request id and a command"));
    }
    let id = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    match decode_command(&b[8..]) {
        Ok(c) => queue_ack(api, Some(id), c, acks),
        Err(m) => Some(ws_error(Some(id), "malformed", m)),
    }
}

async fn ws_text(api: &Api, subs: &mut Subs, text: &str, acks: &mut Acks) -> Option<String> {
    let req: WsRequest = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => return Some(ws_error(None, "malformed", format!("not a request: {e}"))),
    };
    if req.op == "subscribe" {
        subs.listen(api);
    }
    match (req.op.as_str(), req.channel.as_deref()) {
        ("submit", _) => {
            let Some(hexcmd) = req.command else {
                return Some(ws_error(req.id, "malformed", "submit needs a command"));
            };
            let decoded = hex::decode(hexcmd.trim_start_matches("0x"))
                .map_err(|e| e.to_string())
                .and_then(|b| decode_command(&b));
            match decoded {
                Ok(c) => queue_ack(api, req.id, c, acks),
                Err(m) => Some(ws_error(req.id, "malformed", m)),
            }
        }
        ("subscribe", Some("depth")) => {
            let Some(m) = req.market else {
                return Some(ws_error(req.id, "malformed", "depth needs a market"));
            };
            match read(api, move |e| {
                e.state().market(MarketId(m)).map(|_| e.market_data().snapshot(MarketId(m)))
            })
            .await
            {
                Ok(Some(snap)) => {
                    subs.depth.retain(|(x, _)| *x != m);
                    subs.depth.push((m, snap.seq));
                    let mut v = json!(snap);
                    v["channel"] = json!("depth_snapshot");
                    Some(v.to_string())
                }
                Ok(None) => Some(ws_error(req.id, "unknown_market", "no such market")),
                Err(e) => Some(ws_error(req.id, e.code, e.message)),
            }
        }
        ("subscribe", Some("trades")) | ("subscribe", Some("bbo")) => {
            let Some(m) = req.market else {
                return Some(ws_error(req.id, "malformed", "this channel needs a market"));
            };
            if req.channel.as_deref() == Some("trades") {
                subs.trades.push(m);
            } else {
                subs.bbo.push(m);
            }
            Some(json!({"channel": "subscribed", "id": req.id}).to_string())
        }
        ("subscribe", Some("orders")) => match req.account.as_deref().map(parse_address) {
            Some(Ok(a)) => {
                if subs.orders.is_empty() {
                    api.engine.order_interest(1);
                }
                subs.orders.push(a);
                Some(json!({"channel": "subscribed", "id": req.id}).to_string())
            }
            Some(Err(m)) => Some(ws_error(req.id, "malformed", m)),
            None => Some(ws_error(req.id, "malformed", "orders needs an account")),
        },
        ("subscribe", Some("batches")) => {
            subs.batches = true;
            Some(json!({"channel": "subscribed", "id": req.id}).to_string())
        }
        _ => Some(ws_error(req.id, "malformed", "unknown op or channel")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command told apart by its nonce (the queue does not look at signatures).
    fn job(nonce: u64) -> Job {
        let action = Action::Withdraw { asset: AssetId(1), amount: zkclob_core::Amount(1) };
        let command = Command::Signed(SignedCommand { signer: [1; 64], nonce, action, signature: [2; 64] });
        let (answer, _) = tokio::sync::oneshot::channel();
        Job { command, client_id: None, answer }
    }

    fn nonce(j: &Job) -> u64 {
        match &j.command {
            Command::Signed(c) => c.nonce,
            Command::Deposit { .. } => unreachable!(),
        }
    }

    #[test]
    fn a_full_intake_refuses_and_keeps_what_it_holds() {
        let q = IntakeQueue::default();
        for n in 0..CHECKER_QUEUE as u64 {
            assert!(q.push(job(n)).is_ok());
        }
        assert!(q.push(job(u64::MAX)).is_err());
        let s = q.lock();
        assert_eq!(s.queue.len(), CHECKER_QUEUE);
        assert_eq!(s.queue.back().map(nonce), Some(CHECKER_QUEUE as u64 - 1));
    }

    /// Two threads take while order entry pushes: the takes, put in ticket order, are the
    /// commands in the order pushed, each once; when order entry is gone both threads end.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn takes_in_ticket_order_are_the_commands_in_arrival_order() {
        let queue = Arc::new(IntakeQueue::default());
        let sender = IntakeSender(queue.clone());
        let takers: Vec<_> = (0..2)
            .map(|i| {
                let q = queue.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    // One thread as under load (it waits to fill groups), one as when idle.
                    while let Some((ticket, jobs)) = q.take(if i == 0 { 50_000.0 } else { 0.0 }) {
                        got.push((ticket, jobs.iter().map(nonce).collect::<Vec<_>>()));
                        if ticket % 7 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(300));
                        }
                    }
                    got
                })
            })
            .collect();
        let total = 5_000u64;
        for n in 0..total {
            sender.0.push(job(n)).expect("room");
            if n % 50 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
        drop(sender);
        let mut takes: Vec<(u64, Vec<u64>)> = takers.into_iter().flat_map(|t| t.join().unwrap()).collect();
        takes.sort();
        let tickets: Vec<u64> = takes.iter().map(|t| t.0).collect();
        assert_eq!(tickets, (0..takes.len() as u64).collect::<Vec<_>>(), "tickets are consecutive");
        assert!(takes.iter().all(|t| !t.1.is_empty() && t.1.len() <= MAX_TAKE));
        let order: Vec<u64> = takes.into_iter().flat_map(|t| t.1).collect();
        assert_eq!(order, (0..total).collect::<Vec<_>>());
    }
}
