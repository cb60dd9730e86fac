//! Neighbour discovery and autoconfiguration settings: the host constants of RFC 4861 §10 and RFC 4862 §5.1 as
//! defaults, plus the bounds that keep every table finite.

use core::fmt;
use core::time::Duration;

/// How IPv6 neighbour discovery (RFC 4861) and address autoconfiguration (RFC 4862) behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdpConfig {
    /// Time between neighbour solicitations for one neighbour, and between DAD probes (RetransTimer, 1 s).
    /// Router advertisements may change it.
    pub retrans_timer: Duration,
    /// A neighbour is reachable for a random 0.5 to 1.5 times this after a confirmation (BaseReachableTime,
    /// 30 s). Router advertisements may change it.
    pub base_reachable_time: Duration,
    /// Wait after using a stale entry before probing it, giving upper layers a chance to confirm it
    /// (DELAY_FIRST_PROBE_TIME, 5 s).
    pub delay_first_probe_time: Duration,
    /// Multicast solicitations sent before an unresolved neighbour is given up (MAX_MULTICAST_SOLICIT, 3).
    pub max_multicast_solicit: u32,
    /// Unicast probes sent before a stale neighbour is forgotten (MAX_UNICAST_SOLICIT, 3).
    pub max_unicast_solicit: u32,
    /// Packets queued per unresolved neighbour; beyond it the oldest is dropped for the newest (RFC 4861
    /// §7.2.2).
    pub max_pending_frames: usize,
    /// Packets queued for all unresolved neighbours together.
    pub max_pending_total: usize,
    /// Neighbour cache entries; the least recently updated resolved entry is evicted when full.
    pub max_entries: usize,
    /// Routers in the default router list; advertisements from further routers are ignored.
    pub max_routers: usize,
    /// On-link prefixes learnt from router advertisements (configured ones count too).
    pub max_prefixes: usize,
    /// Addresses of our own (link-local, configured and autoconfigured).
    pub max_addresses: usize,
    /// Router solicitations sent on start while no router has advertised (MAX_RTR_SOLICITATIONS, 3; 0: none).
    pub max_rtr_solicitations: u32,
    /// Time between router solicitations (RTR_SOLICITATION_INTERVAL, 4 s).
    pub rtr_solicitation_interval: Duration,
    /// The first router solicitation and the first DAD probe wait a random time below this
    /// (MAX_RTR_SOLICITATION_DELAY, 1 s), so hosts starting together do not all send at once.
    pub max_rtr_solicitation_delay: Duration,
    /// DAD probes sent for a tentative address before it is ours (DupAddrDetectTransmits, 1; 0: no DAD).
    pub dup_addr_detect_transmits: u32,
    /// Form addresses from the prefixes routers advertise with the A flag (RFC 4862 §5.5.3).
    pub autoconf: bool,
}

impl Default for NdpConfig {
    fn default() -> Self {
        NdpConfig {
            retrans_timer: Duration::from_secs(1),
            base_reachable_time: Duration::from_secs(30),
            delay_first_probe_time: Duration::from_secs(5),
            max_multicast_solicit: 3,
            max_unicast_solicit: 3,
            max_pending_frames: 256,
            max_pending_total: 1024,
            max_entries: 1024,
            max_routers: 8,
            max_prefixes: 16,
            max_addresses: 16,
            max_rtr_solicitations: 3,
            rtr_solicitation_interval: Duration::from_secs(4),
            max_rtr_solicitation_delay: Duration::from_secs(1),
            dup_addr_detect_transmits: 1,
            autoconf: true,
        }
    }
}

/// The largest BaseReachableTime (MAX_REACHABLE_TIME, RFC 4861 §6.2.1: one hour).
pub(crate) const MAX_REACHABLE_TIME: Duration = Duration::from_secs(3600);

