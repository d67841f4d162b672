//! The field a decoding failure happened at, tracked on the way down.
//!
//! [`Tracked`] wraps any serde `Deserializer` and steps in only where a path
//! grows: structs (and maps). Everything else is handed to the wrapped
//! deserializer as it is, so a failure inside a list or an `Option` is
//! reported at the list's or the option's field (`capabilities.tracks`);
//! tracking list indices too cost the wasm 1.5 KB gzipped more. A failure is recorded once,
//! by the deepest place that sees it, in the shared `failed` cell.
//!
//! Why not serde_path_to_error, which does this for every visitor method of
//! every type: measured on this SDK, it made the wasm 12.6 KB gzipped larger;
//! this is the part of it the wire shapes need.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

/// Where a value sits, from the root: a list on the stack.
pub enum Chain<'a> {
    Root,
    Field(&'a Chain<'a>, &'a str),
}

impl fmt::Display for Chain<'_> {
    /// `capabilities.tracks`; `.` for the root.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chain::Root => f.write_str("."),
            Chain::Field(Chain::Root, key) => f.write_str(key),
            Chain::Field(parent, key) => write!(f, "{parent}.{key}"),
        }
    }
}

/// Records `at` as the failure's place unless a deeper place already did.
/// Not generic and not inlined: the one copy serves every type.
#[inline(never)]
fn record(at: &Chain<'_>, failed: &Cell<Option<String>>) {
    let deeper = failed.take();
    failed.set(Some(deeper.unwrap_or_else(|| at.to_string())));
}

/// A deserializer that knows where it is.
pub struct Tracked<'a, D> {
    de: D,
    at: &'a Chain<'a>,
    failed: &'a Cell<Option<String>>,
}

impl<'a, D> Tracked<'a, D> {
    pub fn new(de: D, at: &'a Chain<'a>, failed: &'a Cell<Option<String>>) -> Self {
        Tracked { de, at, failed }
    }
}

macro_rules! forward {
    ($($method:ident),*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method(visitor)
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tracked<'_, D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_seq,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any,
        deserialize_option
    );

    // A struct's own failure (not an object, a field missing) is recorded by
    // the map that holds it, at this same place, or is the root's.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_map(Wrap { visitor, at: self.at, failed: self.failed })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_struct(name, fields, Wrap { visitor, at: self.at, failed: self.failed })
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// A visitor whose maps hand out tracked parts.
struct Wrap<'a, V> {
    visitor: V,
    at: &'a Chain<'a>,
    failed: &'a Cell<Option<String>>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<V::Value, M::Error> {
        self.visitor.visit_map(Map { map, at: self.at, failed: self.failed, key: None })
    }
}

struct Map<'a, M> {
    map: M,
    at: &'a Chain<'a>,
    failed: &'a Cell<Option<String>>,
    /// The key just read, for the value's place.
    key: Option<String>,
}

impl<'de, M: MapAccess<'de>> Map<'_, M> {
    /// The next key, kept. Generic over the map only, not the struct: one
    /// copy of this and of the wrapped map's key reader serves every struct.
    #[inline(never)]
    fn read_key(&mut self) -> Result<Option<&str>, M::Error> {
        let Some(key) = self.map.next_key::<String>()? else { return Ok(None) };
        Ok(Some(self.key.insert(key)))
    }
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for Map<'_, M> {
    type Error = M::Error;

    /// The key is read as text, kept for the value's place, and handed to
    /// the struct's own key seed.
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, M::Error> {
        match self.read_key()? {
            Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, M::Error> {
        let at = Chain::Field(self.at, self.key.as_deref().unwrap_or_default());
        let result = self.map.next_value_seed(Seed { seed, at: &at, failed: self.failed });
        if result.is_err() {
            record(&at, self.failed);
        }
        result
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// Deserializes a part through a [`Tracked`] at its place.
struct Seed<'a, S> {
    seed: S,
    at: &'a Chain<'a>,
    failed: &'a Cell<Option<String>>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Tracked { de, at: self.at, failed: self.failed })
    }
}
