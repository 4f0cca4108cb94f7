//! Property tests of the session through the C ABI (driven as the glue
//! drives it, `tests/harness`): over random sequences of publishes at QoS 1
//! and 2, subscribes, broker acknowledgements in any order, wrong
//! acknowledgements and reconnects (clean or resumed, session present or
//! not), no packet id is ever in use by two in-flight messages or requests
//! (asserted by the harness on every call), the core's in-flight set agrees
//! with the model's, and acknowledging everything empties it.
#![allow(unsafe_code)]

mod harness;

use harness::Driver;
use proptest::prelude::*;
use umqtt_rs::ffi::sys::umqtt_rs_status as St;
use umqtt_rs::wire::{Packet, QoS};

#[derive(Debug, Clone)]
enum Op {
    Publish(u8),
    Subscribe,
    /// Answer the i-th unanswered client packet (PUBLISH, PUBREL, SUBSCRIBE).
    Ack(usize),
    /// An acknowledgement for an id the client may not have used.
    WrongAck(u8, u16),
    Reconnect {
        clean: bool,
        present: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1..=2u8).prop_map(Op::Publish),
        1 => Just(Op::Subscribe),
        6 => (0..8usize).prop_map(Op::Ack),
        1 => (0..3u8, 1..=40u16).prop_map(|(k, p)| Op::WrongAck(k, p)),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(clean, present)| Op::Reconnect { clean, present }),
    ]
}

/// The broker's side: client packets awaiting an answer, as the bytes of
/// that answer.
struct Broker {
    read: usize,
    todo: Vec<[u8; 4]>,
}

impl Broker {
    /// Reads what the client sent since last time.
    fn read(&mut self, d: &Driver) {
        for (bytes, end) in d.sent_packets(self.read) {
            self.read = end;
            let answer = match Packet::parse(&bytes) {
                Ok(Some((Packet::Publish(p), _))) if p.qos == QoS::AtLeastOnce => 0x40, // PUBACK
                Ok(Some((Packet::Publish(p), _))) if p.qos == QoS::ExactlyOnce => 0x50, // PUBREC
                Ok(Some((Packet::Pubrel(_), _))) => 0x70,                               // PUBCOMP
                Ok(Some((Packet::Subscribe(_), _))) => 0x90,                            // SUBACK
                _ => continue,
            };
            let pid = match Packet::parse(&bytes) {
                Ok(Some((Packet::Publish(p), _))) => p.pid,
                Ok(Some((Packet::Pubrel(pid), _))) => pid,
                Ok(Some((Packet::Subscribe(s), _))) => s.pid,
                _ => unreachable!(),
            };
            let [hi, lo] = pid.to_be_bytes();
            // One answer per id and kind, as a broker keeps one state per id
            // (a repeated PUBREC brings the PUBREL again).
            if !self.todo.contains(&[answer, 0x02, hi, lo]) {
                self.todo.push([answer, 0x02, hi, lo]);
            }
        }
    }
}

fn ack_bytes(a: [u8; 4]) -> Vec<u8> {
    if a[0] == 0x90 {
        vec![0x90, 0x03, a[2], a[3], 0x01] // SUBACK, granted QoS 1
    } else {
        a.to_vec()
    }
}

fn run(ops: &[Op], store: usize) -> Result<(), TestCaseError> {
    let mut d = Driver::new(64, 64, store);
    let mut b = Broker {
        read: 0,
        todo: Vec::new(),
    };
    let now = 1_000;
    let connect = |d: &mut Driver, b: &mut Broker, clean: bool, present: bool| {
        d.lose();
        prop_assert_eq!(d.connect(now, clean, 0), St::UMQTT_RS_OK);
        b.read = 0;
        b.todo.clear();
        let seen = d.receive(now, &[0x20, 0x02, u8::from(present && !clean), 0x00]);
        prop_assert!(seen.connected);
        b.read(d);
        Ok(())
    };
    connect(&mut d, &mut b, true, false)?;
    for op in ops {
        if !d.open {
            connect(&mut d, &mut b, false, true)?;
        }
        match *op {
            Op::Publish(q) => {
                let (st, _) = d.publish(now, b"t", b"m", q);
                prop_assert!(matches!(
                    st,
                    St::UMQTT_RS_OK | St::UMQTT_RS_ERR_INFLIGHT_FULL | St::UMQTT_RS_ERR_STORE_FULL
                ));
            }
            Op::Subscribe => {
                let (st, _) = d.request(now, b"a/#", 1, true);
                prop_assert!(matches!(
                    st,
                    St::UMQTT_RS_OK | St::UMQTT_RS_ERR_INFLIGHT_FULL
                ));
            }
            Op::Ack(i) if !b.todo.is_empty() => {
                let a = b.todo.remove(i % b.todo.len());
                let seen = d.receive(now, &ack_bytes(a));
                prop_assert_eq!(seen.closed_by, None);
            }
            Op::Ack(_) => {}
            Op::WrongAck(k, pid) => {
                let [hi, lo] = pid.to_be_bytes();
                let first = [0x40, 0x50, 0x70][usize::from(k)];
                let expected = b.todo.iter().any(|a| a[0] == first && a[2..] == [hi, lo]);
                let seen = d.receive(now, &[first, 0x02, hi, lo]);
                if expected {
                    // It was the right ack after all.
                    b.todo.retain(|a| !(a[0] == first && a[2..] == [hi, lo]));
                }
                let _ = seen;
            }
            Op::Reconnect { clean, present } => connect(&mut d, &mut b, clean, present)?,
        }
        b.read(&d);
    }
    // Liveness: answering everything (resuming once if the last step closed
    // the connection) completes every message.
    if !d.open {
        connect(&mut d, &mut b, false, true)?;
    }
    for _ in 0..200 {
        if b.todo.is_empty() {
            break;
        }
        let a = b.todo.remove(0);
        d.receive(now, &ack_bytes(a));
        prop_assert!(d.open);
        b.read(&d);
    }
    prop_assert!(d.inflight.is_empty(), "left in flight: {:?}", d.inflight);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ids_unique_with_store(ops in proptest::collection::vec(op(), 0..120)) {
        run(&ops, 4096)?;
    }

    #[test]
    fn ids_unique_without_store(ops in proptest::collection::vec(op(), 0..120)) {
        run(&ops, 0)?;
    }
}
