//! Command-line interface of `synack-tap`.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use synack::wire::EthernetAddress;
use synack::Ipv4Cidr;

/// Run the synack user-space TCP/IP stack on a Linux TAP device.
///
/// Example, inside a network namespace (needs root or CAP_NET_ADMIN); the TAP device is made first, so that
/// Linux's side can be configured before synack-tap attaches to it:
///   ip netns add demo
///   ip -n demo tuntap add dev tap0 mode tap
///   ip -n demo addr add 10.77.0.1/24 dev tap0 && ip -n demo link set tap0 up
///   ip netns exec demo synack-tap --tap tap0 --ip 10.77.0.2/24 echo &
///   sleep 2   # or wait for synack-tap's "ready:" line
///   ip netns exec demo ping -c 3 10.77.0.2
#[derive(Debug, Parser)]
#[command(name = "synack-tap", version, verbatim_doc_comment)]
pub struct Cli {
    /// TAP device to create (or attach to), e.g. tap0.
    #[arg(long, value_name = "NAME", global = true, default_value = "tap0")]
    pub tap: String,
    /// The stack's IPv4 address and prefix, e.g. 10.77.0.2/24.
    #[arg(long, value_name = "A.B.C.D/P", global = true, default_value = "10.77.0.2/24")]
    pub ip: Ipv4Cidr,
    /// An IPv6 address and on-link prefix for the stack, e.g. fd00:77::2/64 (repeat for more). IPv6 is on by
    /// default: the link-local address formed from the MAC, and addresses from router advertisements.
    #[arg(long, value_name = "ADDR/LEN", global = true)]
    pub ip6: Vec<synack::Ipv6Cidr>,
    /// IPv4 only: no IPv6 at all (no link-local address, no router solicitations).
    #[arg(long, global = true, conflicts_with = "ip6")]
    pub no_ip6: bool,
    /// Default gateway for off-link destinations (must lie inside --ip's prefix).
    #[arg(long, value_name = "A.B.C.D", global = true)]
    pub gateway: Option<Ipv4Addr>,
    /// The stack's MAC address (default: 02:00 followed by the IPv4 address).
    #[arg(long, value_name = "XX:XX:XX:XX:XX:XX", global = true)]
    pub mac: Option<EthernetAddress>,
    /// Write a pcapng capture (nanosecond timestamps) of every frame the stack saw and sent.
    #[arg(long, value_name = "FILE", global = true)]
    pub pcap: Option<PathBuf>,
    /// Drop each frame (both directions) with this probability.
    #[arg(long, value_name = "P", global = true, default_value_t = 0.0, allow_negative_numbers = true)]
    pub loss: f64,
    /// Hold back each frame with this probability so the next one overtakes it.
    #[arg(long, value_name = "P", global = true, default_value_t = 0.0, allow_negative_numbers = true)]
    pub reorder: f64,
    /// Duplicate each frame with this probability.
    #[arg(long, value_name = "P", global = true, default_value_t = 0.0, allow_negative_numbers = true)]
    pub duplicate: f64,
    /// Seed of the stack (ISNs, ports) and of the impairment and payload random streams.
    #[arg(long, value_name = "N", global = true, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", global = true, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Servers: stop after serving this many connections (recv: transfers).
    #[arg(long, value_name = "N", global = true, allow_negative_numbers = true)]
    pub max_connections: Option<u64>,
    /// Print a one-line decode of every frame to stderr.
    #[arg(long, global = true)]
    pub trace: bool,
    /// Servers: a line per connection (and per UDP datagram) on stdout; by default only a summary per
    /// service when synack-tap ends.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// ARP probes for --ip sent at start (RFC 5227): if another host answers (or probes for it too), synack-tap
    /// refuses to start, naming the address and the MAC that answered. 0 skips probing and the announcement.
    #[arg(long, value_name = "N", global = true, default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(0..=100), allow_negative_numbers = true)]
    pub probes: u32,
    /// Milliseconds between ARP probes, and how long an answer to the last one is waited for (1 to 10000).
    #[arg(long, value_name = "MS", global = true, default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..=10_000), allow_negative_numbers = true)]
    pub probe_interval: u64,
    /// Offloads: open the TAP device with a virtio-net header, as a VM's virtio-net card. Linux hands over TCP
    /// segments of up to 64 KB with their checksums left unfinished (taken without verifying, as a virtio guest
    /// does), and cuts the 64 KB TCP frames synack sends into MTU-sized segments, finishing their checksums
    /// (one read or write instead of ~45). With --pcap or --trace every checksum is finished by synack-tap, so
    /// they show whole. The offloads are turned off again on exit.
    #[arg(long, global = true)]
    pub offload: bool,
    /// Bytes of send buffer each TCP connection starts with (default 262144; the stack checks the range).
    #[arg(long, value_name = "BYTES", global = true, allow_negative_numbers = true)]
    pub send_buffer: Option<usize>,
    /// Send autotuning: while the buffer, not the congestion window, holds a writer back, the send buffer
    /// grows to twice the congestion window, up to this many bytes (as Linux up to tcp_wmem's maximum). 0 turns
    /// it off (a fixed --send-buffer).
    #[arg(long, value_name = "BYTES", global = true, default_value_t = 4 << 20, allow_negative_numbers = true)]
    pub send_buffer_max: usize,
    /// Bytes of receive buffer each TCP connection starts with (default 262144).
    #[arg(long, value_name = "BYTES", global = true, allow_negative_numbers = true)]
    pub recv_buffer: Option<usize>,
    /// Receive autotuning: a connection whose reader keeps up with a sender the window holds back grows its
    /// receive buffer (and window) up to this many bytes, as Linux does up to tcp_rmem's maximum. 0 turns it
    /// off (a fixed --recv-buffer).
    #[arg(long, value_name = "BYTES", global = true, default_value_t = 4 << 20, allow_negative_numbers = true)]
    pub recv_buffer_max: usize,
    /// Explicit Congestion Notification (RFC 3168), as Linux's net.ipv4.tcp_ecn: `passive` accepts it when the
    /// peer's SYN asks (Linux's default, tcp_ecn=2), `on` also asks when synack connects (tcp_ecn=1), `off`
    /// never (tcp_ecn=0).
    #[arg(long, value_name = "MODE", global = true, value_enum, default_value_t = EcnMode::Passive)]
    pub ecn: EcnMode,
    /// Get the address, prefix, gateway and DNS servers by DHCP (RFC 2131) instead of --ip and --gateway; the
    /// mode starts once a lease is bound. Renewals, retransmissions and a lost lease are printed as they
    /// happen. The MAC still defaults to 02:00 followed by --ip's bytes.
    #[arg(long, global = true)]
    pub dhcp: bool,
    /// DNS server for `get` (repeat for more); with --dhcp the lease's servers are used when none is given.
    #[arg(long, value_name = "A.B.C.D", global = true)]
    pub dns: Vec<Ipv4Addr>,
    #[command(subcommand)]
    pub mode: Mode,
}

