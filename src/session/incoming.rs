//! What the broker sends: [`Session::handle`] for each packet (the
//! CONNACK, messages, acknowledgements of our packets, PINGRESP), and the
//! application's side of a message, [`Session::ack`] or
//! [`Session::abandon`], with the acknowledgements owed until the transmit
//! buffer takes them.

use super::txbuf::out;
use super::{AckKind, Error, Event, Link, OutgoingFlow, ProtocolError, Session, TxBuf};
use crate::wire::{ConnectReturnCode, Packet, PacketType, Publish, QoS};

impl Session {
    /// The application has message `pid` of an [`Event::Message`]: queues
    /// its PUBACK (QoS 1) or PUBREC (QoS 2, whose id is held from now on
    /// until the PUBREL, so that a resend is not delivered again).  An ack
    /// that does not fit the transmit buffer now, or is given while no
    /// connection is open, is queued by a later call on an open connection
    /// ([`handle`](Self::handle), [`poll`](Self::poll), a publish): this
    /// never fails for space.  A message of an earlier connection is acked
    /// on the current one (the broker's session still has it under that
    /// id).  An ack for a message the session no longer awaits (QoS 0,
    /// already acknowledged or abandoned, a session the broker has since
    /// dropped) does nothing.
    ///
    /// # Errors
    /// [`Error::Encode`] only if an ack could not be encoded (never).
    pub fn ack(&mut self, now_ms: u64, pid: u16, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        let Some(d) = self.deliveries.take(pid) else {
            return Ok(());
        };
        if d.qos == QoS::ExactlyOnce {
            // Cannot fail: room was checked before the message was delivered.
            self.durable.hold_incoming(pid, tx.held_bits());
        }
        if !self.is_connected() {
            self.deliveries.owe(d);
            return Ok(());
        }
        match self.send(now_ms, &d.ack_packet(), tx) {
            Err(Error::TxFull { .. }) => {
                self.deliveries.owe(d);
                Ok(())
            }
            other => {
                #[cfg(feature = "mqtt5")]
                if other.is_ok() {
                    self.v5.quota_released();
                }
                other
            }
        }
    }

    /// The application could not take message `pid` (its callback raised,
    /// memory ran out): nothing is acknowledged, a QoS 2 id is not held, so
    /// the broker delivers it again after the next reconnect.
    pub fn abandon(&mut self, pid: u16) {
        let _ = self.deliveries.take(pid);
    }

    /// [`abandon`](Self::abandon)s every message still with the
    /// application (acks already given, owed or not, are kept).  For a
    /// driver whose rule is "a message not acknowledged when the next
    /// connection starts is abandoned", so that the broker's resend on that
    /// connection is delivered again rather than waiting on a stale copy.
    pub fn abandon_all(&mut self) {
        self.deliveries.abandon_all();
    }

    /// Queues the acks owed since they did not fit.
    ///
    /// # Errors
    /// [`Error::TxFull`] when the next one still does not fit.
    #[inline]
    pub(super) fn pump_owed(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        if self.deliveries.first_owed().is_none() {
            return Ok(()); // the common case, inlined in every caller
        }
        self.pump_owed_acks(now_ms, tx)
    }

    #[inline(never)]
    pub(super) fn pump_owed_acks(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        while let Some(d) = self.deliveries.first_owed() {
            self.send(now_ms, &d.ack_packet(), tx)?;
            self.deliveries.paid(d);
            #[cfg(feature = "mqtt5")]
            self.v5.quota_released();
        }
        Ok(())
    }

