//! TCP. The foundation answers every segment with the RFC 9293 reset reply; the connection engine
//! (state machine, buffers, timers, congestion control) grows here.

pub mod seq;

pub use seq::SeqNum;
