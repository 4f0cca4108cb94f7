//! Topic names and topic filters: validation (MQTT 3.1.1 section 4.7.1 and
//! 4.7.3) and filter matching (section 4.7), without allocation.

use super::TopicError;

const MAX_TOPIC_LEN: usize = 65_535;

fn check_len(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        Err(TopicError::Empty)
    } else if s.len() > MAX_TOPIC_LEN {
        Err(TopicError::TooLong)
    } else {
        Ok(())
    }
}

/// Check a topic name as used in PUBLISH and the will: non-empty, at most
/// 65,535 bytes, no `+` or `#`, no U+0000.
///
/// # Errors
/// The first rule broken, as a [`TopicError`] (for several bad characters,
/// the first one's).
pub fn validate_topic_name(topic: &str) -> Result<(), TopicError> {
    check_len(topic)?;
    // One pass over the bytes (this runs on every publish and receive): these
    // ASCII bytes never occur inside a multi-byte UTF-8 sequence.
    match first_special(topic.as_bytes()) {
        Some(0) => Err(TopicError::NulChar),
        Some(_) => Err(TopicError::Wildcard),
        None => Ok(()),
    }
}

/// A machine word of bytes.
const WORD: usize = core::mem::size_of::<usize>();
/// 0x01 in every byte of a word.
const ONES: usize = usize::MAX / 255;

/// The high bit of every byte of `x` that is 0, and perhaps of some after
/// it (the classic test: exact for "any", which is all it is used for).
const fn zero_bytes(x: usize) -> usize {
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// The first byte of `bytes` that is NUL, `+` or `#`: a word at a time while
/// none is in it (one branch per word), then byte by byte.
fn first_special(bytes: &[u8]) -> Option<u8> {
    let special = |b: &u8| matches!(b, 0 | b'+' | b'#');
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + WORD) {
        let Ok(word) = <[u8; WORD]>::try_from(chunk) else {
            break;
        };
        let x = usize::from_ne_bytes(word);
        let plus = x ^ (ONES * usize::from(b'+'));
        let hash = x ^ (ONES * usize::from(b'#'));
        if zero_bytes(x) | zero_bytes(plus) | zero_bytes(hash) != 0 {
            break;
        }
        at += WORD;
    }
    bytes.get(at..)?.iter().copied().find(|b| special(b))
}

/// Check a topic filter as used in SUBSCRIBE and UNSUBSCRIBE: non-empty, at
/// most 65,535 bytes, no U+0000, `#` only as the whole last level and `+` only
/// as a whole level.
///
/// # Errors
/// The first rule broken, as a [`TopicError`].
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    check_len(filter)?;
    if filter.bytes().any(|b| b == 0) {
        return Err(TopicError::NulChar);
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let ok = match level {
            "#" => levels.peek().is_none(),
            "+" => true,
            _ => !level.bytes().any(|b| b == b'+' || b == b'#'),
        };
        if !ok {
            return Err(TopicError::BadFilter);
        }
    }
    Ok(())
}

