//! [`HeldIds`]: the incoming QoS 2 packet ids awaiting PUBREL, exact over
//! the whole id space.
//!
//! After a client sends PUBREC for an incoming QoS 2 message it must
//! recognise every resend of that id as the same message until the PUBREL
//! comes [MQTT-4.3.3-2].  MQTT 3.1.1 gives the client no way to bound how
//! many such ids a broker keeps outstanding (mosquitto 2.0 was seen with 683
//! after reconnects), so the set may never forget an id: forgetting one turns
//! the broker's resend into a duplicate delivery.
//!
//! The set lives in two places:
//! - up to [`INLINE_HELD`] ids inline (130 bytes), enough for every broker
//!   that honours an in-flight window (mosquitto 20, EMQX 32 by default);
//! - beyond that, a bitmap of all 65,536 ids ([`HELD_BITMAP_BYTES`], 8 KB)
//!   in memory the caller lends only when it is needed.  Moving to it is
//!   exact: every inline id is copied.  Without the bitmap the session
//!   refuses the message ([`Error::HeldFull`](super::Error::HeldFull))
//!   before delivering it, so nothing is acknowledged that cannot be held.

use heapless::Vec;

/// Held ids kept without a bitmap.
pub const INLINE_HELD: usize = 64;
/// Size of the bitmap that holds any number of ids (one bit per id).
pub const HELD_BITMAP_BYTES: usize = 65_536 / 8;

/// The set of held incoming QoS 2 ids.  The bitmap, when in use, is passed
/// to every call (the session owns no memory); it is in use while
/// [`spilled`](Self::spilled).
#[derive(Debug)]
pub(crate) struct HeldIds {
    inline: Vec<u16, INLINE_HELD>,
    /// The ids live in the caller's bitmap (`inline` is empty).
    spilled: bool,
    /// Ids in the bitmap.
    spilled_count: usize,
}

/// The bitmap, if the caller lent a whole one.
fn bitmap(bits: &mut [u8]) -> Option<&mut [u8; HELD_BITMAP_BYTES]> {
    bits.get_mut(..HELD_BITMAP_BYTES)
        .and_then(|b| b.try_into().ok())
}

fn bit(pid: u16) -> (usize, u8) {
    (usize::from(pid >> 3), 1 << (pid & 7))
}

fn set(map: &mut [u8; HELD_BITMAP_BYTES], pid: u16) {
    let (byte, mask) = bit(pid);
    if let Some(b) = map.get_mut(byte) {
        *b |= mask;
    }
}

impl HeldIds {
    pub(crate) const fn new() -> Self {
        Self {
            inline: Vec::new(),
            spilled: false,
            spilled_count: 0,
        }
    }

    /// Number of held ids.
    pub(crate) fn len(&self) -> usize {
        if self.spilled {
            self.spilled_count
        } else {
            self.inline.len()
        }
    }

    /// True while the ids live in the caller's bitmap: it must be passed to
    /// every call and not be taken back.
    pub(crate) fn spilled(&self) -> bool {
        self.spilled
    }

    pub(crate) fn contains(&self, pid: u16, bits: &[u8]) -> bool {
        if self.spilled {
            let (byte, mask) = bit(pid);
            bits.get(byte).is_some_and(|b| b & mask != 0)
        } else {
            self.inline.contains(&pid)
        }
    }

    /// Whether `more` new ids can be added with the memory at hand.
    pub(crate) fn has_room(&self, more: usize, bits: &[u8]) -> bool {
        self.spilled
            || self.inline.len().saturating_add(more) <= INLINE_HELD
            || bits.len() >= HELD_BITMAP_BYTES
    }

    /// Adds `pid`.  False (and nothing changes) only when the inline set is
    /// full and `bits` is not a whole bitmap; check [`has_room`](Self::has_room)
    /// first.
    pub(crate) fn insert(&mut self, pid: u16, bits: &mut [u8]) -> bool {
        if self.contains(pid, bits) {
            return true;
        }
        if !self.spilled && self.inline.push(pid).is_ok() {
            return true;
        }
        let Some(map) = bitmap(bits) else {
            return false;
        };
        if !self.spilled {
            // Move every inline id into the (cleared) bitmap: exact.
            map.fill(0);
            for &p in &self.inline {
                set(map, p);
            }
            self.spilled_count = self.inline.len();
            self.inline.clear();
            self.spilled = true;
        }
        set(map, pid);
        self.spilled_count += 1;
        true
    }

