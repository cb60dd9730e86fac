//! TCP options (RFC 9293 §3.2, RFC 6691 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK): decoding
//! with strict length checks, and emission in Linux's aligned layout.

use super::{Error, Result};
use crate::tcp::SeqNum;

/// Most option bytes a header can carry (data offset 15 words minus the fixed 5).
pub(crate) const MAX_OPTIONS_LEN: usize = 40;
/// Options are padded to whole 32-bit words.
const WORD: usize = 4;

/// How many SACK blocks fit in `room` option bytes, in the aligned layout [`TcpOptions::emit`] writes (two
/// NOPs, kind and length, then 8 bytes a block; at most four).
pub fn sack_blocks_within(room: usize) -> usize {
    let base = 2 + usize::from(option_len::SACK_BASE);
    (room.saturating_sub(base) / usize::from(option_len::SACK_BLOCK)).min(option_len::MAX_SACK_BLOCKS)
}

/// Option bytes `blocks` SACK blocks take in that layout (none for none).
pub fn sack_option_len(blocks: usize) -> usize {
    if blocks == 0 {
        0
    } else {
        2 + usize::from(option_len::SACK_BASE) + blocks * usize::from(option_len::SACK_BLOCK)
    }
}

/// Option kinds (IANA "TCP Option Kind Numbers").
mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
}

/// Option lengths, kind and length bytes included.
mod option_len {
    pub const MSS: u8 = 4;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 2;
    pub const TIMESTAMP: u8 = 10;
    /// Kind and length bytes; SACK blocks follow.
    pub const SACK_BASE: u8 = 2;
    pub const SACK_BLOCK: u8 = 8;
    /// RFC 2018 §3: at most 4 blocks fit in 40 option bytes.
    pub const MAX_SACK_BLOCKS: usize = 4;
}

/// RFC 7323 §2.3: a received shift above 14 must be treated as 14.
const MAX_WINDOW_SCALE: u8 = 14;

/// The options of one segment, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// Maximum segment size the sender can receive (SYN only).
    pub mss: Option<u16>,
    /// Window scale shift (SYN only); clamped to 14 on parse.
    pub window_scale: Option<u8>,
    /// SACK may be used on this connection (SYN only).
    pub sack_permitted: bool,
    /// Received blocks `(left edge, right edge)`, most recent first; `None`s are skipped on emit.
    pub sack_blocks: [Option<(SeqNum, SeqNum)>; 4],
    /// `(TSval, TSecr)`.
    pub timestamp: Option<(u32, u32)>,
}

impl TcpOptions {
    /// No option set (`TcpOptions::default()`, usable in constants).
    pub(crate) const NONE: TcpOptions =
        TcpOptions { mss: None, window_scale: None, sack_permitted: false, sack_blocks: [None; 4], timestamp: None };
}

/// Converts an option's value to a fixed-size array; a different size is a malformed option.
fn option_value<const N: usize>(value: &[u8]) -> Result<[u8; N]> {
    value.try_into().map_err(|_| Error::BadOption)
}

fn be_u32(b: [u8; 4]) -> u32 {
    u32::from_be_bytes(b)
}

/// Appends bytes to an options buffer.
struct OptionWriter<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl OptionWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }
}

impl TcpOptions {
    /// Decodes the option bytes of a header strictly, for tools that show what is wrong with a segment. Unknown
    /// kinds are skipped by their length; a length that is wrong for a known kind, below 2, or that runs past the
    /// end is `BadOption`. The stack itself reads options with [`TcpOptions::parse_tolerant`].
    pub fn parse(bytes: &[u8]) -> Result<TcpOptions> {
        Self::decode(bytes, true)
    }

