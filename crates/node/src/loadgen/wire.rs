//! The generator's side of a WebSocket, without an async runtime: frames written from
//! pre-encoded bytes and read by hand over non-blocking sockets, so that one thread can keep
//! the schedule, write and read every connection, and wait for all of them in one `ppoll`.
//!
//! Only what order entry needs: the opening handshake is tungstenite's; after it, client
//! frames are single masked binary frames (encoded once, before the run, by [`encode_binary`])
//! and server frames must be unfragmented and unmasked — anything else ends the connection with
//! [`WireError`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context;

/// Bytes asked of the socket per `read`.
const READ_CHUNK: usize = 64 * 1024;
/// Largest server frame accepted (acks and errors are a few hundred bytes).
pub const MAX_SERVER_FRAME: usize = 1 << 20;

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The node closed the connection (a close frame or end of stream).
    #[error("the node closed the connection")]
    Closed,
    /// A socket error.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
    /// A frame this reader does not take: masked, fragmented, reserved bits, oversized.
    #[error("unexpected WebSocket frame: {0}")]
    Protocol(&'static str),
}

/// One frame of a text or binary message from the node.
pub enum Incoming<'a> {
    /// A text message.
    Text(&'a str),
    /// Anything else that needs no answer (binary, pong).
    Other,
}

/// `payload` as one client frame (FIN, binary, masked with `mask`), appended to `out`.
pub fn encode_binary(payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    encode(0x2, payload, mask, out);
}

fn encode(opcode: u8, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
}

/// One connection: the socket (non-blocking after the handshake), what is left to write, and
/// what was read but not yet parsed.
pub struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    written: usize,
    /// Read bytes: `parsed..filled` wait to be parsed.
    inbuf: Vec<u8>,
    parsed: usize,
    filled: usize,
}

impl Conn {
    /// Opens a WebSocket to the node's `/v1/ws` (blocking handshake), then makes the socket
    /// non-blocking with Nagle off (frames go out in bursts and must not wait for acks).
    pub fn connect(target: SocketAddr) -> anyhow::Result<Conn> {
        let url = format!("ws://{target}/v1/ws");
        let stream = TcpStream::connect_timeout(&target, Duration::from_secs(5))
            .with_context(|| format!("connecting to {target}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let (ws, _) = tokio_tungstenite::tungstenite::client::client(url.as_str(), stream.try_clone()?)
            .map_err(|e| anyhow::anyhow!("WebSocket handshake with {url}: {e}"))?;
        // The node sends nothing before the first request, so tungstenite holds no read bytes.
        drop(ws);
        stream.set_read_timeout(None)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        Ok(Conn {
            stream,
            out: Vec::with_capacity(READ_CHUNK),
            written: 0,
            inbuf: Vec::new(),
            parsed: 0,
            filled: 0,
        })
    }

    /// The socket, for `ppoll`.
    #[cfg(unix)]
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.stream.as_raw_fd()
    }

    /// Queues encoded frames.
    pub fn queue(&mut self, frames: &[u8]) {
        self.out.extend_from_slice(frames);
    }

    /// Whether queued bytes wait for the socket.
    pub fn wants_write(&self) -> bool {
        self.written < self.out.len()
    }

    /// Writes what the socket takes now.
    pub fn flush(&mut self) -> Result<(), WireError> {
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(WireError::Closed),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        if self.written == self.out.len() {
            self.out.clear();
            self.written = 0;
        }
        Ok(())
    }

    /// Reads what the socket has and hands each complete message to `on`; answers pings.
    pub fn read(&mut self, mut on: impl FnMut(Incoming<'_>)) -> Result<(), WireError> {
        loop {
            // Room for a whole chunk after what is buffered; zeroed once, when the buffer grows.
            if self.inbuf.len() < self.filled + READ_CHUNK {
                self.inbuf.resize(self.filled + READ_CHUNK, 0);
            }
            let got = match self.stream.read(&mut self.inbuf[self.filled..]) {
                Ok(0) => return Err(WireError::Closed),
                Ok(n) => n,
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e.into()),
                },
            };
            self.filled += got;
            if got < READ_CHUNK {
                break;
            }
        }
        let mut pong = Vec::new();
        while let Some((opcode, start, end)) = frame_at(&self.inbuf[self.parsed..self.filled])? {
            let payload = &self.inbuf[self.parsed + start..self.parsed + end];
            match opcode {
                0x1 => on(Incoming::Text(
                    std::str::from_utf8(payload).map_err(|_| WireError::Protocol("text frame not UTF-8"))?,
                )),
                0x8 => return Err(WireError::Closed),
                0x9 => encode(0xA, payload, [0x5A, 0xA5, 0x3C, 0xC3], &mut pong),
                _ => on(Incoming::Other),
            }
            self.parsed += end;
        }
        if self.parsed == self.filled {
            self.parsed = 0;
            self.filled = 0;
        } else if self.parsed > READ_CHUNK {
            self.inbuf.copy_within(self.parsed..self.filled, 0);
            self.filled -= self.parsed;
            self.parsed = 0;
        }
        if !pong.is_empty() {
            self.queue(&pong);
            self.flush()?;
        }
        Ok(())
    }

