//! MQTT 5 properties (section 2.2.2): every property with its identifier,
//! value type and the packets that may carry it; [`Properties`], a checked,
//! zero-copy view over a received property list (or a caller's list to
//! encode); the per-packet validator; and the encoder.
//!
//! [`Properties::parse`] validates the whole list once for its [`Context`]:
//! each identifier known and allowed there, none repeated except User
//! Property (and Subscription Identifier in PUBLISH), every value of its
//! type (UTF-8 without U+0000, variable byte integers of at most 4 bytes)
//! and in range.  After that, iterating cannot fail.  Nothing here copies or
//! allocates.

use super::codec::{add_len, field_len, Reader, Writer};
use super::section::Context;
use super::{remaining_len_size, DecodeError, EncodeError, PacketType, PropertyError};

/// The largest variable byte integer (and property list length).
const MAX_VAR_INT: u32 = 268_435_455;

/// The data type of a property value (section 1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// One byte.
    Byte,
    /// Big-endian `u16`.
    TwoByteInt,
    /// Big-endian `u32`.
    FourByteInt,
    /// Variable byte integer, 1 to 4 bytes.
    VarInt,
    /// Length-prefixed UTF-8 string.
    Utf8,
    /// Two UTF-8 strings: name and value.
    Utf8Pair,
    /// Length-prefixed binary data.
    Binary,
}

/// A value as it is on the wire, whatever the property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'a> {
    Byte(u8),
    TwoByteInt(u16),
    FourByteInt(u32),
    VarInt(u32),
    Utf8(&'a str),
    Utf8Pair((&'a str, &'a str)),
    Binary(&'a [u8]),
}

impl Context {
    const fn bit(self) -> u16 {
        1 << self as u8
    }

    /// The packet type a truncated list in this context is reported for.
    pub fn packet_type(self) -> PacketType {
        match self {
            Context::Connect | Context::Will => PacketType::Connect,
            Context::Connack => PacketType::Connack,
            Context::Publish => PacketType::Publish,
            Context::Ack => PacketType::Puback,
            Context::Subscribe => PacketType::Subscribe,
            Context::Suback => PacketType::Suback,
            Context::Unsubscribe => PacketType::Unsubscribe,
            Context::Unsuback => PacketType::Unsuback,
            Context::Disconnect => PacketType::Disconnect,
            Context::Auth => PacketType::Auth,
        }
    }
}

macro_rules! properties {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $id:literal, $vt:ident($t:ty), $($ctx:ident)|+;
    )*) => {
        /// A property identifier (section 2.2.2.2).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum PropertyId {
            $($(#[doc = $doc])* $name = $id,)*
        }

        impl PropertyId {
            /// The property for identifier `v`, `None` if undefined.
            pub const fn from_u8(v: u8) -> Option<Self> {
                match v {
                    $($id => Some(PropertyId::$name),)*
                    _ => None,
                }
            }

            /// The type of the property's value.
            pub const fn value_type(self) -> ValueType {
                match self {
                    $(PropertyId::$name => ValueType::$vt,)*
                }
            }

            const fn contexts(self) -> u16 {
                match self {
                    $(PropertyId::$name => 0 $(| Context::$ctx.bit())+,)*
                }
            }
        }

        /// One property with its value.  The variant names are the
        /// specification's property names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Property<'a> {
            $($(#[doc = $doc])* $name($t),)*
        }

        impl<'a> Property<'a> {
            /// The property's identifier.
            pub const fn id(&self) -> PropertyId {
                match self {
                    $(Property::$name(_) => PropertyId::$name,)*
                }
            }

            fn value(&self) -> Value<'a> {
                match *self {
                    $(Property::$name(v) => Value::$vt(v),)*
                }
            }

            fn from_value(id: PropertyId, v: Value<'a>) -> Option<Self> {
                match (id, v) {
                    $((PropertyId::$name, Value::$vt(v)) => Some(Property::$name(v)),)*
                    _ => None,
                }
            }
        }
    };
}

