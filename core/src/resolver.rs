//! A DNS stub resolver (RFC 1035 §7, RFC 1123 §6.1.3) as a sans-IO state machine: one [`Lookup`] of a name's
//! IPv4 addresses (A records) or IPv6 addresses (AAAA records, RFC 3596). It says what to send ([`Transmit`]), the caller sends it over whatever sockets it has and
//! feeds back what arrives and when its deadline passes. Answers count only when their id AND question match
//! the query and they come from the server asked; a truncated answer is asked again over TCP; CNAME chains
//! are followed, a bounded number of steps.

use crate::seed::{mix64, GOLDEN_GAMMA};
use crate::time::Instant;
use crate::wire::dns::{DnsMessage, DnsName, NameError, RecordData, PORT, TYPE_A, TYPE_AAAA};
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

/// How a lookup asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverConfig {
    /// Name servers, asked in turn.
    pub servers: Vec<Ipv4Addr>,
    /// How long one query waits for its answer (glibc: 5 s).
    pub timeout: Duration,
    /// Queries sent in all before giving up (over all servers).
    pub attempts: u32,
    /// CNAME steps followed before giving up (a loop or an absurd chain).
    pub max_cnames: u32,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig { servers: Vec::new(), timeout: Duration::from_secs(2), attempts: 4, max_cnames: 8 }
    }
}

/// What to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// One datagram to `server` (port 53).
    Udp { server: SocketAddr, query: Vec<u8> },
    /// Open a TCP connection to `server`, send `query` (already prefixed with its two-byte length, RFC 1035
    /// §4.2.2) and feed everything read to [`Lookup::on_tcp_data`].
    Tcp { server: SocketAddr, query: Vec<u8> },
}

/// What the lookup needs next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing to do until something arrives or [`Lookup::deadline`] passes.
    Wait,
    Send(Transmit),
    Done(Result<Resolved, ResolveError>),
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The name the addresses belong to, after CNAMEs.
    pub canonical: DnsName,
    /// IPv4 addresses for an A lookup, IPv6 ones for an AAAA lookup, in the server's order.
    pub addrs: Vec<IpAddr>,
}

/// Why a lookup failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    BadName(NameError),
    NoServers,
    /// NXDOMAIN: the name does not exist.
    NoSuchName(DnsName),
    /// The name exists but has no record of the type asked (A or AAAA).
    NoAddress(DnsName),
    /// A server answered with this RCODE (2: server failure, 4: not implemented, 5: refused, ...).
    ServerError {
        server: Ipv4Addr,
        rcode: u8,
    },
    /// More CNAME steps than allowed.
    TooManyCnames,
    /// No usable answer after every attempt.
    TimedOut {
        attempts: u32,
    },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::BadName(e) => write!(f, "bad name: {e}"),
            ResolveError::NoServers => write!(f, "no DNS server to ask"),
            ResolveError::NoSuchName(n) => write!(f, "{n}: no such name (NXDOMAIN)"),
            ResolveError::NoAddress(n) => write!(f, "{n} has no address of the family asked"),
            ResolveError::ServerError { server, rcode } => write!(f, "DNS server {server} answered with RCODE {rcode}"),
            ResolveError::TooManyCnames => write!(f, "too many CNAMEs (a loop?)"),
            ResolveError::TimedOut { attempts } => write!(f, "no answer after {attempts} queries"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// What a lookup saw, for counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResolverStats {
    pub queries_udp: u64,
    pub queries_tcp: u64,
    /// Responses that did not parse.
    pub malformed: u64,
    /// Well-formed responses to something else: another id, question or server.
    pub mismatched: u64,
    /// Answers with TC set (asked again over TCP).
    pub truncated: u64,
    pub timeouts: u64,
}

/// One lookup of a name's IPv4 or IPv6 addresses.
#[derive(Debug)]
pub struct Lookup {
    config: ResolverConfig,
    /// A or AAAA.
    qtype: u16,
    /// The name being asked now (the original, or a CNAME's target).
    name: DnsName,
    id: u16,
    rng: u64,
    attempts: u32,
    cnames: u32,
    /// The server asked last and whether over TCP.
    server: Ipv4Addr,
    tcp: bool,
    tcp_buf: Vec<u8>,
    deadline: Instant,
    pub stats: ResolverStats,
}