    /// Sends a close frame if the socket takes it now; the connection is dropped after.
    pub fn close(&mut self) {
        let mut f = Vec::new();
        encode(0x8, &[], [1, 2, 3, 4], &mut f);
        self.queue(&f);
        let _ = self.flush();
    }
}

/// The first frame of `buf` if it is complete: opcode and payload range. Server frames are
/// unmasked, final and without reserved bits (no extension is negotiated).
fn frame_at(buf: &[u8]) -> Result<Option<(u8, usize, usize)>, WireError> {
    let [b0, b1, ..] = *buf else { return Ok(None) };
    if b0 & 0x70 != 0 {
        return Err(WireError::Protocol("reserved bits set"));
    }
    if b0 & 0x80 == 0 || b0 & 0x0F == 0 {
        return Err(WireError::Protocol("fragmented message"));
    }
    if b1 & 0x80 != 0 {
        return Err(WireError::Protocol("masked server frame"));
    }
    let (len, header) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u16::from_be_bytes([b[0], b[1]]) as u64, 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => (u64::from_be_bytes(b.try_into().expect("8 bytes")), 10),
            None => return Ok(None),
        },
        n => (n as u64, 2),
    };
    if len > MAX_SERVER_FRAME as u64 {
        return Err(WireError::Protocol("frame larger than the generator takes"));
    }
    let end = header + len as usize;
    Ok((buf.len() >= end).then_some((b0 & 0x0F, header, end)))
}

/// Waits until one of `conns` can be read (or written, where bytes wait) or `timeout` passes.
#[cfg(unix)]
pub fn wait(conns: &[Conn], live: &[bool], timeout: Duration, fds: &mut Vec<libc::pollfd>) {
    fds.clear();
    for (c, &alive) in conns.iter().zip(live) {
        let events = if !alive {
            0
        } else if c.wants_write() {
            libc::POLLIN | libc::POLLOUT
        } else {
            libc::POLLIN
        };
        fds.push(libc::pollfd { fd: if alive { c.fd() } else { -1 }, events, revents: 0 });
    }
    #[cfg(target_os = "linux")]
    let ready = {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs for the call's
        // duration; a null signal mask leaves the mask unchanged.
        unsafe { libc::ppoll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, &ts, std::ptr::null()) }
    };
    // Without ppoll: whole milliseconds, rounded up.
    #[cfg(not(target_os = "linux"))]
    let ready = {
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: as above.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) }
    };
    if ready <= 0 {
        // A timeout, or an interrupted or failed wait: nothing is known to be ready; the
        // caller's next round reads no socket and writes what waits.
        fds.iter_mut().for_each(|f| f.revents = 0);
    }
}

/// Whether the last [`wait`] saw connection `c` readable (or closed, or in error).
#[cfg(unix)]
pub fn readable(fds: &[libc::pollfd], c: usize) -> bool {
    fds.get(c).is_some_and(|f| f.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
        let (len, at) = match frame[1] & 0x7F {
            126 => (u16::from_be_bytes([frame[2], frame[3]]) as usize, 4),
            127 => (u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize, 10),
            n => (n as usize, 2),
        };
        assert_eq!(frame[1] & 0x80, 0x80, "client frames are masked");
        let mask = &frame[at..at + 4];
        assert_eq!(frame.len(), at + 4 + len);
        (frame[0], frame[at + 4..].iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect())
    }

    #[test]
    fn client_frames_round_trip_at_every_length_form() {
        for len in [0, 1, 125, 126, 200, 65_535, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut f = Vec::new();
            encode_binary(&payload, [9, 8, 7, 6], &mut f);
            let (b0, back) = unmask(&f);
            assert_eq!((b0, back), (0x82, payload), "length {len}");
        }
    }

    #[test]
    fn server_frames_parse_only_when_complete_and_refuse_what_is_not_taken() {
        let text = b"{\"channel\":\"ack\"}";
        let mut f = vec![0x81, text.len() as u8];
        f.extend_from_slice(text);
        for cut in 0..f.len() {
            assert!(frame_at(&f[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        assert_eq!(frame_at(&f).unwrap(), Some((1, 2, f.len())));
        let mut long = vec![0x81, 126, 0x01, 0x00];
        long.extend(std::iter::repeat_n(b'a', 256));
        assert_eq!(frame_at(&long).unwrap(), Some((1, 4, 260)));
        for (bad, why) in [
            (vec![0x01, 0], "fragmented"),
            (vec![0x80, 0], "fragmented"),
            (vec![0xC1, 0], "reserved"),
            (vec![0x81, 0x80, 0, 0, 0, 0], "masked"),
            (vec![0x81, 127, 0, 0, 0, 0, 0x10, 0, 0, 0], "larger"),
        ] {
            let e = frame_at(&bad).unwrap_err().to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
    }
}
