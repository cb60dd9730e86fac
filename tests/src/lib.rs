//! Test harness for synack: two [`Stack`]s joined by an in-memory Ethernet link with a virtual clock.
//!
//! The link delivers frames after a fixed one-way delay, in order, and can be told to drop chosen frames
//! ("the 3rd frame from A to B"), so a test builds exactly the situation it names. Every frame is logged with
//! its time and a one-line decode, for assertions and for reading failures.

pub mod frames;
pub mod tcp;
pub mod traces;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;
use synack::wire::pretty::frame_summary;
use synack::{Command, CommandError, Config, Event, Input, Instant, Output, Reply, SocketHandle, Stack};
/// Which frames a [`Pair::drop_next_where`] filter takes.
pub type FrameFilter = fn(&[u8]) -> bool;
/// What a [`Pair::rewrite_next_where`] does to a frame on the link (a middlebox, or a broken router).
pub type FrameRewrite = fn(&mut Vec<u8>);

use synack_testkit::{fire_due_timers, next_event, Link};
pub use synack_testkit::{Side, MAC_A, MAC_B};

/// Random impairments of one direction of the link.
#[derive(Clone, Copy, Debug, Default)]
pub struct Impairment {
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame is delivered twice.
    pub duplicate: f64,
    /// Probability that a frame is held back by `reorder_delay`, letting later frames overtake it.
    pub reorder: f64,
    pub reorder_delay: Duration,
}

/// A frame seen on the link.
#[derive(Clone, Debug)]
pub struct Logged {
    pub at: Instant,
    /// The sender.
    pub from: Side,
    pub frame: Vec<u8>,
    /// Whether the link dropped it instead of delivering it.
    pub dropped: bool,
}

impl Logged {
    /// `A>B` or `B>A` followed by the decode, with ` (dropped)` when the link dropped it.
    pub fn line(&self) -> String {
        let dir = if self.from == Side::A { "A>B" } else { "B>A" };
        let dropped = if self.dropped { " (dropped)" } else { "" };
        format!("{dir} {}{dropped}", frame_summary(&self.frame))
    }
}

/// The configurations [`Pair::new`] uses (A at 10.0.0.1/24, B at 10.0.0.2/24, seeded from `seed`), for a test
/// that changes a setting before building the pair.
pub fn configs(seed: u64) -> (Config, Config) {
    synack_testkit::configs(seed, seed ^ 0xb)
}

/// Two stacks, an in-memory link between them, and a virtual clock.
#[derive(Debug)]
pub struct Pair {
    pub a: Stack,
    pub b: Stack,
    pub now: Instant,
    /// One-way delay of the link.
    pub delay: Duration,
    /// The link's rate in bits per second, each direction serialising its frames one after another (`None`:
    /// infinitely fast, a whole window leaves at once).
    pub rate: Option<u64>,
    /// When each direction's transmitter is free again (index = sender).
    busy_until: [Instant; 2],
    /// Frames in flight.
    link: Link,
    /// Frames sent so far per direction (1-based after increment), for `drop_nth`.
    sent: [u64; 2],
    drops: Vec<(Side, u64)>,
    /// Drop the next data segment a side sends at this sequence number (a retransmission, typically).
    data_drops: Vec<(Side, u32)>,
    /// Extra delay for single frames: (sender, frame number, how much later).
    holds: Vec<(Side, u64, Duration)>,
    /// Drop the next frames a side sends that match: (sender, how many more, which).
    filters: Vec<(Side, u64, FrameFilter)>,
    /// Mark CE on the `n`th frame a side sends, if it is ECN-capable: (sender, n).
    ce_marks: Vec<(Side, u64)>,
    /// Rewrite the next frames a side sends that match: (sender, how many more, which, how).
    rewrites: Vec<(Side, u64, FrameFilter, FrameRewrite)>,
    /// Frames the link marked CE ([`Pair::mark_ce_nth`]).
    pub ce_marked: u64,
    /// Random impairments per direction (index = sender).
    impair: [Impairment; 2],
    rng: ChaCha8Rng,
    pub log: Vec<Logged>,
    pub events: Vec<(Instant, Side, SocketHandle, Event)>,
    /// What the stacks explained ([`synack::Note`], with `Config::explain`), in order.
    pub notes: Vec<(Instant, Side, synack::Note)>,
}

impl Pair {
    /// A at 10.0.0.1/24, B at 10.0.0.2/24, 1 ms one-way delay, both seeded from `seed`.
    pub fn new(seed: u64) -> Pair {
        let (a, b) = configs(seed);
        Pair::with_configs(a, b)
    }

