//! Same scenario + same seed => byte-identical pcapng files; another seed => other frames.

mod common;

use synack_sim::{run, BuildOptions, Scenario};

fn captures(sc: &Scenario, src: &synack_sim::Source, seed: Option<u64>) -> Vec<(String, Vec<u8>)> {
    run(sc, src, &BuildOptions { seed, capture: true, record: false }).expect("runs").captures
}

#[test]
fn same_seed_gives_byte_identical_pcapng_files() {
    for (sc, src) in [Scenario::builtin(), common::shipped("tcp_bulk.toml"), common::shipped("lossy_mix.toml")] {
        let first = captures(&sc, &src, None);
        let second = captures(&sc, &src, None);
        assert_eq!(first.len(), sc.hosts.len(), "one file per host");
        for ((h1, b1), (h2, b2)) in first.iter().zip(&second) {
            assert_eq!(h1, h2);
            assert!(b1.len() > 1000, "{}: {h1} capture is nearly empty", sc.name);
            assert!(b1 == b2, "{}: {h1} capture differs between two runs", sc.name);
        }
    }
}

#[test]
fn another_seed_gives_other_frames() {
    let (sc, src) = common::shipped("tcp_bulk.toml");
    let a = captures(&sc, &src, Some(1));
    let b = captures(&sc, &src, Some(2));
    assert_ne!(a[0].1, b[0].1);
}

#[test]
fn section_header_names_scenario_and_seed_and_timestamps_are_nanoseconds() {
    let (sc, src) = Scenario::builtin();
    let caps = captures(&sc, &src, Some(99));
    let bytes = &caps[0].1;
    let text = String::from_utf8_lossy(bytes);
    assert!(text.contains("synack-sim scenario=default seed=99 host=client"), "section header comment");
    // if_tsresol option (code 9, length 1, value 9) in the interface description block.
    assert!(bytes.windows(5).any(|w| w == [9, 0, 1, 0, 9]), "if_tsresol=9");
}
