//! Expectations: what must hold at the end of a run.

use crate::app::{AppReport, Digest};
use crate::scenario::ExpectSpec;
use crate::units::format_duration;

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What was expected, e.g. `sink: complete within 5s`.
    pub what: String,
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// Checks every expectation against the app reports (unknown app names were rejected when building).
pub fn evaluate(specs: &[ExpectSpec], reports: &[AppReport]) -> Vec<Check> {
    let find = |name: &str| reports.iter().find(|r| r.name == name);
    let mut checks = Vec::new();
    for x in specs {
        let Some(r) = find(&x.app) else {
            checks.push(Check { what: format!("{}: exists", x.app), ok: false, detail: "no such app".into() });
            continue;
        };
        let other_checks = x.min_count.is_some()
            || x.hash_equals.is_some()
            || x.outcome.is_some()
            || x.error_contains.is_some()
            || x.recoveries_undone.is_some();
        if x.complete.unwrap_or(!other_checks || x.within.is_some()) {
            let mut what = format!("{}: complete", x.app);
            let mut ok = r.complete;
            if let Some(w) = x.within {
                what.push_str(&format!(" within {}", format_duration(w.0)));
                ok &= r.done_at.is_some_and(|t| t.as_nanos() <= w.0.as_nanos() as u64);
            }
            let errors = if r.errors.is_empty() { String::new() } else { format!("; errors: {}", r.errors.join("; ")) };
            let detail = format!("{}{errors}", r.status());
            checks.push(Check { what, ok, detail });
        } else if x.complete == Some(false) {
            checks.push(Check { what: format!("{}: incomplete", x.app), ok: !r.complete, detail: r.status() });
        }
        if let Some(n) = x.min_count {
            let what = format!("{}: at least {n} {}", x.app, r.count_unit);
            checks.push(Check { what, ok: r.count >= n, detail: format!("{} {}", r.count, r.count_unit) });
        }
        if let Some(other) = &x.hash_equals {
            let (mine, theirs) = (r.hashes(), find(other).map(AppReport::hashes).unwrap_or_default());
            let algorithm = mine.iter().chain(&theirs).next().map_or("SHA-256", |d| d.algorithm());
            let what = format!("{}: {algorithm} equals {other}'s", x.app);
            let ok = !mine.is_empty() && mine == theirs;
            let short = |h: &[Digest]| h.iter().map(Digest::short).collect::<Vec<_>>().join(",");
            let detail = format!("[{}] vs [{}]", short(&mine), short(&theirs));
            checks.push(Check { what, ok, detail });
        }
        if let Some(want) = &x.outcome {
            let what = format!("{}: every connection ended {want:?}", x.app);
            let got: Vec<&str> =
                r.conns.iter().map(|c| if c.outcome.is_empty() { "open" } else { &c.outcome }).collect();
            let ok = !got.is_empty() && got.iter().all(|o| o == want);
            let mut distinct = got.clone();
            distinct.sort_unstable();
            distinct.dedup();
            checks.push(Check { what, ok, detail: format!("{} connections: {}", got.len(), distinct.join(", ")) });
        }
        if let Some(want) = x.recoveries_undone {
            let what = format!("{}: every loss recovery undone is {want}", x.app);
            let (mut episodes, mut undone) = (0, 0);
            for n in r.conns.iter().filter_map(|c| c.counters) {
                episodes += n.fast_retransmits + n.timeouts;
                undone += n.spurious_recoveries_undone + n.spurious_timeouts_undone;
            }
            let ok = (episodes == undone) == want;
            checks.push(Check { what, ok, detail: format!("{undone} of {episodes} undone") });
        }
        if let Some(want) = &x.error_contains {
            let what = format!("{}: an error mentions {want:?}", x.app);
            let ok = r.errors.iter().any(|e| e.contains(want.as_str()));
            let detail = if r.errors.is_empty() { "no errors".into() } else { r.errors.join("; ") };
            checks.push(Check { what, ok, detail });
        }
    }
    checks
}