    /// Handles one complete packet from the broker: updates the state,
    /// queues the replies the protocol requires (PUBREL, PUBCOMP, the PUBREC
    /// answering a resend of a held id; never the ack of a new message: see
    /// [`ack`](Self::ack)) and returns what the application should see.
    ///
    /// # Errors
    /// [`Error::TxFull`] when a required reply (or an owed ack) does not
    /// fit: nothing changed, flush and call again with the same packet.
    /// [`Error::HeldFull`] and [`Error::TooManyUnacked`]: nothing changed
    /// (see each).  [`Error::NotConnected`] when no connection was started.
    /// Fatal ([`Error::is_fatal`]): [`Error::Refused`], [`Error::Protocol`].
    pub fn handle<'p>(
        &mut self,
        now_ms: u64,
        packet: Packet<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        match self.conn.link {
            Link::Closed => return Err(Error::NotConnected),
            Link::AwaitConnack { .. } => return self.handle_connack(now_ms, packet, tx),
            Link::Open => {}
        }
        self.pump_owed_before(now_ms, tx)?;
        match packet {
            Packet::Connack(_) => Err(Error::Protocol(ProtocolError::ConnackTwice)),
            Packet::Publish(publish) => self.handle_publish(now_ms, publish, tx),
            Packet::Puback(pid) => {
                self.complete(pid, PacketType::Puback, OutgoingFlow::AwaitPuback, tx)
            }
            Packet::Pubrec(pid) => match self.durable.outgoing_flow(pid) {
                Some(OutgoingFlow::AwaitPubrec) => {
                    self.send(now_ms, &out::pubrel(pid), tx)?;
                    self.durable.pubrec_received(pid, tx.store_mut());
                    Ok(None)
                }
                Some(OutgoingFlow::AwaitPubcomp) => {
                    // A repeated PUBREC: answer again, the order is kept.
                    self.send(now_ms, &out::pubrel(pid), tx)?;
                    Ok(None)
                }
                other => Err(wrong_ack(pid, PacketType::Pubrec, other)),
            },
            Packet::Pubrel(pid) => {
                // Answered even for an unknown id (MQTT-4.3.3-2 ff.): the
                // PUBCOMP may have been lost with the previous connection.
                self.send(now_ms, &out::pubcomp(pid), tx)?;
                self.durable.release_incoming(pid, tx.held_bits());
                Ok(None)
            }
            Packet::Pubcomp(pid) => {
                self.complete(pid, PacketType::Pubcomp, OutgoingFlow::AwaitPubcomp, tx)
            }
            Packet::Suback(suback) => {
                self.conn.take_pending(suback.pid, AckKind::Suback)?;
                Ok(Some(Event::Subscribed {
                    pid: suback.pid,
                    return_codes: suback.return_codes,
                }))
            }
            Packet::Unsuback(pid) => {
                self.conn.take_pending(pid, AckKind::Unsuback)?;
                Ok(Some(Event::Unsubscribed { pid }))
            }
            Packet::Pingresp => {
                self.conn.ping_sent_at = None;
                Ok(Some(Event::Pong))
            }
            other => Err(unexpected(&other)),
        }
    }

    /// Owed acks first when there is room; if not, they wait and the
    /// packet is handled anyway (a new message's ack is owed behind them,
    /// in order).
    pub(super) fn pump_owed_before(
        &mut self,
        now_ms: u64,
        tx: &mut TxBuf<'_>,
    ) -> Result<(), Error> {
        match self.pump_owed(now_ms, tx) {
            Ok(()) | Err(Error::TxFull { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(super) fn handle_connack<'p>(
        &mut self,
        now_ms: u64,
        packet: Packet<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        let Packet::Connack(connack) = packet else {
            return Err(unexpected(&packet));
        };
        if connack.code != ConnectReturnCode::Accepted {
            self.connection_lost();
            return Err(Error::Refused(connack.code));
        }
        self.accept_connack(now_ms, connack.session_present, tx)
    }

    /// The broker accepted the connection: resume or drop the session.
    pub(super) fn accept_connack<'p>(
        &mut self,
        now_ms: u64,
        session_present: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        self.conn.link = Link::Open;
        if !session_present {
            // The broker has no session: no PUBREL will come for held ids,
            // and messages still with the application need no ack.
            self.durable.clear_incoming(tx.held_bits());
            self.deliveries.clear();
        }
        // Everything still in flight goes again (a clean session has none).
        // What does not fit now is queued by later calls, before new
        // publishes.
        self.durable.mark_for_resend();
        match self.pump_resends(now_ms, tx) {
            Ok(()) | Err(Error::TxFull { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(Some(Event::Connected { session_present }))
    }

    pub(super) fn handle_publish<'p>(
        &mut self,
        now_ms: u64,
        publish: Publish<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        let pid = publish.pid;
        if publish.qos == QoS::ExactlyOnce {
            if self.durable.incoming_held(pid, tx.held_bits()) {
                // A resend of a message the application has: ack only.
                self.send(now_ms, &out::pubrec(pid), tx)?;
                return Ok(None);
            }
            if self.deliveries.delivering_qos2(pid) {
                // A resend while the first copy is still with the
                // application: its ack decides; the broker resends again
                // if that copy is abandoned.
                return Ok(None);
            }
        }
        if publish.qos != QoS::AtMostOnce {
            #[cfg(feature = "mqtt5")]
            self.v5.check_quota()?;
            if self.deliveries.is_full() {
                // Acks waiting for tx room: that is backpressure, the
                // message waits for them to go out.
                return Err(match self.deliveries.first_owed() {
                    Some(_) => Error::TxFull { needed: 4 },
                    None => Error::TooManyUnacked,
                });
            }
            if publish.qos == QoS::ExactlyOnce
                && !self
                    .durable
                    .incoming()
                    .has_room(self.deliveries.qos2_pending() + 1, tx.held_bits())
            {
                return Err(Error::HeldFull);
            }
            self.deliveries.start(pid, publish.qos);
            #[cfg(feature = "mqtt5")]
            self.v5.quota_taken();
        }
        Ok(Some(Event::Message(publish)))
    }

    /// Ends the flow of outgoing message `pid` if it awaits `flow` (`got`
    /// is the packet that says so).
    pub(super) fn complete<'p>(
        &mut self,
        pid: u16,
        got: PacketType,
        flow: OutgoingFlow,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        match self.durable.outgoing_flow(pid) {
            Some(f) if f == flow => {}
            other => return Err(wrong_ack(pid, got, other)),
        }
        self.durable.remove_outgoing(pid, tx.store_mut());
        Ok(Some(Event::Published { pid }))
    }
}

/// The protocol error for a packet the broker may not send here.
fn unexpected(packet: &Packet<'_>) -> Error {
    Error::Protocol(ProtocolError::UnexpectedPacket(packet.packet_type()))
}

/// The protocol error for an acknowledgement `got` of outgoing message
/// `pid`, which stands at `flow` (`None`: not in flight).
pub(super) fn wrong_ack(pid: u16, got: PacketType, flow: Option<OutgoingFlow>) -> Error {
    Error::Protocol(match flow {
        Some(awaited) => ProtocolError::WrongAck { pid, got, awaited },
        None => ProtocolError::UnknownPacketId(pid),
    })
}
