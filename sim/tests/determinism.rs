//! Same scenario + same seed => byte-identical pcapng files; another seed => other frames.

mod common;

use synack_sim::{run, BuildOptions, Scenario};

fn captures(sc: &Scenario, src: &synack_sim::Source, seed: Option<u64>) -> Vec<(String, Vec<u8>)> {
    run(sc, src, &BuildOptions { seed, capture: true, ..BuildOptions::default() }).expect("runs").captures
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

#[test]
fn a_capture_window_and_snap_length_keep_only_what_they_say() {
    let (mut sc, src) = common::shipped("tcp_bulk.toml");
    let whole = captures(&sc, &src, None);
    sc.capture = synack_sim::scenario::CaptureSpec {
        snaplen: Some(200),
        from: Some(synack_sim::units::Dur(std::time::Duration::from_millis(100))),
        until: Some(synack_sim::units::Dur(std::time::Duration::from_millis(150))),
    };
    let cut = captures(&sc, &src, None);
    for ((host, all), (_, part)) in whole.iter().zip(&cut) {
        // The plot reads the cut frames' headers too.
        let segments = synack_sim::plot::read_segments_from(part).unwrap();
        assert!(segments.iter().filter(|s| s.len == 1448).count() > 10, "{host}: {} segments", segments.len());
        let all = synack_sim::decode::read(all).unwrap();
        let part = synack_sim::decode::read(part).unwrap();
        assert!(part.comment.as_deref().unwrap().ends_with(" snaplen=200 from=100ms until=150ms"), "{host}");
        // Exactly the frames of the window, each cut to 200 bytes with its real length kept.
        let window: Vec<_> = all.frames.iter().filter(|f| (100_000_000..150_000_000).contains(&f.time_ns)).collect();
        assert!(window.len() > 20, "{host}: {} frames in the window", window.len());
        assert_eq!(part.frames.len(), window.len(), "{host}");
        for (p, w) in part.frames.iter().zip(&window) {
            assert_eq!(
                (p.time_ns, p.original_len, &p.data[..], &p.comment),
                (w.time_ns, w.data.len(), &w.data[..w.data.len().min(200)], &w.comment)
            );
        }
        // The decode still reads every header: the same lines, the cut ones marked.
        let (lines_all, lines_part) = (all.lines(), part.lines());
        let first = all.frames.iter().position(|f| f.time_ns >= 100_000_000).unwrap();
        let t0 = all.frames[first].time_ns;
        for (i, line) in lines_part.iter().enumerate() {
            let w = window[i];
            let same = &lines_all[first + i];
            let body = |l: &str| l.trim_start().split_once(' ').map(|(_, rest)| rest.to_string()).unwrap();
            let expected = if w.data.len() > 200 {
                let (head, comment) = body(same)
                    .split_once("  # ")
                    .map(|(a, b)| (a.to_string(), format!("  # {b}")))
                    .unwrap_or((body(same), String::new()));
                format!("{head} caplen=200{comment}")
            } else {
                body(same)
            };
            assert_eq!(body(line), expected, "{host} frame {i} at {}", w.time_ns - t0);
        }
    }
}
