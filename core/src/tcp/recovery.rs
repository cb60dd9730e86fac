//! Loss recovery state: the SACK scoreboard (RFC 6675), fast recovery's "recover" point (RFC 6582), duplicate
//! ACK counting (RFC 5681) and the tail loss probe's episode (RFC 8985 §7).

use super::sack::{RetransmitLog, Scoreboard};
use super::seq::SeqNum;

#[derive(Debug)]
pub(crate) struct LossRecovery {
    /// What the peer reported holding above SND.UNA.
    pub scoreboard: Scoreboard,
    /// SACK recovery: holes below this were already retransmitted in the current episode.
    pub rtx_next: SeqNum,
    /// Retransmissions of the current recovery, to notice when one of them is lost too.
    pub rtx_log: RetransmitLog,
    /// Duplicate ACKs in a row.
    pub dup_acks: u32,
    /// In fast recovery.
    pub in_recovery: bool,
    /// RFC 6582 "recover": highest sequence number sent when recovery (or a timeout) began.
    pub recover: SeqNum,
    /// A tail loss probe went out and its outcome is not known yet (one probe per episode).
    pub tlp_in_flight: bool,
}

impl LossRecovery {
    /// Nothing sent, nothing lost; `iss` is where the send sequence space starts.
    pub(crate) fn new(iss: SeqNum) -> LossRecovery {
        LossRecovery {
            scoreboard: Scoreboard::default(),
            rtx_next: iss,
            rtx_log: RetransmitLog::default(),
            dup_acks: 0,
            in_recovery: false,
            recover: iss,
            tlp_in_flight: false,
        }
    }
}
