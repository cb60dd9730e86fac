//! `synack-tap`: the synack stack on a live TAP device, with serve/echo/discard/http/send/recv/udp-echo modes.

mod bulk;
mod cli;
mod get;
mod server_app;
mod services;

use clap::Parser;
use cli::{Cli, Mode};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::process::ExitCode;
use std::time::Duration;
use synack::ConfigError;
use synack_tap::{Driver, DriverConfig, Handle, Impairments};

/// mimalloc instead of the system allocator: every application write becomes a `Vec` that the driver thread
/// frees once it is acknowledged (and every read reply the other way round). glibc's malloc answers that
/// cross-thread traffic of 256 KiB–1 MiB blocks by trimming and re-growing its heap, with page faults and TLB
/// shootdowns on every round; that made sending bimodal (9–10 or 15–19 Gbit/s with the same binary).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long an ending synack-tap waits for its last FINs to be acknowledged.
const LINGER: Duration = Duration::from_secs(10);

/// What the running mode tells `main` when it ends.
pub type ModeResult = Result<(), String>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack-tap: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let impair = Impairments {
        loss: cli.loss,
        reorder: cli.reorder,
        duplicate: cli.duplicate,
        seed: cli.seed,
        ..Impairments::default()
    };
    impair.validate()?;
    let duration = match cli.duration {
        Some(secs) => Some(
            Duration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| !d.is_zero())
                .map(|d| (secs, d))
                .ok_or_else(|| format!("--duration {secs} must be a positive number of seconds"))?,
        ),
        None => None,
    };
    let mut stack = synack::Config {
        mac: cli.mac.unwrap_or_else(|| cli::default_mac(cli.ip.addr())),
        ipv4: cli.ip,
        gateway: cli.gateway,
        seed: cli.seed,
        ..synack::Config::default()
    };
    stack.tcp.send_buffer = cli.send_buffer.unwrap_or(stack.tcp.send_buffer);
    stack.tcp.recv_buffer = cli.recv_buffer.unwrap_or(stack.tcp.recv_buffer);
    // Autotuning maxima never below the starting sizes: `--recv-buffer 8388608` alone means a larger buffer.
    let at_least = |max: usize, start: usize| if max == 0 { 0 } else { max.max(start) };
    stack.tcp.recv_buffer_max = at_least(cli.recv_buffer_max, stack.tcp.recv_buffer);
    stack.tcp.send_buffer_max = at_least(cli.send_buffer_max, stack.tcp.send_buffer);
    stack.tcp.ecn = cli.ecn.setting();
    // --trace prints why each segment went out, state changes and drops under the frame lines.
    // --pcap writes each sent segment's reason into its packet comment (the driver turns it on for that).
    stack.explain = cli.trace || tracing::enabled!(target: "synack_tap::explain", tracing::Level::DEBUG);
    if cli.dhcp {
        stack.dhcp = Some(synack::DhcpConfig::default());
    }
    if !cli.no_ip6 {
        stack.ipv6 = Some(synack::Ipv6Config { addresses: cli.ip6.clone(), ..synack::Ipv6Config::default() });
    }
    stack.validate().map_err(|e| match e {
        ConfigError::BadIpv6(_) => format!("{e} (--ip6 ADDR/LEN, e.g. --ip6 fd00:77::2/64)"),
        ConfigError::BadTcp(_) | ConfigError::ZeroLimit(_) => {
            format!("{e} (--send-buffer / --recv-buffer and their -max)")
        }
        _ => format!("{e} (use an address such as --ip 10.77.0.2/24, inside a namespace)"),
    })?;
    let specs = server_specs(&cli.mode)?;
    let probe = synack_tap::AddressProbe { probes: cli.probes, interval: Duration::from_millis(cli.probe_interval) };
    let (dhcp_tx, dhcp_rx) = std::sync::mpsc::channel();
    let dhcp_events = cli.dhcp.then_some(dhcp_tx);
    let config =
        DriverConfig { stack, pcap: cli.pcap.clone(), impair, trace: cli.trace, probe: Some(probe), dhcp_events };
    let open = if cli.offload { Driver::open_tap_with_offload } else { Driver::open_tap };
    let driver = open(&cli.tap, config).map_err(|e| e.to_string())?;
    let handle = driver.handle();
    watch_signals(&handle)?;
    if let Some((secs, d)) = duration {
        let h = handle.clone();
        std::thread::spawn(move || {
            std::thread::sleep(d);
            eprintln!("synack-tap: --duration {secs}s reached, stopping");
            h.stop();
        });
    }
    let result = match cli.dhcp {
        true => get::wait_for_lease(&handle, dhcp_rx).and_then(|lease| run_mode(&cli, &handle, specs, Some(lease))),
        false => run_mode(&cli, &handle, specs, None),
    };
    if !handle.is_stopped() {
        // Our last FINs: a peer whose copy was lost would otherwise wait for it forever.
        match handle.linger(LINGER) {
            Ok(0) | Err(_) => {}
            Ok(n) => eprintln!("synack-tap: {n} connection(s) still closing after {LINGER:?}; stopping anyway"),
        }
    }
    let report = driver.stop();
    println!("--- synack-tap stats ({}) ---", cli.mode.name());
    print!("{report}");
    result?;
    match report.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn run_mode(
    cli: &Cli,
    handle: &Handle,
    specs: Option<Vec<services::Spec>>,
    lease: Option<synack::DhcpLease>,
) -> ModeResult {
    let opts = server_app::Options {
        // Under --dhcp the servers listen on the leased address.
        ip: lease.as_ref().map_or(cli.ip.addr(), |l| l.address.addr()),
        limit: cli.max_connections,
        verbose: cli.verbose,
        dual_stack: !cli.no_ip6,
        chargen_bytes: match cli.mode {
            Mode::Serve { chargen_bytes, .. } => chargen_bytes,
            _ => 0,
        },
    };
    match (specs, &cli.mode) {
        (Some(specs), _) => server_app::serve(handle, specs, opts),
        (None, Mode::Send { connect, bytes, no_hash }) => bulk::send(handle, cli, *connect, *bytes, *no_hash),
        (None, Mode::Get { url, output }) => {
            let mut dns = cli.dns.clone();
            if dns.is_empty() {
                dns = lease.map(|l| l.dns_servers).unwrap_or_default();
            }
            get::get(handle, url, &dns, cli.seed, output.as_deref())
        }
        (None, _) => Err("no services to run".into()),
    }
}