    /// Decodes the option bytes of a header as the stack takes them (RFC 9293 §3.1 MUST-6/MUST-7, as Linux's
    /// `tcp_parse_options`): a known option of the wrong length is ignored, and a length below 2 or one that runs
    /// past the end stops the decoding, keeping the options before it. The segment itself is processed: a peer
    /// or middlebox that repeats an odd option in every retransmission would otherwise stall the connection.
    ///
    /// Inlined into [`TcpRepr::parse_unverified`](super::TcpRepr::parse_unverified), so the options are
    /// written straight into the segment it returns: returned from a call, they were copied in 16-byte pieces
    /// over fields just written narrower (the CPU stalls when store forwarding fails), twice per segment.
    #[inline]
    pub fn parse_tolerant(bytes: &[u8]) -> TcpOptions {
        if bytes.is_empty() {
            // Nearly every segment after the handshake: skipping the loop's setup is measurably cheaper
            // (~0.5 % of the instructions of a bulk transfer) though the loop would give the same answer.
            return TcpOptions::default();
        }
        // Never an error: every malformation is skipped or ends the decoding.
        Self::decode(bytes, false).unwrap_or_default()
    }

    /// Both decodings: `strict` fails on what the tolerant one skips or stops at.
    #[inline]
    fn decode(bytes: &[u8], strict: bool) -> Result<TcpOptions> {
        let mut opts = TcpOptions::default();
        let mut rest = bytes;
        while let Some((&kind, after_kind)) = rest.split_first() {
            match kind {
                kind::END => break,
                kind::NOP => {
                    rest = after_kind;
                    continue;
                }
                _ => {}
            }
            let len = after_kind.first().map_or(0, |&l| usize::from(l));
            if len < 2 || len > rest.len() {
                if strict {
                    return Err(Error::BadOption);
                }
                break;
            }
            let (option, tail) = rest.split_at(len);
            if Self::decode_one(kind, &option[2..], &mut opts).is_err() && strict {
                return Err(Error::BadOption);
            }
            rest = tail;
        }
        Ok(opts)
    }

    /// Takes one option of a known kind into `opts` (unknown kinds are skipped); `BadOption`, leaving `opts` as
    /// it was, when `value` has the wrong length.
    #[inline]
    fn decode_one(kind: u8, value: &[u8], opts: &mut TcpOptions) -> Result<()> {
        match kind {
            kind::MSS => opts.mss = Some(u16::from_be_bytes(option_value(value)?)),
            kind::WINDOW_SCALE => {
                let [shift] = option_value(value)?;
                opts.window_scale = Some(shift.min(MAX_WINDOW_SCALE));
            }
            kind::SACK_PERMITTED => {
                option_value::<0>(value)?;
                opts.sack_permitted = true;
            }
            kind::SACK => opts.sack_blocks = Self::parse_sack_blocks(value)?,
            kind::TIMESTAMP => {
                let [a, b, c, d, e, f, g, h] = option_value(value)?;
                opts.timestamp = Some((be_u32([a, b, c, d]), be_u32([e, f, g, h])));
            }
            _ => {}
        }
        Ok(())
    }

    /// RFC 2018 §3: 1 to 4 blocks of two 32-bit edges.
    fn parse_sack_blocks(value: &[u8]) -> Result<[Option<(SeqNum, SeqNum)>; 4]> {
        let block_len = usize::from(option_len::SACK_BLOCK);
        let count = value.len() / block_len;
        if count * block_len != value.len() || count == 0 || count > option_len::MAX_SACK_BLOCKS {
            return Err(Error::BadOption);
        }
        let mut blocks = [None; 4];
        for (slot, b) in blocks.iter_mut().zip(value.chunks_exact(block_len)) {
            let left = be_u32([b[0], b[1], b[2], b[3]]);
            let right = be_u32([b[4], b[5], b[6], b[7]]);
            *slot = Some((SeqNum(left), SeqNum(right)));
        }
        Ok(blocks)
    }

