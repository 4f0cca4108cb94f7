//! MQTT 5 enhanced authentication (section 4.12): the AUTH exchange, at
//! connect and for re-authentication, in the session.
//!
//! A CONNECT whose properties carry an Authentication Method starts it:
//! before its CONNACK the broker may send AUTH with Continue
//! Authentication (0x18) and a challenge; the application answers each with
//! [`Session::auth`] (Continue Authentication, the same method, its
//! response) until the CONNACK ends the exchange.  Once connected, the
//! application may start a re-authentication ([`Session::auth`] with
//! Re-authenticate, 0x19); the broker answers Continue Authentication
//! (answered as before) or Success (0x00), or closes the connection.  Each
//! AUTH from the broker is an [`Event::Auth`] with its properties
//! (method, data, reason string, user properties) borrowed from the
//! receive buffer; what to answer is the application's (the session keeps
//! no method, no data, and knows no mechanism).
//!
//! The session holds the rules: an AUTH from a broker that was not asked
//! for one (no method in CONNECT, no exchange in progress), or with a
//! reason it may not send, is a protocol error; an AUTH from the
//! application outside an exchange it may start or answer is refused
//! before anything is queued ([`Error::AuthNotExpected`]).

use super::{Error, Event, Link, ProtocolError, Session, TxBuf};
use crate::wire::v5::{self, ReasonOnly};
use crate::wire::{PacketType, Properties, Property, PropertyId, ReasonCode};

/// Where the exchange stands on this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AuthPhase {
    /// CONNECT had no Authentication Method: no AUTH either way.
    Off,
    /// Enhanced authentication, no exchange now: the application may
    /// re-authenticate.
    Idle,
    /// An exchange is under way (the CONNACK, or the answer to a
    /// re-authentication, has not come): the broker may send AUTH.
    Exchange {
        /// The broker's Continue Authentication awaits our AUTH.
        owed: bool,
    },
}

impl AuthPhase {
    /// The phase a CONNECT with `props` starts.
    pub(super) fn at_connect(props: &[Property<'_>]) -> Self {
        let method = props
            .iter()
            .any(|p| p.id() == PropertyId::AuthenticationMethod);
        if method {
            AuthPhase::Exchange { owed: false }
        } else {
            AuthPhase::Off
        }
    }
}

impl Session {
    /// Queues an AUTH: `reason` Continue Authentication (0x18) to answer
    /// the broker's [`Event::Auth`] challenge, or Re-authenticate (0x19) to
    /// start a re-authentication once connected; `props` carry the
    /// Authentication Method (the CONNECT's: required) and Data, and may
    /// carry a Reason String and User Properties.
    ///
    /// # Errors
    /// [`Error::AuthNotExpected`] when that AUTH may not be sent now (the
    /// CONNECT had no Authentication Method; no challenge to answer; a
    /// re-authentication before the CONNACK or while one is under way; any
    /// other reason code) or `props` lack the Authentication Method;
    /// [`Error::Encode`] for a property AUTH may not carry; as
    /// [`publish`](Self::publish) for the transmit buffer.  Nothing is
    /// queued then.
    pub fn auth(
        &mut self,
        now_ms: u64,
        reason: ReasonCode,
        props: &[Property<'_>],
        tx: &mut TxBuf<'_>,
    ) -> Result<(), Error> {
        if self.conn.link == Link::Closed {
            return Err(Error::NotConnected);
        }
        let open = self.conn.link == Link::Open;
        let allowed = match (self.v5.auth, reason) {
            (AuthPhase::Exchange { owed: true }, ReasonCode::ContinueAuthentication) => true,
            (AuthPhase::Idle, ReasonCode::ReAuthenticate) => open,
            _ => false,
        };
        if !allowed || AuthPhase::at_connect(props) == AuthPhase::Off {
            return Err(Error::AuthNotExpected);
        }
        let packet = v5::Packet::Auth(ReasonOnly {
            reason,
            props: Properties::from_list(props),
        });
        self.send_v5(now_ms, &packet, tx)?;
        self.v5.auth = AuthPhase::Exchange { owed: false };
        Ok(())
    }

    /// An AUTH from the broker (see the module doc).
    #[inline(never)]
    pub(super) fn handle_auth<'p>(
        &mut self,
        now_ms: u64,
        auth: ReasonOnly<'p>,
    ) -> Result<Option<Event<'p>>, Error> {
        let unexpected = Error::Protocol(ProtocolError::UnexpectedPacket(PacketType::Auth));
        let connecting = match self.conn.link {
            Link::Closed => return Err(Error::NotConnected),
            Link::AwaitConnack { .. } => true,
            Link::Open => false,
        };
        let AuthPhase::Exchange { .. } = self.v5.auth else {
            return Err(unexpected);
        };
        match auth.reason {
            ReasonCode::ContinueAuthentication => {
                self.v5.auth = AuthPhase::Exchange { owed: true };
                if connecting {
                    // Progress: the CONNACK timer starts again.
                    self.conn.link = Link::AwaitConnack { since_ms: now_ms };
                }
            }
            // Success ends a re-authentication; at connect the CONNACK
            // does.
            ReasonCode::Success if !connecting => self.v5.auth = AuthPhase::Idle,
            _ => return Err(unexpected),
        }
        Ok(Some(Event::Auth {
            reason: auth.reason,
            props: auth.props,
        }))
    }

