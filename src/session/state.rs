//! Durable session state: what an MQTT session keeps across connections.
//!
//! With `clean_session = false` the broker and the client both remember the
//! QoS 1/2 exchanges that were under way when a connection dropped.  This
//! module holds the client's half: the packet-id counter, the outgoing
//! messages awaiting acknowledgement (each with an explicit [`OutgoingFlow`])
//! and the incoming QoS 2 ids held until PUBREL ([`HeldIds`], exact: it
//! uses the caller's bitmap when it passes [`INLINE_HELD`](super::INLINE_HELD)
//! ids, passed in as `bits`).  Nothing here depends on a
//! connection being open, so the resend rules can be added and tested alone.

use heapless::Vec;

use super::held::HeldIds;
use super::{Store, MAX_INFLIGHT};

/// Where an outgoing QoS 1/2 message stands in its acknowledgement flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutgoingFlow {
    /// QoS 1 PUBLISH sent, waiting for PUBACK.
    AwaitPuback,
    /// QoS 2 PUBLISH sent, waiting for PUBREC.
    AwaitPubrec,
    /// QoS 2 PUBREL sent, waiting for PUBCOMP.
    AwaitPubcomp,
}

/// One outgoing message awaiting acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inflight {
    pub(crate) pid: u16,
    pub(crate) flow: OutgoingFlow,
    /// Where its PUBLISH lies in the [`Store`]; `len` 0 when not stored
    /// (no store, or PUBREC received).
    pub(crate) off: u32,
    pub(crate) len: u32,
    /// Still to be resent on the current connection.
    pub(crate) resend: bool,
    /// A streamed payload of this many bytes: the store holds only the
    /// PUBLISH's header, the caller writes the payload again on a resend.
    pub(crate) streamed: u32,
}

/// The part of the session that outlives a connection.
#[derive(Debug)]
pub(crate) struct Durable {
    /// Next packet id to try; never 0.
    next_pid: u16,
    outgoing: Vec<Inflight, MAX_INFLIGHT>,
    incoming_qos2: HeldIds,
    /// Counts changes, so that a caller persisting the state knows when
    /// it must save it again (wraps).
    generation: u32,
}

impl Default for Durable {
    fn default() -> Self {
        Self::new()
    }
}

impl Durable {
    pub(crate) const fn new() -> Self {
        Self {
            next_pid: 1,
            outgoing: Vec::new(),
            incoming_qos2: HeldIds::new(),
            generation: 0,
        }
    }