/// Whether the topic name `topic` matches the topic filter `filter`
/// (MQTT 3.1.1 section 4.7).
///
/// `+` matches exactly one level (which may be empty), `#` matches the parent
/// level and any number of child levels, and a filter starting with a
/// wildcard does not match a topic starting with `$`. A shared
/// subscription's filter, `$share/NAME/FILTER` (MQTT 5 section 4.8.2; brokers
/// take it in 3.1.1 too), matches what `FILTER` matches. An invalid filter or
/// topic name matches nothing.
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    if validate_topic_filter(filter).is_err() || validate_topic_name(topic).is_err() {
        return false;
    }
    let filter = match filter
        .strip_prefix("$share/")
        .map(|rest| rest.split_once('/'))
    {
        // A share name is one level, neither empty nor a wildcard.  The
        // whole filter was valid, so its trailing levels are too: only an
        // empty filter part is left to refuse.
        Some(Some((name, inner)))
            if !name.is_empty() && !name.contains(['+', '#']) && !inner.is_empty() =>
        {
            inner
        }
        Some(_) => return false,
        None => filter,
    };
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (None, None) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn topic_names() {
        assert_eq!(validate_topic_name("a/b"), Ok(()));
        assert_eq!(validate_topic_name("/"), Ok(()));
        assert_eq!(validate_topic_name(" "), Ok(()));
        assert_eq!(validate_topic_name("$SYS/x"), Ok(()));
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_name("a/+"), Err(TopicError::Wildcard));
        assert_eq!(validate_topic_name("a/#"), Err(TopicError::Wildcard));
        assert_eq!(validate_topic_name("a+b"), Err(TopicError::Wildcard));
        assert_eq!(validate_topic_name("a\0b"), Err(TopicError::NulChar));
        let long: String = "a".repeat(65_536);
        assert_eq!(validate_topic_name(&long), Err(TopicError::TooLong));
        assert_eq!(validate_topic_name(long.get(1..).unwrap()), Ok(()));
    }

    /// The word-at-a-time scan finds the first special byte wherever it is:
    /// every position of a 0, `+` or `#` in names of every length around a
    /// word, after multi-byte UTF-8 (no byte of which is special).
    #[test]
    fn special_bytes_at_every_position() {
        for len in 1..=3 * WORD + 1 {
            for at in 0..len {
                for (b, err) in [
                    (0u8, TopicError::NulChar),
                    (b'+', TopicError::Wildcard),
                    (b'#', TopicError::Wildcard),
                ] {
                    let mut name = std::vec![b'a'; len];
                    name[at] = b;
                    if at + 1 < len {
                        name[len - 1] = 0; // a later NUL: the first byte counts
                    }
                    let name = core::str::from_utf8(&name).unwrap();
                    assert_eq!(validate_topic_name(name), Err(err), "{len} {at} {b}");
                }
            }
            let clean: String = "\u{e9}\u{20ac}x".repeat(len).chars().take(len).collect();
            assert_eq!(validate_topic_name(&clean), Ok(()));
        }
    }

    /// A shared subscription's filter matches what its filter part matches;
    /// a malformed one (no name, a wildcard name, no filter) nothing.
    #[test]
    fn shared_subscriptions() {
        assert!(topic_matches("$share/g/a/b", "a/b"));
        assert!(topic_matches("$share/g/a/#", "a/b/c"));
        assert!(topic_matches("$share/g/+", "x"));
        assert!(
            !topic_matches("$share/g/+", "$SYS"),
            "the inner filter's $ rule"
        );
        assert!(!topic_matches("$share/g/a", "$share/g/a"));
        for bad in [
            "$share//a",
            "$share/+/a",
            "$share/g",
            "$share/g/",
            "$share/#",
        ] {
            assert!(!topic_matches(bad, "a"), "{bad}");
        }
        // Not a shared subscription: an ordinary $ topic filter.
        assert!(topic_matches("$sharex/a", "$sharex/a"));
    }

    #[test]
    fn topic_filters() {
        for ok in [
            "#",
            "+",
            "+/+",
            "/+",
            "sport/#",
            "sport/tennis/#",
            "sport/+/player1",
            "+/tennis/#",
            "/",
            "//",
            "$SYS/#",
            "a b/c",
        ] {
            assert_eq!(validate_topic_filter(ok), Ok(()), "{ok}");
        }
        for bad in [
            "sport/tennis#",
            "sport/tennis/#/ranking",
            "sport+",
            "#/a",
            "a/#b",
            "++",
            "a/+b",
        ] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(TopicError::BadFilter),
                "{bad}"
            );
        }
        assert_eq!(validate_topic_filter(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_filter("a/\0"), Err(TopicError::NulChar));
    }

    #[test]
    fn matching_table() {
        // (filter, topic, matches) -- examples from MQTT 3.1.1 section 4.7.
        let table: &[(&str, &str, bool)] = &[
            ("sport/tennis/player1/#", "sport/tennis/player1", true),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/ranking",
                true,
            ),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/score/wimbledon",
                true,
            ),
            ("sport/#", "sport", true),
            ("#", "sport/tennis", true),
            ("#", "/", true),
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player2", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
            ("+", "sport", true),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("+/tennis/#", "sport/tennis/x/y", true),
            ("a/b", "a/b", true),
            ("a/b", "a/b/", false),
            ("a/b", "a", false),
            ("A/b", "a/b", false),
            // $-topics: not matched by a leading wildcard.
            ("#", "$SYS/broker", false),
            ("+/monitor/Clients", "$SYS/monitor/Clients", false),
            ("$SYS/#", "$SYS/monitor/Clients", true),
            ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
            ("a/#", "a/$x", true),
            // Invalid inputs match nothing.
            ("sport/tennis#", "sport/tennis", false),
            ("#", "a/+", false),
            ("#", "", false),
        ];
        for &(filter, topic, want) in table {
            assert_eq!(topic_matches(filter, topic), want, "{filter} vs {topic}");
        }
    }
    mod props {
        use super::*;
        use proptest::prelude::*;
        use std::vec::Vec;

        /// The reference model: section 4.7 read literally, level by level,
        /// recursively, with nothing shared with `topic_matches`.
        fn model(filter: &[&str], topic: &[&str]) -> bool {
            match (filter.split_first(), topic.split_first()) {
                (Some((&"#", rest)), _) => rest.is_empty(),
                (None, None) => true,
                (Some((&"+", f)), Some((_, t))) => model(f, t),
                (Some((a, f)), Some((b, t))) => a == b && model(f, t),
                _ => false,
            }
        }

        fn reference(filter: &str, topic: &str) -> bool {
            let f: Vec<&str> = filter.split('/').collect();
            let t: Vec<&str> = topic.split('/').collect();
            let filter_ok = !filter.is_empty()
                && f.iter().enumerate().all(|(i, l)| {
                    *l == "+" || (*l == "#" && i == f.len() - 1) || !l.contains(['+', '#'])
                });
            let topic_ok = !topic.is_empty() && !topic.contains(['+', '#']);
            let dollar = topic.starts_with('$') && (f[0] == "+" || f[0] == "#");
            filter_ok && topic_ok && !dollar && model(&f, &t)
        }

        fn text(alphabet: &'static [&'static str]) -> impl Strategy<Value = String> {
            proptest::collection::vec(proptest::sample::select(alphabet), 0..7)
                .prop_map(|parts| parts.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(5000))]

            #[test]
            fn matching_agrees_with_reference(
                filter in text(&["a", "b", "/", "+", "#", "$", "é"]),
                topic in text(&["a", "b", "/", "$", "é", "+"]),
            ) {
                prop_assert_eq!(topic_matches(&filter, &topic), reference(&filter, &topic));
            }

            #[test]
            fn a_topic_matches_itself_and_wildcard_versions(topic in text(&["a", "b", "/", "é"])) {
                prop_assume!(!topic.is_empty());
                prop_assert!(topic_matches(&topic, &topic));
                prop_assert!(topic_matches("#", &topic));
                let plus: Vec<&str> = topic.split('/').map(|_| "+").collect();
                prop_assert!(topic_matches(&plus.join("/"), &topic));
                let first = topic.split('/').next().unwrap_or("");
                let parent = std::format!("{}/#", first);
                prop_assert!(topic_matches(&parent, &topic));
            }

            /// The word-at-a-time name check says what a byte-by-byte one
            /// says, for any string.
            #[test]
            fn name_check_agrees_with_bytewise(topic in "\\PC{0,40}", special in "[\\x00+#]{0,2}", at in 0usize..40) {
                let mut t = topic.clone();
                let at = t.char_indices().map(|(i, _)| i).nth(at).unwrap_or(t.len());
                t.insert_str(at, &special);
                let bytewise = match t.bytes().find(|b| matches!(b, 0 | b'+' | b'#')) {
                    _ if t.is_empty() => Err(TopicError::Empty),
                    Some(0) => Err(TopicError::NulChar),
                    Some(_) => Err(TopicError::Wildcard),
                    None => Ok(()),
                };
                prop_assert_eq!(validate_topic_name(&t), bytewise);
            }
        }
    }
}
