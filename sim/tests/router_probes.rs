//! Simulated routers: one whose ARP reply from a next hop was lost, and whose pending queue for it filled (16
//! datagrams) before the retry second passed, never asked again (`Router::send` returned on "ARP queue full"
//! before the retry check), so every later datagram was dropped and the neighbour stayed unreachable until it
//! happened to ARP for the router itself.

mod common;

use common::run_text;

#[test]
fn a_router_asks_again_after_a_lost_arp_reply_even_with_a_full_queue() {
    let out = run_text(
        r#"
name = "router_arp_stuck"
seed = 1
duration = "200s"
[[host]]
name = "client"
ip = "10.0.1.2/24"
config = { gateway = "10.0.1.1" }
[[host]]
name = "server"
ip = "10.0.2.2/24"
config = { gateway = "10.0.2.1" }
[[router]]
name = "r1"
[[router.interface]]
name = "lan"
address = "10.0.1.1/24"
[[router.interface]]
name = "wan"
address = "10.0.2.1/24"
[[link]]
a = "client"
b = "r1:lan"
delay = "1ms"
[[link]]
a = "r1:wan"
b = "server"
delay = "10ms"
[[app]]
name = "sink"
host = "client"
kind = "tcp_sink"
port = 5001
connections = 20
[[app]]
name = "bulk"
host = "server"
kind = "tcp_bulk"
dst = "client"
bytes = 1000
connections = 20
# The client's first frame is its ARP reply to r1's request: lost.
[[fault]]
dir = "client->r1:lan"
frame = 1
action = "drop"
[[expect]]
app = "bulk"
within = "30s"
"#,
        None,
        false,
    );
    assert!(out.result.passed(), "{}", out.result);
}