impl Lookup {
    /// Starts a lookup of `name`'s IPv4 addresses; the first step is always a query to send.
    pub fn start(
        name: &str,
        config: ResolverConfig,
        seed: u64,
        now: Instant,
    ) -> Result<(Lookup, Transmit), ResolveError> {
        Lookup::start_for(name, false, config, seed, now)
    }

    /// Starts a lookup of `name`'s IPv6 addresses (AAAA records).
    pub fn start_ipv6(
        name: &str,
        config: ResolverConfig,
        seed: u64,
        now: Instant,
    ) -> Result<(Lookup, Transmit), ResolveError> {
        Lookup::start_for(name, true, config, seed, now)
    }

    fn start_for(
        name: &str,
        ipv6: bool,
        config: ResolverConfig,
        seed: u64,
        now: Instant,
    ) -> Result<(Lookup, Transmit), ResolveError> {
        let name = DnsName::parse(name).map_err(ResolveError::BadName)?;
        let Some(&first) = config.servers.first() else { return Err(ResolveError::NoServers) };
        let mut l = Lookup {
            config,
            qtype: if ipv6 { TYPE_AAAA } else { TYPE_A },
            name,
            id: 0,
            rng: seed,
            attempts: 0,
            cnames: 0,
            server: first,
            tcp: false,
            tcp_buf: Vec::new(),
            deadline: now,
            stats: ResolverStats::default(),
        };
        let t = l.query_udp(now);
        Ok((l, t))
    }