    /// Drops `pid` (its PUBREL came).  The bitmap is left, empty, when the
    /// last spilled id goes: the caller may then take it back.
    pub(crate) fn remove(&mut self, pid: u16, bits: &mut [u8]) {
        if !self.spilled {
            self.inline.retain(|&p| p != pid);
            return;
        }
        let (byte, mask) = bit(pid);
        if let Some(b) = bits.get_mut(byte) {
            if *b & mask != 0 {
                *b &= !mask;
                self.spilled_count = self.spilled_count.saturating_sub(1);
            }
        }
        if self.spilled_count == 0 {
            self.spilled = false;
        }
    }

    /// Calls `f(first, count)` for each run of consecutive held ids, in
    /// increasing order.
    pub(crate) fn for_each_run(&self, bits: &[u8], mut f: impl FnMut(u16, u16)) {
        let mut run: Option<(u16, u16)> = None;
        let mut add = |id: u16, f: &mut dyn FnMut(u16, u16)| match &mut run {
            Some((first, count)) if u32::from(*first) + u32::from(*count) == u32::from(id) => {
                *count += 1;
            }
            current => {
                if let Some((first, count)) = current.take() {
                    f(first, count);
                }
                *current = Some((id, 1));
            }
        };
        if self.spilled {
            for id in 1..=u16::MAX {
                if self.contains(id, bits) {
                    add(id, &mut f);
                }
            }
        } else {
            // At most INLINE_HELD ids: an insertion sort (core's sort is
            // 2 KB of firmware).
            let mut ids = self.inline.clone();
            for k in 1..ids.len() {
                let mut j = k;
                while j > 0 && ids.get(j - 1) > ids.get(j) {
                    ids.swap(j - 1, j);
                    j -= 1;
                }
            }
            for &id in &ids {
                add(id, &mut f);
            }
        }
        if let Some((first, count)) = run {
            f(first, count);
        }
    }

    /// Forgets every id (the broker no longer has the session).
    pub(crate) fn clear(&mut self, bits: &mut [u8]) {
        if self.spilled {
            if let Some(map) = bitmap(bits) {
                map.fill(0);
            }
        }
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn inline_only() {
        let mut h = HeldIds::new();
        let mut none: [u8; 0] = [];
        assert!(h.insert(9, &mut none));
        assert!(h.insert(9, &mut none), "holding twice is fine");
        assert!(h.contains(9, &none) && h.len() == 1);
        h.remove(9, &mut none);
        assert!(!h.contains(9, &none));
        for pid in 1..=INLINE_HELD as u16 {
            assert!(h.has_room(1, &none));
            assert!(h.insert(pid, &mut none));
        }
        assert!(!h.has_room(1, &none), "full without a bitmap");
        assert!(!h.insert(1000, &mut none), "refused, not forgotten");
        assert!((1..=INLINE_HELD as u16).all(|p| h.contains(p, &none)));
        assert!(!h.spilled());
    }

    /// Every id of the whole space can be held at once, and each one comes
    /// back out exactly.
    #[test]
    fn bitmap_holds_every_id() {
        let mut h = HeldIds::new();
        let mut bits = vec![0xffu8; HELD_BITMAP_BYTES]; // garbage: cleared on spill
        for pid in 1..=INLINE_HELD as u16 {
            assert!(h.insert(pid, &mut bits));
        }
        assert!(!h.spilled());
        for pid in (INLINE_HELD as u16 + 1)..=u16::MAX {
            assert!(h.insert(pid, &mut bits));
        }
        assert!(h.spilled());
        assert_eq!(h.len(), 65_535);
        assert!(!h.contains(0, &bits), "the garbage was cleared");
        assert!((1..=u16::MAX).all(|p| h.contains(p, &bits)));
        for pid in (2..=u16::MAX).step_by(2) {
            h.remove(pid, &mut bits);
        }
        assert!((1..=u16::MAX).all(|p| h.contains(p, &bits) == (p % 2 == 1)));
        for pid in (1..=u16::MAX).step_by(2) {
            h.remove(pid, &mut bits);
        }
        assert_eq!(h.len(), 0);
        assert!(!h.spilled(), "empty: the bitmap may be taken back");
        assert!(h.insert(7, &mut []), "inline again");
    }

    #[test]
    fn runs_in_order() {
        let mut h = HeldIds::new();
        for pid in [9, 3, 5, 4, 10, 1] {
            h.insert(pid, &mut []);
        }
        let mut runs = std::vec::Vec::new();
        h.for_each_run(&[], |first, count| runs.push((first, count)));
        assert_eq!(runs, [(1, 1), (3, 3), (9, 2)]);
    }

    #[test]
    fn clear_resets_the_bitmap() {
        let mut h = HeldIds::new();
        let mut bits = vec![0u8; HELD_BITMAP_BYTES];
        for pid in 1..=200 {
            h.insert(pid, &mut bits);
        }
        h.clear(&mut bits);
        assert_eq!(h.len(), 0);
        assert!(bits.iter().all(|&b| b == 0));
        assert!(!h.spilled());
    }
}
