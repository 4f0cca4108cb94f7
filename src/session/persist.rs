//! Session persistence: the durable state as bytes, and back.
//!
//! A battery node that sleeps between publishes (or loses power) starts a
//! new process with an empty session; without its durable state a
//! `clean_session = false` reconnect cannot resend what was in flight, and
//! forgotten held QoS 2 ids turn the broker's resends into duplicates.
//! [`Session::save`] writes that state — the packet-id counter, every
//! outgoing QoS 1/2 message that can be resent (its stored PUBLISH, or just
//! its id once its PUBREC came) in resend order, and the held incoming QoS 2
//! ids — into a caller's buffer; [`Session::restore`] puts it into a fresh
//! session (not connected), whose next `connect(clean_session = false)`
//! resends those messages with DUP and their original ids.
//!
//! The format (version 1), big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `UMQS` |
//! | 1 | version, 1 |
//! | 1 | flags: bit 0 set when the stored PUBLISH packets are MQTT 5's (a session of that version restores them), the others 0 |
//! | 2 | next packet id |
//! | 1 | outgoing messages, `n` (at most [`MAX_INFLIGHT`](super::MAX_INFLIGHT)) |
//! | n × (7 + len) | packet id (2), flow (1: awaiting PUBACK, 2: PUBREC, 3: PUBCOMP), len (4), the stored PUBLISH (len bytes; 0 for flow 3) |
//! | 2 | runs of held ids, `r` |
//! | r × 4 | first id (2), count (2): ids first..first+count-1 |
//! | 2 + e | the application's own bytes (`extra`: the robust layer keeps its subscriptions there), length `e` first |
//! | 4 | CRC-32 (IEEE) of everything before |
//!
//! So a session with nothing in flight takes 17 bytes, and each message its
//! PUBLISH plus 7.  Held ids are runs because brokers hand out ids in
//! sequence.  Restoring checks everything (magic, version, checksum, every
//! id, flow and stored packet) before it changes anything.  Messages that
//! are with the application but not yet acknowledged are not saved: the
//! broker delivers them again.

use core::fmt;

#[cfg(not(feature = "mqtt5"))]
use crate::wire::Packet;
use crate::wire::{Publish, QoS, Version};

use super::state::Inflight;
use super::{Error, OutgoingFlow, Session, TxBuf, INLINE_HELD, MAX_INFLIGHT};

const MAGIC: &[u8; 4] = b"UMQS";
const VERSION: u8 = 1;

/// Why saved session bytes cannot be restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreError {
    /// Not session bytes (wrong magic), or a version this code does not
    /// read.
    Foreign,
    /// The bytes end before the format does, or go on after it.
    Truncated,
    /// The checksum does not match: the bytes were damaged.
    Checksum,
    /// Well-formed bytes with impossible content (an id 0 or twice, an
    /// unknown flow, a stored packet that is not this message's PUBLISH).
    Invalid,
    /// The session is connected (or connecting): restore before connect.
    Connected,
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Foreign => "not umqtt_rs session bytes (or another version)",
            Self::Truncated => "session bytes are truncated",
            Self::Checksum => "session bytes are damaged (checksum)",
            Self::Invalid => "session bytes hold an impossible state",
            Self::Connected => "restore a session before connecting",
        })
    }
}

/// CRC-32 (IEEE 802.3, reflected) as saved session bytes end with; bit by
/// bit: no table in flash.
#[must_use]
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// Appends to a caller's buffer; counts what does not fit.
struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self
            .buf
            .get_mut(self.len..)
            .and_then(|rest| rest.get_mut(..bytes.len()))
        {
            dst.copy_from_slice(bytes);
        }
        self.len = self.len.saturating_add(bytes.len());
    }
}

/// Reads the saved bytes; every read is checked.
struct In<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RestoreError> {
        let end = self.at.checked_add(n).ok_or(RestoreError::Truncated)?;
        let b = self
            .bytes
            .get(self.at..end)
            .ok_or(RestoreError::Truncated)?;
        self.at = end;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, RestoreError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }

    fn u16(&mut self) -> Result<u16, RestoreError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }

    fn u32(&mut self) -> Result<u32, RestoreError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_be_bytes(a))
    }
}

fn flow_code(flow: OutgoingFlow) -> u8 {
    match flow {
        OutgoingFlow::AwaitPuback => 1,
        OutgoingFlow::AwaitPubrec => 2,
        OutgoingFlow::AwaitPubcomp => 3,
    }
}

