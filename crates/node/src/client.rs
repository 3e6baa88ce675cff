//! A small blocking client for the node's REST API, and [`Signer`], which keeps an account's
//! nonce and signs its commands. One keep-alive HTTP/1.1 connection over `std::net`, no
//! extra dependencies.
//!
//! ```no_run
//! use zkclob_node::client::{Client, Signer};
//! use zkclob_node::crypto::Keypair;
//! use zkclob_book::{OrderKind, StpMode, TimeInForce};
//! use zkclob_core::{MarketId, Price, Qty, Side};
//! use zkclob_state::{Action, OrderParams};
//! # fn main() -> anyhow::Result<()> {
//! let mut c = Client::connect("127.0.0.1:8080")?;
//! let key = Keypair::from_seed(b"alice");
//! c.faucet(&key.address(), 3, 1_000_000_000)?; // development deposit
//! let mut alice = Signer::for_account(&mut c, key)?; // fetches chain id and nonce
//! let params = OrderParams {
//!     market: MarketId(1),
//!     side: Side::Buy,
//!     kind: OrderKind::Limit,
//!     price: Price(2_000),
//!     qty: Qty(5),
//!     tif: TimeInForce::Gtc,
//!     post_only: false,
//!     display_qty: None,
//!     stp: StpMode::CancelNewest,
//! };
//! let ack = c.submit(&alice.sign(Action::Place(params)))?;
//! println!("{ack}");
//! # Ok(()) }
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use zkclob_state::{Action, Address, Command};

use crate::crypto::Keypair;

/// A response: HTTP status and JSON body (a string value for non-JSON bodies).
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl Reply {
    /// The body if the status is 2xx, else an error carrying the server's message.
    pub fn ok(self) -> anyhow::Result<Value> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            Err(anyhow!("HTTP {}: {}", self.status, self.body))
        }
    }
}

/// A blocking REST client.
pub struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    timeout: Duration,
}

impl Client {
    /// A client of the node at `addr` (e.g. `127.0.0.1:8080`); connects lazily.
    pub fn connect(addr: impl ToSocketAddrs) -> anyhow::Result<Client> {
        let addr = addr.to_socket_addrs()?.next().ok_or_else(|| anyhow!("no address"))?;
        Ok(Client { addr, conn: None, timeout: Duration::from_secs(30) })
    }

