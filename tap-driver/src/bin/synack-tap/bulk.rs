//! Bulk transfer modes: `send` (client, seeded pseudo-random bytes) and `recv` (sink); both print sha256.

use crate::cli::Cli;
use crate::servers::{say, IDLE_TIMEOUT};
use crate::ModeResult;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddrV4};
use std::time::{Duration, Instant};
use synack_tap::{Handle, TcpStream};

const CHUNK: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    format!("{:.3} s, {:.1} Mbit/s", secs, bytes as f64 * 8.0 / secs / 1e6)
}

/// Reads a connection to its end; the line names the byte count and sha256 of everything read.
pub fn recv(mut s: TcpStream) -> io::Result<String> {
    let start = Instant::now();
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        total += n as u64;
    }
    Ok(format!("received {total} bytes sha256 {} in {}", hex(&hash.finalize()), rate(total, start.elapsed())))
}

/// Connects to `remote`, sends `bytes` bytes from a ChaCha stream seeded with `--seed`, closes, and waits for
/// the peer to close too.
pub fn send(handle: &Handle, cli: &Cli, remote: SocketAddrV4, bytes: u64) -> ModeResult {
    let fail = |what: &str, e: io::Error| {
        if handle.is_stopped() {
            format!("stopped while {what}")
        } else {
            format!("{what} {remote}: {e}")
        }
    };
    say(&format!("ready: send {bytes} bytes to {remote} from {}", cli.ip.addr()));
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(handle, remote, CONNECT_TIMEOUT).map_err(|e| fail("connecting to", e))?;
    s.set_write_timeout(Some(IDLE_TIMEOUT)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(IDLE_TIMEOUT)).map_err(|e| e.to_string())?;
    let mut rng = ChaCha8Rng::seed_from_u64(cli.seed);
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        rng.fill_bytes(&mut buf[..n]);
        hash.update(&buf[..n]);
        s.write_all(&buf[..n]).map_err(|e| fail("sending to", e))?;
        left -= n as u64;
    }
    s.shutdown(Shutdown::Write).map_err(|e| fail("closing the connection to", e))?;
    // The peer's FIN (after it read everything) ends the transfer; whatever it sent is read and ignored.
    let mut sink = Vec::new();
    let waited = (&s).read_to_end(&mut sink);
    // Timed to the peer's FIN: by then it has received (and acknowledged) every byte.
    let digest = hex(&hash.finalize());
    say(&format!("sent {bytes} bytes sha256 {digest} to {remote} in {}", rate(bytes, start.elapsed())));
    waited.map(|_| ()).map_err(|e| fail("waiting for the peer to close", e))
}
