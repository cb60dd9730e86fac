//! DNS messages (RFC 1035 §4): queries a stub resolver sends and the parts of responses it reads (header,
//! question, answer records of type A and CNAME).
//!
//! Names in responses may be compressed (RFC 1035 §4.1.4); a pointer must point strictly backwards, so a
//! chain of them always ends, and a name may not exceed 255 bytes. Every length is checked against the buffer:
//! no input makes parsing panic, loop or read out of bounds.

use super::{Error, Result};
use core::fmt;
use core::net::Ipv4Addr;

/// The DNS port (UDP and TCP).
pub const PORT: u16 = 53;
/// The largest DNS message over UDP without EDNS (RFC 1035 §4.2.1); a longer answer is truncated (TC).
pub const UDP_MAX: usize = 512;
const HEADER_LEN: usize = 12;
/// RFC 1035 §3.1: a name is at most 255 bytes on the wire, a label at most 63.
const MAX_NAME_WIRE: usize = 255;
const MAX_LABEL: usize = 63;
/// Records a parsed response keeps; the rest are ignored (a stub needs a handful).
pub const MAX_RECORDS: usize = 64;

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type CNAME.
pub const TYPE_CNAME: u16 = 5;
/// An IPv6 address record (RFC 3596).
pub const TYPE_AAAA: u16 = 28;
/// Class IN.
pub const CLASS_IN: u16 = 1;

/// A domain name: lower-case labels joined by dots, without the trailing dot (`example.com`; the root is
/// empty). Labels hold letters, digits, `-` and `_` only, so every name prints as it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnsName(String);

/// Why a name given to the resolver is not a valid host name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    /// A label is empty (`a..b`) or longer than 63 bytes.
    BadLabel(String),
    /// A byte other than a letter, digit, `-` or `_`.
    BadCharacter(char),
    /// Longer than 253 characters (255 bytes on the wire).
    TooLong,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "the name is empty"),
            NameError::BadLabel(l) => write!(f, "label {l:?} must be 1 to 63 characters"),
            NameError::BadCharacter(c) => write!(f, "character {c:?} is not allowed in a host name"),
            NameError::TooLong => write!(f, "the name is longer than 253 characters"),
        }
    }
}

impl std::error::Error for NameError {}

