//! [`Event`]: what the application learns from a packet the session
//! handled (MQTT 5's variants with the `mqtt5` feature).

use crate::wire::Publish;

#[cfg(doc)]
use super::Session;

/// What the application should learn from a received packet.
///
/// Borrowed data (`Message` topic and payload, SUBACK return codes) points
/// into the receive buffer the packet was parsed from.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The broker accepted the connection.
    Connected {
        /// The broker resumed a stored session.
        session_present: bool,
    },
    /// An application message; deliver it.  At QoS 1/2, call
    /// [`Session::ack`] with its `pid` once the application has it (or
    /// [`Session::abandon`]): nothing was acknowledged yet.
    Message(Publish<'a>),
    /// An outgoing QoS 1 (PUBACK) or QoS 2 (PUBCOMP) message is delivered.
    Published {
        /// Id returned by [`Session::publish`].
        pid: u16,
    },
    /// SUBACK: one return code per requested filter (granted QoS, or 0x80).
    Subscribed {
        /// Id returned by [`Session::subscribe`].
        pid: u16,
        /// Return codes in request order.
        return_codes: &'a [u8],
    },
    /// UNSUBACK.
    Unsubscribed {
        /// Id returned by [`Session::unsubscribe`].
        pid: u16,
    },
    /// PINGRESP.
    Pong,
    /// MQTT 5: the broker accepted the connection; its CONNACK properties
    /// (Assigned Client Identifier, Reason String, Response Information,
    /// User Properties, ...) borrow the receive buffer.  The limits among
    /// them are kept by the session ([`Session::server_receive_maximum`]
    /// and the others).
    #[cfg(feature = "mqtt5")]
    Connected5 {
        /// The broker resumed a stored session.
        session_present: bool,
        /// The CONNACK properties.
        props: crate::wire::Properties<'a>,
    },
    /// MQTT 5: an application message and its properties, checked by the
    /// wire layer ([`Properties::as_bytes`](crate::wire::Properties::as_bytes)
    /// gives the section's bytes).  Acknowledged as [`Event::Message`].
    #[cfg(feature = "mqtt5")]
    Message5 {
        /// Topic (a topic alias resolved), payload, QoS, packet id.
        publish: Publish<'a>,
        /// The PUBLISH properties, borrowing the receive buffer.
        props: crate::wire::Properties<'a>,
    },
    /// MQTT 5: UNSUBACK with one reason code per filter (Success, No
    /// subscription existed 0x11, or a failure from 0x80).
    #[cfg(feature = "mqtt5")]
    Unsubscribed5 {
        /// Id returned by [`Session::unsubscribe`].
        pid: u16,
        /// Reason codes in request order.
        reason_codes: &'a [u8],
    },
    /// MQTT 5: the broker refused outgoing message `pid` (a PUBACK or
    /// PUBREC with a failure reason code): its flow is over, nothing is
    /// resent.
    #[cfg(feature = "mqtt5")]
    PublishFailed {
        /// Id returned by [`Session::publish`].
        pid: u16,
        /// Why (0x80 or above).
        reason: crate::wire::ReasonCode,
    },
    /// MQTT 5: an AUTH from the broker (enhanced authentication, see
    /// [`Session::auth`]): Continue Authentication (0x18) with a challenge
    /// to answer, or Success (0x00) at the end of a re-authentication.
    #[cfg(feature = "mqtt5")]
    Auth {
        /// Continue Authentication or Success.
        reason: crate::wire::ReasonCode,
        /// Authentication Method and Data, Reason String, User Properties.
        props: crate::wire::Properties<'a>,
    },
}