    /// The node's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn stream(&mut self) -> anyhow::Result<&mut BufReader<TcpStream>> {
        if self.conn.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, self.timeout)
                .with_context(|| format!("connecting to the node at {}", self.addr))?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(self.timeout))?;
            self.conn = Some(BufReader::new(s));
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// One request; retried once on a fresh connection if the kept-alive one was closed.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> anyhow::Result<Reply> {
        // A failure on a connection kept from an earlier request may only mean the node closed
        // it meanwhile: one retry on a new connection. (A command sent twice is answered with its
        // original ack, so the retry is safe.)
        let reused = self.conn.is_some();
        match self.try_request(method, path, content_type, body) {
            Err(_) if reused => self.try_request(method, path, content_type, body),
            result => result,
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> anyhow::Result<Reply> {
        let host = self.addr;
        let r = self.stream()?;
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n", body.len());
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str("\r\n");
        let s = r.get_mut();
        let written = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body)).and_then(|_| s.flush());
        if let Err(e) = written {
            // The server may have answered and closed early (e.g. 413 for an oversized body).
            let early = read_response(r);
            self.conn = None;
            return early.map_err(|_| e.into());
        }
        let result = read_response(r);
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// GET a JSON resource.
    pub fn get(&mut self, path: &str) -> anyhow::Result<Reply> {
        self.request("GET", path, "", &[])
    }

    /// POST JSON.
    pub fn post_json(&mut self, path: &str, body: &Value) -> anyhow::Result<Reply> {
        self.request("POST", path, "application/json", body.to_string().as_bytes())
    }

    /// Submits a signed command (binary body) to `/v1/commands`.
    pub fn submit(&mut self, command: &Command) -> anyhow::Result<Reply> {
        let bytes = borsh::to_vec(command)?;
        self.request("POST", "/v1/commands", "application/octet-stream", &bytes)
    }

    /// The node's chain id.
    pub fn chain_id(&mut self) -> anyhow::Result<u64> {
        let info = self.get("/v1/info")?.ok()?;
        info["chain_id"].as_u64().ok_or_else(|| anyhow!("/v1/info has no chain_id"))
    }

    /// An account's next nonce (0 for an unknown account).
    pub fn nonce(&mut self, who: &Address) -> anyhow::Result<u64> {
        let r = self.get(&format!("/v1/accounts/{who}"))?;
        match r.status {
            404 => Ok(0),
            _ => r.ok()?["nonce"].as_u64().ok_or_else(|| anyhow!("account has no nonce")),
        }
    }

    /// Development deposit (the node's faucet must be on).
    pub fn faucet(&mut self, who: &Address, asset: u32, amount: u128) -> anyhow::Result<Value> {
        self.post_json(
            "/v1/dev/faucet",
            &json!({"address": who.to_string(), "asset": asset, "amount": amount.to_string()}),
        )?
        .ok()
    }

    /// The available balance of `asset` (0 for an unknown account).
    pub fn available(&mut self, who: &Address, asset: u32) -> anyhow::Result<u128> {
        let r = self.get(&format!("/v1/accounts/{who}"))?;
        if r.status == 404 {
            return Ok(0);
        }
        let a = r.ok()?;
        Ok(a["balances"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["asset"] == asset)
            .filter_map(|b| b["available"].as_str().and_then(|x| x.parse::<u128>().ok()))
            .sum())
    }

    /// [`Client::faucet`], then waits until the deposit is credited: at once on a node without
    /// an L1, with the next batch when the faucet deposits on the node's L1 (up to `timeout`).
    pub fn faucet_credited(
        &mut self,
        who: &Address,
        asset: u32,
        amount: u128,
        timeout: std::time::Duration,
    ) -> anyhow::Result<Value> {
        let before = self.available(who, asset)?;
        let out = self.faucet(who, asset, amount)?;
        if out["status"] != "deposited_on_l1" {
            return Ok(out);
        }
        let t0 = std::time::Instant::now();
        while self.available(who, asset)? < before.saturating_add(amount) {
            if t0.elapsed() > timeout {
                bail!("the L1 deposit to {who} was not credited within {timeout:?}: {out}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(out)
    }
}

fn read_response(r: &mut BufReader<TcpStream>) -> anyhow::Result<Reply> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        bail!("the node closed the connection");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP status line: {line:?}"))?;
    let (mut len, mut chunked, mut close) = (None, false, false);
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap_or((l, ""));
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        match k.as_str() {
            "content-length" => len = v.parse::<usize>().ok(),
            "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
            "connection" => close = v.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| anyhow!("bad chunk size {line:?}"))?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = len {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    let _ = close;
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    Ok(Reply { status, body })
}

/// An account's key and next nonce: signs commands in order.
#[derive(Clone, Debug)]
pub struct Signer {
    /// The key.
    pub key: Keypair,
    /// The next nonce to use.
    pub nonce: u64,
    /// Chain id.
    pub chain_id: u64,
}

impl Signer {
    /// A signer starting at `nonce`.
    pub fn new(key: Keypair, chain_id: u64, nonce: u64) -> Signer {
        Signer { key, nonce, chain_id }
    }

    /// A signer whose chain id and nonce come from the node.
    pub fn for_account(client: &mut Client, key: Keypair) -> anyhow::Result<Signer> {
        let chain_id = client.chain_id()?;
        let nonce = client.nonce(&key.address())?;
        Ok(Signer { key, nonce, chain_id })
    }

    /// The account.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Signs `action` with the next nonce and advances it. If the node refuses or rejects the
    /// command the nonce was not consumed: call [`Signer::unuse`].
    pub fn sign(&mut self, action: Action) -> Command {
        let c = self.key.sign(self.chain_id, self.nonce, action);
        self.nonce += 1;
        c
    }

    /// Gives back the last nonce (after a refusal or a rejection).
    pub fn unuse(&mut self) {
        self.nonce = self.nonce.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers each connection's first request and then closes it.
    fn one_shot_server() -> SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for (i, s) in l.incoming().enumerate().take(3) {
                let mut s = s.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let body = format!("{{\"n\":{i}}}");
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                // Dropped: the kept-alive connection is gone before the next request.
            }
        });
        addr
    }

    #[test]
    fn a_kept_alive_connection_closed_by_the_node_is_replaced_once() {
        let mut c = Client::connect(one_shot_server()).unwrap();
        assert_eq!(c.get("/a").unwrap().body["n"], 0);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(c.get("/b").unwrap().body["n"], 1, "the retry went to a new connection");
    }
}