/// Why an [`NdpConfig`] makes no sense; each names the field (as `ndp.<field>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NdpConfigError {
    /// A count or bound that must be at least 1 is 0.
    ZeroLimit(&'static str),
    /// A duration that must be positive is zero.
    ZeroDuration(&'static str),
    /// A duration above what the RFC allows (the maximum is given).
    TooLong(&'static str, Duration),
    /// `max_pending_frames` is above `max_pending_total`: one neighbour could never fill its queue.
    PendingAboveTotal,
}

impl fmt::Display for NdpConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NdpConfigError::ZeroLimit(name) => write!(f, "{name} must be at least 1"),
            NdpConfigError::ZeroDuration(name) => write!(f, "{name} must be greater than zero"),
            NdpConfigError::TooLong(name, max) => write!(f, "{name} must be at most {} s", max.as_secs()),
            NdpConfigError::PendingAboveTotal => {
                f.write_str("ndp.max_pending_frames must be at most ndp.max_pending_total")
            }
        }
    }
}

impl std::error::Error for NdpConfigError {}

impl NdpConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), NdpConfigError> {
        let durations = [
            ("ndp.retrans_timer", self.retrans_timer),
            ("ndp.base_reachable_time", self.base_reachable_time),
            ("ndp.delay_first_probe_time", self.delay_first_probe_time),
            ("ndp.rtr_solicitation_interval", self.rtr_solicitation_interval),
        ];
        for (name, d) in durations {
            if d.is_zero() {
                return Err(NdpConfigError::ZeroDuration(name));
            }
        }
        if self.base_reachable_time > MAX_REACHABLE_TIME {
            return Err(NdpConfigError::TooLong("ndp.base_reachable_time", MAX_REACHABLE_TIME));
        }
        let limits = [
            ("ndp.max_multicast_solicit", self.max_multicast_solicit as usize),
            ("ndp.max_unicast_solicit", self.max_unicast_solicit as usize),
            ("ndp.max_pending_frames", self.max_pending_frames),
            ("ndp.max_pending_total", self.max_pending_total),
            ("ndp.max_entries", self.max_entries),
            ("ndp.max_routers", self.max_routers),
            ("ndp.max_prefixes", self.max_prefixes),
            ("ndp.max_addresses", self.max_addresses),
        ];
        for (name, v) in limits {
            if v == 0 {
                return Err(NdpConfigError::ZeroLimit(name));
            }
        }
        if self.max_pending_frames > self.max_pending_total {
            return Err(NdpConfigError::PendingAboveTotal);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_rfc_constants_and_valid() {
        let c = NdpConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.retrans_timer, Duration::from_secs(1));
        assert_eq!(c.base_reachable_time, Duration::from_secs(30));
        assert_eq!(c.delay_first_probe_time, Duration::from_secs(5));
        assert_eq!((c.max_multicast_solicit, c.max_unicast_solicit, c.max_rtr_solicitations), (3, 3, 3));
        assert_eq!(c.rtr_solicitation_interval, Duration::from_secs(4));
        assert_eq!(c.dup_addr_detect_transmits, 1);
    }

    #[test]
    fn each_bad_field_is_named() {
        let d = NdpConfig::default;
        let cases = [
            (NdpConfig { retrans_timer: Duration::ZERO, ..d() }, "ndp.retrans_timer must be greater than zero"),
            (
                NdpConfig { base_reachable_time: Duration::from_secs(3601), ..d() },
                "ndp.base_reachable_time must be at most 3600 s",
            ),
            (NdpConfig { max_entries: 0, ..d() }, "ndp.max_entries must be at least 1"),
            (NdpConfig { max_unicast_solicit: 0, ..d() }, "ndp.max_unicast_solicit must be at least 1"),
            (
                NdpConfig { max_pending_frames: 2000, ..d() },
                "ndp.max_pending_frames must be at most ndp.max_pending_total",
            ),
        ];
        for (config, message) in cases {
            assert_eq!(config.validate().unwrap_err().to_string(), message);
        }
        // Zero solicitations and zero DAD probes are meaningful: none are sent.
        assert_eq!(NdpConfig { max_rtr_solicitations: 0, dup_addr_detect_transmits: 0, ..d() }.validate(), Ok(()));
    }
}
