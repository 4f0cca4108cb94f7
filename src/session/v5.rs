//! MQTT 5 in the session (the `mqtt5` feature): the protocol version, the
//! CONNECT properties the session sets ([`ConnectOptions`]), what the
//! broker's CONNACK announces (its receive maximum, maximum QoS, retain
//! availability, maximum packet size, assigned client identifier, keep
//! alive, topic alias maximum) and how the session keeps to it, reason
//! codes on acks and DISCONNECT, and incoming PUBLISH properties.
//!
//! The version is chosen before a connection ([`Session::set_version`],
//! 3.1.1 by default).  Packets are read with
//! [`v5::Packet::parse_for`](crate::wire::v5::Packet::parse_for) in that
//! version and handed to [`Session::handle_v5`]; what 3.1.1 also has goes
//! through the one 3.1.1 state machine ([`Session::handle`]), so the QoS
//! flows are written once.  The session's own acks, PUBREL, PINGREQ and
//! DISCONNECT are the same bytes in both versions (the short forms: reason
//! 0, no properties).
//!
//! Nothing here allocates: CONNECT's property list is composed on the stack
//! (at most [`MAX_CONNECT_PROPERTIES`] of the caller's).  The session keeps
//! the CONNACK's numbers (a few bytes: the C glue's state block has little
//! room); its strings (Assigned Client Identifier, Reason String, Response
//! Information, Server Reference, User Properties) reach the caller as the
//! borrowed property view of [`Event::Connected5`], for it to copy what it
//! wants.
//!
//! Topic aliases: incoming ones within the Topic Alias Maximum the caller
//! announces, kept in memory it lends ([`TopicAliases`],
//! [`Session::handle_v5_aliased`]); without, any alias is a protocol
//! error.  Outgoing ones: [`Session::publish_aliased`] (`alias_out.rs`).

use heapless::Vec;

use super::alias::TopicAliases;
use super::auth::AuthPhase;
use super::{AckKind, Error, Event, Link, OutgoingFlow, ProtocolError, Session, TxBuf};
use super::{MAX_UNACKED, PROTOCOL_MAX_PACKET_SIZE};
use crate::wire::v5::{self, SubscriptionOptions};
use crate::wire::{
    validate_topic_filter, Connack, Connect, ConnectReturnCode, EncodeError, Packet, PacketType,
    Properties, Property, PropertyError, PropertyId, QoS, ReasonCode, Suback, UnsubscribeTopics,
    Version,
};

/// Caller properties [`ConnectOptions::props`] may hold.
pub const MAX_CONNECT_PROPERTIES: usize = 16;
/// Filters one [`Session::subscribe`] may name in MQTT 5 (each becomes a
/// subscription options entry on the stack).
pub const MAX_SUBSCRIBE_FILTERS: usize = 16;
/// The largest Receive Maximum the session announces: the messages that
/// may be with the application unacknowledged.
#[allow(clippy::cast_possible_truncation)] // checked just below
const RECEIVE_MAXIMUM: u16 = MAX_UNACKED as u16;
const _: () = assert!(MAX_UNACKED <= u16::MAX as usize);
/// The CONNECT properties the session writes itself.
const OWN_CONNECT_PROPERTIES: usize = 5;

/// What an MQTT 5 CONNECT says besides the 3.1.1 fields; borrowed, nothing
/// is copied.  The session adds Maximum Packet Size
/// ([`Session::max_packet_size`]) itself.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions<'a> {
    /// Session Expiry Interval in seconds: 0 ends the session with the
    /// connection (the default), `u32::MAX` never.
    pub session_expiry: u32,
    /// Receive Maximum: incoming QoS 1/2 messages the client holds
    /// unacknowledged at once, at most [`MAX_UNACKED`] (0 or more: that;
    /// not sent in 3.1.1).
    pub receive_maximum: u16,
    /// Request Problem Information (the broker's default is true).
    pub request_problem_information: bool,
    /// Topic Alias Maximum: the highest alias the broker may use in its
    /// PUBLISH packets (0, the default: none).  Above 0 the packets must
    /// be handled with [`Session::handle_v5_aliased`] and a map of enough
    /// memory for the topics.
    pub topic_alias_maximum: u16,
    /// More CONNECT properties: User Property, Authentication Method and
    /// Data, Request Response Information (at most
    /// [`MAX_CONNECT_PROPERTIES`]; checked by the encoder, a property the
    /// session sets itself is refused as repeated).
    pub props: &'a [Property<'a>],
    /// The will's properties (only with a will).
    pub will_props: &'a [Property<'a>],
}

