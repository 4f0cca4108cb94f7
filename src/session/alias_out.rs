//! Outgoing topic aliases (MQTT 5, section 3.3.2.3.4): [`OutgoingAliases`],
//! the map in memory the caller lends, and [`Session::publish_aliased`].
//!
//! When the broker's CONNACK allows aliases (Topic Alias Maximum above 0),
//! a topic is sent once with an alias and from then on as the alias alone,
//! an empty topic and two bytes of property.  The map keeps its entries in
//! the order of use: a new topic takes a free alias while there is one and
//! room in the memory, else the least recently used entries make way (their
//! aliases are set again, with a topic, when next used).  Only a packet
//! that was queued changes the map, so the broker learns every alias before
//! it is used alone.  The map belongs to one connection: the session
//! clears it at the first publish after a connect.  A message kept for a
//! resend is stored with its topic and without the alias, since a resend
//! goes out on a later connection.

use heapless::Vec;

use super::alias::{Table, HEAD};
use super::{Body, Error, Session, TxBuf, MAX_CONNECT_PROPERTIES};
use crate::wire::{Properties, Property, QoS};

/// The outgoing topic alias map over caller memory (see the module doc).
/// Lend the same bytes to every [`Session::publish_aliased`] of a
/// connection; each entry takes 4 bytes and its topic.
#[derive(Debug)]
pub struct OutgoingAliases<'a> {
    table: Table<'a>,
}

/// How a topic goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The broker knows `alias` for it: the alias alone (the entry at
    /// `at`, `len` bytes, is used again).
    Known { alias: u16, at: usize, len: usize },
    /// Topic and `alias`, after the first `drop` bytes of entries (the
    /// least recently used) make way.
    Assign { alias: u16, drop: usize },
}

impl<'a> OutgoingAliases<'a> {
    /// The map in `buf` (the session clears it at the first use on a new
    /// connection).
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            table: Table::new(buf),
        }
    }

    /// Forgets every alias.
    pub fn clear(&mut self) {
        self.table.clear();
    }

    /// The alias `topic` has now, if any.
    pub fn alias_of(&self, topic: &str) -> Option<u16> {
        self.table
            .entries()
            .find(|&(_, _, t)| t == topic.as_bytes())
            .map(|(_, a, _)| a)
    }

    /// How `topic` would go out with aliases 1..=`max`; `None`: without an
    /// alias (none allowed, or the topic does not fit the memory).
    fn plan(&self, topic: &str, max: u16) -> Option<Plan> {
        if max == 0 {
            return None;
        }
        if let Some((at, alias, t)) = self
            .table
            .entries()
            .find(|&(_, _, t)| t == topic.as_bytes())
        {
            let len = HEAD + t.len();
            return Some(Plan::Known { alias, at, len });
        }
        let need = HEAD + topic.len();
        let count = self.table.entries().count();
        let mut free = self.table.free();
        if count < usize::from(max) && need <= free {
            // A free alias: 1..=count+1 holds one (count of them are used).
            let alias = (1..=max).find(|&a| self.table.entries().all(|(_, b, _)| b != a))?;
            return Some(Plan::Assign { alias, drop: 0 });
        }
        // The least recently used make way: the first one's alias is taken.
        let mut drop = 0;
        let mut alias = None;
        let mut left = count;
        for (_, a, t) in self.table.entries() {
            alias.get_or_insert(a);
            drop += HEAD + t.len();
            free += HEAD + t.len();
            left -= 1;
            if left < usize::from(max) && need <= free {
                return Some(Plan::Assign {
                    alias: alias?,
                    drop,
                });
            }
        }
        None
    }

    /// Records that the packet `plan` was made for was queued.
    fn commit(&mut self, topic: &str, plan: Plan) {
        match plan {
            Plan::Known { at, len, .. } => self.table.move_to_end(at, len),
            Plan::Assign { alias, drop } => {
                let first = self.table.entries().next().map_or(0, |(at, _, _)| at);
                self.table.remove(first, drop);
                // Planned to fit.
                let _ = self.table.push(alias, topic);
            }
        }
    }
}

impl Session {
    /// The outgoing alias map lent from now on (another one, or the same
    /// with other contents) is cleared at its next use: nothing in it is
    /// taken as known to the broker.
    pub fn forget_out_aliases(&mut self) {
        self.v5.out_aliases_stale = true;
    }

