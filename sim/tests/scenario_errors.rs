//! Bad scenarios get errors naming the file, the line and the field.

mod common;

use synack_sim::{build, BuildOptions, Scenario, ScenarioError, Source};

fn error(text: &str) -> ScenarioError {
    let file = "bad.toml";
    let src = Source { file: file.into(), text: text.into() };
    match Scenario::parse(file, text) {
        Err(e) => e,
        Ok(sc) => build(&sc, &src, &BuildOptions::default()).expect_err("the scenario should be rejected"),
    }
}

fn base(link: &str, rest: &str) -> String {
    format!(
        "name = \"x\"\n[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[[host]]\nname = \"b\"\nip = \"10.0.0.2/24\"\n[[link]]\na = \"a\"\nb = \"b\"\n{link}\n{rest}"
    )
}

fn check(e: &ScenarioError, line: usize, field: &str, words: &str) {
    let shown = e.to_string();
    assert_eq!((e.file.as_str(), e.line, e.field.as_str()), ("bad.toml", line, field), "{shown}");
    assert!(shown.contains(words), "{shown:?} should mention {words:?}");
    assert!(shown.starts_with(&format!("bad.toml:{line}:")), "{shown}");
}

#[test]
fn wrong_type_names_line_and_field() {
    check(&error(&base("loss = \"lots\"", "")), 11, "link[0].loss", "invalid type");
}

#[test]
fn probability_out_of_range() {
    check(&error(&base("loss = 1.5", "")), 11, "link[0].loss", "outside 0..=1");
}

#[test]
fn unknown_field_is_rejected() {
    check(&error(&base("lose = 0.1", "")), 11, "link[0].lose", "unknown field `lose`");
}

#[test]
fn bad_duration_and_bad_address() {
    check(&error(&base("delay = \"5 parsecs\"", "")), 11, "link[0].delay", "invalid duration");
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.300/24\"\n");
    check(&e, 3, "host[0].ip", "bad address/prefix");
}

#[test]
fn unknown_host_in_a_link_points_at_the_name() {
    let text = base("", "").replace("b = \"b\"", "b = \"nobody\"");
    check(&error(&text), 10, "link[0].b", "no host named \"nobody\"");
}

#[test]
fn unknown_app_in_an_expectation_and_missing_dst() {
    let e = error(&base("", "[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"udp_sink\"\n[[expect]]\napp = \"ghost\"\n"));
    check(&e, 17, "expect[0].app", "no app named \"ghost\"");
    let e = error(&base("", "[[app]]\nhost = \"a\"\nkind = \"ping\"\ncount = 3\n"));
    check(&e, 12, "app[0].dst", "needs `dst`");
}

#[test]
fn bad_fault_direction() {
    let e = error(&base("", "[[fault]]\ndir = \"a->c\"\nframe = 3\naction = \"drop\"\n"));
    check(&e, 13, "fault[0].dir", "no link direction");
    let e = error(&base("", "[[fault]]\ndir = \"a->b\"\nframe = 3\naction = \"corrupt\"\n"));
    check(&e, 15, "fault[0].action", "needs `bit`");
}

#[test]
fn bad_ecn_setting_and_a_mark_with_a_bit() {
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[host.config]\ntcp_ecn = \"maybe\"\n");
    check(&e, 5, "host[0].config.tcp_ecn", "unknown variant `maybe`");
    let e = error(&base("", "[[fault]]\ndir = \"a->b\"\nframe = 3\naction = \"mark_ce\"\nbit = 7\n"));
    check(&e, 15, "fault[0].action", "only \"corrupt\" takes `bit`");
}

#[test]
fn bad_capture_settings() {
    let e = error(&base("", "[capture]\nsnaplen = 60\n"));
    check(&e, 13, "capture.snaplen", "outside 134..=65535");
    let e = error(&base("", "[capture]\nsnaplen = 70000\n"));
    check(&e, 13, "capture.snaplen", "outside 134..=65535");
    let e = error(&base("", "[capture]\nfrom = \"2s\"\nuntil = \"1s\"\n"));
    check(&e, 14, "capture.until", "later than `from`");
    let e = error(&base("", "[capture]\nuntill = \"1s\"\n"));
    check(&e, 13, "capture.untill", "unknown field `untill`");
    let e = error(&base("", "[capture]\nsnaplen = \"short\"\n"));
    check(&e, 13, "capture.snaplen", "invalid type");
    let ok = base("", "[capture]\nsnaplen = 134\nfrom = \"1s\"\nuntil = \"1.5s\"\n");
    let sc = Scenario::parse("ok.toml", &ok).unwrap();
    build(&sc, &Source { file: "ok.toml".into(), text: ok.clone() }, &BuildOptions::default()).unwrap();
    assert_eq!(Scenario::parse("again", &sc.to_toml()).unwrap(), sc, "round trip");
}

#[test]
fn syntax_error_has_a_line() {
    let e = error("name = \"x\"\n[[host]\n");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn shipped_scenarios_parse_and_build() {
    for name in ["default.toml", "tcp_bulk.toml", "lossy_mix.toml"] {
        let (sc, src) = common::shipped(name);
        build(&sc, &src, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn scenarios_round_trip_through_toml() {
    let (sc, _) = common::shipped("lossy_mix.toml");
    let again = Scenario::parse("again", &sc.to_toml()).unwrap_or_else(|e| panic!("{e}\n{}", sc.to_toml()));
    assert_eq!(sc, again);
}
