//! The outgoing publish path: every publish (whole payload, header with
//! the payload written by the caller, streamed) through one
//! `start_publish`, which checks it against the window, the maximum packet
//! size and the store, queues it and keeps a copy for a resend; and the
//! resends of a resumed session, which go out before anything new.

use super::txbuf::{out, OutProps, OutPublish};
use super::{Error, OutgoingFlow, Session, TxBuf};
use crate::wire::{validate_topic_name, EncodeError, Publish, QoS};

impl Session {
    /// Queues a PUBLISH and returns its packet id (0 for QoS 0).  QoS 1/2
    /// messages stay in flight until [`Event::Published`](super::Event::Published).
    ///
    /// # Errors
    /// [`Error::NotConnected`], [`Error::Encode`] (invalid topic, too long),
    /// [`Error::InflightFull`], [`Error::TxFull`]; nothing is queued then.
    pub fn publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let body = Body::Whole(payload);
        self.start_publish(
            now_ms,
            topic,
            body,
            qos,
            retain,
            OutProps::default(),
            None,
            tx,
        )
    }

    /// Like [`publish`](Self::publish) but queues only the bytes before the
    /// payload.  The caller must flush the `TxBuf` and then write `payload`
    /// to the transport itself, before anything else is queued or written.
    /// For payloads bigger than the `TxBuf`.  (A QoS 1/2 packet is still
    /// stored whole for a resend.)
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn publish_header(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let body = Body::Separate(payload);
        self.start_publish(
            now_ms,
            topic,
            body,
            qos,
            retain,
            OutProps::default(),
            None,
            tx,
        )
    }

    /// Like [`publish_header`](Self::publish_header) for a payload of
    /// `payload_len` bytes the caller streams from elsewhere (a file, a
    /// socket).  With `resendable` (the caller can read the payload again
    /// from its start: a seekable stream) a QoS 1/2 message's header is
    /// stored, and a resend after a reconnect queues it with DUP and asks
    /// for the payload again ([`TxBuf::tail`] names the message); without,
    /// nothing is stored and the message is forgotten at the next connect
    /// (the caller reports the lost connection instead).
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    #[allow(clippy::too_many_arguments)]
    pub fn publish_streamed(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload_len: usize,
        qos: QoS,
        retain: bool,
        resendable: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let body = Body::Streamed(payload_len, resendable);
        self.start_publish(
            now_ms,
            topic,
            body,
            qos,
            retain,
            OutProps::default(),
            None,
            tx,
        )
    }

    /// The one publish path: `props` are MQTT 5's (nothing without the
    /// feature); `wire`, when given, the topic and properties that go out
    /// on this connection in place of those stored for a resend (a topic
    /// alias).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        body: Body<'_>,
        qos: QoS,
        retain: bool,
        props: OutProps<'_>,
        wire: Option<(&str, OutProps<'_>)>,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let payload = match body {
            Body::Whole(p) | Body::Separate(p) => p,
            Body::Streamed(..) => &[],
        };
        self.require_open()?;
        validate_topic_name(topic).map_err(|e| Error::Encode(EncodeError::InvalidTopic(e)))?;
        #[cfg(feature = "mqtt5")]
        self.v5.check_publish(qos, retain)?;
        // Resent messages go out before new ones (order per topic).
        self.pump_owed(now_ms, tx)?;
        self.pump_resends(now_ms, tx)?;
        let flow = match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce => Some(OutgoingFlow::AwaitPuback),
            QoS::ExactlyOnce => Some(OutgoingFlow::AwaitPubrec),
        };
        let pid = match flow {
            None => 0,
            Some(_) if self.durable.outgoing_len() >= self.send_window() => {
                return Err(Error::InflightFull)
            }
            Some(_) => self.peek_pid()?,
        };
        let publish = Publish {
            topic,
            qos,
            retain,
            dup: false,
            pid,
            payload,
        };
        // `packet` is what a resend sends, `sent` what goes out now.
        #[cfg(feature = "mqtt5")]
        let (packet, sent) = {
            let packet = self.out_publish(publish, props)?;
            match wire {
                Some((topic, props)) => (
                    packet,
                    self.out_publish(Publish { topic, ..publish }, props)?,
                ),
                None => (packet, packet),
            }
        };
        #[cfg(not(feature = "mqtt5"))]
        let (packet, sent) = {
            let _ = (props, wire);
            (OutPublish::V311(publish), OutPublish::V311(publish))
        };
        // A streamed payload's header alone (what a resend stores).
        let header = match body {
            Body::Streamed(n, _) => packet.header_len_for(n).map_err(Error::Encode)?,
            _ => 0,
        };
        let size = match body {
            Body::Streamed(n, _) => header.saturating_add(n),
            _ => packet.encoded_len().map_err(Error::Encode)?,
        };
        let sent_size = match wire {
            Some(_) => sent.encoded_len().map_err(Error::Encode)?,
            None => size,
        };
        if size.max(sent_size) > self.send_limit() {
            return Err(Error::TooLarge {
                size: size.max(sent_size),
            });
        }
        let stored = match (flow, body) {
            (Some(_), _) if tx.store().capacity() == 0 => 0,
            (Some(_), Body::Streamed(_, true)) => header,
            (Some(_), Body::Streamed(_, false)) | (None, _) => 0,
            (Some(_), _) => size,
        };
        if stored > tx.store().free() {
            return Err(Error::StoreFull { needed: stored });
        }
        // What is queued: the whole packet, or the header alone.
        let (queued, header_for) = match body {
            Body::Whole(_) => (sent_size, None),
            Body::Separate(p) => {
                let n = p.len();
                (sent.header_len_for(n).map_err(Error::Encode)?, Some(n))
            }
            Body::Streamed(n, _) => (sent.header_len_for(n).map_err(Error::Encode)?, Some(n)),
        };
        tx.push_with(queued, |dst| match header_for {
            None => sent.encode(dst),
            Some(n) => sent.encode_header_for(n, dst),
        })?;
        self.conn.last_tx_ms = now_ms;
        if let Some(flow) = flow {
            let mut off = 0;
            if let Some(dst) = tx.store_mut().reserve(stored).filter(|_| stored > 0) {
                // Cannot fail: the packet (or header) was just measured.
                let n = match body {
                    Body::Streamed(n, _) => packet.encode_header_for(n, dst).unwrap_or(0),
                    _ => packet.encode(dst).unwrap_or(0),
                };
                off = tx.store_mut().commit(n);
            }
            self.durable.commit_pid(pid);
            self.durable.add_outgoing(pid, flow, off, stored);
            if let (Body::Streamed(n, _), true) = (body, stored > 0) {
                self.durable.set_streamed(pid, n);
            }
        }
        Ok(pid)
    }

    /// Queues the resends still due on this connection, in order.
    ///
    /// # Errors
    /// [`Error::TxFull`] when the next one does not fit: flush and retry.
    pub(super) fn pump_resends(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        while let Some(m) = self.durable.next_resend() {
            if m.flow == OutgoingFlow::AwaitPubcomp {
                tx.push_out(&out::pubrel(m.pid), self.out_version())?;
            } else {
                tx.push_stored(m.off as usize, m.len as usize)?;
                if m.streamed > 0 {
                    // The payload follows, written by the caller; nothing
                    // can be queued behind it (the next turn: TxFull).
                    tx.set_tail(m.streamed as usize, m.pid);
                }
            }
            self.durable.resent(m.pid);
            self.conn.last_tx_ms = now_ms;
        }
        Ok(())
    }

    /// Outgoing QoS 1/2 messages allowed in flight: the window, and in
    /// MQTT 5 the broker's Receive Maximum when smaller.
    pub(super) fn send_window(&self) -> usize {
        #[cfg(feature = "mqtt5")]
        return self.window.min(self.v5.server_receive_maximum());
        #[cfg(not(feature = "mqtt5"))]
        self.window
    }

    /// `publish` with `props` in the session's protocol version.
    ///
    /// # Errors
    /// [`EncodeError::NotInVersion`] for properties in 3.1.1.
    #[cfg(feature = "mqtt5")]
    pub(super) fn out_publish<'p>(
        &self,
        publish: Publish<'p>,
        props: OutProps<'p>,
    ) -> Result<OutPublish<'p>, Error> {
        let v = self.v5.version;
        if v.is_v5() || props.is_empty() {
            Ok(OutPublish::In(
                crate::wire::v5::Publish { publish, props },
                v,
            ))
        } else {
            Err(Error::Encode(EncodeError::NotInVersion))
        }
    }
}

/// Where a publish's payload is.
#[derive(Clone, Copy)]
pub(super) enum Body<'p> {
    /// Queued with the packet.
    Whole(&'p [u8]),
    /// Written by the caller after the queued header; stored for a resend.
    Separate(&'p [u8]),
    /// This many bytes written by the caller from elsewhere; the header
    /// stored for a resend when the caller can write them again.
    Streamed(usize, bool),
}