properties! {
    /// 0x01, byte 0 or 1: the payload is unspecified bytes (0) or UTF-8 (1).
    PayloadFormatIndicator = 0x01, Byte(u8), Publish | Will;
    /// 0x02, seconds the message lives.
    MessageExpiryInterval = 0x02, FourByteInt(u32), Publish | Will;
    /// 0x03, the payload's MIME type.
    ContentType = 0x03, Utf8(&'a str), Publish | Will;
    /// 0x08, the topic a response goes to.
    ResponseTopic = 0x08, Utf8(&'a str), Publish | Will;
    /// 0x09, matches a response to its request.
    CorrelationData = 0x09, Binary(&'a [u8]), Publish | Will;
    /// 0x0B, 1 to 268,435,455: names the subscription (repeatable in PUBLISH).
    SubscriptionIdentifier = 0x0B, VarInt(u32), Publish | Subscribe;
    /// 0x11, seconds the session outlives the connection.
    SessionExpiryInterval = 0x11, FourByteInt(u32), Connect | Connack | Disconnect;
    /// 0x12, the client id the server chose.
    AssignedClientIdentifier = 0x12, Utf8(&'a str), Connack;
    /// 0x13, the keepalive the server wants instead of the client's.
    ServerKeepAlive = 0x13, TwoByteInt(u16), Connack;
    /// 0x15, names the extended authentication method.
    AuthenticationMethod = 0x15, Utf8(&'a str), Connect | Connack | Auth;
    /// 0x16, the method's data (needs an Authentication Method).
    AuthenticationData = 0x16, Binary(&'a [u8]), Connect | Connack | Auth;
    /// 0x17, byte 0 or 1: may the server send reason strings and user
    /// properties on failures.
    RequestProblemInformation = 0x17, Byte(u8), Connect;
    /// 0x18, seconds the server waits before sending the will.
    WillDelayInterval = 0x18, FourByteInt(u32), Will;
    /// 0x19, byte 0 or 1: asks for Response Information in CONNACK.
    RequestResponseInformation = 0x19, Byte(u8), Connect;
    /// 0x1A, the basis for response topics.
    ResponseInformation = 0x1A, Utf8(&'a str), Connack;
    /// 0x1C, another server to use.
    ServerReference = 0x1C, Utf8(&'a str), Connack | Disconnect;
    /// 0x1F, a human-readable reason.
    ReasonString = 0x1F, Utf8(&'a str), Connack | Ack | Suback | Unsuback | Disconnect | Auth;
    /// 0x21, nonzero: the QoS 1 and 2 messages the sender accepts at once.
    ReceiveMaximum = 0x21, TwoByteInt(u16), Connect | Connack;
    /// 0x22, the highest topic alias the sender accepts.
    TopicAliasMaximum = 0x22, TwoByteInt(u16), Connect | Connack;
    /// 0x23, nonzero: stands for the topic.
    TopicAlias = 0x23, TwoByteInt(u16), Publish;
    /// 0x24, byte 0 or 1: the highest QoS the server supports.
    MaximumQoS = 0x24, Byte(u8), Connack;
    /// 0x25, byte 0 or 1: retained messages supported.
    RetainAvailable = 0x25, Byte(u8), Connack;
    /// 0x26, a name/value pair (repeatable, in every packet that has
    /// properties).
    UserProperty = 0x26, Utf8Pair((&'a str, &'a str)),
        Connect | Will | Connack | Publish | Ack | Subscribe | Suback | Unsubscribe | Unsuback
        | Disconnect | Auth;
    /// 0x27, nonzero: the largest packet the sender accepts.
    MaximumPacketSize = 0x27, FourByteInt(u32), Connect | Connack;
    /// 0x28, byte 0 or 1: wildcard subscriptions supported.
    WildcardSubscriptionAvailable = 0x28, Byte(u8), Connack;
    /// 0x29, byte 0 or 1: subscription identifiers supported.
    SubscriptionIdentifierAvailable = 0x29, Byte(u8), Connack;
    /// 0x2A, byte 0 or 1: shared subscriptions supported.
    SharedSubscriptionAvailable = 0x2A, Byte(u8), Connack;
}

impl PropertyId {
    /// Whether the property may appear in `ctx`.
    pub const fn allowed_in(self, ctx: Context) -> bool {
        self.contexts() & ctx.bit() != 0
    }

    /// Whether the property may appear more than once in `ctx`.
    pub fn repeatable_in(self, ctx: Context) -> bool {
        self == PropertyId::UserProperty
            || (self == PropertyId::SubscriptionIdentifier && ctx == Context::Publish)
    }
}

impl<'a> Property<'a> {
    /// Whether the value is in range for the property (section 3): a
    /// 0-or-1 byte at most 1; Receive Maximum, Maximum Packet Size, Topic
    /// Alias and Subscription Identifier nonzero; a Subscription
    /// Identifier at most 268,435,455.
    pub fn value_ok(&self) -> bool {
        match *self {
            Property::PayloadFormatIndicator(v)
            | Property::RequestProblemInformation(v)
            | Property::RequestResponseInformation(v)
            | Property::MaximumQoS(v)
            | Property::RetainAvailable(v)
            | Property::WildcardSubscriptionAvailable(v)
            | Property::SubscriptionIdentifierAvailable(v)
            | Property::SharedSubscriptionAvailable(v) => v <= 1,
            Property::ReceiveMaximum(v) | Property::TopicAlias(v) => v != 0,
            Property::MaximumPacketSize(v) => v != 0,
            Property::SubscriptionIdentifier(v) => (1..=MAX_VAR_INT).contains(&v),
            _ => true,
        }
    }

    /// Read one property at the reader's position.
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let raw = r.var_int()?;
        let unknown = || DecodeError::Property(PropertyError::Unknown(clamp(raw)));
        let id = u8::try_from(raw)
            .ok()
            .and_then(PropertyId::from_u8)
            .ok_or_else(unknown)?;
        let value = match id.value_type() {
            ValueType::Byte => Value::Byte(r.u8()?),
            ValueType::TwoByteInt => Value::TwoByteInt(r.u16()?),
            ValueType::FourByteInt => Value::FourByteInt(r.u32()?),
            ValueType::VarInt => Value::VarInt(r.var_int()?),
            ValueType::Utf8 => Value::Utf8(r.str()?),
            ValueType::Utf8Pair => Value::Utf8Pair((r.str()?, r.str()?)),
            ValueType::Binary => Value::Binary(r.binary()?),
        };
        Property::from_value(id, value).ok_or_else(unknown)
    }

    /// Encoded size: identifier and value.
    fn encoded_len(&self) -> Result<usize, EncodeError> {
        let value = match self.value() {
            Value::Byte(_) => 1,
            Value::TwoByteInt(_) => 2,
            Value::FourByteInt(_) => 4,
            Value::VarInt(v) => remaining_len_size(usize::try_from(v).unwrap_or(usize::MAX)),
            Value::Utf8(s) => field_len(s.len())?,
            Value::Utf8Pair((k, v)) => add_len(field_len(k.len())?, field_len(v.len())?)?,
            Value::Binary(b) => field_len(b.len())?,
        };
        Ok(1 + value)
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        // `put` (inlined) for the small values: a Topic Alias is written
        // with every aliased PUBLISH.
        w.put(&[self.id() as u8])?;
        match self.value() {
            Value::Byte(v) => w.put(&[v]),
            Value::TwoByteInt(v) => w.put(&v.to_be_bytes()),
            Value::FourByteInt(v) => w.u32(v),
            Value::VarInt(v) => w.var_int(usize::try_from(v).map_err(|_| EncodeError::TooLong)?),
            Value::Utf8(s) => w.binary(s.as_bytes()),
            Value::Utf8Pair((k, v)) => {
                w.binary(k.as_bytes())?;
                w.binary(v.as_bytes())
            }
            Value::Binary(b) => w.binary(b),
        }
    }

    /// No U+0000 in a string value (the decoder refuses it).
    fn strings_ok(&self) -> bool {
        match self.value() {
            Value::Utf8(s) => !s.contains('\0'),
            Value::Utf8Pair((k, v)) => !k.contains('\0') && !v.contains('\0'),
            _ => true,
        }
    }
}

/// A property's value in a form a caller outside the crate can hold (the C
/// ABI): an integer, a string, binary data or a string pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// Byte, two-byte, four-byte or variable byte integer.
    Int(u32),
    /// UTF-8 string.
    Str(&'a str),
    /// Binary data.
    Binary(&'a [u8]),
    /// UTF-8 string pair: name, value.
    Pair(&'a str, &'a str),
}

impl<'a> Property<'a> {
    /// The value as a [`RawValue`].
    pub fn raw(&self) -> RawValue<'a> {
        match self.value() {
            Value::Byte(v) => RawValue::Int(u32::from(v)),
            Value::TwoByteInt(v) => RawValue::Int(u32::from(v)),
            Value::FourByteInt(v) | Value::VarInt(v) => RawValue::Int(v),
            Value::Utf8(s) => RawValue::Str(s),
            Value::Utf8Pair((k, v)) => RawValue::Pair(k, v),
            Value::Binary(b) => RawValue::Binary(b),
        }
    }

    /// Property `id` with a caller's value: an integer that fits the
    /// property's type, a string for a string or binary property, binary
    /// data for a binary one, a pair for User Property.  `None` otherwise
    /// (the range rules of [`value_ok`](Self::value_ok) are the encoder's
    /// to check).
    pub fn from_raw(id: PropertyId, raw: RawValue<'a>) -> Option<Self> {
        let value = match (id.value_type(), raw) {
            (ValueType::Byte, RawValue::Int(v)) => Value::Byte(u8::try_from(v).ok()?),
            (ValueType::TwoByteInt, RawValue::Int(v)) => Value::TwoByteInt(u16::try_from(v).ok()?),
            (ValueType::FourByteInt, RawValue::Int(v)) => Value::FourByteInt(v),
            (ValueType::VarInt, RawValue::Int(v)) if v <= MAX_VAR_INT => Value::VarInt(v),
            (ValueType::Utf8, RawValue::Str(s)) => Value::Utf8(s),
            (ValueType::Binary, RawValue::Binary(b)) => Value::Binary(b),
            (ValueType::Binary, RawValue::Str(s)) => Value::Binary(s.as_bytes()),
            (ValueType::Utf8Pair, RawValue::Pair(k, v)) => Value::Utf8Pair((k, v)),
            _ => return None,
        };
        Property::from_value(id, value)
    }

    /// The property at `at` of a property section's bytes and where the
    /// next one starts; `None` at the end or at bytes that are not a
    /// property (never reads outside `bytes`).
    pub fn read_at(bytes: &'a [u8], at: usize) -> Option<(Self, usize)> {
        let rest = bytes.get(at..).filter(|r| !r.is_empty())?;
        let mut r = Reader::new(rest, PacketType::Publish);
        let p = Property::read(&mut r).ok()?;
        Some((p, bytes.len() - r.rest().len()))
    }
}

fn clamp(raw: u32) -> u8 {
    u8::try_from(raw).unwrap_or(u8::MAX)
}

/// The per-packet rules, fed one property at a time.
struct Validator {
    ctx: Context,
    seen: u64,
}

impl Validator {
    fn new(ctx: Context) -> Self {
        Validator { ctx, seen: 0 }
    }

    fn bit(id: PropertyId) -> u64 {
        // Identifiers are below 64 (the highest is 0x2A).
        1u64 << (id as u8 & 63)
    }

    fn add(&mut self, p: &Property<'_>) -> Result<(), PropertyError> {
        let id = p.id();
        let bit = Self::bit(id);
        if !id.allowed_in(self.ctx) {
            return Err(PropertyError::NotAllowed(id as u8));
        }
        if self.seen & bit != 0 && !id.repeatable_in(self.ctx) {
            return Err(PropertyError::Repeated(id as u8));
        }
        if !p.value_ok() {
            return Err(PropertyError::BadValue(id as u8));
        }
        self.seen |= bit;
        Ok(())
    }

    /// Rules about the list as a whole: Authentication Data needs an
    /// Authentication Method.
    fn finish(&self) -> Result<(), PropertyError> {
        let data = Self::bit(PropertyId::AuthenticationData);
        let method = Self::bit(PropertyId::AuthenticationMethod);
        if self.seen & data != 0 && self.seen & method == 0 {
            return Err(PropertyError::NotAllowed(
                PropertyId::AuthenticationData as u8,
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Repr<'a> {
    /// Validated bytes of a received list (without its length).
    Encoded(&'a [u8]),
    /// A caller's list, validated when encoded.
    List(&'a [Property<'a>]),
}

/// A property list: a checked view over received bytes, or a caller's
/// list to encode.  Compares by content.
#[derive(Debug, Clone, Copy)]
pub struct Properties<'a>(Repr<'a>);

impl<'a> Properties<'a> {
    /// No properties.
    pub const EMPTY: Self = Properties(Repr::Encoded(&[]));

    /// Check the property bytes `bytes` (the list without its length
    /// prefix) for a packet of kind `ctx`.
    ///
    /// # Errors
    /// [`DecodeError::Property`] for a rule broken, [`DecodeError::BadUtf8`],
    /// [`DecodeError::BadVarInt`], or [`DecodeError::BadLength`] when a value
    /// runs past the end.
    pub fn parse(bytes: &'a [u8], ctx: Context) -> Result<Self, DecodeError> {
        Self::parse_for(bytes, ctx.packet_type(), ctx)
    }

    pub(crate) fn parse_for(
        bytes: &'a [u8],
        ty: PacketType,
        ctx: Context,
    ) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, ty);
        let mut rules = Validator::new(ctx);
        while !r.is_empty() {
            let p = Property::read(&mut r)?;
            rules.add(&p).map_err(DecodeError::Property)?;
        }
        rules.finish().map_err(DecodeError::Property)?;
        Ok(Properties(Repr::Encoded(bytes)))
    }

    /// A caller's list, to encode (checked then).
    pub const fn from_list(list: &'a [Property<'a>]) -> Self {
        Properties(Repr::List(list))
    }

    /// The properties in order.
    pub fn iter(&self) -> PropertyIter<'a> {
        PropertyIter(match self.0 {
            Repr::Encoded(b) => IterRepr::Encoded(Reader::new(b, PacketType::Publish)),
            Repr::List(l) => IterRepr::List(l.iter()),
        })
    }

    /// The validated bytes of a received list (without its length
    /// prefix), for a caller that reads them itself (the C glue); `None`
    /// for a caller's list.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.0 {
            Repr::Encoded(b) => Some(b),
            Repr::List(_) => None,
        }
    }

    /// No property at all.
    pub fn is_empty(&self) -> bool {
        match self.0 {
            Repr::Encoded(b) => b.is_empty(),
            Repr::List(l) => l.is_empty(),
        }
    }

    /// The first property `id`.
    pub fn get(&self, id: PropertyId) -> Option<Property<'a>> {
        self.iter().find(|p| p.id() == id)
    }

    /// The Topic Alias, if any.
    pub fn topic_alias(&self) -> Option<u16> {
        match self.get(PropertyId::TopicAlias) {
            Some(Property::TopicAlias(a)) => Some(a),
            _ => None,
        }
    }

    /// The Reason String, if any.
    pub fn reason_string(&self) -> Option<&'a str> {
        match self.get(PropertyId::ReasonString) {
            Some(Property::ReasonString(s)) => Some(s),
            _ => None,
        }
    }

    /// Every User Property, in order.
    pub fn user_properties(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.iter().filter_map(|p| match p {
            Property::UserProperty(pair) => Some(pair),
            _ => None,
        })
    }

    /// Every Subscription Identifier, in order.
    pub fn subscription_identifiers(&self) -> impl Iterator<Item = u32> + 'a {
        self.iter().filter_map(|p| match p {
            Property::SubscriptionIdentifier(id) => Some(id),
            _ => None,
        })
    }

    /// Check the list for a packet of kind `ctx` before encoding it.
    ///
    /// # Errors
    /// [`EncodeError::Property`] for the first property not allowed,
    /// repeated, or out of range (a string with U+0000 counts as out of
    /// range).
    pub fn check(&self, ctx: Context) -> Result<(), EncodeError> {
        let mut rules = Validator::new(ctx);
        for p in self.iter() {
            rules.add(&p).map_err(EncodeError::Property)?;
            if !p.strings_ok() {
                return Err(EncodeError::Property(PropertyError::BadValue(p.id() as u8)));
            }
        }
        rules.finish().map_err(EncodeError::Property)
    }

    /// Encoded size of the properties, without the length prefix.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] for a string over 65,535 bytes or a list
    /// over 268,435,455.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        let len = match self.0 {
            Repr::Encoded(b) => b.len(),
            Repr::List(l) => l
                .iter()
                .try_fold(0usize, |acc, p| add_len(acc, p.encoded_len()?))?,
        };
        if len > MAX_VAR_INT as usize {
            return Err(EncodeError::TooLong);
        }
        Ok(len)
    }

    /// Write the length prefix and the properties.
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.var_int(self.encoded_len()?)?;
        match self.0 {
            Repr::Encoded(b) => w.put(b),
            Repr::List(l) => l.iter().try_for_each(|p| p.write(w)),
        }
    }

    /// Encode the list for a packet of kind `ctx` into `out`, length prefix
    /// first; returns the bytes written.  Nothing is written on error.
    ///
    /// # Errors
    /// As [`Self::check`], [`EncodeError::TooLong`], or
    /// [`EncodeError::BufferTooSmall`] with the size needed.
    pub fn encode(&self, ctx: Context, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.check(ctx)?;
        let len = self.encoded_len()?;
        let needed = remaining_len_size(len) + len;
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut w = Writer::new(out);
        self.write(&mut w)?;
        Ok(w.pos())
    }
}

