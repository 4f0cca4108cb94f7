//! Errors returned by the session state machine, grouped by cause.

use core::fmt;

use crate::wire::{ConnectReturnCode, DecodeError, EncodeError, PacketType};
#[cfg(feature = "mqtt5")]
use crate::wire::{QoS, ReasonCode};

use super::{OutgoingFlow, RestoreError};

/// Why a [`Session`](super::Session) operation failed.
///
/// [`Error::is_fatal`] tells whether the connection must be dropped.  The
/// other variants leave the session unchanged: the caller fixes the cause
/// (flushes the transmit buffer, waits for acks, corrects its input) and
/// retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The operation needs an accepted CONNACK (for [`handle`](super::Session::handle):
    /// a connection started with [`connect`](super::Session::connect)).
    NotConnected,
    /// The broker answered CONNECT with a nonzero return code.
    Refused(ConnectReturnCode),
    /// The broker sent malformed bytes: the connection must be closed.
    Decode(DecodeError),
    /// The broker sent a well-formed packet that is wrong in this state:
    /// the connection must be closed.
    Protocol(ProtocolError),
    /// A PINGRESP (or the CONNACK) is overdue: the broker is presumed dead.
    KeepaliveTimeout,
    /// The packet (`needed` bytes) does not fit in the free space of the
    /// transmit buffer.  Flush it and retry; if `needed` exceeds the buffer's
    /// capacity it can never fit.
    TxFull {
        /// Encoded size of the packet that was refused.
        needed: usize,
    },
    /// An incoming packet of `needed` bytes is larger than the receive
    /// buffer ([`RxBuf`](super::RxBuf)): give a larger one and call again,
    /// or drop the connection.
    RxTooSmall {
        /// Size of the packet (header included).
        needed: usize,
    },
    /// [`MAX_INFLIGHT`](super::MAX_INFLIGHT) outgoing messages (or
    /// [`MAX_PENDING_ACKS`](super::MAX_PENDING_ACKS) subscribe requests)
    /// already await acknowledgement.
    InflightFull,
    /// An incoming QoS 2 message would be the
    /// [`INLINE_HELD`](super::INLINE_HELD)+1st unreleased one and no
    /// held-id bitmap was lent: lend one
    /// ([`TxBuf::with_held_bitmap`](super::TxBuf::with_held_bitmap)) and
    /// handle the same packet again, or drop the connection.  Nothing
    /// changed; the message was not delivered nor acknowledged.
    HeldFull,
    /// [`MAX_UNACKED`](super::MAX_UNACKED) messages are with the
    /// application unacknowledged (they arrived while a callback ran): acknowledge
    /// or abandon one and handle the packet again.  Nothing changed.
    TooManyUnacked,
    /// An outgoing packet of `size` bytes exceeds the maximum packet size
    /// ([`Session::set_max_packet_size`](super::Session::set_max_packet_size)):
    /// a caller error, nothing was queued.
    TooLarge {
        /// Encoded size of the packet that was refused.
        size: usize,
    },
    /// The broker announced a packet of `size` bytes, more than the maximum
    /// packet size: the connection must be closed before reading it.
    IncomingTooLarge {
        /// Size of the announced packet (header included).
        size: usize,
    },
    /// The QoS 1/2 packet (`needed` bytes) does not fit in the free space of
    /// the [`Store`](super::Store): wait for acknowledgements and retry; if
    /// `needed` exceeds the store's capacity it needs a larger store.
    StoreFull {
        /// Encoded size of the packet that was refused.
        needed: usize,
    },
    /// The packet cannot be encoded (invalid or too long topic, ...): a caller
    /// error, nothing was queued.
    Encode(EncodeError),
    /// Saved session bytes cannot be restored
    /// ([`Session::restore`](super::Session::restore)); nothing changed.
    Restore(RestoreError),
    /// MQTT 5: the broker refused the connection with this CONNACK reason
    /// code (0x80 or above).
    #[cfg(feature = "mqtt5")]
    Refused5(ReasonCode),
    /// MQTT 5: the broker closed the connection with a DISCONNECT carrying
    /// this reason code.
    #[cfg(feature = "mqtt5")]
    ServerDisconnect(ReasonCode),
    /// MQTT 5: a publish above the broker's Maximum QoS (its CONNACK): a
    /// caller error, nothing was queued.
    #[cfg(feature = "mqtt5")]
    QosNotSupported {
        /// The highest QoS the broker accepts.
        max: QoS,
    },
    /// MQTT 5: a retained publish to a broker whose CONNACK said Retain
    /// Available 0: a caller error, nothing was queued.
    #[cfg(feature = "mqtt5")]
    RetainNotSupported,
    /// MQTT 5: a SUBSCRIBE using what the broker's CONNACK said it does not
    /// support (a wildcard, a shared subscription, a subscription
    /// identifier: the reason code it would answer): a caller error,
    /// nothing was queued.
    #[cfg(feature = "mqtt5")]
    SubscribeNotSupported(ReasonCode),
    /// MQTT 5: a connect resuming the session (`clean_session` false) in
    /// another protocol version than the messages in flight were stored
    /// in: they cannot be resent.  Connect in their version, or clean.
    /// Nothing was queued.
    #[cfg(feature = "mqtt5")]
    VersionMismatch,
    /// MQTT 5: the broker set a topic alias whose topic does not fit the
    /// alias map ([`TopicAliases`](super::TopicAliases)): `needed` bytes
    /// would.  The mapping cannot be kept, so the connection must be
    /// closed (reconnect with a larger map or a smaller maximum).
    #[cfg(feature = "mqtt5")]
    AliasTableFull {
        /// Bytes the map needs.
        needed: usize,
    },
    /// MQTT 5: an AUTH the application may not send now
    /// ([`Session::auth`](super::Session::auth): no Authentication Method
    /// in it or in the CONNECT, no challenge to answer, or a
    /// re-authentication not allowed yet): a caller error, nothing was
    /// queued.
    #[cfg(feature = "mqtt5")]
    AuthNotExpected,
}

