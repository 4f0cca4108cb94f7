//! [`Deliveries`]: incoming QoS 1/2 messages handed to the application and
//! not yet acknowledged by it.
//!
//! "Received" and "acknowledged" are two steps.  [`Session::handle`]
//! returns a message and records it here; only when the application says
//! it has the message ([`Session::ack`]) is its PUBACK/PUBREC queued (and a
//! QoS 2 id held).  A message the application could not take
//! ([`Session::abandon`]: its callback raised, memory ran out) is never
//! acknowledged, so the broker sends it again after a reconnect.
//!
//! An ack is sent on whatever connection is open when the application
//! gives it, even one after the connection the message came on: while the
//! broker's session persists, that id still names the same message (the
//! broker cannot reuse it before the ack), so the ack completes it there.
//! When the broker's session ends, every entry is dropped (nothing to ack).
//! An ack that does not fit the transmit buffer, or is given while no
//! connection is open, is *owed*: kept here and queued by the next call that
//! finds room on an open connection, so acknowledging never fails for
//! backpressure.
//!
//! Several may be with the application at once (a callback that publishes
//! and waits meets more messages, which the glue keeps until it returns):
//! at most [`MAX_UNACKED`].  Brokers bound this themselves with their
//! in-flight window (mosquitto 20, EMQX 32), since nothing here is
//! acknowledged.
//!
//! [`Session::handle`]: super::Session::handle
//! [`Session::ack`]: super::Session::ack
//! [`Session::abandon`]: super::Session::abandon

use heapless::Vec;

use super::txbuf::{out, Out};
use crate::wire::QoS;

/// Messages that may be with the application, unacknowledged, at once
/// (plus owed acks).
pub const MAX_UNACKED: usize = 32;

/// One message delivered to the application and not yet acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) pid: u16,
    pub(crate) qos: QoS,
    /// The application has it; the ack did not fit and waits for room.
    pub(crate) owed: bool,
}

impl Delivery {
    /// The acknowledgement the application's ack sends.
    pub(crate) fn ack_packet(&self) -> Out<'static> {
        match self.qos {
            QoS::ExactlyOnce => out::pubrec(self.pid),
            _ => out::puback(self.pid),
        }
    }
}

/// The messages awaiting the application's ack, oldest first.
#[derive(Debug)]
pub(crate) struct Deliveries {
    list: Vec<Delivery, MAX_UNACKED>,
    /// Entries with `owed` set (so that a packet with none owed costs one
    /// comparison).
    owed: usize,
}

impl Deliveries {
    pub(crate) const fn new() -> Self {
        Self {
            list: Vec::new(),
            owed: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.list.is_full()
    }

    /// Records a message handed to the application.  False when full.
    pub(crate) fn start(&mut self, pid: u16, qos: QoS) -> bool {
        self.list
            .push(Delivery {
                pid,
                qos,
                owed: false,
            })
            .is_ok()
    }

    /// True while a QoS 2 message `pid` is with the application.
    pub(crate) fn delivering_qos2(&self, pid: u16) -> bool {
        self.list
            .iter()
            .any(|d| d.pid == pid && !d.owed && d.qos == QoS::ExactlyOnce)
    }

    /// QoS 2 messages with the application: each will hold an id when
    /// acknowledged.
    pub(crate) fn qos2_pending(&self) -> usize {
        self.list
            .iter()
            .filter(|d| !d.owed && d.qos == QoS::ExactlyOnce)
            .count()
    }

    /// Removes the newest message `pid` still with the application.
    pub(crate) fn take(&mut self, pid: u16) -> Option<Delivery> {
        let pos = self.list.iter().rposition(|d| d.pid == pid && !d.owed)?;
        Some(self.list.remove(pos))
    }

    /// Keeps `d`'s ack until there is room for it.
    pub(crate) fn owe(&mut self, d: Delivery) {
        // Cannot fail: `d` was just taken from the list.
        if self.list.push(Delivery { owed: true, ..d }).is_ok() {
            self.owed += 1;
        }
    }

    /// The oldest owed ack.
    #[inline]
    pub(crate) fn first_owed(&self) -> Option<Delivery> {
        if self.owed == 0 {
            return None;
        }
        self.list.iter().find(|d| d.owed).copied()
    }

    /// The owed ack `d` was queued.
    pub(crate) fn paid(&mut self, d: Delivery) {
        if let Some(pos) = self.list.iter().position(|e| *e == d) {
            self.list.remove(pos);
            self.owed = self.owed.saturating_sub(1);
        }
    }

    /// The application gives up every message it has not acknowledged.
    pub(crate) fn abandon_all(&mut self) {
        self.list.retain(|d| d.owed);
    }

    /// The broker no longer has the session: nothing is acknowledged.
    pub(crate) fn clear(&mut self) {
        self.list.clear();
        self.owed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_deliveries_and_owed_acks() {
        let mut d = Deliveries::new();
        assert!(d.start(5, QoS::ExactlyOnce));
        assert!(d.start(6, QoS::AtLeastOnce));
        assert!(d.delivering_qos2(5) && !d.delivering_qos2(6));
        assert_eq!(d.qos2_pending(), 1);
        let inner = d.take(6).unwrap();
        assert_eq!(inner.ack_packet(), out::puback(6));
        d.owe(inner);
        assert_eq!(d.take(6), None, "owed, no longer with the application");
        assert_eq!(
            d.first_owed(),
            Some(Delivery {
                owed: true,
                ..inner
            })
        );
        let outer = d.take(5).unwrap();
        assert_eq!(outer.ack_packet(), out::pubrec(5));
        d.paid(d.first_owed().unwrap());
        assert_eq!(d.len(), 0);
        for pid in 1..=MAX_UNACKED as u16 {
            assert!(d.start(pid, QoS::AtLeastOnce));
        }
        assert!(d.is_full() && !d.start(99, QoS::AtLeastOnce));
        let x = d.take(3).unwrap();
        d.owe(x);
        assert_eq!(d.len(), MAX_UNACKED);
        d.clear();
        assert_eq!(d.len(), 0);
    }
}