impl ConnectOptions<'_> {
    /// No session expiry, the largest receive maximum, nothing else.
    pub const DEFAULT: Self = ConnectOptions {
        session_expiry: 0,
        receive_maximum: RECEIVE_MAXIMUM,
        request_problem_information: true,
        topic_alias_maximum: 0,
        props: &[],
        will_props: &[],
    };
}

impl Default for ConnectOptions<'_> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the broker's CONNACK announced; reset by every connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    receive_maximum: u16,
    maximum_qos: QoS,
    retain_available: bool,
    /// 0: none announced.
    maximum_packet_size: u32,
    topic_alias_maximum: u16,
    server_keep_alive: Option<u16>,
    /// Wildcard Subscription, Subscription Identifier and Shared
    /// Subscription Available.
    wildcards: bool,
    subscription_ids: bool,
    shared: bool,
}

impl Limits {
    /// What holds when the CONNACK says nothing (section 3.2.2.3).
    const NONE: Self = Limits {
        receive_maximum: u16::MAX,
        maximum_qos: QoS::ExactlyOnce,
        retain_available: true,
        maximum_packet_size: 0,
        topic_alias_maximum: 0,
        server_keep_alive: None,
        wildcards: true,
        subscription_ids: true,
        shared: true,
    };
}

/// The session's MQTT 5 state.
#[derive(Debug)]
pub(super) struct V5State {
    pub(super) version: Version,
    /// The version of the PUBLISH packets in the store (what a resend
    /// sends): the version of the last connect, or of restored bytes.
    stored: Version,
    /// CONNECT said Session Expiry Interval 0: DISCONNECT may not set
    /// another (MQTT-3.14.2-2).
    expiry_zero: bool,
    /// Our Topic Alias Maximum on this connection.
    alias_max: u16,
    /// The alias map still holds an earlier connection's aliases.
    aliases_stale: bool,
    /// The outgoing alias map still holds an earlier connection's.
    pub(super) out_aliases_stale: bool,
    /// Enhanced authentication on this connection.
    pub(super) auth: AuthPhase,
    /// Our Receive Maximum on this connection (0: none, 3.1.1).
    receive_max: u16,
    /// Incoming QoS 1/2 messages of this connection whose PUBACK or
    /// PUBREC is not sent yet.  The standard has the broker count a QoS 2
    /// message until our PUBCOMP (section 4.9), so it sends no more than
    /// this allows; mosquitto 2.0.11 counts it only until our PUBREC and
    /// sends the next messages before the PUBREL, so counting to PUBCOMP
    /// here closed the connection on any QoS 2 burst from it
    /// (`tests/micropython/mqtt5_session.py`).  What follows a PUBREC is
    /// a held id, kept exactly whatever their number (`held.rs`).  An
    /// undercount at worst (an owed ack of an earlier connection paid on
    /// this one also counts down), never an overcount: a broker is never
    /// accused wrongly.
    quota_used: u16,
    limits: Limits,
}

impl V5State {
    pub(super) const fn new() -> Self {
        Self {
            version: Version::V311,
            stored: Version::V311,
            expiry_zero: true,
            alias_max: 0,
            aliases_stale: true,
            out_aliases_stale: true,
            auth: AuthPhase::Off,
            receive_max: 0,
            quota_used: 0,
            limits: Limits::NONE,
        }
    }

    /// Refuses to resume (`clean` false) messages stored in the other
    /// version: their bytes cannot be resent on this connection.
    pub(super) fn check_resume(&self, clean: bool, outgoing: usize) -> Result<(), Error> {
        if !clean && outgoing > 0 && self.stored != self.version {
            return Err(Error::VersionMismatch);
        }
        Ok(())
    }

    pub(super) fn stored_version(&self) -> Version {
        self.stored
    }

    pub(super) fn set_stored_version(&mut self, version: Version) {
        self.stored = version;
    }

    /// A CONNECT was queued: forget the previous broker's CONNACK; what is
    /// stored from now on is in this version.
    pub(super) fn new_connection(&mut self) {
        self.stored = self.version;
        self.alias_max = 0;
        self.aliases_stale = true;
        self.out_aliases_stale = true;
        self.auth = AuthPhase::Off;
        self.receive_max = 0;
        self.quota_used = 0;
        self.limits = Limits::NONE;
    }

