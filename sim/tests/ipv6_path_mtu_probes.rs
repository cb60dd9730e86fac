//! A path MTU learnt from a Packet Too Big is host-wide (`path_mtu.rs`), but TCP sized its segments by the MSS
//! of its handshake: a segment larger than the cached path MTU was refused locally (TCP is never fragmented)
//! and the error ignored, so the connection's data never left the host: no router saw it, no new Packet Too
//! Big came, the transfer stalled. Now a connection opens with the path's MSS and follows the path MTU at every
//! send, as Linux's `tcp_sync_mss`.

mod common;

use common::run_text;

/// Client and server on two subnets joined by r1 and r2, whose wan link carries 1280-byte packets.
/// No random impairment: the outcome is deterministic.
fn two_routers(apps: &str) -> String {
    format!(
        r#"
name = "ipv6_pmtu_cache"
seed = 1
duration = "120s"
[[host]]
name = "client"
ip = "10.0.1.2/24"
ip6 = ["2001:db8:1::2/64"]
config = {{ gateway = "10.0.1.1", gateway6 = "2001:db8:1::1" }}
[[host]]
name = "server"
ip = "10.0.2.2/24"
ip6 = ["2001:db8:2::2/64"]
config = {{ gateway = "10.0.2.1", gateway6 = "2001:db8:2::1" }}
[[router]]
name = "r1"
[[router.interface]]
name = "lan"
address = "10.0.1.1/24"
ip6 = "2001:db8:1::1/64"
[[router.interface]]
name = "wan"
address = "10.0.12.1/30"
ip6 = "2001:db8:12::1/64"
mtu = 1280
[[router.route]]
prefix = "10.0.2.0/24"
via = "10.0.12.2"
[[router.route]]
prefix = "2001:db8:2::/64"
via = "2001:db8:12::2"
[[router]]
name = "r2"
[[router.interface]]
name = "wan"
address = "10.0.12.2/30"
ip6 = "2001:db8:12::2/64"
mtu = 1280
[[router.interface]]
name = "lan"
address = "10.0.2.1/24"
ip6 = "2001:db8:2::1/64"
[[router.route]]
prefix = "10.0.1.0/24"
via = "10.0.12.1"
[[router.route]]
prefix = "2001:db8:1::/64"
via = "2001:db8:12::1"
[[link]]
a = "client"
b = "r1:lan"
delay = "2ms"
[[link]]
a = "r1:wan"
b = "r2:wan"
delay = "15ms"
mtu = 1280
[[link]]
a = "r2:lan"
b = "server"
delay = "2ms"
{apps}
"#
    )
}

/// A second connection opened after the first one learnt the path MTU: its MSS came from the link MTU, its
/// full-size segments were refused locally, only its 4-byte tail and FIN left.
#[test]
fn a_connection_opened_after_a_packet_too_big_still_completes() {
    let out = run_text(
        &two_routers(
            r#"
[[app]]
name = "sink"
host = "server"
kind = "tcp_sink"
connections = 2
[[app]]
name = "first"
host = "client"
kind = "tcp_bulk"
dst = "server"
ipv6 = true
bytes = 10000
start = "3s"
[[app]]
name = "second"
host = "client"
kind = "tcp_bulk"
dst = "server"
ipv6 = true
bytes = 10000
start = "10s"
[[expect]]
app = "first"
[[expect]]
app = "second"
within = "60s"
"#,
        ),
        None,
        false,
    );
    assert!(out.result.passed(), "{}", out.result);
}

/// A connection that was already open when another connection's Packet Too Big shrank the cached path MTU:
/// the error goes only to the connection it quotes (`on_icmpv6_error`), so this one kept its MSS and its echo
/// replies were refused locally from then on.
#[test]
fn an_open_connection_survives_another_connections_packet_too_big() {
    let out = run_text(
        &two_routers(
            r#"
[[app]]
name = "echo"
host = "client"
kind = "tcp_echo"
port = 7
[[app]]
name = "ebulk"
host = "server"
kind = "tcp_bulk"
dst = "client"
ipv6 = true
port = 7
bytes = 100000
start = "3s"
[[app]]
name = "sink"
host = "server"
kind = "tcp_sink"
[[app]]
name = "bulk"
host = "client"
kind = "tcp_bulk"
dst = "server"
ipv6 = true
bytes = 10000
start = "3s"
[[expect]]
app = "sink"
hash_equals = "bulk"
[[expect]]
app = "ebulk"
within = "60s"
"#,
        ),
        None,
        false,
    );
    assert!(out.result.passed(), "{}", out.result);
}
