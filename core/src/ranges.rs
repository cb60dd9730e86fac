//! Sorted sets of half-open ranges, shared by fragment reassembly (byte offsets) and the SACK scoreboard
//! (sequence numbers, compared in wrapping order).

/// Merges `[start, end)` into `ranges`, which stay sorted, disjoint and non-adjacent (touching ranges merge).
/// Only `<`/`>` of `T` are used, so wrapping sequence numbers work as long as all values lie within one window.
pub(crate) fn insert<T: Copy + PartialOrd>(ranges: &mut Vec<(T, T)>, start: T, end: T) {
    let (mut s, mut e) = (start, end);
    let mut out = Vec::with_capacity(ranges.len() + 1);
    let mut placed = false;
    for &(rs, re) in ranges.iter() {
        if re < s {
            out.push((rs, re));
        } else if rs > e {
            if !placed {
                out.push((s, e));
                placed = true;
            }
            out.push((rs, re));
        } else {
            if rs < s {
                s = rs;
            }
            if re > e {
                e = re;
            }
        }
    }
    if !placed {
        out.push((s, e));
    }
    *ranges = out;
}