fn flow_of(code: u8) -> Option<OutgoingFlow> {
    match code {
        1 => Some(OutgoingFlow::AwaitPuback),
        2 => Some(OutgoingFlow::AwaitPubrec),
        3 => Some(OutgoingFlow::AwaitPubcomp),
        _ => None,
    }
}

/// Whether an entry can be resent after a restore (saved at all): not a
/// streamed payload, which only its process can read again.
fn resendable(m: &Inflight) -> bool {
    m.flow == OutgoingFlow::AwaitPubcomp || (m.len > 0 && m.streamed == 0)
}

impl Session {
    /// Writes the durable state and the application's `extra` bytes into
    /// `out` (the format is in `session/persist.rs`) and returns its
    /// length.  `tx` lends the store and the held-id bitmap, as for every
    /// call.
    ///
    /// # Errors
    /// [`Error::TxFull`] with the bytes needed when `out` is too small
    /// (nothing useful is written then); [`Error::Encode`] when `extra` is
    /// over 65,535 bytes.
    pub fn save(&self, tx: &mut TxBuf<'_>, extra: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        let extra_len = u16::try_from(extra.len())
            .map_err(|_| Error::Encode(crate::wire::EncodeError::TooLong))?;
        let mut o = Out { buf: out, len: 0 };
        o.put(MAGIC);
        o.put(&[VERSION, self.saved_flags()]);
        o.put(&self.durable.next_pid().to_be_bytes());
        let saved = self.durable.outgoing().iter().filter(|m| resendable(m));
        // At most MAX_INFLIGHT (32): fits a byte.
        o.put(&[u8::try_from(saved.clone().count()).unwrap_or(u8::MAX)]);
        for m in saved {
            o.put(&m.pid.to_be_bytes());
            o.put(&[flow_code(m.flow)]);
            o.put(&m.len.to_be_bytes());
            o.put(tx.store().get(m.off as usize, m.len as usize));
        }
        let mut runs: u16 = 0;
        let at_count = o.len;
        o.put(&[0, 0]);
        self.durable
            .incoming()
            .for_each_run(tx.held_bits(), |first, count| {
                o.put(&first.to_be_bytes());
                o.put(&count.to_be_bytes());
                runs = runs.saturating_add(1);
            });
        if let Some(dst) = o.buf.get_mut(at_count..at_count + 2) {
            dst.copy_from_slice(&runs.to_be_bytes());
        }
        o.put(&extra_len.to_be_bytes());
        o.put(extra);
        let needed = o.len.saturating_add(4);
        if needed > o.buf.len() {
            return Err(Error::TxFull { needed });
        }
        let crc = crc32(o.buf.get(..o.len).unwrap_or_default());
        o.put(&crc.to_be_bytes());
        Ok(o.len)
    }