impl PartialEq for Properties<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Properties<'_> {}

impl Default for Properties<'_> {
    fn default() -> Self {
        Properties::EMPTY
    }
}

#[derive(Debug, Clone)]
enum IterRepr<'a> {
    Encoded(Reader<'a>),
    List(core::slice::Iter<'a, Property<'a>>),
}

/// Iterator over a property list, from [`Properties::iter`].
#[derive(Debug, Clone)]
pub struct PropertyIter<'a>(IterRepr<'a>);

impl<'a> Iterator for PropertyIter<'a> {
    type Item = Property<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Encoded(r) if r.is_empty() => None,
            // Validated when parsed: a read cannot fail; if it did, stop.
            IterRepr::Encoded(r) => Property::read(r).ok().or_else(|| {
                *r = Reader::new(&[], PacketType::Publish);
                None
            }),
            IterRepr::List(l) => l.next().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A section walked one property at a time, as the C glue does.
    #[test]
    fn read_at_walks_a_section_and_stops_at_bad_bytes() {
        let section = [
            0x03, 0x00, 0x02, b't', b'/', // content type "t/"
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property k=v
            0x02, 0x00, 0x00, 0x0e, 0x10, // message expiry 3600 s
        ];
        let (p, at) = Property::read_at(&section, 0).unwrap();
        assert_eq!((p.raw(), at), (RawValue::Str("t/"), 5));
        let (p, at) = Property::read_at(&section, at).unwrap();
        assert_eq!((p.raw(), at), (RawValue::Pair("k", "v"), 12));
        let (p, at) = Property::read_at(&section, at).unwrap();
        assert_eq!((p.raw(), at), (RawValue::Int(3600), 17));
        assert!(Property::read_at(&section, at).is_none());
        assert!(Property::read_at(&section, 99).is_none());
        // Truncated, an unknown identifier, invalid UTF-8: nothing read.
        assert!(Property::read_at(&section[..4], 0).is_none());
        assert!(Property::read_at(&[0x7f, 0x00], 0).is_none());
        assert!(Property::read_at(&[0x03, 0x00, 0x01, 0xff], 0).is_none());
    }