    /// Refuses a new incoming QoS 1/2 message beyond our Receive Maximum
    /// (MQTT 5, section 3.3.4).
    pub(super) fn check_quota(&self) -> Result<(), Error> {
        if self.receive_max > 0 && self.quota_used >= self.receive_max {
            return Err(ProtocolError::ReceiveMaximumExceeded.into());
        }
        Ok(())
    }

    /// A new incoming QoS 1/2 message was delivered.
    pub(super) fn quota_taken(&mut self) {
        self.quota_used = self.quota_used.saturating_add(1);
    }

    /// A PUBACK or PUBREC was queued.
    pub(super) fn quota_released(&mut self) {
        self.quota_used = self.quota_used.saturating_sub(1);
    }

    /// Refuses a publish the broker said it does not take.
    pub(super) fn check_publish(&self, qos: QoS, retain: bool) -> Result<(), Error> {
        let max = self.limits.maximum_qos;
        if qos as u8 > max as u8 {
            return Err(Error::QosNotSupported { max });
        }
        if retain && !self.limits.retain_available {
            return Err(Error::RetainNotSupported);
        }
        Ok(())
    }

    /// Refuses a SUBSCRIBE using what the broker said it does not support:
    /// wildcards, shared subscriptions, subscription identifiers (the
    /// error carries the reason code the broker would answer).
    fn check_subscribe(
        &self,
        topics: &[(&str, SubscriptionOptions)],
        props: &[Property<'_>],
    ) -> Result<(), Error> {
        let l = &self.limits;
        let refuse = |code| Err(Error::SubscribeNotSupported(code));
        if !l.subscription_ids
            && props
                .iter()
                .any(|p| matches!(p, Property::SubscriptionIdentifier(_)))
        {
            return refuse(ReasonCode::SubscriptionIdentifiersNotSupported);
        }
        for (filter, _) in topics {
            if !l.shared && filter.starts_with("$share/") {
                return refuse(ReasonCode::SharedSubscriptionsNotSupported);
            }
            if !l.wildcards && filter.bytes().any(|b| b == b'+' || b == b'#') {
                return refuse(ReasonCode::WildcardSubscriptionsNotSupported);
            }
        }
        Ok(())
    }

    /// The broker's Maximum Packet Size (no limit when not announced).
    pub(super) fn server_max_packet_size(&self) -> usize {
        match self.limits.maximum_packet_size {
            0 => PROTOCOL_MAX_PACKET_SIZE,
            n => usize::try_from(n).unwrap_or(PROTOCOL_MAX_PACKET_SIZE),
        }
    }

    /// The broker's Receive Maximum.
    pub(super) fn server_receive_maximum(&self) -> usize {
        usize::from(self.limits.receive_maximum)
    }
}

/// A caller's PUBLISH properties, without those the session or the broker
/// sets (Subscription Identifier; Topic Alias, the session's:
/// [`publish_aliased`](Session::publish_aliased)).
pub(super) fn publish_props<'a>(props: &'a [Property<'a>]) -> Result<Properties<'a>, Error> {
    if let Some(p) = props.iter().find(|p| {
        matches!(
            p,
            Property::SubscriptionIdentifier(_) | Property::TopicAlias(_)
        )
    }) {
        let id = p.id() as u8;
        return Err(Error::Encode(EncodeError::Property(
            PropertyError::NotAllowed(id),
        )));
    }
    Ok(Properties::from_list(props))
}

impl Session {
    /// Sets the protocol version of the next connection (3.1.1 by
    /// default; set it before [`restore`](Self::restore) too).  Feed an
    /// MQTT 5 session with [`handle_v5`](Self::handle_v5) (packets read
    /// with [`RxBuf::next_packet_v5`](super::RxBuf::next_packet_v5)), not
    /// [`handle`](Self::handle).  Takes
    /// effect at [`connect`](Self::connect); the durable state is kept,
    /// but messages in flight stored in the other version can only be
    /// dropped by a clean connect ([`Error::VersionMismatch`]).
    pub fn set_version(&mut self, version: Version) {
        self.v5.version = version;
    }

    /// See [`set_version`](Self::set_version).
    #[must_use]
    pub fn version(&self) -> Version {
        self.v5.version
    }

    /// The broker's Server Keep Alive in seconds (MQTT 5), which replaced
    /// the keepalive of CONNECT for this connection.
    #[must_use]
    pub fn server_keep_alive(&self) -> Option<u16> {
        self.v5.limits.server_keep_alive
    }

    /// The broker's Topic Alias Maximum (MQTT 5; 0: it takes none).
    #[must_use]
    pub fn server_topic_alias_maximum(&self) -> u16 {
        self.v5.limits.topic_alias_maximum
    }

    /// The broker's Receive Maximum (MQTT 5; 65,535 when not announced):
    /// the in-flight window is at most this.
    #[must_use]
    pub fn server_receive_maximum(&self) -> u16 {
        self.v5.limits.receive_maximum
    }

    /// The highest QoS the broker accepts (MQTT 5's Maximum QoS; QoS 2
    /// when not announced).
    #[must_use]
    pub fn server_maximum_qos(&self) -> QoS {
        self.v5.limits.maximum_qos
    }

    /// The broker's Maximum Packet Size (MQTT 5; 0 when not announced).
    #[must_use]
    pub fn server_maximum_packet_size(&self) -> u32 {
        self.v5.limits.maximum_packet_size
    }

    /// Whether the broker takes retained messages (MQTT 5's Retain
    /// Available; true when not announced).
    #[must_use]
    pub fn server_retain_available(&self) -> bool {
        self.v5.limits.retain_available
    }

    /// What subscriptions the broker supports (MQTT 5's Wildcard
    /// Subscription, Subscription Identifier and Shared Subscription
    /// Available; each true when not announced).
    #[must_use]
    pub fn server_subscriptions_available(&self) -> (bool, bool, bool) {
        let l = &self.v5.limits;
        (l.wildcards, l.subscription_ids, l.shared)
    }

    /// [`connect`](Self::connect) with MQTT 5's CONNECT properties.  In a
    /// 3.1.1 session the options must say nothing 3.1.1 cannot (the
    /// receive maximum is ignored there).
    ///
    /// # Errors
    /// As [`connect`](Self::connect); [`Error::VersionMismatch`];
    /// [`Error::Encode`] with
    /// [`EncodeError::Property`] for a property refused, or
    /// [`EncodeError::NotInVersion`] for options 3.1.1 cannot carry.
    pub fn connect_with(
        &mut self,
        now_ms: u64,
        connect: &Connect<'_>,
        opts: &ConnectOptions<'_>,
        tx: &mut TxBuf<'_>,
    ) -> Result<(), Error> {
        let outgoing = self.durable.outgoing_len();
        self.v5.check_resume(connect.clean_session, outgoing)?;
        let mut list: Vec<Property<'_>, { OWN_CONNECT_PROPERTIES + MAX_CONNECT_PROPERTIES }> =
            Vec::new();
        if !self.v5.version.is_v5()
            && (opts.session_expiry != 0
                || opts.topic_alias_maximum != 0
                || !opts.request_problem_information)
        {
            // 3.1.1 has no way to say them: refused, not dropped.
            return Err(Error::Encode(EncodeError::NotInVersion));
        }
        let mut receive_maximum = 0;
        if self.v5.version.is_v5() {
            if opts.session_expiry != 0 {
                let _ = list.push(Property::SessionExpiryInterval(opts.session_expiry));
            }
            receive_maximum = match opts.receive_maximum {
                0 => RECEIVE_MAXIMUM,
                n => n.min(RECEIVE_MAXIMUM),
            };
            let _ = list.push(Property::ReceiveMaximum(receive_maximum));
            if self.max_packet_size < PROTOCOL_MAX_PACKET_SIZE {
                // Below the protocol's maximum, which fits a u32.
                let size = u32::try_from(self.max_packet_size).unwrap_or(u32::MAX);
                let _ = list.push(Property::MaximumPacketSize(size));
            }
            if !opts.request_problem_information {
                let _ = list.push(Property::RequestProblemInformation(0));
            }
            if opts.topic_alias_maximum > 0 {
                let _ = list.push(Property::TopicAliasMaximum(opts.topic_alias_maximum));
            }
        }
        if list.extend_from_slice(opts.props).is_err() {
            return Err(Error::Encode(EncodeError::TooLong));
        }
        let packet = v5::Packet::Connect(v5::Connect {
            connect: *connect,
            props: Properties::from_list(&list),
            will_props: Properties::from_list(opts.will_props),
        });
        let expiry_zero = opts.session_expiry == 0;
        self.send_v5(now_ms, &packet, tx)?;
        self.start_connection(now_ms, connect, tx);
        self.v5.expiry_zero = expiry_zero;
        if self.v5.version.is_v5() {
            self.v5.alias_max = opts.topic_alias_maximum;
            self.v5.receive_max = receive_maximum;
            self.v5.auth = AuthPhase::at_connect(opts.props);
        }
        Ok(())
    }

    /// [`publish`](Self::publish) with MQTT 5 PUBLISH properties (Payload
    /// Format Indicator, Message Expiry Interval, Content Type, Response
    /// Topic, Correlation Data, User Properties), borrowed: they are
    /// encoded into the packet (and the store, for a resend).
    ///
    /// # Errors
    /// As [`publish`](Self::publish); [`Error::Encode`] with
    /// [`EncodeError::Property`] for a property refused (a Subscription
    /// Identifier, which only the broker sends; a Topic Alias, which the
    /// session manages ([`publish_aliased`](Self::publish_aliased)); one
    /// not allowed in PUBLISH), or
    /// [`EncodeError::NotInVersion`] in a 3.1.1 session.
    #[allow(clippy::too_many_arguments)]
    pub fn publish_with(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        props: &[Property<'_>],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        self.publish_in(now_ms, topic, payload, false, qos, retain, props, tx)
    }

    /// [`publish_with`](Self::publish_with) or, `separate`,
    /// [`publish_header_with`](Self::publish_header_with): one body for
    /// both (the C ABI chooses at run time).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn publish_in(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        separate: bool,
        qos: QoS,
        retain: bool,
        props: &[Property<'_>],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let props = publish_props(props)?;
        let body = if separate {
            super::Body::Separate(payload)
        } else {
            super::Body::Whole(payload)
        };
        self.start_publish(now_ms, topic, body, qos, retain, props, None, tx)
    }

    /// [`publish_header`](Self::publish_header) with PUBLISH properties,
    /// as [`publish_with`](Self::publish_with): only the bytes before the
    /// payload are queued, the caller writes the payload after them.
    ///
    /// # Errors
    /// As [`publish_with`](Self::publish_with).
    #[allow(clippy::too_many_arguments)]
    pub fn publish_header_with(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        props: &[Property<'_>],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        self.publish_in(now_ms, topic, payload, true, qos, retain, props, tx)
    }

    /// [`publish_streamed`](Self::publish_streamed) with PUBLISH
    /// properties, as [`publish_with`](Self::publish_with); they are
    /// stored with the header and resent with it.
    ///
    /// # Errors
    /// As [`publish_with`](Self::publish_with).
    #[allow(clippy::too_many_arguments)]
    pub fn publish_streamed_with(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload_len: usize,
        qos: QoS,
        retain: bool,
        resendable: bool,
        props: &[Property<'_>],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let props = publish_props(props)?;
        let body = super::Body::Streamed(payload_len, resendable);
        self.start_publish(now_ms, topic, body, qos, retain, props, None, tx)
    }

    /// MQTT 5 DISCONNECT with a reason code (Normal disconnection 0x00,
    /// Disconnect with Will Message 0x04, or a failure from 0x80) and
    /// properties (Session Expiry Interval, Reason String, User
    /// Properties); then as [`disconnect`](Self::disconnect).
    ///
    /// # Errors
    /// As [`disconnect`](Self::disconnect); [`Error::Encode`] for a reason
    /// code or property DISCONNECT may not carry, a Session Expiry
    /// Interval after CONNECT said 0 (MQTT-3.14.2-2), or anything but
    /// the plain form in 3.1.1 ([`EncodeError::NotInVersion`]); nothing is
    /// queued then.
    pub fn disconnect_with(
        &mut self,
        reason: ReasonCode,
        props: &[Property<'_>],
        tx: &mut TxBuf<'_>,
    ) -> Result<(), Error> {
        if self.conn.link == Link::Closed {
            return Err(Error::NotConnected);
        }
        let sets_expiry = props
            .iter()
            .any(|p| matches!(p, Property::SessionExpiryInterval(n) if *n != 0));
        if sets_expiry && self.v5.expiry_zero {
            let id = PropertyId::SessionExpiryInterval as u8;
            return Err(Error::Encode(EncodeError::Property(
                PropertyError::BadValue(id),
            )));
        }
        let packet = v5::Packet::Disconnect(v5::ReasonOnly {
            reason,
            props: Properties::from_list(props),
        });
        // The connection ends: no timer needs the time.
        let now_ms = self.conn.last_tx_ms;
        self.send_v5(now_ms, &packet, tx)?;
        self.connection_lost();
        Ok(())
    }

    /// MQTT 5 SUBSCRIBE with options per filter and properties
    /// (Subscription Identifier, User Property); returns the packet id,
    /// [`Event::Subscribed`] carries the SUBACK's reason codes (granted
    /// QoS 0-2, or a failure code from 0x80).
    ///
    /// # Errors
    /// As [`subscribe`](Self::subscribe); [`Error::SubscribeNotSupported`]
    /// for a wildcard, shared subscription or subscription identifier the
    /// broker's CONNACK said it does not support (nothing is queued).
    pub fn subscribe_with_options(
        &mut self,
        now_ms: u64,
        topics: &[(&str, SubscriptionOptions)],
        props: &[Property<'_>],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        self.require_open()?;
        for (filter, _) in topics {
            validate_topic_filter(filter)
                .map_err(|e| Error::Encode(EncodeError::InvalidTopic(e)))?;
        }
        self.v5.check_subscribe(topics, props)?;
        let pid = self.start_request()?;
        let packet = v5::Packet::Subscribe(v5::Subscribe {
            pid,
            props: Properties::from_list(props),
            topics: v5::SubscribeTopics::List(topics),
        });
        self.send_v5(now_ms, &packet, tx)?;
        self.file_request(pid, AckKind::Suback)
    }

    /// [`subscribe`](Self::subscribe) in an MQTT 5 session: each filter
    /// with the default options for its QoS.
    pub(super) fn subscribe_v5_qos(
        &mut self,
        now_ms: u64,
        topics: &[(&str, QoS)],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let mut list: Vec<(&str, SubscriptionOptions), MAX_SUBSCRIBE_FILTERS> = Vec::new();
        for &(filter, qos) in topics {
            list.push((filter, SubscriptionOptions::new(qos)))
                .map_err(|_| Error::Encode(EncodeError::TooLong))?;
        }
        self.subscribe_with_options(now_ms, &list, &[], tx)
    }

    /// [`unsubscribe`](Self::unsubscribe) in an MQTT 5 session (topics
    /// validated by the caller).
    pub(super) fn unsubscribe_v5(
        &mut self,
        now_ms: u64,
        topics: &[&str],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let pid = self.start_request()?;
        let packet = v5::Packet::Unsubscribe(v5::Unsubscribe {
            pid,
            props: Properties::EMPTY,
            topics: UnsubscribeTopics::List(topics),
        });
        self.send_v5(now_ms, &packet, tx)?;
        self.file_request(pid, AckKind::Unsuback)
    }

    /// [`handle`](Self::handle) for a packet read with
    /// [`v5::Packet::parse_for`] in the session's [`version`](Self::version).
    /// What 3.1.1 also has is handled by [`handle`](Self::handle); in
    /// addition:
    /// - CONNACK: a failure is [`Error::Refused5`]; the properties set the
    ///   limits the session keeps to (see the accessors) and reach the
    ///   caller in [`Event::Connected5`];
    /// - UNSUBACK gives [`Event::Unsubscribed5`] with its reason codes;
    /// - PUBACK/PUBREC with a failure code end the flow (no PUBREL) and
    ///   give [`Event::PublishFailed`];
    /// - PUBLISH gives [`Event::Message5`] with its properties (a Topic
    ///   Alias is a protocol error: the session takes none);
    /// - DISCONNECT is [`Error::ServerDisconnect`] with its reason code.
    ///
    /// # Errors
    /// As [`handle`](Self::handle), and the above.
    pub fn handle_v5<'p>(
        &mut self,
        now_ms: u64,
        packet: v5::Packet<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        self.handle_v5_in(now_ms, packet, None, tx)
    }

    /// [`handle_v5`](Self::handle_v5) for a connection that announced a
    /// Topic Alias Maximum ([`ConnectOptions::topic_alias_maximum`]): a
    /// PUBLISH with a topic and an alias sets the alias in `aliases`, one
    /// with an alias alone gets its topic from there (borrowed: the event
    /// borrows `aliases` as it borrows the packet).  Lend the same map to
    /// every call of a connection.
    ///
    /// # Errors
    /// As [`handle_v5`](Self::handle_v5); [`ProtocolError::TopicAlias`]
    /// for an alias over our maximum or not set on this connection;
    /// [`Error::AliasTableFull`] when a topic does not fit the map.
    pub fn handle_v5_aliased<'p>(
        &mut self,
        now_ms: u64,
        packet: v5::Packet<'p>,
        aliases: &'p mut TopicAliases<'_>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        self.handle_v5_in(now_ms, packet, Some(aliases), tx)
    }

    fn handle_v5_in<'p>(
        &mut self,
        now_ms: u64,
        packet: v5::Packet<'p>,
        aliases: Option<&'p mut TopicAliases<'_>>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        use v5::Packet as P;
        let v5 = self.v5.version.is_v5();
        let same = match packet {
            // 3.1.1 bytes read into the v5 form: 3.1.1 rules.
            P::Connack(c) => match (v5, ConnectReturnCode::from_reason(c.reason)) {
                (false, Some(code)) => Packet::Connack(Connack {
                    session_present: c.session_present,
                    code,
                }),
                _ => {
                    return match self.conn.link {
                        Link::AwaitConnack { .. } => self.handle_connack_v5(now_ms, c, tx),
                        Link::Open => Err(ProtocolError::ConnackTwice.into()),
                        Link::Closed => Err(Error::NotConnected),
                    }
                }
            },
            P::Auth(a) if v5 => return self.handle_auth(now_ms, a),
            P::Publish(p) if !v5 => Packet::Publish(p.publish),
            P::Disconnect(_) if !v5 => Packet::Disconnect,
            P::Puback(a) if !a.reason.is_error() => Packet::Puback(a.pid),
            P::Pubrec(a) if !a.reason.is_error() => Packet::Pubrec(a.pid),
            // PUBREL with Packet Identifier not found: PUBCOMP all the same.
            P::Pubrel(a) => Packet::Pubrel(a.pid),
            P::Pubcomp(a) => Packet::Pubcomp(a.pid),
            P::Suback(s) => Packet::Suback(Suback {
                pid: s.pid,
                return_codes: s.reasons,
            }),
            P::Unsuback(s) if v5 => {
                return Ok(match self.handle(now_ms, Packet::Unsuback(s.pid), tx)? {
                    Some(Event::Unsubscribed { pid }) => Some(Event::Unsubscribed5 {
                        pid,
                        reason_codes: s.reasons,
                    }),
                    other => other,
                });
            }
            P::Unsuback(s) => Packet::Unsuback(s.pid),
            P::Pingresp => Packet::Pingresp,
            P::Puback(_)
            | P::Pubrec(_)
            | P::Publish(_)
            | P::Disconnect(_)
            | P::Auth(_)
            | P::Connect(_)
            | P::Subscribe(_)
            | P::Unsubscribe(_)
            | P::Pingreq => return self.handle_v5_only(now_ms, packet, aliases, tx),
        };
        self.handle(now_ms, same, tx)
    }

    /// Queues `packet` in the session's version if it is within the
    /// maximum packet size, and notes the time.
    pub(super) fn send_v5(
        &mut self,
        now_ms: u64,
        packet: &v5::Packet<'_>,
        tx: &mut TxBuf<'_>,
    ) -> Result<(), Error> {
        let version = self.v5.version;
        let size = packet
            .encoded_len_from_client(version)
            .map_err(Error::Encode)?;
        self.check_len(size)?;
        tx.push_with(size, |dst| packet.encode_from_client(dst, version))?;
        self.conn.last_tx_ms = now_ms;
        Ok(())
    }

    /// The packets whose handling MQTT 5 changes.
    fn handle_v5_only<'p>(
        &mut self,
        now_ms: u64,
        packet: v5::Packet<'p>,
        aliases: Option<&'p mut TopicAliases<'_>>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        use v5::Packet as P;
        let unexpected = Error::Protocol(ProtocolError::UnexpectedPacket(packet.packet_type()));
        match self.conn.link {
            Link::Closed => return Err(Error::NotConnected),
            Link::AwaitConnack { .. } => return Err(unexpected),
            Link::Open => {}
        }
        self.pump_owed_before(now_ms, tx)?;
        match packet {
            P::Puback(a) => self.refused(a.pid, a.reason, PacketType::Puback, tx),
            P::Pubrec(a) => self.refused(a.pid, a.reason, PacketType::Pubrec, tx),
            P::Publish(mut p) => {
                // (The wire layer refuses an empty topic without an alias.)
                if let Some(alias) = p.props.topic_alias() {
                    p.publish.topic = self.resolve_alias(alias, p.publish.topic, aliases)?;
                }
                Ok(match self.handle_publish(now_ms, p.publish, tx)? {
                    Some(Event::Message(publish)) => Some(Event::Message5 {
                        publish,
                        props: p.props,
                    }),
                    other => other,
                })
            }
            P::Disconnect(d) => {
                self.connection_lost();
                Err(Error::ServerDisconnect(d.reason))
            }
            _ => Err(unexpected),
        }
    }

    /// The topic of a PUBLISH with `alias` and `topic` (empty: the alias
    /// alone), noting a new alias.  Doing it twice for the same packet
    /// (handled again after `TxFull`) changes nothing more.
    fn resolve_alias<'p>(
        &mut self,
        alias: u16,
        topic: &'p str,
        aliases: Option<&'p mut TopicAliases<'_>>,
    ) -> Result<&'p str, Error> {
        let unknown = Error::Protocol(ProtocolError::TopicAlias(alias));
        let Some(table) = aliases.filter(|_| alias <= self.v5.alias_max) else {
            return Err(unknown);
        };
        if self.v5.aliases_stale {
            table.clear();
            self.v5.aliases_stale = false;
        }
        if topic.is_empty() {
            let table: &'p TopicAliases<'_> = table;
            return table.get(alias).ok_or(unknown);
        }
        table
            .set(alias, topic)
            .map_err(|needed| Error::AliasTableFull { needed })?;
        Ok(topic)
    }

    /// A PUBACK/PUBREC (`got`) with failure `reason` for outgoing message
    /// `pid`: the flow ends there (no PUBREL, MQTT 5 section 4.3.3), the
    /// application learns why.
    fn refused<'p>(
        &mut self,
        pid: u16,
        reason: crate::wire::ReasonCode,
        got: PacketType,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        let awaited = match got {
            PacketType::Puback => OutgoingFlow::AwaitPuback,
            _ => OutgoingFlow::AwaitPubrec,
        };
        match self.durable.outgoing_flow(pid) {
            Some(f) if f == awaited => {}
            other => return Err(super::wrong_ack(pid, got, other)),
        }
        self.durable.remove_outgoing(pid, tx.store_mut());
        Ok(Some(Event::PublishFailed { pid, reason }))
    }