    /// Replaces the durable state with saved bytes (a fresh session: never
    /// connected, or after [`connection_lost`](Self::connection_lost)).  The
    /// next `connect(clean_session = false)` resends the saved messages
    /// with DUP and their ids.  Returns the application's `extra` bytes
    /// saved with it.  Nothing changes on error.
    ///
    /// # Errors
    /// [`Error::Restore`] for bytes that are not a saved session or are
    /// damaged; [`Error::StoreFull`] (the store needs that many bytes) and
    /// [`Error::HeldFull`] (more held ids than fit inline: lend the bitmap)
    /// to call again with more memory.
    pub fn restore<'b>(&mut self, bytes: &'b [u8], tx: &mut TxBuf<'_>) -> Result<&'b [u8], Error> {
        if self.conn_started() {
            return Err(Error::Restore(RestoreError::Connected));
        }
        let body_len = bytes
            .len()
            .checked_sub(4)
            .ok_or(Error::Restore(RestoreError::Truncated))?;
        let (body, crc) = bytes.split_at(body_len);
        let mut r = In { bytes: body, at: 0 };
        let bad = Error::Restore;
        if r.take(4).map_err(bad)? != MAGIC || r.u8().map_err(bad)? != VERSION {
            return Err(bad(RestoreError::Foreign));
        }
        if crc32(body).to_be_bytes() != crc {
            return Err(bad(RestoreError::Checksum));
        }
        // Checked in full first; applied only when all is well.
        let flags = r.u8().map_err(bad)?;
        let version = self
            .version_of_flags(flags)
            .ok_or(bad(RestoreError::Foreign))?;
        let next_pid = r.u16().map_err(bad)?;
        let n = usize::from(r.u8().map_err(bad)?);
        if next_pid == 0 || n > MAX_INFLIGHT {
            return Err(bad(RestoreError::Invalid));
        }
        let entries = r.at;
        let mut stored = 0usize;
        let mut pids = [0u16; MAX_INFLIGHT];
        for k in 0..n {
            let (pid, flow, packet) = read_entry(&mut r).map_err(bad)?;
            if pids.get(..k).is_some_and(|seen| seen.contains(&pid)) {
                return Err(bad(RestoreError::Invalid));
            }
            if let Some(slot) = pids.get_mut(k) {
                *slot = pid;
            }
            check_entry(pid, flow, packet, version).map_err(bad)?;
            stored = stored.saturating_add(packet.len());
        }
        let runs_at = r.at;
        let runs = r.u16().map_err(bad)?;
        let mut held = 0usize;
        for _ in 0..runs {
            let (first, count) = (r.u16().map_err(bad)?, r.u16().map_err(bad)?);
            if first == 0 || count == 0 || usize::from(first) + usize::from(count) > 65_536 {
                return Err(bad(RestoreError::Invalid));
            }
            held = held.saturating_add(usize::from(count));
        }
        let extra_len = usize::from(r.u16().map_err(bad)?);
        let extra = r.take(extra_len).map_err(bad)?;
        if r.at != body.len() {
            return Err(bad(RestoreError::Truncated));
        }
        if stored > tx.store().capacity() {
            return Err(Error::StoreFull { needed: stored });
        }
        if held > INLINE_HELD && tx.held_bits().len() < super::HELD_BITMAP_BYTES {
            return Err(Error::HeldFull);
        }

        // Apply.
        let (store, bits) = tx.store_and_held();
        self.durable.clear(store, bits);
        self.deliveries.clear();
        self.durable.set_next_pid(next_pid);
        #[cfg(feature = "mqtt5")]
        self.v5.set_stored_version(version);
        let mut r = In {
            bytes: body,
            at: entries,
        };
        for _ in 0..n {
            let (pid, flow, packet) = read_entry(&mut r).map_err(bad)?;
            let off = match tx.store_mut().reserve(packet.len()) {
                Some(dst) => {
                    dst.copy_from_slice(packet);
                    tx.store_mut().commit(packet.len())
                }
                None => 0,
            };
            self.durable.add_outgoing(pid, flow, off, packet.len());
        }
        let mut r = In {
            bytes: body,
            at: runs_at,
        };
        let runs = r.u16().map_err(bad)?;
        for _ in 0..runs {
            let (first, count) = (r.u16().map_err(bad)?, r.u16().map_err(bad)?);
            for id in first..=first.saturating_add(count - 1) {
                self.durable.hold_incoming(id, tx.held_bits());
            }
        }
        Ok(extra)
    }
}

/// One saved message: id, flow, stored PUBLISH bytes.
fn read_entry<'a>(r: &mut In<'a>) -> Result<(u16, OutgoingFlow, &'a [u8]), RestoreError> {
    let pid = r.u16()?;
    let flow = flow_of(r.u8()?).ok_or(RestoreError::Invalid)?;
    let len = usize::try_from(r.u32()?).map_err(|_| RestoreError::Truncated)?;
    Ok((pid, flow, r.take(len)?))
}

impl Session {
    /// The flags byte: which version the stored packets are in.
    fn saved_flags(&self) -> u8 {
        #[cfg(feature = "mqtt5")]
        if self.v5.stored_version().is_v5() {
            return FLAG_V5;
        }
        0
    }

    /// The version of saved packets with `flags`, if this session reads
    /// them: only its own version's, and no unknown flag.
    fn version_of_flags(&self, flags: u8) -> Option<Version> {
        let version = match flags {
            0 => Version::V311,
            #[cfg(feature = "mqtt5")]
            FLAG_V5 => Version::V5,
            _ => return None,
        };
        #[cfg(feature = "mqtt5")]
        if version != self.version() {
            return None;
        }
        Some(version)
    }
}

/// Flags bit 0: the stored packets are MQTT 5's.
#[cfg(feature = "mqtt5")]
const FLAG_V5: u8 = 0x01;

/// A saved message must be what the session would have stored for it (a
/// PUBLISH in `version`).
fn check_entry(
    pid: u16,
    flow: OutgoingFlow,
    packet: &[u8],
    version: Version,
) -> Result<(), RestoreError> {
    if pid == 0 {
        return Err(RestoreError::Invalid);
    }
    let want = match flow {
        OutgoingFlow::AwaitPubcomp => {
            return if packet.is_empty() {
                Ok(())
            } else {
                Err(RestoreError::Invalid)
            }
        }
        OutgoingFlow::AwaitPuback => QoS::AtLeastOnce,
        OutgoingFlow::AwaitPubrec => QoS::ExactlyOnce,
    };
    match parse_publish(packet, version) {
        Some((p, used)) if used == packet.len() && p.pid == pid && p.qos == want && !p.dup => {
            Ok(())
        }
        _ => Err(RestoreError::Invalid),
    }
}