    /// The CONNACK ended the exchange at connect.
    pub(super) fn auth_connected(&mut self) {
        if self.v5.auth != AuthPhase::Off {
            self.v5.auth = AuthPhase::Idle;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::take;
    use crate::session::ConnectOptions;
    use crate::wire::{Connect, Version};

    const T0: u64 = 1_000;
    const METHOD: Property<'static> = Property::AuthenticationMethod("CHAL");
    /// The broker's challenge: Continue Authentication, method "CHAL",
    /// data "n1".
    #[rustfmt::skip]
    const CHALLENGE: &[u8] = &[
        0xf0, 0x0e,                             // AUTH, remaining 14
        0x18,                                   // continue authentication
        0x0c,                                   // properties: 12 bytes
        0x15, 0x00, 0x04, b'C', b'H', b'A', b'L', // authentication method
        0x16, 0x00, 0x02, b'n', b'1',           // authentication data "n1"
    ];
    /// Our answer: the challenge's data reversed.
    #[rustfmt::skip]
    const ANSWER: &[u8] = &[
        0xf0, 0x0e, 0x18, 0x0c,
        0x15, 0x00, 0x04, b'C', b'H', b'A', b'L',
        0x16, 0x00, 0x02, b'1', b'n',
    ];
    #[rustfmt::skip]
    const REAUTH: &[u8] = &[
        0xf0, 0x0e, 0x19, 0x0c,                 // AUTH re-authenticate
        0x15, 0x00, 0x04, b'C', b'H', b'A', b'L',
        0x16, 0x00, 0x02, b'h', b'i',
    ];
    const SUCCESS: &[u8] = &[
        0xf0, 0x09, 0x00, 0x07, 0x15, 0x00, 0x04, b'C', b'H', b'A', b'L',
    ];
    const CONNACK: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];

    fn feed<'p>(
        s: &mut Session,
        now: u64,
        bytes: &'p [u8],
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        let (packet, used) = v5::Packet::parse_for(bytes, Version::V5).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        s.handle_v5(now, packet, tx)
    }

