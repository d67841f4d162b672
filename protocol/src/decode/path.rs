//! The field a decoding failure happened at, tracked on the way down.
//!
//! [`Tracked`] wraps any serde `Deserializer` and steps in only where a path
//! grows: structs (and maps) and sequences. Everything else is handed to the
//! wrapped deserializer as it is (a failure inside an `Option` of a struct
//! is reported at the option's field). A failure is recorded once,
//! by the deepest place that sees it, in the shared `failed` cell.
//!
//! Why not serde_path_to_error, which does this for every visitor method of
//! every type: measured on this SDK, it made the wasm 12.6 KB gzipped larger;
//! this is the part of it the wire shapes need.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Where a value sits, from the root: a list on the stack.
pub enum Chain<'a> {
    Root,
    Field(&'a Chain<'a>, &'a str),
    Index(&'a Chain<'a>, usize),
}

impl fmt::Display for Chain<'_> {
    /// `capabilities.tracks[0].kind`; `.` for the root.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chain::Root => f.write_str("."),
            Chain::Field(Chain::Root, key) => f.write_str(key),
            Chain::Field(parent, key) => write!(f, "{parent}.{key}"),
            Chain::Index(parent, index) => write!(f, "{parent}[{index}]"),
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

fn mark<T, E>(result: Result<T, E>, at: &Chain<'_>, failed: &Cell<Option<String>>) -> Result<T, E> {
    if result.is_err() {
        record(at, failed);
    }
    result
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

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let result = self.de.deserialize_seq(Wrap { visitor, at: self.at, failed: self.failed });
        mark(result, self.at, self.failed)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let result = self.de.deserialize_map(Wrap { visitor, at: self.at, failed: self.failed });
        mark(result, self.at, self.failed)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let result = self.de.deserialize_struct(name, fields, Wrap { visitor, at: self.at, failed: self.failed });
        mark(result, self.at, self.failed)
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

/// A visitor whose maps and sequences hand out tracked parts.
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

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<V::Value, S::Error> {
        self.visitor.visit_seq(Seq { seq, at: self.at, failed: self.failed, index: 0 })
    }
}

struct Map<'a, M> {
    map: M,
    at: &'a Chain<'a>,
    failed: &'a Cell<Option<String>>,
    /// The key just read, for the value's place.
    key: Option<String>,
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for Map<'_, M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, M::Error> {
        self.map.next_key_seed(Key { seed, key: &mut self.key })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, M::Error> {
        let key = self.key.take().unwrap_or_default();
        let at = Chain::Field(self.at, &key);
        let result = self.map.next_value_seed(Seed { seed, at: &at, failed: self.failed });
        mark(result, &at, self.failed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

struct Seq<'a, S> {
    seq: S,
    at: &'a Chain<'a>,
    failed: &'a Cell<Option<String>>,
    index: usize,
}

impl<'de, S: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, S> {
    type Error = S::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, S::Error> {
        let at = Chain::Index(self.at, self.index);
        self.index += 1;
        let result = self.seq.next_element_seed(Seed { seed, at: &at, failed: self.failed });
        mark(result, &at, self.failed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
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

/// Reads a map key, keeping its text when it is one.
struct Key<'a, K> {
    seed: K,
    key: &'a mut Option<String>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for Key<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyDe { de, key: self.key })
    }
}

struct KeyDe<'a, D> {
    de: D,
    key: &'a mut Option<String>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_any(CaptureKey { visitor, key: self.key })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_identifier(CaptureKey { visitor, key: self.key })
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_str(CaptureKey { visitor, key: self.key })
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_string(CaptureKey { visitor, key: self.key })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf option unit unit_struct
        newtype_struct seq tuple tuple_struct map struct enum ignored_any
    }
}

struct CaptureKey<'a, V> {
    visitor: V,
    key: &'a mut Option<String>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for CaptureKey<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        *self.key = Some(v.to_owned());
        self.visitor.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        *self.key = Some(v.to_owned());
        self.visitor.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        *self.key = Some(v.clone());
        self.visitor.visit_string(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.visitor.visit_u64(v)
    }
}