fn label_byte_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl DnsName {
    /// Parses a host name such as `example.com` or `example.com.`.
    pub fn parse(name: &str) -> core::result::Result<DnsName, NameError> {
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_NAME_WIRE - 2 {
            return Err(NameError::TooLong);
        }
        for label in name.split('.') {
            if label.is_empty() || label.len() > MAX_LABEL {
                return Err(NameError::BadLabel(label.to_string()));
            }
            if let Some(c) = label.chars().find(|c| !c.is_ascii() || !label_byte_ok(*c as u8)) {
                return Err(NameError::BadCharacter(c));
            }
        }
        Ok(DnsName(name.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Bytes on the wire (uncompressed): each label with its length byte, then the root's zero.
    fn wire_len(&self) -> usize {
        if self.0.is_empty() {
            1
        } else {
            self.0.len() + 2
        }
    }

    fn emit(&self, out: &mut Vec<u8>) {
        if !self.0.is_empty() {
            for label in self.0.split('.') {
                out.push(label.len() as u8);
                out.extend_from_slice(label.as_bytes());
            }
        }
        out.push(0);
    }

    /// Reads a possibly compressed name starting at `at`; returns it and where the data after it starts.
    fn read(msg: &[u8], mut at: usize) -> Result<(DnsName, usize)> {
        let mut name = String::new();
        let mut wire_len = 0;
        let mut end = None;
        // Each pointer must point before the one before it: at most msg.len() jumps, and never a loop.
        let mut limit = at;
        loop {
            let len = *msg.get(at).ok_or(Error::Truncated)?;
            match len >> 6 {
                0 => {
                    let len = usize::from(len);
                    if len == 0 {
                        let next = end.unwrap_or(at + 1);
                        return Ok((DnsName(name), next));
                    }
                    let label = msg.get(at + 1..at + 1 + len).ok_or(Error::Truncated)?;
                    wire_len += len + 1;
                    if wire_len + 1 > MAX_NAME_WIRE {
                        return Err(Error::BadLength);
                    }
                    if !label.iter().all(|b| label_byte_ok(*b)) {
                        return Err(Error::BadField);
                    }
                    if !name.is_empty() {
                        name.push('.');
                    }
                    name.extend(label.iter().map(|b| b.to_ascii_lowercase() as char));
                    at += 1 + len;
                }
                3 => {
                    let low = *msg.get(at + 1).ok_or(Error::Truncated)?;
                    let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                    if target >= limit {
                        return Err(Error::BadOption);
                    }
                    end.get_or_insert(at + 2);
                    limit = target;
                    at = target;
                }
                // 01 and 10 are extended label types (RFC 6891 §5), not used by answers we read.
                _ => return Err(Error::Unsupported),
            }
        }
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The question of a message: name, type, class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuestion {
    pub name: DnsName,
    pub qtype: u16,
    pub qclass: u16,
}

/// What an answer record holds, for the types a stub resolver follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordData {
    A(Ipv4Addr),
    Aaaa(core::net::Ipv6Addr),
    Cname(DnsName),
    /// Another type (its number); its data is skipped.
    Other(u16),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: DnsName,
    pub ttl: u32,
    pub data: RecordData,
}

/// A DNS message as a stub resolver sends or reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsMessage {
    pub id: u16,
    /// QR: a response.
    pub response: bool,
    pub opcode: u8,
    /// TC: the answer did not fit (retry over TCP).
    pub truncated: bool,
    /// RD: recursion desired.
    pub recursion_desired: bool,
    /// RCODE: 0 no error, 2 server failure, 3 name error (NXDOMAIN), ...
    pub rcode: u8,
    /// The first question (a query has exactly one; responses echo it).
    pub question: Option<DnsQuestion>,
    /// Answer records of class IN (up to [`MAX_RECORDS`]); authority and additional sections are not read.
    pub answers: Vec<DnsRecord>,
}

impl DnsMessage {
    /// A recursive query for `name`'s records of type `qtype`.
    pub fn query(id: u16, name: DnsName, qtype: u16) -> DnsMessage {
        DnsMessage {
            id,
            response: false,
            opcode: 0,
            truncated: false,
            recursion_desired: true,
            rcode: 0,
            question: Some(DnsQuestion { name, qtype, qclass: CLASS_IN }),
            answers: Vec::new(),
        }
    }

    /// The message's bytes (names uncompressed).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.question.as_ref().map_or(0, |q| q.name.wire_len() + 4));
        out.extend_from_slice(&self.id.to_be_bytes());
        let flags: u16 = (u16::from(self.response) << 15)
            | (u16::from(self.opcode & 0xf) << 11)
            | (u16::from(self.truncated) << 9)
            | (u16::from(self.recursion_desired) << 8)
            | u16::from(self.rcode & 0xf);
        out.extend_from_slice(&flags.to_be_bytes());
        let answers = self.answers.len().min(MAX_RECORDS) as u16;
        for count in [u16::from(self.question.is_some()), answers, 0, 0] {
            out.extend_from_slice(&count.to_be_bytes());
        }
        if let Some(q) = &self.question {
            q.name.emit(&mut out);
            out.extend_from_slice(&q.qtype.to_be_bytes());
            out.extend_from_slice(&q.qclass.to_be_bytes());
        }
        for r in self.answers.iter().take(MAX_RECORDS) {
            r.name.emit(&mut out);
            let (rtype, rdata) = match &r.data {
                RecordData::A(a) => (TYPE_A, a.octets().to_vec()),
                RecordData::Aaaa(a) => (TYPE_AAAA, a.octets().to_vec()),
                RecordData::Cname(n) => {
                    let mut d = Vec::new();
                    n.emit(&mut d);
                    (TYPE_CNAME, d)
                }
                RecordData::Other(t) => (*t, Vec::new()),
            };
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&r.ttl.to_be_bytes());
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        out
    }

    /// Parses a message. `Truncated` when a section runs past the end, `BadOption` for a compression pointer
    /// that does not point backwards, `BadField` for a name with bytes a host name cannot have, `BadLength`
    /// for a name over 255 bytes or an A record whose data is not four bytes.
    pub fn parse(msg: &[u8]) -> Result<DnsMessage> {
        if msg.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let word = |at: usize| u16::from_be_bytes([msg[at], msg[at + 1]]);
        let flags = word(2);
        let (qdcount, ancount) = (word(4), word(6));
        let mut m = DnsMessage {
            id: word(0),
            response: flags & 0x8000 != 0,
            opcode: ((flags >> 11) & 0xf) as u8,
            truncated: flags & 0x0200 != 0,
            recursion_desired: flags & 0x0100 != 0,
            rcode: (flags & 0xf) as u8,
            question: None,
            answers: Vec::new(),
        };
        let mut at = HEADER_LEN;
        for i in 0..qdcount {
            let (name, next) = DnsName::read(msg, at)?;
            let fixed = msg.get(next..next + 4).ok_or(Error::Truncated)?;
            let q = DnsQuestion {
                name,
                qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
                qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            };
            if i == 0 {
                m.question = Some(q);
            }
            at = next + 4;
        }
        for _ in 0..ancount {
            let (name, next) = DnsName::read(msg, at)?;
            let fixed = msg.get(next..next + 10).ok_or(Error::Truncated)?;
            let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
            let class = u16::from_be_bytes([fixed[2], fixed[3]]);
            let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
            let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
            let rdata_at = next + 10;
            let rdata = msg.get(rdata_at..rdata_at + rdlen).ok_or(Error::Truncated)?;
            at = rdata_at + rdlen;
            if class != CLASS_IN || m.answers.len() >= MAX_RECORDS {
                continue;
            }
            let data = match rtype {
                TYPE_A => match rdata {
                    [a, b, c, d] => RecordData::A(Ipv4Addr::new(*a, *b, *c, *d)),
                    _ => return Err(Error::BadLength),
                },
                TYPE_AAAA => match <[u8; 16]>::try_from(rdata) {
                    Ok(octets) => RecordData::Aaaa(core::net::Ipv6Addr::from(octets)),
                    Err(_) => return Err(Error::BadLength),
                },
                TYPE_CNAME => {
                    // The target may point anywhere before it, but must end inside the record.
                    let (target, end) = DnsName::read(msg, rdata_at)?;
                    if end != at {
                        return Err(Error::BadLength);
                    }
                    RecordData::Cname(target)
                }
                other => RecordData::Other(other),
            };
            m.answers.push(DnsRecord { name, ttl, data });
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> DnsName {
        DnsName::parse(s).unwrap()
    }

    #[test]
    fn names_are_checked_and_lower_cased() {
        assert_eq!(name("Web.Example.").as_str(), "web.example");
        assert_eq!(DnsName::parse(""), Err(NameError::Empty));
        assert_eq!(DnsName::parse("a..b"), Err(NameError::BadLabel(String::new())));
        assert_eq!(DnsName::parse(&"x".repeat(64)), Err(NameError::BadLabel("x".repeat(64))));
        assert_eq!(DnsName::parse("a b"), Err(NameError::BadCharacter(' ')));
        assert_eq!(DnsName::parse("é.com"), Err(NameError::BadCharacter('é')));
        let long = vec!["abcdefghi"; 26].join(".");
        assert_eq!(DnsName::parse(&long), Err(NameError::TooLong));
    }

    #[test]
    fn a_query_has_the_rfc_1035_layout() {
        let q = DnsMessage::query(0x1234, name("ab.c"), TYPE_A).to_bytes();
        assert_eq!(q, [0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, b'a', b'b', 1, b'c', 0, 0, 1, 0, 1]);
        let back = DnsMessage::parse(&q).unwrap();
        assert_eq!(back, DnsMessage::query(0x1234, name("ab.c"), TYPE_A));
    }

    /// A response with a compressed CNAME chain: www.test → web.test → 10.0.0.1.
    fn compressed_response() -> Vec<u8> {
        let mut m = vec![0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(&[3, b'w', b'w', b'w', 4, b't', b'e', b's', b't', 0, 0, 1, 0, 1]);
        // www.test (pointer to 12) CNAME web + pointer to "test" (offset 16)
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, b'w', b'e', b'b', 0xc0, 16]);
        // web.test (pointer to the CNAME's data at 38) A 10.0.0.1
        m.extend_from_slice(&[0xc0, 38, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        m
    }

    #[test]
    fn compressed_names_are_followed() {
        let m = DnsMessage::parse(&compressed_response()).unwrap();
        assert_eq!((m.id, m.response, m.rcode, m.truncated), (0xabcd, true, 0, false));
        assert_eq!(m.question.unwrap().name.as_str(), "www.test");
        assert_eq!(m.answers[0].data, RecordData::Cname(name("web.test")));
        assert_eq!(m.answers[1].name.as_str(), "web.test");
        assert_eq!(m.answers[1].data, RecordData::A(Ipv4Addr::new(10, 0, 0, 1)));
    }

    #[test]
    fn pointer_loops_forward_pointers_and_overruns_are_refused() {
        let good = compressed_response();
        // A pointer to itself, and one pointing forward.
        let mut looped = good.clone();
        looped[26] = 0xc0;
        looped[27] = 26;
        assert_eq!(DnsMessage::parse(&looped), Err(Error::BadOption));
        let mut forward = good.clone();
        forward[27] = 40;
        assert_eq!(DnsMessage::parse(&forward), Err(Error::BadOption));
        // Cut anywhere: never a panic, always an error once a section is cut.
        for n in 0..good.len() {
            assert!(DnsMessage::parse(&good[..n]).is_err(), "{n}");
        }
        // An A record of five bytes, a name byte a host name cannot have.
        let mut bad = good.clone();
        let last = bad.len() - 5;
        bad[last] = 5;
        bad.push(0);
        assert_eq!(DnsMessage::parse(&bad), Err(Error::BadLength));
        let mut bad = good.clone();
        bad[13] = b'.';
        assert_eq!(DnsMessage::parse(&bad), Err(Error::BadField));
    }

    #[test]
    fn a_name_longer_than_255_bytes_through_pointers_is_refused() {
        // Questions of one 63-byte label each, every one pointing back to the one before: the n-th name is
        // 64·n + 1 bytes long, so the fourth is over 255 although each question is short.
        let build = |questions: u8| {
            let mut m = vec![0, 1, 0x81, 0x80, 0, questions, 0, 0, 0, 0, 0, 0];
            let mut prev = None;
            for _ in 0..questions {
                let at = m.len();
                m.push(63);
                m.extend_from_slice(&[b'a'; 63]);
                match prev {
                    Some(p) => m.extend_from_slice(&[0xc0, p as u8]),
                    None => m.push(0),
                }
                m.extend_from_slice(&[0, 1, 0, 1]);
                prev = Some(at);
            }
            m
        };
        assert!(DnsMessage::parse(&build(3)).is_ok());
        assert_eq!(DnsMessage::parse(&build(4)), Err(Error::BadLength));
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            let _ = DnsMessage::parse(&bytes);
        }

        #[test]
        fn parsing_mutated_responses_never_panics(flips in proptest::collection::vec((0usize..58, any::<u8>()), 1..10)) {
            let mut m = compressed_response();
            for (at, v) in flips {
                m[at] = v;
            }
            let _ = DnsMessage::parse(&m);
        }
    }
}