    /// A v5 session whose CONNECT (queued and taken) carries `props`.
    fn connecting(props: &[Property<'_>], tx: &mut TxBuf<'_>) -> Session {
        let mut s = Session::new();
        s.set_version(Version::V5);
        let connect = Connect {
            client_id: "c",
            keepalive: 0,
            clean_session: true,
            will: None,
            username: None,
            password: None,
        };
        let opts = ConnectOptions {
            props,
            ..ConnectOptions::DEFAULT
        };
        s.connect_with(T0, &connect, &opts, tx).unwrap();
        take(tx);
        s
    }

    /// The application's step: the challenge's data reversed.
    fn answer(ev: Option<Event<'_>>) -> std::vec::Vec<u8> {
        let Some(Event::Auth { reason, props }) = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(reason, ReasonCode::ContinueAuthentication);
        assert_eq!(props.get(PropertyId::AuthenticationMethod), Some(METHOD));
        let Some(Property::AuthenticationData(d)) = props.get(PropertyId::AuthenticationData)
        else {
            panic!("no data")
        };
        d.iter().rev().copied().collect()
    }

    /// A challenge at connect answered, the CONNACK; then a
    /// re-authentication with one challenge and the broker's Success.
    #[test]
    fn challenge_at_connect_and_reauthentication() {
        let mut mem = [0u8; 128];
        let mut tx = TxBuf::new(&mut mem, 0);
        let mut s = connecting(&[METHOD, Property::AuthenticationData(b"hello")], &mut tx);
        // Nothing to answer yet, and no re-authentication before CONNACK.
        let reauth = [METHOD, Property::AuthenticationData(b"hi")];
        let cont = ReasonCode::ContinueAuthentication;
        assert_eq!(
            s.auth(T0, cont, &[METHOD], &mut tx),
            Err(Error::AuthNotExpected)
        );
        assert_eq!(
            s.auth(T0, ReasonCode::ReAuthenticate, &reauth, &mut tx),
            Err(Error::AuthNotExpected)
        );
        let data = answer(feed(&mut s, T0, CHALLENGE, &mut tx).unwrap());
        let props = [METHOD, Property::AuthenticationData(&data)];
        s.auth(T0, cont, &props, &mut tx).unwrap();
        assert_eq!(take(&mut tx), ANSWER);
        // Answered once: a second answer is not expected.
        assert_eq!(
            s.auth(T0, cont, &props, &mut tx),
            Err(Error::AuthNotExpected)
        );
        assert!(matches!(
            feed(&mut s, T0, CONNACK, &mut tx),
            Ok(Some(Event::Connected5 { .. }))
        ));

        s.auth(T0, ReasonCode::ReAuthenticate, &reauth, &mut tx)
            .unwrap();
        assert_eq!(take(&mut tx), REAUTH);
        assert_eq!(
            s.auth(T0, ReasonCode::ReAuthenticate, &reauth, &mut tx),
            Err(Error::AuthNotExpected),
            "one re-authentication at a time"
        );
        let data = answer(feed(&mut s, T0, CHALLENGE, &mut tx).unwrap());
        let props = [METHOD, Property::AuthenticationData(&data)];
        s.auth(T0, cont, &props, &mut tx).unwrap();
        assert_eq!(take(&mut tx), ANSWER);
        let ev = feed(&mut s, T0, SUCCESS, &mut tx).unwrap();
        assert!(
            matches!(
                ev,
                Some(Event::Auth {
                    reason: ReasonCode::Success,
                    ..
                })
            ),
            "{ev:?}"
        );
        // And again later.
        s.auth(T0, ReasonCode::ReAuthenticate, &reauth, &mut tx)
            .unwrap();
        take(&mut tx);
    }

    /// What the broker may not send, and what the application may not.
    #[test]
    fn auth_out_of_turn() {
        let unexpected = Err(Error::Protocol(ProtocolError::UnexpectedPacket(
            PacketType::Auth,
        )));
        let mut mem = [0u8; 128];
        let mut tx = TxBuf::new(&mut mem, 0);
        // No method in CONNECT: no AUTH from the broker, none from us.
        let mut s = connecting(&[], &mut tx);
        assert_eq!(feed(&mut s, T0, CHALLENGE, &mut tx).map(|_| ()), unexpected);
        let mut s = connecting(&[], &mut tx);
        feed(&mut s, T0, CONNACK, &mut tx).unwrap();
        let reauth = ReasonCode::ReAuthenticate;
        assert_eq!(
            s.auth(T0, reauth, &[METHOD], &mut tx),
            Err(Error::AuthNotExpected)
        );
        // With a method: Success before the CONNACK, or outside an
        // exchange, is a protocol error; so is a Re-authenticate.
        let mut s = connecting(&[METHOD], &mut tx);
        assert_eq!(feed(&mut s, T0, SUCCESS, &mut tx).map(|_| ()), unexpected);
        let mut s = connecting(&[METHOD], &mut tx);
        feed(&mut s, T0, CONNACK, &mut tx).unwrap();
        assert_eq!(feed(&mut s, T0, SUCCESS, &mut tx).map(|_| ()), unexpected);
        let mut s = connecting(&[METHOD], &mut tx);
        assert_eq!(feed(&mut s, T0, REAUTH, &mut tx).map(|_| ()), unexpected);
        // Our AUTH needs the method.
        let mut s = connecting(&[METHOD], &mut tx);
        feed(&mut s, T0, CONNACK, &mut tx).unwrap();
        let data_only = [Property::AuthenticationData(b"x")];
        assert_eq!(
            s.auth(T0, reauth, &data_only, &mut tx),
            Err(Error::AuthNotExpected)
        );
        assert!(tx.is_empty());
        // Nor any other reason code.
        assert_eq!(
            s.auth(T0, ReasonCode::Success, &[METHOD], &mut tx),
            Err(Error::AuthNotExpected)
        );
    }

    /// Each challenge at connect starts the CONNACK timer again: a slow
    /// exchange that progresses is not a dead broker.
    #[test]
    fn a_challenge_restarts_the_connack_timer() {
        let mut mem = [0u8; 128];
        let mut tx = TxBuf::new(&mut mem, 0);
        let mut s = connecting(&[METHOD], &mut tx);
        let t1 = T0 + super::super::DEFAULT_CONNECT_TIMEOUT_MS - 1;
        feed(&mut s, t1, CHALLENGE, &mut tx).unwrap();
        assert_eq!(
            s.poll(T0 + super::super::DEFAULT_CONNECT_TIMEOUT_MS + 10, &mut tx),
            Ok(())
        );
        assert_eq!(
            s.poll(t1 + super::super::DEFAULT_CONNECT_TIMEOUT_MS, &mut tx),
            Err(Error::KeepaliveTimeout)
        );
    }
}