/// The services a server mode runs (`None` for the client mode `send`); checked before the device is opened.
fn server_specs(mode: &Mode) -> Result<Option<Vec<services::Spec>>, String> {
    use services::{Service, Spec};
    let one = |service: Service, port: u16| Ok(Some(vec![Spec { service, port }]));
    match *mode {
        Mode::Echo { port } => one(Service::Echo, port),
        Mode::Discard { port } => one(Service::Discard, port),
        Mode::Http { port } => one(Service::Http, port),
        Mode::Recv { port, no_hash } => one(Service::Recv { hash: !no_hash }, port),
        Mode::UdpEcho { port } => one(Service::UdpEcho, port),
        Mode::Send { .. } | Mode::Get { .. } => Ok(None),
        Mode::Serve { no_echo, no_discard, no_daytime, no_chargen, no_http, no_udp, no_tcp, .. } => {
            let off = |s: Service| match s {
                Service::Echo | Service::UdpEcho => no_echo,
                Service::Discard | Service::UdpDiscard => no_discard,
                Service::Daytime | Service::UdpDaytime => no_daytime,
                Service::Chargen | Service::UdpChargen => no_chargen,
                Service::Http => no_http,
                Service::Recv { .. } => true,
            } || (s.is_udp() && no_udp)
                || (!s.is_udp() && no_tcp);
            let all = [
                Service::Echo,
                Service::Discard,
                Service::Daytime,
                Service::Chargen,
                Service::Http,
                Service::UdpEcho,
                Service::UdpDiscard,
                Service::UdpDaytime,
                Service::UdpChargen,
            ];
            let specs: Vec<Spec> = all
                .into_iter()
                .filter(|s| !off(*s))
                .map(|service| Spec { service, port: service.standard_port() })
                .collect();
            if specs.is_empty() {
                return Err("serve: every service is switched off (--no-...); leave at least one on".into());
            }
            Ok(Some(specs))
        }
    }
}

/// SIGINT and SIGTERM stop the driver; blocked calls then fail and the mode winds down, printing stats.
fn watch_signals(handle: &Handle) -> Result<(), String> {
    let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let h = handle.clone();
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            eprintln!("synack-tap: signal {sig} received, stopping");
            h.stop();
        }
    });
    Ok(())
}
