//! Live IPv6 against Linux over a TAP device, in a namespace of its own: `ping -6` to synack's configured and
//! link-local addresses, `nc -6` echoing 1 MB (checked by sha256), `curl -g` over IPv6, closed ports refused
//! in both families, and a SLAAC address from radvd's router advertisement. Skipped loudly without
//! root/tools, unless CI=true.

mod common;

use common::{random_file, run, sha256_file, text, Netns, Synack};
use std::fs::File;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

const LINUX6: &str = "fd00:77::1";
const SYNACK6: &str = "fd00:77::2";

/// synack-tap's MAC by default: 02:00 and its IPv4 address (10.77.0.2).
fn synack_link_local() -> Ipv6Addr {
    synack::wire::ipv6::link_local_from_mac(synack::wire::EthernetAddress([2, 0, 10, 77, 0, 2]))
}

/// Gives the Linux side its IPv6 address (no DAD wait) and returns once pinging `target` works (synack's
/// addresses pass duplicate address detection about a second after start).
fn ipv6_ready(ns: &Netns, target: &str) {
    linux_ipv6_up(ns);
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let ok = ns.cmd("ping").args(["-6", "-c", "1", "-W", "1", target]).output().is_ok_and(|o| o.status.success());
        if ok {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{target} never answered ping -6");
}

/// IPv6 on the Linux side of the TAP device (some hosts start namespaces with it disabled), with its address.
fn linux_ipv6_up(ns: &Netns) {
    for key in ["all", "default", common::TAP] {
        run(ns.cmd("sysctl").args(["-q", "-w", &format!("net.ipv6.conf.{key}.disable_ipv6=0")]));
    }
    ns.ip(&["-6", "addr", "add", &format!("{LINUX6}/64"), "dev", common::TAP, "nodad"]);
}

#[test]
fn ping6_nc6_echo_curl6_and_closed_ports_both_families() {
    if !common::live("ipv6", &["nc", "ping", "curl", "sha256sum"]) {
        return;
    }
    let ns = Netns::with_tap("ipv6");
    let mut synack = Synack::start(&ns, &["--ip6", &format!("{SYNACK6}/64"), "serve"]);
    ipv6_ready(&ns, SYNACK6);
    // Both addresses answer ping -6: the configured one and the link-local one (scoped to the device).
    let out = run(ns.cmd("ping").args(["-6", "-c", "3", "-i", "0.2", SYNACK6]));
    assert!(text(&out.stdout).contains("3 received"), "{}", text(&out.stdout));
    let ll = format!("{}%{}", synack_link_local(), common::TAP);
    let out = run(ns.cmd("ping").args(["-6", "-c", "3", "-i", "0.2", &ll]));
    assert!(text(&out.stdout).contains("3 received"), "{}", text(&out.stdout));
    // 1 MB through the echo service over IPv6, unchanged.
    let input = random_file("echo6-1mb", 1 << 20);
    let back = common::TempPath(input.with_extension("back"));
    run(ns
        .cmd("timeout")
        .args(["60", "nc", "-6", "-N", SYNACK6, "7"])
        .stdin(File::open(&*input).unwrap())
        .stdout(File::create(&*back).unwrap()));
    assert_eq!(sha256_file(&back), sha256_file(&input), "1 MB echoed over IPv6 unchanged");
    // HTTP over IPv6 (curl -g: the brackets are not a glob), and over IPv4 on the same dual-stack listener.
    for url in [format!("http://[{SYNACK6}]/"), format!("http://{}/", common::SYNACK_IP)] {
        let out = run(ns.cmd("curl").args(["-sS", "-g", "--fail", "--max-time", "20", &url]));
        assert_eq!(text(&out.stdout), "hello from synack, a user-space TCP/IP stack\n", "{url}");
    }
    // A closed port is refused in both families (RST), at once.
    for (family, host) in [("-6", SYNACK6), ("-4", common::SYNACK_IP)] {
        let t = Instant::now();
        let out = ns.cmd("nc").args([family, "-z", "-w", "5", host, "9999"]).output().unwrap();
        assert!(!out.status.success(), "port 9999 over {family} must be refused");
        assert!(t.elapsed() < Duration::from_secs(3), "refused, not timed out: {:?}", t.elapsed());
    }
    drop(synack.collect());
}

#[test]
fn radvd_router_advertisement_gives_synack_a_slaac_address() {
    if !common::live("ipv6-slaac", &["radvd", "ping"]) {
        return;
    }
    let ns = Netns::with_tap("slaac");
    linux_ipv6_up(&ns);
    // The router's own address in the prefix it advertises, so Linux reaches the prefix on-link.
    ns.ip(&["-6", "addr", "add", "fd00:99::1/64", "dev", common::TAP, "nodad"]);
    let conf = common::TempPath(std::env::temp_dir().join(format!("{}-radvd.conf", ns.name)));
    std::fs::write(
        &*conf,
        format!(
            "interface {} {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  \
             prefix fd00:99::/64 {{ AdvOnLink on; AdvAutonomous on; }};\n}};\n",
            common::TAP
        ),
    )
    .unwrap();
    let pid = common::TempPath(std::env::temp_dir().join(format!("{}-radvd.pid", ns.name)));
    run(ns.cmd("sysctl").args(["-q", "-w", "net.ipv6.conf.all.forwarding=1"]));
    // Killed with the namespace (Netns's drop kills what runs inside), bounded by timeout meanwhile.
    let mut radvd = ns
        .cmd("timeout")
        .args(["60", "radvd", "-n", "-C"])
        .arg(&*conf)
        .arg("-p")
        .arg(&*pid)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("radvd");
    let mut synack = Synack::start(&ns, &["echo"]);
    // synack's router solicitation draws an advertisement; the prefix plus the modified EUI-64 of its MAC.
    let id = synack::wire::ipv6::eui64_interface_id(synack::wire::EthernetAddress([2, 0, 10, 77, 0, 2]));
    let mut octets = [0u8; 16];
    octets[..8].copy_from_slice(&[0xfd, 0, 0, 0x99, 0, 0, 0, 0]);
    octets[8..].copy_from_slice(&id);
    let slaac = Ipv6Addr::from(octets).to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut answered = false;
    while Instant::now() < deadline && !answered {
        answered = ns.cmd("ping").args(["-6", "-c", "1", "-W", "1", &slaac]).output().is_ok_and(|o| o.status.success());
        if !answered {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let _ = radvd.kill();
    let _ = radvd.wait();
    let stderr = synack.stderr_text();
    assert!(answered, "the SLAAC address {slaac} never answered; {stderr}");
    assert!(stderr.contains(&format!("address {slaac} assigned")), "{stderr}");
    drop(synack.collect());
}
