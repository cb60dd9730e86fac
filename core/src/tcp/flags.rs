//! A byte of flags. A connection keeps several booleans of one concept (what ECN agreed and owes, what the SYNs
//! offered, which optional sequence numbers are set): one byte for them all instead of one byte each, since every
//! byte of a connection is paid a million times over at scale.

/// Up to eight flags, each a distinct bit named by a constant of the module that uses them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags(u8);

impl Flags {
    pub(crate) const NONE: Flags = Flags(0);

    /// Just `flag` set.
    pub(crate) const fn with(flag: u8) -> Flags {
        Flags(flag)
    }

    pub(crate) fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    pub(crate) fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.0 |= flag;
        } else {
            self.0 &= !flag;
        }
    }

    /// Clears `flag`; returns whether it was set.
    pub(crate) fn take(&mut self, flag: u8) -> bool {
        let was = self.has(flag);
        self.0 &= !flag;
        was
    }

    /// The bits of `mask` (a field of several bits kept among the flags).
    pub(crate) fn bits(self, mask: u8) -> u8 {
        self.0 & mask
    }

    /// Sets the bits of `mask` to `value` (which must fit in them).
    pub(crate) fn set_bits(&mut self, mask: u8, value: u8) {
        self.0 = (self.0 & !mask) | (value & mask);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_independent_bits() {
        const A: u8 = 1;
        const B: u8 = 1 << 3;
        const FIELD: u8 = 0b110;
        let mut f = Flags::NONE;
        f.set(A, true);
        f.set(B, true);
        f.set_bits(FIELD, 0b100);
        assert!(f.has(A) && f.has(B));
        assert_eq!(f.bits(FIELD), 0b100);
        assert!(f.take(A));
        assert!(!f.take(A), "taken once");
        f.set(B, false);
        f.set_bits(FIELD, 0b010);
        assert_eq!((f.has(B), f.bits(FIELD)), (false, 0b010));
        assert_eq!(f, Flags(0b010));
    }
}
