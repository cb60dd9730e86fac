//! ECN in the simulator: the `tcp_ecn` host key and the exact `mark_ce` fault, seen in the run's counters, the
//! apps' connection reports and the decoded captures.

mod common;

use synack_sim::decode::decode;
use synack_sim::RunOutput;

/// A 100 kB transfer from a to b with the given ECN settings and `mark_ce` faults on a->b frames.
fn transfer(client_ecn: &str, server_ecn: &str, marks: &[u64]) -> RunOutput {
    let mut text = common::two_hosts("delay = \"5ms\"\nrate = \"20Mbit\"", "")
        .replace("ip = \"10.0.0.1/24\"", &format!("ip = \"10.0.0.1/24\"\n[host.config]\ntcp_ecn = \"{client_ecn}\""))
        .replace("ip = \"10.0.0.2/24\"", &format!("ip = \"10.0.0.2/24\"\n[host.config]\ntcp_ecn = \"{server_ecn}\""));
    text.push_str(
        "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"tcp_sink\"\n\
         [[app]]\nname = \"bulk\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nbytes = 100000\n\
         [[expect]]\napp = \"sink\"\nhash_equals = \"bulk\"\n",
    );
    for m in marks {
        text.push_str(&format!("[[fault]]\ndir = \"a->b\"\nframe = {m}\naction = \"mark_ce\"\n"));
    }
    common::run_text(&text, None, true)
}

fn lines(out: &RunOutput, host: &str) -> Vec<String> {
    let (_, bytes) = out.captures.iter().find(|(h, _)| h == host).expect("a capture of that host");
    decode(bytes).expect("decodes")
}

#[test]
fn an_exact_ce_mark_is_echoed_and_answered_with_one_reduction() {
    // Frame 1 is the ARP request (not ECN-capable: left alone), 6 and 7 two data segments of the first flight.
    let out = transfer("on", "passive", &[1, 6, 7]);
    assert!(out.result.passed(), "{}", out.result);
    let link = &out.result.links.iter().find(|(l, _)| l == "a->b").expect("a->b").1;
    assert_eq!(link.ce_marked, 2);
    let conn = |app: &str| {
        let a = out.result.apps.iter().find(|a| a.name == app).expect("the app");
        (a.conns[0].ecn, a.conns[0].counters.expect("counters"))
    };
    let ((client_ecn, client), (server_ecn, server)) = (conn("bulk"), conn("sink"));
    assert!(client_ecn && server_ecn);
    assert_eq!(server.ce_received, 2);
    assert_eq!((client.cwnd_reductions_ecn, client.retransmitted_segments), (1, 0), "{client:?}");
    assert!(client.ece_received >= 2, "{client:?}");
    let summary = out.result.to_string();
    assert!(summary.contains("CE-marked 2"), "{summary}");
    assert!(summary.contains("ECN: CE marks received 2, ECE received 0, window reductions for ECE 0"), "{summary}");
    // The captures explain it: the sender's copy ECT(0) with the link's comment, the receiver's CE; the
    // handshake [SEW] / [S.E], the echo [.E], the answer [.W].
    let (a, b) = (lines(&out, "a"), lines(&out, "b"));
    assert!(
        a[0].contains("ARP who-has") && a[0].contains("# not ECN-capable, left unmarked by link (fault)"),
        "{}",
        a[0]
    );
    assert_eq!(a.iter().filter(|l| l.contains("ECT(0)  # CE marked by link (fault)")).count(), 2, "{a:#?}");
    assert_eq!(b.iter().filter(|l| l.contains(" CE  # CE marked by link (fault)")).count(), 2, "{b:#?}");
    assert!(a.iter().any(|l| l.contains("TCP [SEW]")) && b.iter().any(|l| l.contains("TCP [S.E]")));
    assert!(b.iter().any(|l| l.contains("> ") && l.contains("TCP [.E]")), "{b:#?}");
    assert_eq!(a.iter().filter(|l| l.contains("TCP [.W]")).count(), 1, "{a:#?}");
}

#[test]
fn a_server_with_ecn_off_answers_plainly_and_nothing_is_ect() {
    let out = transfer("on", "off", &[6, 7]);
    assert!(out.result.passed(), "{}", out.result);
    let link = &out.result.links.iter().find(|(l, _)| l == "a->b").expect("a->b").1;
    assert_eq!(link.ce_marked, 0, "Not-ECT frames are never marked");
    assert!(out.result.apps.iter().all(|a| a.conns.iter().all(|c| !c.ecn)));
    let a = lines(&out, "a");
    assert!(a.iter().any(|l| l.contains("TCP [SEW]")), "the client asked");
    assert!(a.iter().all(|l| !l.contains("ECT(") && !l.contains(" CE")), "{a:#?}");
    assert!(a.iter().filter(|l| l.contains("not ECN-capable, left unmarked")).count() == 2);
    // The default on both sides: the scenario runs as it always did.
    let out = transfer("passive", "passive", &[]);
    assert!(lines(&out, "a").iter().all(|l| !l.contains("ECT(") && !l.contains("[SEW]")));
}
