//! The config keys the code accepts, read from the serde structs themselves.
//!
//! [`walk`] runs a type's `Deserialize` impl against a deserializer that answers every
//! `deserialize_struct` with the struct's own field list (serde passes it) and every leaf with a
//! placeholder, recording the dotted path of each leaf and its type. Nothing is listed by hand: a
//! field added to a `Raw*` struct shows up here, in the environment overrides and in the test
//! that checks `config/niryat.toml` documents every key.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

/// What a leaf key holds, as far as its serde type tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    Bool,
    Integer,
    Float,
    /// Strings, paths, durations, URLs.
    String,
    /// An array (e.g. `search`).
    Array,
    /// A table of arbitrary keys, or a value serde reads by self-description.
    Other,
}

/// Every leaf key of `T` as `(dotted.path, type)`, in declaration order.
pub fn walk<'de, T: de::Deserialize<'de>>(prefix: &str) -> Vec<(String, Leaf)> {
    let mut out = Vec::new();
    // The placeholders always satisfy the visitors; a type serde cannot walk yields fewer keys,
    // which the reference test would notice.
    let _ = T::deserialize(Walker {
        path: prefix.to_owned(),
        out: &mut out,
    });
    out
}

struct Walker<'a> {
    path: String,
    out: &'a mut Vec<(String, Leaf)>,
}

#[derive(Debug)]
pub struct WalkError(String);

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for WalkError {}
impl de::Error for WalkError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

impl Walker<'_> {
    fn leaf(self, kind: Leaf) {
        self.out.push((self.path, kind));
    }
}

macro_rules! leaf {
    ($($method:ident => $kind:ident, $visit:ident($($value:expr)?);)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
            self.leaf(Leaf::$kind);
            visitor.$visit($($value)?)
        })*
    };
}

impl<'de> Deserializer<'de> for Walker<'_> {
    type Error = WalkError;

    leaf! {
        deserialize_bool => Bool, visit_bool(true);
        deserialize_i8 => Integer, visit_i64(1);
        deserialize_i16 => Integer, visit_i64(1);
        deserialize_i32 => Integer, visit_i64(1);
        deserialize_i64 => Integer, visit_i64(1);
        deserialize_u8 => Integer, visit_u64(1);
        deserialize_u16 => Integer, visit_u64(1);
        deserialize_u32 => Integer, visit_u64(1);
        deserialize_u64 => Integer, visit_u64(1);
        deserialize_f32 => Float, visit_f64(0.5);
        deserialize_f64 => Float, visit_f64(0.5);
        deserialize_char => String, visit_char('x');
        deserialize_str => String, visit_str("x");
        deserialize_string => String, visit_str("x");
        deserialize_bytes => Other, visit_bytes(b"x");
        deserialize_byte_buf => Other, visit_bytes(b"x");
        deserialize_unit => Other, visit_unit();
        deserialize_identifier => String, visit_str("x");
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        self.leaf(Leaf::Other);
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        visitor.visit_newtype_struct(self)
    }

    /// Arrays are leaves: an empty one.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        self.leaf(Leaf::Array);
        visitor.visit_seq(Empty)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        self.leaf(Leaf::Other);
        visitor.visit_map(Empty)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        visitor.visit_map(Fields {
            fields: fields.iter(),
            current: "",
            path: self.path,
            out: self.out,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        self.deserialize_any(visitor)
    }
}

/// An empty sequence or map.
struct Empty;

impl<'de> SeqAccess<'de> for Empty {
    type Error = WalkError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        _seed: T,
    ) -> Result<Option<T::Value>, WalkError> {
        Ok(None)
    }
}

impl<'de> MapAccess<'de> for Empty {
    type Error = WalkError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        _seed: K,
    ) -> Result<Option<K::Value>, WalkError> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        _seed: V,
    ) -> Result<V::Value, WalkError> {
        Err(de::Error::custom("no value"))
    }
}

/// A struct's fields, each walked under its own path.
struct Fields<'a> {
    fields: std::slice::Iter<'static, &'static str>,
    current: &'static str,
    path: String,
    out: &'a mut Vec<(String, Leaf)>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = WalkError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, WalkError> {
        match self.fields.next() {
            None => Ok(None),
            Some(f) => {
                self.current = f;
                seed.deserialize(IntoDeserializer::<WalkError>::into_deserializer(*f))
                    .map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, WalkError> {
        let path = if self.path.is_empty() {
            self.current.to_owned()
        } else {
            format!("{}.{}", self.path, self.current)
        };
        seed.deserialize(Walker {
            path,
            out: self.out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        a: Option<String>,
        #[serde(default)]
        b: Vec<String>,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        x: u32,
        #[serde(default = "yes")]
        y: bool,
        inner: Option<Inner>,
        path: std::path::PathBuf,
        z: f64,
    }

    fn yes() -> bool {
        true
    }

    #[test]
    fn walks_nested_structs_options_and_arrays() {
        let keys = walk::<Outer>("");
        assert_eq!(
            keys,
            vec![
                ("x".into(), Leaf::Integer),
                ("y".into(), Leaf::Bool),
                ("inner.a".into(), Leaf::String),
                ("inner.b".into(), Leaf::Array),
                ("path".into(), Leaf::String),
                ("z".into(), Leaf::Float),
            ]
        );
        assert_eq!(walk::<Inner>("s")[0].0, "s.a");
    }
}