/// `--ecn`: the TCP connections' ECN setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EcnMode {
    Off,
    Passive,
    On,
}

impl EcnMode {
    pub fn setting(self) -> synack::tcp::Ecn {
        match self {
            EcnMode::Off => synack::tcp::Ecn::Off,
            EcnMode::Passive => synack::tcp::Ecn::Passive,
            EcnMode::On => synack::tcp::Ecn::On,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Mode {
    /// The classic small services at once, each on its standard port, over TCP and UDP: echo (7, RFC 862),
    /// discard (9, RFC 863), daytime (13, RFC 867: the time in UTC, then the server closes), chargen (19,
    /// RFC 864: --chargen-bytes per TCP connection, then the server closes; a UDP datagram gets six lines),
    /// and the HTTP server (TCP 80). ICMP echo is answered as always. Each can be switched off.
    #[command(verbatim_doc_comment)]
    Serve {
        #[arg(long)]
        no_echo: bool,
        #[arg(long)]
        no_discard: bool,
        #[arg(long)]
        no_daytime: bool,
        #[arg(long)]
        no_chargen: bool,
        #[arg(long)]
        no_http: bool,
        /// No UDP services (only TCP ones).
        #[arg(long, conflicts_with = "no_tcp")]
        no_udp: bool,
        /// No TCP services (only UDP ones).
        #[arg(long)]
        no_tcp: bool,
        /// Bytes a chargen TCP connection sends before the server closes it (1 to 10^12).
        #[arg(long, value_name = "N", default_value_t = 1 << 20,
              value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000), allow_negative_numbers = true)]
        chargen_bytes: u64,
    },
    /// TCP echo server: sends back everything it receives.
    Echo {
        #[arg(long, default_value_t = 7, value_parser = port_number, allow_negative_numbers = true)]
        port: u16,
    },
    /// TCP discard server: reads and forgets.
    Discard {
        #[arg(long, default_value_t = 9, value_parser = port_number, allow_negative_numbers = true)]
        port: u16,
    },
    /// Tiny HTTP/1.1 server: `/` says hello, `/bytes/N` returns N bytes; one request per connection.
    Http {
        #[arg(long, default_value_t = 80, value_parser = port_number, allow_negative_numbers = true)]
        port: u16,
    },
    /// TCP client: connects, sends N seeded pseudo-random bytes, prints their sha256.
    Send {
        /// Where to connect, e.g. 10.77.0.1:5001.
        #[arg(long, value_name = "A.B.C.D:PORT", value_parser = peer_address)]
        connect: SocketAddr,
        /// How many bytes to send.
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        bytes: u64,
        /// Benchmarks: no per-byte work in the application. Sends the stream's first 256 KiB over and over
        /// and prints no sha256.
        #[arg(long)]
        no_hash: bool,
    },
    /// TCP sink: reads each connection to its end and prints the byte count and sha256.
    Recv {
        #[arg(long, default_value_t = 5001, value_parser = port_number, allow_negative_numbers = true)]
        port: u16,
        /// Only count the bytes (benchmarks: no per-byte work in the application).
        #[arg(long)]
        no_hash: bool,
    },
    /// UDP echo server.
    UdpEcho {
        #[arg(long, default_value_t = 7, value_parser = port_number, allow_negative_numbers = true)]
        port: u16,
    },
    /// Tiny HTTP/1.0 client: resolves NAME through --dns (or the DHCP lease's servers), connects, sends one GET
    /// and writes the response body to stdout (or --output); the status line goes to stderr.
    Get {
        /// http://NAME[:PORT]/PATH (NAME may be an address).
        #[arg(value_name = "URL")]
        url: String,
        /// Write the body here instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Echo { .. } => "echo",
            Mode::Discard { .. } => "discard",
            Mode::Http { .. } => "http",
            Mode::Send { .. } => "send",
            Mode::Recv { .. } => "recv",
            Mode::UdpEcho { .. } => "udp-echo",
            Mode::Get { .. } => "get",
            Mode::Serve { .. } => "serve",
        }
    }
}

/// A port to listen on: 1 to 65535 (0 names no port).
fn port_number(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(0) => Err("0 names no port: give 1 to 65535".into()),
        Ok(port) => Ok(port),
        Err(e) => Err(format!("{e}: give a port from 1 to 65535")),
    }
}

/// An address and port to connect to; port 0 names no port.
fn peer_address(s: &str) -> Result<SocketAddr, String> {
    match s.parse::<SocketAddr>() {
        Ok(a) if a.port() == 0 => Err("port 0 names no port: give 1 to 65535".into()),
        Ok(a) => Ok(a),
        Err(e) => Err(format!("{e}: give an address and port, e.g. 10.77.0.1:5001")),
    }
}

/// 02:00 followed by the four address bytes: locally administered, unicast, unique per address.
pub fn default_mac(ip: Ipv4Addr) -> EthernetAddress {
    let o = ip.octets();
    EthernetAddress([0x02, 0x00, o[0], o[1], o[2], o[3]])
}
