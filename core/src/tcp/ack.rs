//! When we acknowledge (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2): every second full segment,
//! at once after out-of-order data (and for a while after, Linux's quick-ACK mode), or when the delayed-ACK
//! timer fires.

/// A pending acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AckDue {
    None,
    Delayed,
    /// Now, or, while the driver hands over a batch of frames ([`crate::Stack::handle_frames_into`]), once at
    /// the end of the batch: one ACK then covers every segment of the batch (as Linux after GRO).
    EndOfBatch,
    Now,
}

#[derive(Debug)]
pub(crate) struct AckState {
    pub due: AckDue,
    /// Segments received since we last sent an ACK (ACK every second one).
    pub unacked_segments: u32,
    /// In-order segments still to be acknowledged at once after recent out-of-order data.
    pub quick_acks: u32,
}

impl AckState {
    pub(crate) fn new() -> AckState {
        AckState { due: AckDue::None, unacked_segments: 0, quick_acks: 0 }
    }

    /// An ACK is going out (alone or on a segment): nothing is due any more.
    pub(crate) fn sent(&mut self) {
        self.due = AckDue::None;
        self.unacked_segments = 0;
    }
}