    pub fn with_configs(a: Config, b: Config) -> Pair {
        Pair {
            a: Stack::new(a).expect("config A"),
            b: Stack::new(b).expect("config B"),
            now: Instant::ZERO,
            delay: Duration::from_millis(1),
            rate: None,
            busy_until: [Instant::ZERO; 2],
            link: Link::default(),
            sent: [0, 0],
            drops: Vec::new(),
            holds: Vec::new(),
            data_drops: Vec::new(),
            filters: Vec::new(),
            ce_marks: Vec::new(),
            rewrites: Vec::new(),
            ce_marked: 0,
            impair: [Impairment::default(), Impairment::default()],
            rng: ChaCha8Rng::seed_from_u64(0x5eed),
            log: Vec::new(),
            events: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn stack(&mut self, side: Side) -> &mut Stack {
        synack_testkit::stack(&mut self.a, &mut self.b, side)
    }

    /// Random loss/duplication/reordering for frames `from` sends, drawn from `seed`.
    pub fn impair(&mut self, from: Side, imp: Impairment, seed: u64) {
        self.impair[from.index()] = imp;
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    /// Frames `from` has sent so far (the `n` of [`Pair::drop_nth`] counts them).
    pub fn frames_sent(&self, from: Side) -> u64 {
        self.sent[from.index()]
    }

    /// Drop the `n`th frame (1-based) that `from` sends.
    pub fn drop_nth(&mut self, from: Side, n: u64) {
        self.drops.push((from, n));
    }

    /// Deliver the `n`th frame (1-based) that `from` sends `extra` later than the link's delay: the frames sent
    /// after it overtake it (deterministic reordering).
    pub fn hold_nth(&mut self, from: Side, n: u64, extra: Duration) {
        self.holds.push((from, n, extra));
    }

    /// Drop the next segment with data that `from` sends at sequence number `seq` (for example the
    /// retransmission of a segment already dropped).
    pub fn drop_next_data_at(&mut self, from: Side, seq: u32) {
        self.data_drops.push((from, seq));
    }

    /// Drop the next `count` frames `from` sends for which `which` holds (e.g. [`frames::is_arp`]); the link
    /// heals after that. `u64::MAX` drops them for good.
    pub fn drop_next_where(&mut self, from: Side, count: u64, which: FrameFilter) {
        self.filters.push((from, count, which));
    }

    /// Mark the `n`th frame (1-based) that `from` sends CE (RFC 3168), as a congested router would, if it is
    /// ECN-capable (ECT(0) or ECT(1)); any other frame passes as it is.
    pub fn mark_ce_nth(&mut self, from: Side, n: u64) {
        self.ce_marks.push((from, n));
    }

    /// Apply `how` to the next `count` frames `from` sends for which `which` holds (a middlebox rewriting
    /// headers); the log shows them as rewritten.
    pub fn rewrite_next_where(&mut self, from: Side, count: u64, which: FrameFilter, how: FrameRewrite) {
        self.rewrites.push((from, count, which, how));
    }

    /// The link heals: every filter of [`Pair::drop_next_where`] is dropped.
    pub fn heal(&mut self) {
        self.filters.clear();
    }

    /// Whether a filter of [`Pair::drop_next_where`] takes this frame (using up one of its drops).
    fn filtered(&mut self, from: Side, frame: &[u8]) -> bool {
        let hit = self.filters.iter_mut().find(|(side, left, which)| *side == from && *left > 0 && which(frame));
        hit.map(|(_, left, _)| *left -= 1).is_some()
    }

    /// Whether a [`Pair::drop_next_data_at`] takes this frame (using it up).
    fn data_dropped(&mut self, from: Side, frame: &[u8]) -> bool {
        let Some((seq, _)) = frames::tcp_seq_len(frame).filter(|&(_, len)| len > 0) else { return false };
        let hit = self.data_drops.iter().position(|&(side, at)| side == from && at == seq);
        hit.map(|i| self.data_drops.remove(i)).is_some()
    }

    /// Runs a command on one side now and returns its reply; frames and events it caused are processed.
    pub fn command(&mut self, side: Side, cmd: Command) -> Result<Reply, CommandError> {
        let now = self.now;
        let mut out = Vec::new();
        let reply = self.stack(side).command(cmd, now, &mut out);
        out.into_iter().for_each(|o| self.absorb(side, o));
        reply
    }

    /// Processes outputs a test obtained by calling a stack directly.
    pub fn absorb_all(&mut self, side: Side, outputs: Vec<Output>) {
        for o in outputs {
            if !matches!(o, Output::Reply(_)) {
                self.absorb(side, o);
            }
        }
    }

    fn absorb(&mut self, side: Side, output: Output) {
        match output {
            Output::Transmit(mut frame) => {
                let idx = side.index();
                self.sent[idx] += 1;
                if self.ce_marks.contains(&(side, self.sent[idx]))
                    && synack_sim::impairment::mark_ce(&mut frame) == synack_sim::impairment::CeMark::Marked
                {
                    self.ce_marked += 1;
                }
                let rewrite =
                    self.rewrites.iter_mut().find(|(s, left, which, _)| *s == side && *left > 0 && which(&frame));
                if let Some((_, left, _, how)) = rewrite {
                    *left -= 1;
                    how(&mut frame);
                }
                let imp = self.impair[idx];
                let random_loss = imp.loss > 0.0 && self.rng.gen_bool(imp.loss);
                let dropped = random_loss
                    || self.drops.contains(&(side, self.sent[idx]))
                    || self.filtered(side, &frame)
                    || self.data_dropped(side, &frame);
                self.log.push(Logged { at: self.now, from: side, frame: frame.clone(), dropped });
                if !dropped {
                    let mut at = self.now + self.delay;
                    if let Some(rate) = self.rate {
                        let start = self.busy_until[idx].max(self.now);
                        let bits = (frame.len() as u64 + 24) * 8; // preamble, FCS and gap, as on a wire
                        let done = start + Duration::from_nanos(bits * 1_000_000_000 / rate.max(1));
                        self.busy_until[idx] = done;
                        at = done + self.delay;
                    }
                    if imp.reorder > 0.0 && self.rng.gen_bool(imp.reorder) {
                        at = at + imp.reorder_delay;
                    }
                    if let Some(&(_, _, extra)) = self.holds.iter().find(|h| h.0 == side && h.1 == self.sent[idx]) {
                        at = at + extra;
                    }
                    if imp.duplicate > 0.0 && self.rng.gen_bool(imp.duplicate) {
                        self.link.send(at, side.other(), frame.clone());
                    }
                    self.link.send(at, side.other(), frame);
                }
            }
            Output::Event(sock, ev) => self.events.push((self.now, side, sock, ev)),
            Output::Reply(r) => panic!("unexpected reply outside a command: {r:?}"),
            Output::Note(n) => self.notes.push((self.now, side, n)),
        }
    }

    /// The next time something happens: a delivery or a stack timer.
    fn next_time(&self) -> Option<Instant> {
        next_event(&self.link, &self.a, &self.b)
    }

    /// Advances the clock event by event up to `limit`; the clock then reads `limit`.
    pub fn run_until(&mut self, limit: Instant) {
        self.run_events(limit);
        self.now = self.now.max(limit);
    }

    /// Runs until no frame is in flight and no timer is pending (bounded at one virtual hour); the clock
    /// stays at the last event.
    pub fn run_until_idle(&mut self) {
        self.run_events(self.now + Duration::from_secs(3600));
    }

    /// Like [`Pair::step_once`], but delivers one frame at most, so a test can look at a stack between two
    /// frames that arrive at the same moment; timers fire once no frame is left to deliver at that moment.
    pub fn step_one(&mut self) -> bool {
        let Some(t) = self.next_time() else {
            return false;
        };
        self.now = self.now.max(t);
        let now = self.now;
        if let Some((to, frame)) = self.link.pop_arrived(now) {
            let out = self.stack(to).handle(Input::Frame(&frame), now);
            out.into_iter().for_each(|o| self.absorb(to, o));
        } else {
            for (side, out) in fire_due_timers(&mut self.a, &mut self.b, now) {
                out.into_iter().for_each(|o| self.absorb(side, o));
            }
        }
        true
    }

    /// Processes the next moment at which anything happens; false if nothing is pending.
    pub fn step_once(&mut self) -> bool {
        match self.next_time() {
            Some(t) => {
                self.now = self.now.max(t);
                self.step();
                true
            }
            None => false,
        }
    }

    fn run_events(&mut self, limit: Instant) {
        while let Some(t) = self.next_time() {
            if t > limit {
                break;
            }
            self.now = self.now.max(t);
            self.step();
        }
    }

    fn step(&mut self) {
        let now = self.now;
        while let Some((to, frame)) = self.link.pop_arrived(now) {
            let out = self.stack(to).handle(Input::Frame(&frame), now);
            out.into_iter().for_each(|o| self.absorb(to, o));
        }
        for (side, out) in fire_due_timers(&mut self.a, &mut self.b, now) {
            out.into_iter().for_each(|o| self.absorb(side, o));
        }
    }

    /// Decoded lines of every frame on the link so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.iter().map(Logged::line).collect()
    }

    /// Events delivered to `side`, without their timestamps.
    pub fn events_of(&self, side: Side) -> Vec<(SocketHandle, Event)> {
        self.events.iter().filter(|e| e.1 == side).map(|e| (e.2, e.3.clone())).collect()
    }
}
