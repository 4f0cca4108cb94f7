//! The MQTT 5 property section as the packet families see it: `read`,
//! `len`, `check` and `write` take the [`Version`] and do nothing for 3.1.1.
//!
//! With the `mqtt5` feature, [`Props`] is [`Properties`](super::properties::Properties)
//! and the section is a variable byte integer length followed by the
//! properties, validated for the packet ([`Context`]).  Without it, `Props`
//! is a zero-sized stand-in and every function here is a constant, so the
//! 3.1.1 code compiles to what it was before MQTT 5 existed.

use super::codec::{Reader, Writer};
use super::{DecodeError, EncodeError, Version};

/// Where a property list sits: which properties it may hold
/// (MQTT 5 section 2.2.2.2).  PUBACK, PUBREC, PUBREL and PUBCOMP share
/// [`Context::Ack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "mqtt5"), allow(dead_code))]
#[repr(u8)]
pub enum Context {
    Connect,
    /// The will properties inside CONNECT.
    Will,
    Connack,
    Publish,
    /// PUBACK, PUBREC, PUBREL, PUBCOMP.
    Ack,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Disconnect,
    Auth,
}

#[cfg(feature = "mqtt5")]
pub(crate) use super::properties::Properties as Props;

/// Without MQTT 5 a packet has no properties: this zero-sized type stands
/// in for them.
#[cfg(not(feature = "mqtt5"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Props<'a>(core::marker::PhantomData<&'a [u8]>);

#[cfg(not(feature = "mqtt5"))]
impl Props<'_> {
    pub(crate) const EMPTY: Self = Props(core::marker::PhantomData);

    pub(crate) fn topic_alias(&self) -> Option<u16> {
        None
    }

    pub(crate) fn is_empty(&self) -> bool {
        true
    }
}

/// The property section at the reader's position (MQTT 5), validated for
/// `ctx`; empty for 3.1.1.
///
/// # Errors
/// A truncated section, or a [`DecodeError::Property`]-style rule broken.
#[inline(always)]
pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    v: Version,
    ctx: Context,
) -> Result<Props<'a>, DecodeError> {
    if !v.is_v5() {
        return Ok(Props::EMPTY);
    }
    #[cfg(feature = "mqtt5")]
    {
        let len = usize::try_from(r.var_int()?).map_err(|_| DecodeError::BadVarInt)?;
        let ty = r.packet_type();
        Props::parse_for(r.bytes(len)?, ty, ctx)
    }
    #[cfg(not(feature = "mqtt5"))]
    {
        let _ = (r, ctx);
        Ok(Props::EMPTY)
    }
}

/// Encoded size of the section, length prefix included (0 for 3.1.1).
///
/// # Errors
/// [`EncodeError::TooLong`].
#[inline(always)]
pub(crate) fn len(p: &Props<'_>, v: Version) -> Result<usize, EncodeError> {
    if !v.is_v5() {
        return Ok(0);
    }
    #[cfg(feature = "mqtt5")]
    {
        let n = p.encoded_len()?;
        super::codec::add_len(n, super::remaining_len_size(n))
    }
    #[cfg(not(feature = "mqtt5"))]
    {
        let _ = p;
        Ok(0)
    }
}

/// Check a section before encoding it in `ctx` (nothing for 3.1.1).
///
/// # Errors
/// The first property not allowed, repeated or out of range.
#[inline(always)]
pub(crate) fn check(p: &Props<'_>, v: Version, ctx: Context) -> Result<(), EncodeError> {
    if !v.is_v5() {
        return Ok(());
    }
    #[cfg(feature = "mqtt5")]
    {
        p.check(ctx)
    }
    #[cfg(not(feature = "mqtt5"))]
    {
        let _ = (p, ctx);
        Ok(())
    }
}

/// Write the section (nothing for 3.1.1).
///
/// # Errors
/// [`EncodeError::BufferTooSmall`], [`EncodeError::TooLong`].
#[inline(always)]
pub(crate) fn write(w: &mut Writer<'_>, p: &Props<'_>, v: Version) -> Result<(), EncodeError> {
    if !v.is_v5() {
        return Ok(());
    }
    #[cfg(feature = "mqtt5")]
    {
        p.write(w)
    }
    #[cfg(not(feature = "mqtt5"))]
    {
        let _ = (w, p);
        Ok(())
    }
}