/// A whole PUBLISH in `version` and the bytes it took: in an MQTT 5 build
/// the PUBLISH header reader of either version (not a whole packet
/// parser), otherwise the reader of what a broker sends.
fn parse_publish(packet: &[u8], version: Version) -> Option<(Publish<'_>, usize)> {
    #[cfg(feature = "mqtt5")]
    {
        use crate::wire::{parse_fixed_header_for, v5, PacketType};
        let header = parse_fixed_header_for(packet, version).ok()??;
        let body = packet.get(header.header_len..header.packet_len())?;
        if header.packet_type != PacketType::Publish || body.len() != header.remaining_len {
            return None;
        }
        let (p, _) = v5::Publish::parse_head_in(&header, body, version).ok()??;
        Some((p.publish, header.packet_len()))
    }
    #[cfg(not(feature = "mqtt5"))]
    {
        // A PUBLISH is among what a broker sends, and the firmware
        // carries no other reader.
        let _ = version;
        let header = crate::wire::parse_fixed_header(packet).ok()??;
        let body = packet.get(header.header_len..header.packet_len())?;
        match Packet::parse_from_server(&header, body) {
            Ok(Packet::Publish(p)) => Some((p, header.packet_len())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Event, Store, HELD_BITMAP_BYTES};
    use crate::wire::{Connect, Packet};
    use std::vec;
    use std::vec::Vec;

    const T0: u64 = 1_000;

    fn connect(clean: bool) -> Connect<'static> {
        Connect {
            client_id: "c",
            keepalive: 0,
            clean_session: clean,
            will: None,
            username: None,
            password: None,
        }
    }

    fn feed<'p>(s: &mut Session, bytes: &'p [u8], tx: &mut TxBuf<'_>) -> Option<Event<'p>> {
        let (packet, _) = Packet::parse(bytes).unwrap().unwrap();
        s.handle(T0, packet, tx).unwrap()
    }

    fn drain(tx: &mut TxBuf<'_>) -> Vec<u8> {
        let out = tx.pending().to_vec();
        tx.consume(out.len());
        out
    }

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// Save mid-flight, restore in a new session ("after deep sleep"),
    /// reconnect: the messages are resent with DUP and their ids, PUBREL
    /// for the one past PUBREC, and a held QoS 2 id is still held.
    #[test]
    fn save_restore_resend() {
        let (mut mem, mut store) = ([0u8; 256], [0u8; 256]);
        let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
        let mut s = Session::new();
        s.connect(T0, &connect(true), &mut tx).unwrap();
        feed(&mut s, &[0x20, 0x02, 0x00, 0x00], &mut tx); // CONNACK
        let p1 = s
            .publish(T0, "t", b"one", QoS::AtLeastOnce, false, &mut tx)
            .unwrap();
        let p2 = s
            .publish(T0, "t", b"two", QoS::ExactlyOnce, false, &mut tx)
            .unwrap();
        let p3 = s
            .publish(T0, "t", b"three", QoS::ExactlyOnce, false, &mut tx)
            .unwrap();
        feed(&mut s, &[0x50, 0x02, 0x00, p3 as u8], &mut tx); // PUBREC p3
                                                              // An incoming QoS 2 message 9, acked: held.
        feed(
            &mut s,
            &[0x34, 0x06, 0x00, 0x01, b'a', 0x00, 0x09, b'x'],
            &mut tx,
        );
        s.ack(T0, 9, &mut tx).unwrap();
        drain(&mut tx);

        let mut saved = [0u8; 128];
        assert_eq!(
            s.save(&mut tx, b"", &mut saved[..10]),
            Err(Error::TxFull { needed: 62 })
        );
        let n = s.save(&mut tx, b"", &mut saved).unwrap();
        assert_eq!(n, 62); // 9 + 17 + 17 + 7 + 2 + 4 + 2 + 4
        let saved = &saved[..n];

        // A new process: empty session and buffers.
        let (mut mem2, mut store2) = ([0u8; 256], [0u8; 256]);
        let mut tx2 = TxBuf::with_store(&mut mem2, 0, Store::new(&mut store2, 0));
        let mut r = Session::new();
        assert_eq!(r.restore(saved, &mut tx2), Ok(&b""[..]));
        assert_eq!(r.inflight_len(), 3);
        assert_eq!(r.held_len(), 1);
        r.connect(T0, &connect(false), &mut tx2).unwrap();
        drain(&mut tx2);
        feed(&mut r, &[0x20, 0x02, 0x01, 0x00], &mut tx2); // CONNACK, session present
        #[rustfmt::skip]
        assert_eq!(drain(&mut tx2), [
            0x3a, 0x08, 0x00, 0x01, b't', 0x00, p1 as u8, b'o', b'n', b'e',   // PUBLISH QoS 1 DUP
            0x3c, 0x08, 0x00, 0x01, b't', 0x00, p2 as u8, b't', b'w', b'o',   // PUBLISH QoS 2 DUP
            0x62, 0x02, 0x00, p3 as u8,                                       // PUBREL
        ]);
        assert!(
            feed(
                &mut r,
                &[0x3c, 0x06, 0x00, 0x01, b'a', 0x00, 0x09, b'x'],
                &mut tx2
            )
            .is_none(),
            "held id 9: the resend is not delivered again"
        );
        assert_eq!(
            r.publish(T0, "t", b"", QoS::AtLeastOnce, false, &mut tx2),
            Ok(4),
            "ids go on"
        );
    }

    #[test]
    fn refuses_what_is_not_a_session() {
        let (mut mem, mut store) = ([0u8; 64], [0u8; 64]);
        let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
        let mut s = Session::new();
        let mut good = [0u8; 64];
        let n = s.save(&mut tx, b"subs", &mut good).unwrap();
        assert_eq!(n, 17 + 4, "an empty session and 4 bytes of extra");
        let good = &good[..n];
        fn r<'b>(s: &mut Session, b: &'b [u8], tx: &mut TxBuf<'_>) -> Result<&'b [u8], Error> {
            s.restore(b, tx)
        }
        assert_eq!(
            r(&mut s, b"", &mut tx),
            Err(Error::Restore(RestoreError::Truncated))
        );
        assert_eq!(
            r(&mut s, &[0u8; 15], &mut tx),
            Err(Error::Restore(RestoreError::Foreign))
        );
        let mut damaged = good.to_vec();
        damaged[7] ^= 1;
        assert_eq!(
            r(&mut s, &damaged, &mut tx),
            Err(Error::Restore(RestoreError::Checksum))
        );
        assert_eq!(r(&mut s, good, &mut tx), Ok(&b"subs"[..]));
        s.connect(T0, &connect(false), &mut tx).unwrap();
        assert_eq!(
            r(&mut s, good, &mut tx),
            Err(Error::Restore(RestoreError::Connected))
        );
    }

    /// More held ids than fit inline ask for the bitmap; all come back.
    #[test]
    fn many_held_ids_round_trip() {
        let mut bits = vec![0u8; HELD_BITMAP_BYTES];
        let mut mem = [0u8; 32];
        let mut tx = TxBuf::new(&mut mem, 0).with_held_bitmap(&mut bits);
        let mut s = Session::new();
        for id in (1..=300u16).chain(1000..=1002) {
            s.durable.hold_incoming(id, tx.held_bits());
        }
        let mut saved = [0u8; 64];
        let n = s.save(&mut tx, b"", &mut saved).unwrap();
        assert_eq!(n, 17 + 2 * 4, "two runs");
        let mut mem2 = [0u8; 32];
        let mut tx2 = TxBuf::new(&mut mem2, 0);
        let mut r = Session::new();
        assert_eq!(r.restore(&saved[..n], &mut tx2), Err(Error::HeldFull));
        let mut bits2 = vec![0u8; HELD_BITMAP_BYTES];
        let mut tx2 = TxBuf::new(&mut mem2, 0).with_held_bitmap(&mut bits2);
        r.restore(&saved[..n], &mut tx2).unwrap();
        assert_eq!(r.held_len(), 303);
    }

    /// Arbitrary bytes never panic and never half-restore.
    #[test]
    fn arbitrary_bytes_are_refused_cleanly() {
        let (mut mem, mut store) = ([0u8; 64], [0u8; 64]);
        let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
        let mut seed = 7u32;
        for len in 0..200usize {
            let mut b: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect();
            if len >= 8 {
                b[..4].copy_from_slice(MAGIC);
                b[4] = VERSION;
                let crc = crc32(&b[..len - 4]);
                b[len - 4..].copy_from_slice(&crc.to_be_bytes());
            }
            let mut s = Session::new();
            if s.restore(&b, &mut tx).is_err() {
                assert_eq!(s.inflight_len(), 0);
            }
        }
    }
}