    proptest::proptest! {
        /// Any bytes: reading never panics, never reads outside them, and
        /// always moves forward (the glue's loop ends).
        #[test]
        fn read_at_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let mut at = 0;
            while let Some((_, next)) = Property::read_at(&bytes, at) {
                proptest::prop_assert!(next > at && next <= bytes.len());
                at = next;
            }
        }
    }

    /// A caller's value must fit the property's type.
    #[test]
    fn from_raw_checks_the_type() {
        use PropertyId as I;
        let ok = |id, raw| Property::from_raw(id, raw);
        assert_eq!(
            ok(I::PayloadFormatIndicator, RawValue::Int(1)),
            Some(Property::PayloadFormatIndicator(1))
        );
        assert_eq!(ok(I::PayloadFormatIndicator, RawValue::Int(256)), None);
        assert_eq!(ok(I::ReceiveMaximum, RawValue::Int(65_536)), None);
        assert_eq!(
            ok(I::MessageExpiryInterval, RawValue::Int(u32::MAX)),
            Some(Property::MessageExpiryInterval(u32::MAX))
        );
        assert_eq!(
            ok(I::SubscriptionIdentifier, RawValue::Int(MAX_VAR_INT + 1)),
            None
        );
        assert_eq!(ok(I::ContentType, RawValue::Int(3)), None);
        assert_eq!(ok(I::ContentType, RawValue::Binary(b"x")), None);
        assert_eq!(
            ok(I::CorrelationData, RawValue::Str("id")),
            Some(Property::CorrelationData(b"id"))
        );
        assert_eq!(
            ok(I::UserProperty, RawValue::Pair("a", "b")),
            Some(Property::UserProperty(("a", "b")))
        );
        assert_eq!(ok(I::UserProperty, RawValue::Str("a")), None);
        for p in [
            Property::ServerKeepAlive(7),
            Property::ReasonString("why"),
            Property::AuthenticationData(b"\x00"),
            Property::UserProperty(("k", "v")),
        ] {
            assert_eq!(Property::from_raw(p.id(), p.raw()), Some(p));
        }
    }

    const ALL: [Context; 11] = [
        Context::Connect,
        Context::Will,
        Context::Connack,
        Context::Publish,
        Context::Ack,
        Context::Subscribe,
        Context::Suback,
        Context::Unsubscribe,
        Context::Unsuback,
        Context::Disconnect,
        Context::Auth,
    ];

    fn perr(bytes: &[u8], ctx: Context) -> DecodeError {
        Properties::parse(bytes, ctx).unwrap_err()
    }

    #[test]
    fn every_property() {
        use Property::*;
        #[rustfmt::skip]
        let cases: &[(Context, &[u8], Property<'_>)] = &[
            (Context::Publish, &[0x01, 0x01], PayloadFormatIndicator(1)), // payload is UTF-8
            (Context::Will, &[0x02, 0x00, 0x00, 0x0E, 0x10], MessageExpiryInterval(3600)), // 3600 s
            (Context::Publish, &[0x03, 0x00, 0x04, b't', b'e', b'x', b't'], ContentType("text")),
            (Context::Will, &[0x08, 0x00, 0x03, b'r', b'/', b'1'], ResponseTopic("r/1")),
            (Context::Publish, &[0x09, 0x00, 0x02, 0xCA, 0xFE], CorrelationData(&[0xCA, 0xFE])),
            (Context::Subscribe, &[0x0B, 0x80, 0x01], SubscriptionIdentifier(128)), // 2-byte VBI
            (Context::Connect, &[0x11, 0x00, 0x00, 0x00, 0x3C], SessionExpiryInterval(60)), // 60 s
            (Context::Connack, &[0x12, 0x00, 0x02, b'i', b'd'], AssignedClientIdentifier("id")),
            (Context::Connack, &[0x13, 0x00, 0x1E], ServerKeepAlive(30)), // 30 s
            (Context::Auth, &[0x15, 0x00, 0x01, b'M'], AuthenticationMethod("M")),
            (Context::Connect, &[0x17, 0x00], RequestProblemInformation(0)),
            (Context::Will, &[0x18, 0x00, 0x00, 0x00, 0x05], WillDelayInterval(5)), // 5 s
            (Context::Connect, &[0x19, 0x01], RequestResponseInformation(1)),
            (Context::Connack, &[0x1A, 0x00, 0x01, b'r'], ResponseInformation("r")),
            (Context::Disconnect, &[0x1C, 0x00, 0x01, b's'], ServerReference("s")),
            (Context::Ack, &[0x1F, 0x00, 0x02, b'n', b'o'], ReasonString("no")),
            (Context::Connect, &[0x21, 0x00, 0x0A], ReceiveMaximum(10)),
            (Context::Connack, &[0x22, 0x00, 0x05], TopicAliasMaximum(5)),
            (Context::Publish, &[0x23, 0x00, 0x01], TopicAlias(1)),
            (Context::Connack, &[0x24, 0x01], MaximumQoS(1)),
            (Context::Connack, &[0x25, 0x00], RetainAvailable(0)),
            (Context::Unsuback, &[0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v'], UserProperty(("k", "v"))),
            (Context::Connect, &[0x27, 0x00, 0x01, 0x00, 0x00], MaximumPacketSize(65_536)),
            (Context::Connack, &[0x28, 0x01], WildcardSubscriptionAvailable(1)),
            (Context::Connack, &[0x29, 0x00], SubscriptionIdentifierAvailable(0)),
            (Context::Connack, &[0x2A, 0x01], SharedSubscriptionAvailable(1)),
        ];
        let defined = (0..=255u8).filter_map(PropertyId::from_u8).count();
        // Authentication Data needs a method: `authentication_data` below.
        assert_eq!(cases.len() + 1, defined);
        for &(ctx, bytes, prop) in cases {
            let id = prop.id();
            assert_eq!(id as u8, bytes[0]);
            assert_eq!(PropertyId::from_u8(bytes[0]), Some(id));
            let props = Properties::parse(bytes, ctx).unwrap();
            assert_eq!(props.iter().collect::<Vec<_>>(), [prop], "{bytes:02x?}");
            assert_eq!(props.get(id), Some(prop));
            // The encoder: length prefix, then the same bytes.
            let list = [prop];
            let mut out = [0u8; 16];
            let n = Properties::from_list(&list).encode(ctx, &mut out).unwrap();
            assert_eq!(usize::from(out[0]), bytes.len());
            assert_eq!(&out[1..n], bytes);
            assert_eq!(Properties::from_list(&list), props);
            // Every packet that does not allow it refuses it.
            for other in ALL {
                let got = Properties::parse(bytes, other);
                if id.allowed_in(other) {
                    assert!(got.is_ok(), "{id:?} in {other:?}");
                } else {
                    let err = PropertyError::NotAllowed(bytes[0]);
                    assert_eq!(got, Err(DecodeError::Property(err)), "{id:?} in {other:?}");
                    assert_eq!(
                        Properties::from_list(&list).check(other),
                        Err(EncodeError::Property(err))
                    );
                }
            }
            // Twice: only User Property (and Subscription Identifier in
            // PUBLISH) may repeat.
            let twice = [bytes, bytes].concat();
            if id == PropertyId::UserProperty {
                assert_eq!(Properties::parse(&twice, ctx).unwrap().iter().count(), 2);
            } else {
                let err = PropertyError::Repeated(bytes[0]);
                assert_eq!(perr(&twice, ctx), DecodeError::Property(err));
                let list2 = [prop, prop];
                let e = Properties::from_list(&list2).check(ctx);
                assert_eq!(e, Err(EncodeError::Property(err)));
            }
            // Cut short: the packet is too short.
            assert_eq!(
                perr(&bytes[..bytes.len() - 1], ctx),
                DecodeError::BadLength(ctx.packet_type())
            );
        }
    }

    #[test]
    fn authentication_data() {
        #[rustfmt::skip]
        let bytes = [
            0x15, 0x00, 0x01, b'M', // authentication method "M"
            0x16, 0x00, 0x02, 0x01, 0x02, // authentication data 01 02
        ];
        let props = Properties::parse(&bytes, Context::Connect).unwrap();
        assert_eq!(
            props.get(PropertyId::AuthenticationData),
            Some(Property::AuthenticationData(&[1, 2]))
        );
        let alone = PropertyError::NotAllowed(0x16);
        assert_eq!(
            perr(&bytes[4..], Context::Auth),
            DecodeError::Property(alone)
        );
        let list = [Property::AuthenticationData(b"x")];
        assert_eq!(
            Properties::from_list(&list).check(Context::Connack),
            Err(EncodeError::Property(alone))
        );
        assert_eq!(
            PropertyId::AuthenticationData.value_type(),
            ValueType::Binary
        );
    }

    #[test]
    fn values_out_of_range() {
        #[rustfmt::skip]
        let cases: &[(Context, &[u8])] = &[
            (Context::Publish, &[0x01, 0x02]), // payload format 2
            (Context::Connect, &[0x17, 0x02]), // request problem information 2
            (Context::Connect, &[0x19, 0x02]), // request response information 2
            (Context::Connack, &[0x24, 0x02]), // maximum QoS 2
            (Context::Connack, &[0x25, 0x02]), // retain available 2
            (Context::Connack, &[0x28, 0x02]), // wildcard subscription available 2
            (Context::Connack, &[0x29, 0xFF]), // subscription identifier available 255
            (Context::Connack, &[0x2A, 0x02]), // shared subscription available 2
            (Context::Connect, &[0x21, 0x00, 0x00]), // receive maximum 0
            (Context::Connack, &[0x27, 0x00, 0x00, 0x00, 0x00]), // maximum packet size 0
            (Context::Publish, &[0x23, 0x00, 0x00]), // topic alias 0
            (Context::Subscribe, &[0x0B, 0x00]), // subscription identifier 0
            (Context::Subscribe, &[0x0B, 0x80, 0x00]), // subscription identifier 0, non-minimal
        ];
        for &(ctx, bytes) in cases {
            let err = PropertyError::BadValue(bytes[0]);
            assert_eq!(perr(bytes, ctx), DecodeError::Property(err), "{bytes:02x?}");
        }
        let list = [Property::SubscriptionIdentifier(MAX_VAR_INT + 1)];
        assert_eq!(
            Properties::from_list(&list).check(Context::Subscribe),
            Err(EncodeError::Property(PropertyError::BadValue(0x0B)))
        );
        let list = [Property::ContentType("a\0")];
        assert_eq!(
            Properties::from_list(&list).check(Context::Publish),
            Err(EncodeError::Property(PropertyError::BadValue(0x03)))
        );
    }

    #[test]
    fn malformed_lists() {
        let ctx = Context::Publish;
        for id in [0x00, 0x04, 0x0A, 0x14, 0x2B, 0x7F] {
            let err = PropertyError::Unknown(id);
            assert_eq!(perr(&[id, 0x00], ctx), DecodeError::Property(err));
        }
        // Identifier 128, a 2-byte variable byte integer: unknown.
        let err = PropertyError::Unknown(0x80);
        assert_eq!(perr(&[0x80, 0x01, 0x00], ctx), DecodeError::Property(err));
        // Subscription identifier over 4 bytes.
        assert_eq!(
            perr(&[0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], ctx),
            DecodeError::BadVarInt
        );
        // Strings: invalid UTF-8, U+0000.
        assert_eq!(perr(&[0x03, 0x00, 0x01, 0xFF], ctx), DecodeError::BadUtf8);
        assert_eq!(perr(&[0x03, 0x00, 0x01, 0x00], ctx), DecodeError::BadUtf8);
        // A user property with its value missing.
        assert_eq!(
            perr(&[0x26, 0x00, 0x01, b'k'], ctx),
            DecodeError::BadLength(PacketType::Publish)
        );
    }

    #[test]
    fn repeated_where_allowed() {
        #[rustfmt::skip]
        let bytes = [
            0x0B, 0x01, // subscription identifier 1
            0x26, 0x00, 0x01, b'a', 0x00, 0x00, // user property "a" = ""
            0x0B, 0x02, // subscription identifier 2
            0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // user property "a" = "b"
        ];
        let props = Properties::parse(&bytes, Context::Publish).unwrap();
        assert_eq!(props.subscription_identifiers().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            props.user_properties().collect::<Vec<_>>(),
            [("a", ""), ("a", "b")]
        );
        assert_eq!(props.topic_alias(), None);
        assert_eq!(props.reason_string(), None);
        // Only one subscription identifier in SUBSCRIBE.
        assert_eq!(
            perr(&bytes, Context::Subscribe),
            DecodeError::Property(PropertyError::Repeated(0x0B))
        );
    }

    #[test]
    fn encoder() {
        let list = [
            Property::ReasonString("why"),
            Property::UserProperty(("k", "v")),
        ];
        let props = Properties::from_list(&list);
        #[rustfmt::skip]
        let want = [
            0x0D, // property length 13
            0x1F, 0x00, 0x03, b'w', b'h', b'y', // reason string "why"
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property k = v
        ];
        let mut out = [0u8; 14];
        assert_eq!(props.encode(Context::Ack, &mut out), Ok(14));
        assert_eq!(out, want);
        assert_eq!(
            props.encode(Context::Ack, &mut out[..13]),
            Err(EncodeError::BufferTooSmall { needed: 14 })
        );
        assert_eq!(Properties::EMPTY.encode(Context::Ack, &mut out), Ok(1));
        assert_eq!(out[0], 0x00);
        assert!(Properties::EMPTY.is_empty() && Properties::default().is_empty());
        let parsed = Properties::parse(&want[1..], Context::Ack).unwrap();
        assert_eq!(parsed, props);
        assert_eq!(parsed.reason_string(), Some("why"));
        // A property list longer than a variable byte integer can say.
        let long = "x".repeat(65_535);
        let many = std::vec![Property::UserProperty((&long, &long)); 2049];
        assert_eq!(
            Properties::from_list(&many).encoded_len(),
            Err(EncodeError::TooLong)
        );
    }
}
