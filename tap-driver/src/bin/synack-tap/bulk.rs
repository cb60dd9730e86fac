//! The bulk client, `send` (seeded pseudo-random bytes), which prints their sha256 unless told `--no-hash`
//! (benchmarks: no per-byte work in the application besides moving the bytes). Its counterpart `recv` is a
//! service of the server app.

use crate::cli::Cli;
use crate::server_app::{say, IDLE_TIMEOUT};
use crate::ModeResult;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};
use synack_tap::{Handle, TcpStream};

/// Application writes: a default send buffer's worth.
const WRITE_CHUNK: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    format!("{:.3} s, {:.1} Mbit/s", secs, bytes as f64 * 8.0 / secs / 1e6)
}

/// Connects to `remote`, sends `bytes` bytes from a ChaCha stream seeded with `--seed` (with `no_hash`, its
/// first 256 KiB over and over), closes, and waits for the peer to close too.
pub fn send(handle: &Handle, cli: &Cli, remote: SocketAddr, bytes: u64, no_hash: bool) -> ModeResult {
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
    let mut hash = (!no_hash).then(Sha256::new);
    let mut buf = vec![0u8; WRITE_CHUNK];
    let mut left = bytes;
    if let Some(h) = &mut hash {
        while left > 0 {
            let n = left.min(WRITE_CHUNK as u64) as usize;
            rng.fill_bytes(&mut buf[..n]);
            h.update(&buf[..n]);
            s.write_all(&buf[..n]).map_err(|e| fail("sending to", e))?;
            left -= n as u64;
        }
    } else {
        // Without the hash (benchmarks), the first block of the stream is sent over and over, handed to the stack
        // as a shared buffer it keeps a reference to (no per-byte work in the application and no copy, where
        // smoltcp's benchmark copies into its socket buffer).
        rng.fill_bytes(&mut buf);
        let block = synack::Bytes::from(buf);
        while left > 0 {
            let n = left.min(WRITE_CHUNK as u64) as usize;
            let mut piece = block.slice(..n);
            while !piece.is_empty() {
                let taken = s.write_bytes(piece.clone()).map_err(|e| fail("sending to", e))?;
                if taken == 0 {
                    return Err(fail("sending to", io::ErrorKind::WriteZero.into()));
                }
                let _ = piece.split_to(taken);
            }
            left -= n as u64;
        }
    }
    s.shutdown(Shutdown::Write).map_err(|e| fail("closing the connection to", e))?;
    // The peer's FIN (after it read everything) ends the transfer; whatever it sent is read and ignored.
    let mut sink = Vec::new();
    let waited = (&s).read_to_end(&mut sink);
    // Timed to the peer's FIN: by then it has received (and acknowledged) every byte.
    let digest = hash.map(|h| format!(" sha256 {}", hex(&h.finalize()))).unwrap_or_default();
    say(&format!("sent {bytes} bytes{digest} to {remote} in {}", rate(bytes, start.elapsed())));
    waited.map(|_| ()).map_err(|e| fail("waiting for the peer to close", e))
}
