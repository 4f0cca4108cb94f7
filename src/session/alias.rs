//! [`TopicAliases`]: the incoming topic alias map of an MQTT 5 connection,
//! in memory the caller lends (no allocation).
//!
//! A broker may replace a PUBLISH's topic by a number, the alias, once it
//! has sent the topic with that alias (MQTT 5, section 3.3.2.3.4), up to
//! the Topic Alias Maximum the client announced in CONNECT.  The map lives
//! as long as the connection; the session clears it at the first use after
//! a connect.  Its bytes are `used` (2, big-endian) and then, per alias,
//! the alias (2), the topic's length (2) and the topic.  Exact or refuse:
//! a topic that does not fit the lent memory is
//! [`Error::AliasTableFull`](super::Error::AliasTableFull), never a
//! forgotten mapping.

/// Bytes of the header and of each entry's head.
const USED: usize = 2;
pub(super) const HEAD: usize = 4;

/// A list of (alias, topic) entries over caller memory: `used` (2,
/// big-endian), then per entry the alias (2), the topic's length (2) and
/// the topic.  The map of each direction is one of these.
#[derive(Debug)]
pub(super) struct Table<'a> {
    buf: &'a mut [u8],
}

impl<'a> Table<'a> {
    pub(super) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf }
    }

    /// Bytes of entries in use (0 when the header does not fit or lies).
    pub(super) fn used(&self) -> usize {
        match self.buf.get(..USED) {
            Some(&[hi, lo]) => {
                let n = usize::from(u16::from_be_bytes([hi, lo]));
                if USED + n <= self.buf.len() {
                    n
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    fn set_used(&mut self, n: usize) {
        if let (Some(dst), Ok(n)) = (self.buf.get_mut(..USED), u16::try_from(n)) {
            dst.copy_from_slice(&n.to_be_bytes());
        }
    }

    /// Bytes free for entries.
    pub(super) fn free(&self) -> usize {
        self.buf.len().saturating_sub(USED + self.used())
    }

    pub(super) fn clear(&mut self) {
        self.set_used(0);
    }

    /// The entries in order: (offset of the entry, alias, topic bytes).
    pub(super) fn entries(&self) -> impl Iterator<Item = (usize, u16, &[u8])> {
        let end = USED + self.used();
        let mut at = USED;
        core::iter::from_fn(move || {
            let &[a0, a1, l0, l1] = self.buf.get(at..at + HEAD)? else {
                return None;
            };
            let alias = u16::from_be_bytes([a0, a1]);
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let start = at + HEAD;
            let topic = self
                .buf
                .get(start..start + len)
                .filter(|_| start + len <= end)?;
            let entry = (at, alias, topic);
            at = start + len;
            Some(entry)
        })
    }

    /// Removes the `len` bytes of entries at `at`, moving the later ones
    /// down.
    pub(super) fn remove(&mut self, at: usize, len: usize) {
        let used = self.used();
        if at < USED || at + len > USED + used {
            return;
        }
        self.buf.copy_within(at + len..USED + used, at);
        self.set_used(used - len);
    }

    /// Moves the entry of `len` bytes at `at` to the end.
    pub(super) fn move_to_end(&mut self, at: usize, len: usize) {
        let end = USED + self.used();
        if let Some(tail) = self.buf.get_mut(at..end) {
            if len <= tail.len() {
                tail.rotate_left(len);
            }
        }
    }

    /// Appends an entry.
    ///
    /// # Errors
    /// `Err(needed)` when it does not fit: the bytes the map would need
    /// (nothing changes).
    pub(super) fn push(&mut self, alias: u16, topic: &str) -> Result<(), usize> {
        let used = self.used();
        let needed = USED + used + HEAD + topic.len();
        let Ok(len) = u16::try_from(topic.len()) else {
            return Err(needed);
        };
        if needed - USED > usize::from(u16::MAX) {
            return Err(needed);
        }
        let Some(dst) = self.buf.get_mut(USED + used..needed) else {
            return Err(needed);
        };
        // `dst` is HEAD + topic.len() bytes long.
        let [a0, a1, l0, l1, bytes @ ..] = dst else {
            return Err(needed);
        };
        [*a0, *a1] = alias.to_be_bytes();
        [*l0, *l1] = len.to_be_bytes();
        bytes.copy_from_slice(topic.as_bytes());
        self.set_used(needed - USED);
        Ok(())
    }
}

/// The incoming topic alias map over caller memory (see the module doc).
/// Lend the same bytes to every [`Session::handle_v5_aliased`](super::Session::handle_v5_aliased)
/// of a connection.
#[derive(Debug)]
pub struct TopicAliases<'a> {
    table: Table<'a>,
}

impl<'a> TopicAliases<'a> {
    /// The map in `buf` (at least 2 bytes to hold anything; the session
    /// clears it at the first use on a new connection).
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            table: Table::new(buf),
        }
    }

    /// Forgets every alias.
    pub fn clear(&mut self) {
        self.table.clear();
    }

    /// The topic `alias` stands for.
    pub fn get(&self, alias: u16) -> Option<&str> {
        let (_, _, topic) = self.table.entries().find(|&(_, a, _)| a == alias)?;
        // Stored from a validated topic: cannot fail.
        core::str::from_utf8(topic).ok()
    }

    /// Lets `alias` stand for `topic` from now on.
    ///
    /// # Errors
    /// `Err(needed)` when the entry does not fit: the bytes the map would
    /// need (`alias` then stands for nothing).
    pub fn set(&mut self, alias: u16, topic: &str) -> Result<(), usize> {
        let old = self
            .table
            .entries()
            .find(|&(_, a, _)| a == alias)
            .map(|(at, _, topic)| (at, HEAD + topic.len()));
        if let Some((at, len)) = old {
            self.table.remove(at, len);
        }
        self.table.push(alias, topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replace_get() {
        let mut mem = [0xffu8; 24];
        let mut t = TopicAliases::new(&mut mem);
        t.clear();
        assert_eq!(t.get(1), None);
        t.set(1, "a/b").unwrap();
        t.set(2, "cc").unwrap();
        assert_eq!((t.get(1), t.get(2)), (Some("a/b"), Some("cc")));
        // Replacing moves the later entries down and appends.
        t.set(1, "dddd").unwrap();
        assert_eq!((t.get(1), t.get(2)), (Some("dddd"), Some("cc")));
        assert_eq!(mem[..4], [0x00, 0x0e, 0x00, 0x02], "used 14, alias 2 first");
        // 2 + 14 + 4 + 5 = 25 > 24: refused, alias 3 stands for nothing.
        let mut t = TopicAliases::new(&mut mem);
        assert_eq!(t.set(3, "eeeee"), Err(25));
        assert_eq!(t.get(3), None);
        assert_eq!(t.get(2), Some("cc"));
    }

    #[test]
    fn damaged_header_reads_as_empty() {
        let mut mem = [0xffu8; 8];
        let t = TopicAliases::new(&mut mem);
        assert_eq!(t.get(0xffff), None);
        let mut none = [];
        let mut t = TopicAliases::new(&mut none);
        assert_eq!(t.set(1, "a"), Err(7));
    }
}