impl Error {
    /// True when the connection must be dropped (and
    /// [`connection_lost`](super::Session::connection_lost) called).
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::Refused(_)
                | Self::Decode(_)
                | Self::Protocol(_)
                | Self::KeepaliveTimeout
                | Self::IncomingTooLarge { .. }
        ) || self.is_fatal_v5()
    }

    #[cfg(feature = "mqtt5")]
    fn is_fatal_v5(&self) -> bool {
        matches!(
            self,
            Self::Refused5(_) | Self::ServerDisconnect(_) | Self::AliasTableFull { .. }
        )
    }

    #[cfg(not(feature = "mqtt5"))]
    fn is_fatal_v5(&self) -> bool {
        false
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConnected => f.write_str("not connected"),
            Self::Refused(code) => write!(f, "connection refused by broker: {code:?}"),
            Self::Decode(e) => write!(f, "malformed packet from broker: {e}"),
            Self::Protocol(e) => write!(f, "protocol violation by broker: {e}"),
            Self::KeepaliveTimeout => f.write_str("broker did not answer in time"),
            Self::TxFull { needed } => {
                write!(f, "transmit buffer full ({needed} bytes needed)")
            }
            Self::RxTooSmall { needed } => {
                write!(f, "receive buffer too small ({needed} bytes needed)")
            }
            Self::InflightFull => f.write_str("too many messages awaiting acknowledgement"),
            Self::HeldFull => write!(
                f,
                "more than {} unreleased QoS 2 messages and no memory for the held-id set",
                super::INLINE_HELD
            ),
            Self::TooManyUnacked => write!(
                f,
                "more than {} messages with the application unacknowledged",
                super::MAX_UNACKED
            ),
            Self::TooLarge { size } => {
                write!(f, "packet of {size} bytes exceeds the maximum packet size")
            }
            Self::IncomingTooLarge { size } => write!(
                f,
                "broker sent a packet of {size} bytes, over the maximum packet size"
            ),
            Self::StoreFull { needed } => {
                write!(f, "message store full ({needed} bytes needed)")
            }
            Self::Encode(e) => write!(f, "cannot encode packet: {e}"),
            Self::Restore(e) => write!(f, "cannot restore session: {e}"),
            #[cfg(feature = "mqtt5")]
            Self::Refused5(code) => write!(f, "connection refused by broker: {code:?}"),
            #[cfg(feature = "mqtt5")]
            Self::ServerDisconnect(code) => write!(f, "broker disconnected: {code:?}"),
            #[cfg(feature = "mqtt5")]
            Self::QosNotSupported { max } => {
                write!(f, "broker accepts publishes up to {max:?} only")
            }
            #[cfg(feature = "mqtt5")]
            Self::RetainNotSupported => f.write_str("broker does not support retained messages"),
            #[cfg(feature = "mqtt5")]
            Self::SubscribeNotSupported(code) => write!(f, "broker does not support {code:?}"),
            #[cfg(feature = "mqtt5")]
            Self::AliasTableFull { needed } => {
                write!(f, "topic alias map full ({needed} bytes needed)")
            }
            #[cfg(feature = "mqtt5")]
            Self::VersionMismatch => {
                f.write_str("messages in flight were stored in the other protocol version")
            }
            #[cfg(feature = "mqtt5")]
            Self::AuthNotExpected => f.write_str("no AUTH may be sent now"),
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

/// A well-formed packet from the broker that the protocol does not allow here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A packet only a client may send, or any packet but CONNACK before the
    /// CONNACK.
    UnexpectedPacket(PacketType),
    /// An acknowledgement for a packet id that does not await it.
    UnknownPacketId(u16),
    /// A second CONNACK on the same connection.
    ConnackTwice,
    /// MQTT 5: a PUBLISH with a Topic Alias above the maximum the client
    /// announced, or without a topic and an alias not set on this
    /// connection.
    #[cfg(feature = "mqtt5")]
    TopicAlias(u16),
    /// MQTT 5: more unacknowledged QoS 1/2 messages than the Receive
    /// Maximum the client announced.
    #[cfg(feature = "mqtt5")]
    ReceiveMaximumExceeded,
    /// An acknowledgement of the wrong kind for an outgoing message that
    /// awaits another (a broker without QoS 2 answering PUBLISH QoS 2 with
    /// PUBACK, for one).
    WrongAck {
        /// The packet id.
        pid: u16,
        /// What the broker sent: PUBACK, PUBREC or PUBCOMP.
        got: PacketType,
        /// What the message awaited.
        awaited: OutgoingFlow,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedPacket(t) => write!(f, "unexpected {t:?} packet"),
            Self::UnknownPacketId(pid) => write!(f, "acknowledgement for unknown packet id {pid}"),
            Self::ConnackTwice => f.write_str("second CONNACK"),
            #[cfg(feature = "mqtt5")]
            Self::ReceiveMaximumExceeded => {
                f.write_str("more unacknowledged messages than our receive maximum")
            }
            #[cfg(feature = "mqtt5")]
            Self::TopicAlias(a) => write!(f, "topic alias {a} over the maximum announced"),
            Self::WrongAck { pid, got, awaited } => match (got, awaited) {
                (PacketType::Puback, _) => write!(
                    f,
                    "broker acknowledged a QoS 2 publish (id {pid}) with PUBACK: \
                     it does not support QoS 2"
                ),
                (PacketType::Pubrec, OutgoingFlow::AwaitPuback) => {
                    write!(f, "broker answered a QoS 1 publish (id {pid}) with PUBREC")
                }
                _ => write!(f, "{got:?} for id {pid}, which awaits {awaited:?}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn fatal_errors() {
        assert!(Error::KeepaliveTimeout.is_fatal());
        assert!(Error::Protocol(ProtocolError::ConnackTwice).is_fatal());
        assert!(Error::Refused(ConnectReturnCode::NotAuthorized).is_fatal());
        assert!(!Error::TxFull { needed: 4 }.is_fatal());
        assert!(!Error::InflightFull.is_fatal());
        assert!(!Error::NotConnected.is_fatal());
    }

    #[test]
    fn display() {
        assert_eq!(
            Error::Protocol(ProtocolError::UnknownPacketId(7)).to_string(),
            "protocol violation by broker: acknowledgement for unknown packet id 7"
        );
        assert_eq!(
            Error::TxFull { needed: 12 }.to_string(),
            "transmit buffer full (12 bytes needed)"
        );
    }
}