    /// Bytes of everything but the SACK blocks, as [`emit`](Self::emit) lays them out (a multiple of 4).
    fn fixed_len(&self) -> usize {
        let mut len = 0;
        if self.mss.is_some() {
            len += usize::from(option_len::MSS);
        }
        if self.sack_permitted && self.timestamp.is_some() {
            len += usize::from(option_len::SACK_PERMITTED + option_len::TIMESTAMP);
        } else {
            if self.sack_permitted {
                len += 2 + usize::from(option_len::SACK_PERMITTED);
            }
            if self.timestamp.is_some() {
                len += 2 + usize::from(option_len::TIMESTAMP);
            }
        }
        if self.window_scale.is_some() {
            len += 1 + usize::from(option_len::WINDOW_SCALE);
        }
        len
    }

    /// How many SACK blocks `emit` writes: the present ones, minus trailing ones that do not fit in 40 bytes.
    fn emitted_sack_blocks(&self) -> usize {
        let present = self.sack_blocks.iter().flatten().count();
        present.min(sack_blocks_within(MAX_OPTIONS_LEN.saturating_sub(self.fixed_len())))
    }

    /// No option set: the case of nearly every segment after the handshake, answered without the layout sums.
    fn none_set(&self) -> bool {
        self.mss.is_none()
            && self.window_scale.is_none()
            && !self.sack_permitted
            && self.timestamp.is_none()
            && self.sack_blocks.iter().all(Option::is_none)
    }

    /// Bytes [`emit`](Self::emit) writes: padded to a multiple of 4, at most 40.
    pub fn len(&self) -> usize {
        if self.none_set() {
            return 0;
        }
        (self.fixed_len() + sack_option_len(self.emitted_sack_blocks())).next_multiple_of(WORD)
    }

    /// Whether no option is set (then nothing is emitted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the options in Linux's aligned layout and returns [`len`](Self::len); `buf` must hold that
    /// many bytes. SACK blocks that would push the options past 40 bytes are dropped from the end.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        if self.none_set() {
            return 0;
        }
        let mut w = OptionWriter { buf, at: 0 };
        if let Some(mss) = self.mss {
            let [hi, lo] = mss.to_be_bytes();
            w.put(&[kind::MSS, option_len::MSS, hi, lo]);
        }
        let timestamp = |(tsval, tsecr): (u32, u32)| {
            let mut ts = [0u8; option_len::TIMESTAMP as usize];
            ts[0] = kind::TIMESTAMP;
            ts[1] = option_len::TIMESTAMP;
            ts[2..6].copy_from_slice(&tsval.to_be_bytes());
            ts[6..10].copy_from_slice(&tsecr.to_be_bytes());
            ts
        };
        let sack_permitted = [kind::SACK_PERMITTED, option_len::SACK_PERMITTED];
        match (self.sack_permitted, self.timestamp) {
            (true, Some(ts)) => {
                w.put(&sack_permitted);
                w.put(&timestamp(ts));
            }
            (sack_ok, ts) => {
                if sack_ok {
                    w.put(&[kind::NOP, kind::NOP]);
                    w.put(&sack_permitted);
                }
                if let Some(ts) = ts {
                    w.put(&[kind::NOP, kind::NOP]);
                    w.put(&timestamp(ts));
                }
            }
        }
        if let Some(shift) = self.window_scale {
            w.put(&[kind::NOP, kind::WINDOW_SCALE, option_len::WINDOW_SCALE, shift]);
        }
        let blocks = self.emitted_sack_blocks();
        if blocks > 0 {
            // At most 4 blocks of 8 bytes, so the length fits a byte.
            let len = option_len::SACK_BASE + blocks as u8 * option_len::SACK_BLOCK;
            w.put(&[kind::NOP, kind::NOP, kind::SACK, len]);
            for (left, right) in self.sack_blocks.iter().flatten().take(blocks) {
                w.put(&left.0.to_be_bytes());
                w.put(&right.0.to_be_bytes());
            }
        }
        let padded = w.at.next_multiple_of(WORD);
        w.buf[w.at..padded].fill(kind::END);
        padded
    }
}
