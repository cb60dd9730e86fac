//! A test author's scenarios that could not work, refused when loaded instead of failing (or passing) at run
//! time, and a lab summary that added up more than a bottleneck carries.

mod common;

use common::run_text;
use std::path::PathBuf;
use synack_sim::{build, BuildOptions, Scenario, ScenarioError, Source};

fn error(text: &str) -> Option<ScenarioError> {
    let file = "bad.toml";
    let src = Source { file: file.into(), text: text.into() };
    match Scenario::parse(file, text) {
        Err(e) => Some(e),
        Ok(sc) => build(&sc, &src, &BuildOptions::default()).err(),
    }
}

fn base(rest: &str) -> String {
    format!(
        "name = \"x\"\nduration = \"10s\"\n[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[[host]]\nname = \"b\"\nip = \"10.0.0.2/24\"\n[[link]]\na = \"a\"\nb = \"b\"\n{rest}"
    )
}

fn refused(text: &str, line: usize, field: &str) {
    let e = error(text).unwrap_or_else(|| panic!("accepted, but it cannot work:\n{text}"));
    assert_eq!((e.line, e.field.as_str()), (line, field), "{e}");
}

/// `start` past the run is refused ("the app would never run"), but a copy that `start_spread` puts past the
/// run was not: copies #2 and #3 below started at 12 s and 24 s of a 10 s run, and showed as `incomplete`.
#[test]
fn a_copy_spread_past_the_end_of_the_run_is_refused() {
    let text = base("[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"udp_sink\"\ncopies = 3\nstart_spread = \"12s\"\n");
    refused(&text, 17, "app[0].start_spread");
}

/// A destination no datagram can go to: the app's own host, 0.0.0.0, loopback, multicast. Host addresses are
/// checked for exactly these; an app's `dst` was not, and the run "PASS"ed with `cannot send to 10.0.0.1:0`.
#[test]
fn a_dst_that_cannot_be_sent_to_is_refused() {
    for dst in ["a", "10.0.0.1", "0.0.0.0", "127.0.0.1", "224.0.0.1"] {
        let text = base(&format!("[[app]]\nname = \"p\"\nhost = \"a\"\nkind = \"ping\"\ndst = \"{dst}\"\n"));
        refused(&text, 16, "app[0].dst");
    }
}

/// Two servers on one port of one host: the second got AddrInUse at run time and the run still said PASS.
#[test]
fn two_servers_on_one_port_of_one_host_are_refused() {
    let text = base(
        "[[app]]\nname = \"s1\"\nhost = \"b\"\nkind = \"tcp_sink\"\nport = 80\n\
         [[app]]\nname = \"s2\"\nhost = \"b\"\nkind = \"tcp_echo\"\nport = 80\n",
    );
    refused(&text, 21, "app[1].port");
}

/// An expectation the app can never meet: 10 replies from a ping that sends 5.
#[test]
fn an_impossible_min_count_is_refused() {
    let text = base("[[app]]\nname = \"p\"\nhost = \"a\"\nkind = \"ping\"\ndst = \"b\"\ncount = 5\n[[expect]]\napp = \"p\"\nmin_count = 10\n");
    refused(&text, 20, "expect[0].min_count");
}

/// The `flows:` section's "goodput total" summed each flow's average over its own lifetime, so flows that
/// finished at different times added up to more than the bottleneck carries: 22.44 Mbit/s through a 20 Mbit/s queue in
/// traces/dumbbell_taildrop.toml (20 MB in about 8.4 s is 19 Mbit/s).
#[test]
fn goodput_total_never_exceeds_the_bottleneck() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces/dumbbell_taildrop.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let out = run_text(&text, None, false);
    let summary = out.result.to_string();
    let line = summary.lines().find(|l| l.trim_start().starts_with("senders:")).expect("senders line");
    let total: f64 = line.split("goodput total ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(total <= 20.0, "{line}");
}

#[derive(Debug)]
struct Idle(synack_sim::app::AppReport);
impl synack_sim::app::App for Idle {
    fn start(&mut self, _cx: &mut synack_sim::app::Cx<'_>) {}
    fn on_event(&mut self, _: &mut synack_sim::app::Cx<'_>, _: synack::SocketHandle, _: &synack::Event) {}
    fn is_finished(&self) -> bool {
        false
    }
    fn report(&self) -> synack_sim::app::AppReport {
        self.0.clone()
    }
}

/// The builder refuses what a TOML file is refused: an app of my own that starts after the run has ended was
/// accepted (TOML: "the app would never run"), and so were two apps of my own with one name (TOML: "app name
/// ... is used twice"), though reports and expectations tell apps apart by name.
#[test]
fn the_builder_checks_my_apps_as_the_toml_checks_its_own() {
    use std::time::Duration;
    use synack_sim::app::AppReport;
    use synack_sim::builder::NetworkBuilder;
    let net = |start: Duration, second: &str| {
        let mut net = NetworkBuilder::new("b");
        net.duration(Duration::from_secs(5));
        net.host("a", "10.0.0.1/24");
        net.host("b", "10.0.0.2/24");
        net.link("a", "b");
        net.app("a", start, Box::new(Idle(AppReport::new("mine", "idle", "x"))));
        net.app("b", Duration::ZERO, Box::new(Idle(AppReport::new(second, "idle", "x"))));
        net
    };
    let late = net(Duration::from_secs(60), "other").build().is_err();
    let twice = net(Duration::ZERO, "mine").build().is_err();
    assert!(late && twice, "refused: an app starting at 60 s of a 5 s run: {late}; two apps named \"mine\": {twice}");
}
