//! The stack's reasons reach a `tracing` subscriber (target `synack_sim::explain`) without any capture, and a
//! run without a subscriber or capture is the same run.

mod common;

use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Collects the messages of `synack_sim::explain` events.
struct Collect(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        }
    }
}

impl Subscriber for Collect {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.target() == "synack_sim::explain"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut m = String::new();
        event.record(&mut Message(&mut m));
        self.0.lock().unwrap().push(m);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// 200 kB over a 5 ms link that loses 5 % of frames.
fn scenario() -> String {
    common::two_hosts(
        "delay = \"5ms\"\nloss = 0.05",
        r#"
[[app]]
host = "b"
kind = "tcp_sink"
port = 5001
[[app]]
host = "a"
kind = "tcp_bulk"
dst = "10.0.0.2"
port = 5001
bytes = 200000
"#,
    )
}

#[test]
fn a_subscriber_hears_why_without_a_capture_and_the_run_is_the_same() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let with =
        tracing::subscriber::with_default(Collect(heard.clone()), || common::run_text(&scenario(), Some(3), false));
    let without = common::run_text(&scenario(), Some(3), false);
    assert_eq!(with.result.to_string(), without.result.to_string(), "explaining changes nothing");
    let heard = heard.lock().unwrap();
    assert!(heard.iter().any(|m| m == "why: SYN (connect)"), "{heard:?}");
    assert!(heard.iter().any(|m| m.starts_with("state: ") && m.ends_with("SYN-SENT -> ESTABLISHED")), "{heard:?}");
    assert!(heard.iter().any(|m| m.starts_with("why: retransmission") || m.starts_with("why: fast retransmit")));
}