    fn handle_connack_v5<'p>(
        &mut self,
        now_ms: u64,
        connack: v5::Connack<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        if connack.reason.is_error() {
            self.connection_lost();
            return Err(Error::Refused5(connack.reason));
        }
        let mut limits = Limits::NONE;
        for prop in connack.props.iter() {
            match prop {
                Property::ReceiveMaximum(n) => limits.receive_maximum = n,
                // Validated as 0 or 1.
                Property::MaximumQoS(0) => limits.maximum_qos = QoS::AtMostOnce,
                Property::MaximumQoS(_) => limits.maximum_qos = QoS::AtLeastOnce,
                Property::RetainAvailable(r) => limits.retain_available = r != 0,
                Property::MaximumPacketSize(n) => limits.maximum_packet_size = n,
                Property::TopicAliasMaximum(n) => limits.topic_alias_maximum = n,
                Property::ServerKeepAlive(s) => limits.server_keep_alive = Some(s),
                Property::WildcardSubscriptionAvailable(b) => limits.wildcards = b != 0,
                Property::SubscriptionIdentifierAvailable(b) => limits.subscription_ids = b != 0,
                Property::SharedSubscriptionAvailable(b) => limits.shared = b != 0,
                _ => {}
            }
        }
        self.v5.limits = limits;
        self.auth_connected();
        if let Some(secs) = limits.server_keep_alive {
            self.conn.keepalive_ms = u64::from(secs).saturating_mul(1000);
        }
        Ok(
            match self.accept_connack(now_ms, connack.session_present, tx)? {
                Some(Event::Connected { session_present }) => Some(Event::Connected5 {
                    session_present,
                    props: connack.props,
                }),
                other => other,
            },
        )
    }
}