    /// Changes so far (see `generation`).
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    fn changed(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Forgets every exchange (clean session).  The id counter keeps going.
    pub(crate) fn clear(&mut self, store: &mut Store<'_>, bits: &mut [u8]) {
        self.changed();
        self.outgoing.clear();
        self.incoming_qos2.clear(bits);
        store.clear();
    }

    /// Forgets the incoming QoS 2 ids: the broker no longer has the session,
    /// so no PUBREL will come for them.
    pub(crate) fn clear_incoming(&mut self, bits: &mut [u8]) {
        self.changed();
        self.incoming_qos2.clear(bits);
    }

    /// The first id at or after the counter for which `in_use` is false,
    /// counting 1..=65535 and wrapping.  Does not advance the counter (see
    /// [`commit_pid`](Self::commit_pid)).  `None` only if all ids are in use.
    pub(crate) fn peek_pid(&self, in_use: impl Fn(u16) -> bool) -> Option<u16> {
        let mut pid = self.next_pid;
        for _ in 0..u16::MAX {
            if !in_use(pid) {
                return Some(pid);
            }
            pid = following(pid);
        }
        None
    }

    /// The next packet id to try.
    pub(crate) fn next_pid(&self) -> u16 {
        self.next_pid
    }

    /// Sets the next packet id to try (a restored session); never 0.
    pub(crate) fn set_next_pid(&mut self, pid: u16) {
        self.changed();
        self.next_pid = pid.max(1);
    }

    /// Records that `pid` was used: the next search starts after it.
    pub(crate) fn commit_pid(&mut self, pid: u16) {
        self.changed();
        self.next_pid = following(pid);
    }

    pub(crate) fn outgoing_len(&self) -> usize {
        self.outgoing.len()
    }

    pub(crate) fn outgoing_flow(&self, pid: u16) -> Option<OutgoingFlow> {
        self.outgoing.iter().find(|m| m.pid == pid).map(|m| m.flow)
    }

    /// Adds a message whose PUBLISH is stored at `off..off + len` (`len` 0:
    /// not stored).  Returns false (and changes nothing) when `pid` is in use
    /// or the list is full.
    pub(crate) fn add_outgoing(
        &mut self,
        pid: u16,
        flow: OutgoingFlow,
        off: usize,
        len: usize,
    ) -> bool {
        let (Ok(off), Ok(len)) = (u32::try_from(off), u32::try_from(len)) else {
            return false;
        };
        if self.outgoing_flow(pid).is_some() {
            return false;
        }
        self.changed();
        self.outgoing
            .push(Inflight {
                pid,
                flow,
                off,
                len,
                resend: false,
                streamed: 0,
            })
            .is_ok()
    }

    /// Marks `pid`'s stored bytes as the header of a streamed payload of
    /// `len` bytes.
    pub(crate) fn set_streamed(&mut self, pid: u16, len: usize) {
        if let Some(m) = self.outgoing.iter_mut().find(|m| m.pid == pid) {
            m.streamed = u32::try_from(len).unwrap_or(u32::MAX);
        }
    }

    /// Marks every message in flight to be resent (a reconnect).
    pub(crate) fn mark_for_resend(&mut self) {
        for m in &mut self.outgoing {
            m.resend = true;
        }
    }

    /// The first message still to be resent, in resend order.
    pub(crate) fn next_resend(&self) -> Option<Inflight> {
        self.outgoing.iter().find(|m| m.resend).copied()
    }

    /// `pid` was resent.
    pub(crate) fn resent(&mut self, pid: u16) {
        if let Some(m) = self.outgoing.iter_mut().find(|m| m.pid == pid) {
            m.resend = false;
        }
    }

    /// The messages in flight, in the order their packets must be resent.
    pub(crate) fn outgoing(&self) -> &[Inflight] {
        &self.outgoing
    }

    /// Moves `pid` to the next flow step: its PUBREC arrived, so its PUBLISH
    /// is dropped from the store and its PUBREL goes last in the resend
    /// order (PUBRELs are resent in PUBREC order [MQTT-4.6.0-4]).
    pub(crate) fn pubrec_received(&mut self, pid: u16, store: &mut Store<'_>) {
        self.changed();
        let Some(pos) = self.outgoing.iter().position(|m| m.pid == pid) else {
            return;
        };
        self.free_stored(pos, store);
        let m = self.outgoing.remove(pos);
        // Cannot fail: an entry was just removed.
        let _ = self.outgoing.push(Inflight {
            flow: OutgoingFlow::AwaitPubcomp,
            ..m
        });
    }

    /// Ends the flow of `pid`, dropping its stored bytes.
    pub(crate) fn remove_outgoing(&mut self, pid: u16, store: &mut Store<'_>) {
        self.changed();
        if let Some(pos) = self.outgoing.iter().position(|m| m.pid == pid) {
            self.free_stored(pos, store);
            self.outgoing.remove(pos);
        }
    }

    /// Drops the stored bytes of entry `pos`; packets stored after it move
    /// down.
    fn free_stored(&mut self, pos: usize, store: &mut Store<'_>) {
        let Some(m) = self.outgoing.get_mut(pos) else {
            return;
        };
        let (off, len) = (m.off, m.len);
        m.len = 0;
        if len == 0 {
            return;
        }
        store.remove(off as usize, len as usize);
        for other in self.outgoing.iter_mut().filter(|o| o.off > off) {
            other.off -= len;
        }
    }

    /// Forgets the messages that cannot be resent (never stored).
    pub(crate) fn drop_unstored(&mut self) {
        self.changed();
        self.outgoing
            .retain(|m| m.len > 0 || m.flow == OutgoingFlow::AwaitPubcomp);
    }

    pub(crate) fn incoming_held(&self, pid: u16, bits: &[u8]) -> bool {
        self.incoming_qos2.contains(pid, bits)
    }

    /// The held incoming QoS 2 ids.
    pub(crate) fn incoming(&self) -> &HeldIds {
        &self.incoming_qos2
    }

    /// Holds an incoming QoS 2 id until its PUBREL.  False only when the
    /// set is full without a bitmap ([`HeldIds::has_room`] tells before).
    pub(crate) fn hold_incoming(&mut self, pid: u16, bits: &mut [u8]) -> bool {
        self.changed();
        self.incoming_qos2.insert(pid, bits)
    }

    pub(crate) fn release_incoming(&mut self, pid: u16, bits: &mut [u8]) {
        self.changed();
        self.incoming_qos2.remove(pid, bits);
    }
}

/// The id after `pid` in 1..=65535.
fn following(pid: u16) -> u16 {
    match pid.wrapping_add(1) {
        0 => 1,
        next => next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_skips_zero_and_used() {
        let mut d = Durable::new();
        d.commit_pid(65534);
        assert_eq!(d.peek_pid(|_| false), Some(65535));
        d.commit_pid(65535);
        assert_eq!(d.peek_pid(|_| false), Some(1), "0 is never an id");
        assert_eq!(d.peek_pid(|p| p < 4), Some(4));
        assert_eq!(d.peek_pid(|_| true), None);
    }

    #[test]
    fn outgoing_set() {
        let mut buf = [0u8; 64];
        let mut store = Store::new(&mut buf, 0);
        let mut d = Durable::new();
        assert!(d.add_outgoing(5, OutgoingFlow::AwaitPubrec, 0, 0));
        assert!(!d.add_outgoing(5, OutgoingFlow::AwaitPuback, 0, 0));
        d.pubrec_received(5, &mut store);
        assert_eq!(d.outgoing_flow(5), Some(OutgoingFlow::AwaitPubcomp));
        for pid in 100..100 + MAX_INFLIGHT as u16 - 1 {
            assert!(d.add_outgoing(pid, OutgoingFlow::AwaitPuback, 0, 0));
        }
        assert_eq!(d.outgoing_len(), MAX_INFLIGHT);
        assert!(!d.add_outgoing(1, OutgoingFlow::AwaitPuback, 0, 0));
        d.remove_outgoing(5, &mut store);
        assert_eq!(d.outgoing_len(), MAX_INFLIGHT - 1);
        d.clear(&mut store, &mut []);
        assert_eq!(d.outgoing_len(), 0);
    }

    /// Freeing a stored packet moves the later ones down and fixes their
    /// offsets; PUBREC moves the entry last (PUBREL resend order).
    #[test]
    fn stored_packets_compact() {
        let mut buf = [0u8; 16];
        let mut store = Store::new(&mut buf, 0);
        let mut d = Durable::new();
        for (pid, bytes) in [(1u16, &b"aaa"[..]), (2, b"bb"), (3, b"cccc")] {
            let len = bytes.len();
            store.reserve(len).unwrap().copy_from_slice(bytes);
            let off = store.commit(len);
            assert!(d.add_outgoing(pid, OutgoingFlow::AwaitPubrec, off, len));
        }
        d.pubrec_received(1, &mut store);
        let order: std::vec::Vec<_> = d.outgoing().iter().map(|m| (m.pid, m.off, m.len)).collect();
        assert_eq!(order, [(2, 0, 2), (3, 2, 4), (1, 0, 0)]);
        assert_eq!(store.get(0, 6), b"bbcccc");
        d.remove_outgoing(2, &mut store);
        assert_eq!(store.get(0, 4), b"cccc");
        assert_eq!((d.outgoing()[0].pid, d.outgoing()[0].off), (3, 0));
        assert!(d.add_outgoing(9, OutgoingFlow::AwaitPuback, 0, 0));
        d.drop_unstored();
        let left: std::vec::Vec<_> = d.outgoing().iter().map(|m| m.pid).collect();
        assert_eq!(left, [3, 1], "9 was never stored; 1 awaits PUBCOMP");
    }
}