    /// [`publish_with`](Self::publish_with) with an outgoing topic alias
    /// when the broker allows them (its CONNACK's Topic Alias Maximum):
    /// `topic` goes out with an alias the first time, then as the alias
    /// alone (see the module doc).  Without aliases allowed, with more
    /// than [`MAX_CONNECT_PROPERTIES`] properties, or a topic too long for
    /// `aliases`, it is [`publish_with`](Self::publish_with).
    ///
    /// # Errors
    /// As [`publish_with`](Self::publish_with); the map is unchanged then.
    #[allow(clippy::too_many_arguments)]
    pub fn publish_aliased(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        props: &[Property<'_>],
        aliases: &mut OutgoingAliases<'_>,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        if self.v5.out_aliases_stale {
            aliases.clear();
            self.v5.out_aliases_stale = false;
        }
        let max = if self.version().is_v5() {
            self.server_topic_alias_maximum()
        } else {
            0
        };
        let plan = aliases.plan(topic, max);
        let mut list: Vec<Property<'_>, { MAX_CONNECT_PROPERTIES + 1 }> = Vec::new();
        let (Some(plan), Ok(())) = (plan, list.extend_from_slice(props)) else {
            return self.publish_with(now_ms, topic, payload, qos, retain, props, tx);
        };
        super::v5::publish_props(props)?;
        let (alias, wire_topic) = match plan {
            Plan::Known { alias, .. } => (alias, ""),
            Plan::Assign { alias, .. } => (alias, topic),
        };
        // Room was checked: MAX_CONNECT_PROPERTIES + 1.
        let _ = list.push(Property::TopicAlias(alias));
        let wire = Some((wire_topic, Properties::from_list(&list)));
        let body = Body::Whole(payload);
        let props = Properties::from_list(props);
        let pid = self.start_publish(now_ms, topic, body, qos, retain, props, wire, tx)?;
        aliases.commit(topic, plan);
        Ok(pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::take;
    use crate::session::{Event, Store};
    use crate::wire::{v5, Connect, Version};

    const T0: u64 = 1_000;
    /// CONNACK accepted, Topic Alias Maximum 2 (session present when
    /// `resumed`).
    const fn connack_aliases_2(resumed: bool) -> [u8; 8] {
        [0x20, 0x06, resumed as u8, 0x00, 0x03, 0x22, 0x00, 0x02]
    }

    /// Connects `s` in v5 (resuming when `resume`) to a broker allowing 2
    /// aliases; what was queued after the CONNACK (resends).
    fn connect(s: &mut Session, resume: bool, tx: &mut TxBuf<'_>) -> std::vec::Vec<u8> {
        let connect = Connect {
            client_id: "c",
            keepalive: 10,
            clean_session: !resume,
            will: None,
            username: None,
            password: None,
        };
        s.connect(T0, &connect, tx).unwrap();
        take(tx);
        let connack = connack_aliases_2(resume);
        let (packet, _) = v5::Packet::parse_for(&connack, Version::V5)
            .unwrap()
            .unwrap();
        let ev = s.handle_v5(T0, packet, tx).unwrap();
        assert!(matches!(ev, Some(Event::Connected5 { .. })));
        take(tx)
    }

    /// A topic goes out with its alias once, then as the alias alone; the
    /// stored copy keeps the topic, so the resend on the next connection
    /// has no alias; the next connection starts a new map.
    #[test]
    fn session_sends_aliases_and_stores_topics() {
        #[rustfmt::skip]
        const FIRST: &[u8] = &[
            0x32, 0x0c,                   // PUBLISH QoS 1, remaining 12
            0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
            0x00, 0x01,                   // packet id 1
            0x03, 0x23, 0x00, 0x01,       // properties: topic alias 1
            b'x',
        ];
        #[rustfmt::skip]
        const AGAIN: &[u8] = &[
            0x30, 0x07,                   // PUBLISH QoS 0, remaining 7
            0x00, 0x00,                   // empty topic
            0x03, 0x23, 0x00, 0x01,       // topic alias 1
            b'y',
        ];
        #[rustfmt::skip]
        const RESENT: &[u8] = &[
            0x3a, 0x09,                   // PUBLISH QoS 1 DUP, remaining 9
            0x00, 0x03, b'a', b'/', b'b', // the topic, no alias
            0x00, 0x01, 0x00, b'x',
        ];
        let (mut mem, mut store, mut amem) = ([0u8; 128], [0u8; 64], [0u8; 32]);
        let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
        let mut aliases = OutgoingAliases::new(&mut amem);
        let mut s = Session::new();
        s.set_version(Version::V5);
        connect(&mut s, false, &mut tx);
        let qos1 = QoS::AtLeastOnce;
        let r = s.publish_aliased(T0, "a/b", b"x", qos1, false, &[], &mut aliases, &mut tx);
        assert_eq!((r, take(&mut tx)), (Ok(1), FIRST.to_vec()));
        let qos0 = QoS::AtMostOnce;
        let r = s.publish_aliased(T0, "a/b", b"y", qos0, false, &[], &mut aliases, &mut tx);
        assert_eq!((r, take(&mut tx)), (Ok(0), AGAIN.to_vec()));

        s.connection_lost();
        assert_eq!(connect(&mut s, true, &mut tx), RESENT);
        // A new connection: the topic is sent with its alias again.
        let r = s.publish_aliased(T0, "a/b", b"x", qos1, false, &[], &mut aliases, &mut tx);
        let mut first_again = FIRST.to_vec();
        first_again[8] = 0x02; // packet id 2
        assert_eq!((r, take(&mut tx)), (Ok(2), first_again));
    }

    /// A publish that is not queued leaves the map as it was: the broker
    /// never hears of an alias the client then uses alone.
    #[test]
    fn a_refused_publish_sets_no_alias() {
        let (mut mem, mut amem) = ([0u8; 32], [0u8; 32]);
        let mut tx = TxBuf::new(&mut mem, 0);
        let mut aliases = OutgoingAliases::new(&mut amem);
        let mut s = Session::new();
        s.set_version(Version::V5);
        connect(&mut s, false, &mut tx);
        let qos0 = QoS::AtMostOnce;
        let big = [0u8; 40];
        let r = s.publish_aliased(T0, "t", &big, qos0, false, &[], &mut aliases, &mut tx);
        assert!(matches!(r, Err(Error::TxFull { .. })), "{r:?}");
        assert_eq!(aliases.alias_of("t"), None);
        let r = s.publish_aliased(T0, "t", b"1", qos0, false, &[], &mut aliases, &mut tx);
        assert_eq!(r, Ok(0));
        assert_eq!(
            take(&mut tx),
            [0x30, 0x08, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x01, b'1']
        );
        // A Topic Alias of the caller's is refused: the session manages them.
        let own = [Property::TopicAlias(1)];
        let r = s.publish_aliased(T0, "t", b"1", qos0, false, &own, &mut aliases, &mut tx);
        assert!(matches!(r, Err(Error::Encode(_))), "{r:?}");
    }

    /// Without aliases from the broker (3.1.1, or v5 with a maximum of 0)
    /// the topic goes out whole.
    #[test]
    fn no_aliases_without_the_brokers_maximum() {
        let (mut mem, mut amem) = ([0u8; 64], [0u8; 32]);
        let mut tx = TxBuf::new(&mut mem, 0);
        let mut aliases = OutgoingAliases::new(&mut amem);
        let mut s = Session::new();
        let connect = Connect {
            client_id: "c",
            keepalive: 10,
            clean_session: true,
            will: None,
            username: None,
            password: None,
        };
        s.connect(T0, &connect, &mut tx).unwrap();
        take(&mut tx);
        s.handle(
            T0,
            crate::wire::Packet::parse(&[0x20, 0x02, 0x00, 0x00])
                .unwrap()
                .unwrap()
                .0,
            &mut tx,
        )
        .unwrap();
        let r = s.publish_aliased(
            T0,
            "t",
            b"1",
            QoS::AtMostOnce,
            false,
            &[],
            &mut aliases,
            &mut tx,
        );
        assert_eq!(
            (r, take(&mut tx)),
            (Ok(0), std::vec![0x30, 0x04, 0x00, 0x01, b't', b'1'])
        );
    }

    fn plan_commit(m: &mut OutgoingAliases<'_>, topic: &str, max: u16) -> Option<(u16, bool)> {
        let plan = m.plan(topic, max)?;
        m.commit(topic, plan);
        Some(match plan {
            Plan::Known { alias, .. } => (alias, false),
            Plan::Assign { alias, .. } => (alias, true),
        })
    }

    #[test]
    fn assigns_reuses_and_evicts_the_least_recently_used() {
        let mut mem = [0u8; 64];
        let mut m = OutgoingAliases::new(&mut mem);
        m.clear();
        assert_eq!(plan_commit(&mut m, "a", 2), Some((1, true)));
        assert_eq!(plan_commit(&mut m, "b", 2), Some((2, true)));
        assert_eq!(plan_commit(&mut m, "a", 2), Some((1, false)));
        // "b" is now the least recently used: "c" takes its alias.
        assert_eq!(plan_commit(&mut m, "c", 2), Some((2, true)));
        assert_eq!((m.alias_of("a"), m.alias_of("b")), (Some(1), None));
        assert_eq!(plan_commit(&mut m, "c", 2), Some((2, false)));
        assert_eq!(m.plan("x", 0), None, "no aliases allowed");
    }

    #[test]
    fn memory_bounds_the_map() {
        // 2 + (4 + 5) * 2 = 20: two five-byte topics.
        let mut mem = [0u8; 20];
        let mut m = OutgoingAliases::new(&mut mem);
        m.clear();
        assert_eq!(plan_commit(&mut m, "aaaaa", 10), Some((1, true)));
        assert_eq!(plan_commit(&mut m, "bbbbb", 10), Some((2, true)));
        // A ten-byte topic needs both entries' room; it takes the first alias.
        assert_eq!(plan_commit(&mut m, "cccccccccc", 10), Some((1, true)));
        assert_eq!(m.alias_of("bbbbb"), None);
        // Too long for the whole memory: no alias.
        assert_eq!(m.plan("ddddddddddddddddd", 10), None);
        assert_eq!(m.alias_of("cccccccccc"), Some(1));
    }

    #[test]
    fn a_freed_alias_is_taken_first() {
        let mut mem = [0u8; 64];
        let mut m = OutgoingAliases::new(&mut mem);
        m.clear();
        for t in ["a", "b", "c"] {
            plan_commit(&mut m, t, 3);
        }
        // "a" (1) makes way for "d"; then the map is full of 2, 3, 1.
        assert_eq!(plan_commit(&mut m, "d", 3), Some((1, true)));
        assert_eq!(plan_commit(&mut m, "b", 3), Some((2, false)));
        // LRU now "c" (3).
        assert_eq!(plan_commit(&mut m, "e", 3), Some((3, true)));
    }
}