    /// When [`Lookup::on_timeout`] is due.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    fn query(&self) -> Vec<u8> {
        DnsMessage::query(self.id, self.name.clone(), self.qtype).to_bytes()
    }

    /// A new query (new id, next server) over UDP.
    fn query_udp(&mut self, now: Instant) -> Transmit {
        self.rng = self.rng.wrapping_add(GOLDEN_GAMMA);
        self.id = mix64(self.rng) as u16;
        let servers = &self.config.servers;
        self.server = servers[self.attempts as usize % servers.len()];
        self.attempts += 1;
        self.tcp = false;
        self.deadline = now + self.config.timeout;
        self.stats.queries_udp += 1;
        Transmit::Udp { server: SocketAddr::from((self.server, PORT)), query: self.query() }
    }

    /// The query's deadline passed (or the TCP connection failed): ask again, or give up.
    pub fn on_timeout(&mut self, now: Instant) -> Step {
        if now < self.deadline {
            return Step::Wait;
        }
        self.stats.timeouts += 1;
        if self.attempts >= self.config.attempts {
            return Step::Done(Err(ResolveError::TimedOut { attempts: self.attempts }));
        }
        Step::Send(self.query_udp(now))
    }

    /// A UDP datagram arrived from `from`.
    pub fn on_udp(&mut self, from: SocketAddr, data: &[u8], now: Instant) -> Step {
        if self.tcp {
            self.stats.mismatched += 1;
            return Step::Wait;
        }
        if from.ip() != self.server || from.port() != PORT {
            self.stats.mismatched += 1;
            return Step::Wait;
        }
        self.on_response(data, now)
    }

    /// Bytes read from the TCP connection (any split); the answer counts once its length prefix is complete.
    pub fn on_tcp_data(&mut self, data: &[u8], now: Instant) -> Step {
        if !self.tcp {
            return Step::Wait;
        }
        self.tcp_buf.extend_from_slice(data);
        if self.tcp_buf.len() < 2 {
            return Step::Wait;
        }
        let len = usize::from(u16::from_be_bytes([self.tcp_buf[0], self.tcp_buf[1]]));
        if self.tcp_buf.len() < 2 + len {
            return Step::Wait;
        }
        let msg = self.tcp_buf[2..2 + len].to_vec();
        self.tcp_buf.clear();
        self.on_response(&msg, now)
    }

    fn on_response(&mut self, data: &[u8], now: Instant) -> Step {
        let msg = match DnsMessage::parse(data) {
            Ok(m) => m,
            Err(_) => {
                self.stats.malformed += 1;
                return Step::Wait;
            }
        };
        let ours = msg.response
            && msg.id == self.id
            && msg.opcode == 0
            && msg.question.as_ref().is_some_and(|q| q.name == self.name && q.qtype == self.qtype && q.qclass == 1);
        if !ours {
            self.stats.mismatched += 1;
            return Step::Wait;
        }
        if msg.truncated && !self.tcp {
            self.stats.truncated += 1;
            self.stats.queries_tcp += 1;
            self.tcp = true;
            self.tcp_buf.clear();
            self.deadline = now + self.config.timeout;
            let q = self.query();
            let mut framed = (q.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&q);
            return Step::Send(Transmit::Tcp { server: SocketAddr::from((self.server, PORT)), query: framed });
        }
        match msg.rcode {
            0 => {}
            3 => return Step::Done(Err(ResolveError::NoSuchName(self.name.clone()))),
            // SERVFAIL, NOTIMP, REFUSED: this server cannot answer, another may (glibc's `send_dg` and BIND's
            // `res_send` go on to the next name server); the error stands once every attempt is used.
            2 | 4 | 5 if self.attempts < self.config.attempts => return Step::Send(self.query_udp(now)),
            rcode => return Step::Done(Err(ResolveError::ServerError { server: self.server, rcode })),
        }
        // Follow the chain inside this answer: name → CNAME target → ..., then take its A records.
        let mut name = self.name.clone();
        for _ in 0..=self.config.max_cnames {
            let addrs: Vec<IpAddr> = msg
                .answers
                .iter()
                .filter(|r| r.name == name)
                .filter_map(|r| match r.data {
                    RecordData::A(a) if self.qtype == TYPE_A => Some(IpAddr::V4(a)),
                    RecordData::Aaaa(a) if self.qtype == TYPE_AAAA => Some(IpAddr::V6(a)),
                    _ => None,
                })
                .collect();
            if !addrs.is_empty() {
                return Step::Done(Ok(Resolved { canonical: name, addrs }));
            }
            let target = msg.answers.iter().find_map(|r| match &r.data {
                RecordData::Cname(t) if r.name == name => Some(t.clone()),
                _ => None,
            });
            match target {
                Some(t) => {
                    self.cnames += 1;
                    if self.cnames > self.config.max_cnames {
                        return Step::Done(Err(ResolveError::TooManyCnames));
                    }
                    name = t;
                }
                None => break,
            }
        }
        if name == self.name {
            return Step::Done(Err(ResolveError::NoAddress(name)));
        }
        // The chain ends in a name without addresses here: ask for that name (RFC 1034 §5.3.3).
        self.name = name;
        self.attempts = 0;
        Step::Send(self.query_udp(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dns::{DnsQuestion, DnsRecord, CLASS_IN};

    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 53);
    const OTHER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 54);

    fn config() -> ResolverConfig {
        ResolverConfig { servers: vec![SERVER, OTHER], ..ResolverConfig::default() }
    }

    fn name(s: &str) -> DnsName {
        DnsName::parse(s).unwrap()
    }

    fn query_of(t: &Transmit) -> (std::net::IpAddr, DnsMessage, bool) {
        match t {
            Transmit::Udp { server, query } => (server.ip(), DnsMessage::parse(query).unwrap(), false),
            Transmit::Tcp { server, query } => {
                let len = usize::from(u16::from_be_bytes([query[0], query[1]]));
                assert_eq!(len, query.len() - 2);
                (server.ip(), DnsMessage::parse(&query[2..]).unwrap(), true)
            }
        }
    }

    fn answer(q: &DnsMessage, records: &[(&str, RecordData)]) -> DnsMessage {
        DnsMessage {
            response: true,
            answers: records.iter().map(|(n, d)| DnsRecord { name: name(n), ttl: 60, data: d.clone() }).collect(),
            ..q.clone()
        }
    }

    fn a(s: &str) -> RecordData {
        RecordData::A(s.parse().unwrap())
    }

    fn from(ip: Ipv4Addr) -> SocketAddr {
        SocketAddr::from((ip, 53))
    }

    #[test]
    fn answers_must_match_id_question_and_server_and_garbage_is_counted() {
        let t0 = Instant::ZERO;
        let (mut l, t) = Lookup::start("Web.Test", config(), 1, t0).unwrap();
        let (server, q, _) = query_of(&t);
        assert_eq!((server, q.question.as_ref().unwrap().name.as_str()), (SERVER.into(), "web.test"));
        let good = answer(&q, &[("web.test", a("10.0.0.80"))]);
        let wrong_id = DnsMessage { id: q.id ^ 1, ..good.clone() };
        let wrong_q = DnsMessage {
            question: Some(DnsQuestion { name: name("evil.test"), qtype: TYPE_A, qclass: CLASS_IN }),
            ..good.clone()
        };
        let not_response = DnsMessage { response: false, ..good.clone() };
        for m in [&wrong_id, &wrong_q, &not_response] {
            assert_eq!(l.on_udp(from(SERVER), &m.to_bytes(), t0), Step::Wait);
        }
        assert_eq!(l.on_udp(from(OTHER), &good.to_bytes(), t0), Step::Wait, "from a server not asked");
        assert_eq!(l.on_udp(from(SERVER), &[0xff; 7], t0), Step::Wait);
        assert_eq!(l.on_udp(from(SERVER), &good.to_bytes()[..20], t0), Step::Wait);
        assert_eq!((l.stats.mismatched, l.stats.malformed), (4, 2));
        let done = l.on_udp(from(SERVER), &good.to_bytes(), t0);
        assert_eq!(
            done,
            Step::Done(Ok(Resolved { canonical: name("web.test"), addrs: vec!["10.0.0.80".parse().unwrap()] }))
        );
    }

    #[test]
    fn unanswered_queries_are_retried_on_the_next_server_with_a_new_id_then_given_up() {
        let (mut l, t) = Lookup::start("web.test", config(), 1, Instant::ZERO).unwrap();
        let (_, first, _) = query_of(&t);
        assert_eq!(l.on_timeout(Instant::from_millis(1999)), Step::Wait);
        let Step::Send(t2) = l.on_timeout(Instant::from_secs(2)) else { panic!() };
        let (server, second, _) = query_of(&t2);
        assert_eq!(server, OTHER);
        assert_ne!(first.id, second.id);
        // A late answer to the first query no longer counts (another id, another server).
        let late = answer(&first, &[("web.test", a("10.0.0.80"))]);
        assert_eq!(l.on_udp(from(SERVER), &late.to_bytes(), Instant::from_secs(3)), Step::Wait);
        assert!(matches!(l.on_timeout(Instant::from_secs(4)), Step::Send(_)));
        assert!(matches!(l.on_timeout(Instant::from_secs(6)), Step::Send(_)));
        assert_eq!(l.on_timeout(Instant::from_secs(8)), Step::Done(Err(ResolveError::TimedOut { attempts: 4 })));
        assert_eq!(l.stats.timeouts, 4);
    }

    #[test]
    fn a_truncated_answer_is_asked_again_over_tcp() {
        let (mut l, t) = Lookup::start("big.test", config(), 7, Instant::ZERO).unwrap();
        let (_, q, _) = query_of(&t);
        let tc = DnsMessage { truncated: true, ..answer(&q, &[("big.test", a("10.0.0.1"))]) };
        let Step::Send(tcp) = l.on_udp(from(SERVER), &tc.to_bytes(), Instant::ZERO) else { panic!() };
        let (server, tq, is_tcp) = query_of(&tcp);
        assert!(is_tcp);
        assert_eq!((server, tq.id), (SERVER.into(), q.id));
        // The full answer arrives over TCP in pieces; a UDP datagram meanwhile is ignored.
        let full = answer(&q, &(1..=40).map(|i| ("big.test", a(&format!("10.0.1.{i}")))).collect::<Vec<_>>());
        let body = full.to_bytes();
        assert!(body.len() > 512);
        let mut stream = (body.len() as u16).to_be_bytes().to_vec();
        stream.extend_from_slice(&body);
        assert_eq!(l.on_udp(from(SERVER), &full.to_bytes(), Instant::ZERO), Step::Wait);
        assert_eq!(l.on_tcp_data(&stream[..1], Instant::ZERO), Step::Wait);
        assert_eq!(l.on_tcp_data(&stream[1..300], Instant::ZERO), Step::Wait);
        let Step::Done(Ok(r)) = l.on_tcp_data(&stream[300..], Instant::ZERO) else { panic!() };
        assert_eq!(r.addrs.len(), 40);
        assert_eq!((l.stats.truncated, l.stats.queries_tcp), (1, 1));
    }

    #[test]
    fn aaaa_lookups_take_only_ipv6_addresses_and_only_aaaa_answers() {
        let (mut l, t) = Lookup::start_ipv6("Dual.Test", config(), 11, Instant::ZERO).unwrap();
        let (_, q, _) = query_of(&t);
        assert_eq!(q.question.as_ref().unwrap().qtype, TYPE_AAAA);
        // An answer to the A question with the same id is not ours.
        let a_question = DnsMessage::query(q.id, name("dual.test"), TYPE_A);
        let wrong = answer(&a_question, &[("dual.test", a("10.0.0.7"))]);
        assert_eq!(l.on_udp(from(SERVER), &wrong.to_bytes(), Instant::ZERO), Step::Wait);
        assert_eq!(l.stats.mismatched, 1);
        let v6: core::net::Ipv6Addr = "2001:db8::7".parse().unwrap();
        let both = answer(&q, &[("dual.test", a("10.0.0.7")), ("dual.test", RecordData::Aaaa(v6))]);
        let Step::Done(Ok(r)) = l.on_udp(from(SERVER), &both.to_bytes(), Instant::ZERO) else { panic!() };
        assert_eq!(r.addrs, vec![IpAddr::V6(v6)]);
        // An A lookup of the same answer takes the IPv4 address only; a name with only AAAA has no IPv4.
        let (mut l4, t4) = Lookup::start("dual.test", config(), 12, Instant::ZERO).unwrap();
        let (_, q4, _) = query_of(&t4);
        let Step::Done(Ok(r)) = l4.on_udp(
            from(SERVER),
            &answer(&q4, &[("dual.test", a("10.0.0.7")), ("dual.test", RecordData::Aaaa(v6))]).to_bytes(),
            Instant::ZERO,
        ) else {
            panic!()
        };
        assert_eq!(r.addrs, vec![IpAddr::V4("10.0.0.7".parse().unwrap())]);
        let (mut l4, t4) = Lookup::start("v6only.test", config(), 13, Instant::ZERO).unwrap();
        let (_, q4, _) = query_of(&t4);
        let only6 = answer(&q4, &[("v6only.test", RecordData::Aaaa(v6))]);
        let done = l4.on_udp(from(SERVER), &only6.to_bytes(), Instant::ZERO);
        assert_eq!(done, Step::Done(Err(ResolveError::NoAddress(name("v6only.test")))));
    }

    #[test]
    fn cname_chains_are_followed_and_loops_end() {
        let (mut l, t) = Lookup::start("www.test", config(), 3, Instant::ZERO).unwrap();
        let (_, q, _) = query_of(&t);
        let chain = answer(
            &q,
            &[
                ("www.test", RecordData::Cname(name("web.test"))),
                ("web.test", RecordData::Cname(name("host.test"))),
                ("host.test", a("10.0.0.9")),
            ],
        );
        let Step::Done(Ok(r)) = l.on_udp(from(SERVER), &chain.to_bytes(), Instant::ZERO) else { panic!() };
        assert_eq!((r.canonical.as_str(), r.addrs[0].to_string().as_str()), ("host.test", "10.0.0.9"));
        // A chain ending without addresses: the target is asked for.
        let (mut l, t) = Lookup::start("www.test", config(), 3, Instant::ZERO).unwrap();
        let (_, q, _) = query_of(&t);
        let partial = answer(&q, &[("www.test", RecordData::Cname(name("web.test")))]);
        let Step::Send(next) = l.on_udp(from(SERVER), &partial.to_bytes(), Instant::ZERO) else { panic!() };
        assert_eq!(query_of(&next).1.question.unwrap().name.as_str(), "web.test");
        // A loop: a → b → a.
        let (mut l, t) = Lookup::start("a.test", config(), 3, Instant::ZERO).unwrap();
        let (_, q, _) = query_of(&t);
        let looped =
            answer(&q, &[("a.test", RecordData::Cname(name("b.test"))), ("b.test", RecordData::Cname(name("a.test")))]);
        assert_eq!(
            l.on_udp(from(SERVER), &looped.to_bytes(), Instant::ZERO),
            Step::Done(Err(ResolveError::TooManyCnames))
        );
    }

    #[test]
    fn errors_and_bad_input_are_named() {
        assert!(matches!(Lookup::start("a..b", config(), 0, Instant::ZERO), Err(ResolveError::BadName(_))));
        let none = ResolverConfig::default();
        assert!(matches!(Lookup::start("a.b", none, 0, Instant::ZERO), Err(ResolveError::NoServers)));
        let (mut l, t) = Lookup::start("gone.test", config(), 0, Instant::ZERO).unwrap();
        let (_, q, _) = query_of(&t);
        let nx = DnsMessage { rcode: 3, ..answer(&q, &[]) };
        assert_eq!(
            l.on_udp(from(SERVER), &nx.to_bytes(), Instant::ZERO),
            Step::Done(Err(ResolveError::NoSuchName(name("gone.test"))))
        );
        let (mut l, t) = Lookup::start("x.test", config(), 0, Instant::ZERO).unwrap();
        let (_, q, _) = query_of(&t);
        let empty = answer(&q, &[]);
        assert_eq!(
            l.on_udp(from(SERVER), &empty.to_bytes(), Instant::ZERO),
            Step::Done(Err(ResolveError::NoAddress(name("x.test"))))
        );
    }

    /// glibc/BIND res_send (send_dg): an answer with RCODE SERVFAIL (2), NOTIMP (4) or REFUSED (5) marks that
    /// server bad and the query goes to the next name server; once every attempt is used, the error stands.
    #[test]
    fn servfail_notimp_or_refused_asks_the_next_server() {
        for rcode in [2u8, 4, 5] {
            let (mut l, t) = Lookup::start("web.test", config(), 21, Instant::ZERO).unwrap();
            let (server, q, _) = query_of(&t);
            assert_eq!(server, IpAddr::V4(SERVER));
            let failed = DnsMessage { rcode, ..answer(&q, &[]) };
            let step = l.on_udp(from(SERVER), &failed.to_bytes(), Instant::from_millis(5));
            let Step::Send(next) = step else {
                panic!("rcode {rcode} from {SERVER}: expected the query to go to {OTHER}, got {step:?}")
            };
            let (mut server, mut q, _) = query_of(&next);
            assert_eq!(server, IpAddr::V4(OTHER), "rcode {rcode}");
            // Every server fails: the lookup ends with the error once its attempts are used.
            let mut asked = 2;
            loop {
                let IpAddr::V4(v4) = server else { panic!() };
                let failed = DnsMessage { rcode, ..answer(&q, &[]) };
                match l.on_udp(from(v4), &failed.to_bytes(), Instant::from_millis(10)) {
                    Step::Send(next) => (server, q, _) = query_of(&next),
                    Step::Done(Err(ResolveError::ServerError { rcode: r, .. })) => break assert_eq!(r, rcode),
                    other => panic!("rcode {rcode}: {other:?}"),
                }
                asked += 1;
                assert!(asked <= config().attempts, "rcode {rcode}: asked {asked} times");
            }
            assert_eq!(asked, config().attempts, "rcode {rcode}");
        }
    }
}
