//! Durable session state: what an MQTT session keeps across connections.
//!
//! With `clean_session = false` the broker and the client both remember the
//! QoS 1/2 exchanges that were under way when a connection dropped.  This
//! module holds the client's half: the packet-id counter, the outgoing
//! messages awaiting acknowledgement (each with an explicit [`OutgoingFlow`])
//! and the incoming QoS 2 ids held until PUBREL.  Nothing here depends on a
//! connection being open, so the resend rules can be added and tested alone.

use heapless::Vec;

use super::{MAX_INCOMING_QOS2, MAX_INFLIGHT};

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
}

/// The part of the session that outlives a connection.
#[derive(Debug)]
pub(crate) struct Durable {
    /// Next packet id to try; never 0.
    next_pid: u16,
    outgoing: Vec<Inflight, MAX_INFLIGHT>,
    incoming_qos2: Vec<u16, MAX_INCOMING_QOS2>,
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
            incoming_qos2: Vec::new(),
        }
    }

    /// Forgets every exchange (clean session).  The id counter keeps going.
    pub(crate) fn clear(&mut self) {
        self.outgoing.clear();
        self.incoming_qos2.clear();
    }

    /// Forgets the incoming QoS 2 ids: the broker no longer has the session,
    /// so no PUBREL will come for them.
    pub(crate) fn clear_incoming(&mut self) {
        self.incoming_qos2.clear();
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

    /// Records that `pid` was used: the next search starts after it.
    pub(crate) fn commit_pid(&mut self, pid: u16) {
        self.next_pid = following(pid);
    }

    pub(crate) fn outgoing_len(&self) -> usize {
        self.outgoing.len()
    }

    pub(crate) fn outgoing_full(&self) -> bool {
        self.outgoing.is_full()
    }

    pub(crate) fn outgoing_flow(&self, pid: u16) -> Option<OutgoingFlow> {
        self.outgoing.iter().find(|m| m.pid == pid).map(|m| m.flow)
    }

    /// Adds a message.  The caller checked [`outgoing_full`](Self::outgoing_full)
    /// and that `pid` is unused; returns false (and changes nothing) otherwise.
    pub(crate) fn add_outgoing(&mut self, pid: u16, flow: OutgoingFlow) -> bool {
        if self.outgoing_flow(pid).is_some() {
            return false;
        }
        self.outgoing.push(Inflight { pid, flow }).is_ok()
    }

    pub(crate) fn set_outgoing_flow(&mut self, pid: u16, flow: OutgoingFlow) {
        if let Some(m) = self.outgoing.iter_mut().find(|m| m.pid == pid) {
            m.flow = flow;
        }
    }

    pub(crate) fn remove_outgoing(&mut self, pid: u16) {
        self.outgoing.retain(|m| m.pid != pid);
    }

    pub(crate) fn incoming_held(&self, pid: u16) -> bool {
        self.incoming_qos2.contains(&pid)
    }

    pub(crate) fn incoming_full(&self) -> bool {
        self.incoming_qos2.is_full()
    }

    /// Holds an incoming QoS 2 id until its PUBREL; false if full.
    pub(crate) fn hold_incoming(&mut self, pid: u16) -> bool {
        self.incoming_held(pid) || self.incoming_qos2.push(pid).is_ok()
    }

    pub(crate) fn release_incoming(&mut self, pid: u16) {
        self.incoming_qos2.retain(|&p| p != pid);
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
        let mut d = Durable::new();
        assert!(d.add_outgoing(5, OutgoingFlow::AwaitPubrec));
        assert!(!d.add_outgoing(5, OutgoingFlow::AwaitPuback));
        d.set_outgoing_flow(5, OutgoingFlow::AwaitPubcomp);
        assert_eq!(d.outgoing_flow(5), Some(OutgoingFlow::AwaitPubcomp));
        for pid in 100..100 + MAX_INFLIGHT as u16 - 1 {
            assert!(d.add_outgoing(pid, OutgoingFlow::AwaitPuback));
        }
        assert!(d.outgoing_full());
        assert!(!d.add_outgoing(1, OutgoingFlow::AwaitPuback));
        d.remove_outgoing(5);
        assert_eq!(d.outgoing_len(), MAX_INFLIGHT - 1);
        d.clear();
        assert_eq!(d.outgoing_len(), 0);
    }

    #[test]
    fn incoming_set() {
        let mut d = Durable::new();
        assert!(d.hold_incoming(9));
        assert!(d.hold_incoming(9), "holding twice is fine");
        assert!(d.incoming_held(9));
        d.release_incoming(9);
        assert!(!d.incoming_held(9));
        for pid in 0..MAX_INCOMING_QOS2 as u16 {
            assert!(d.hold_incoming(pid + 1));
        }
        assert!(d.incoming_full());
        assert!(!d.hold_incoming(1000));
    }
}
