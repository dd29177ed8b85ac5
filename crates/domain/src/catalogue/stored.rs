//! Fast decoding of stored fields: a serde visitor that writes typed values
//! straight into their slots, for the recompute hot path.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::{FieldType, Fields, Item, Value};
use crate::dates::parse_date;

pub(super) struct FieldsSeed<'a>(pub &'a Item);

/// A string that borrows from the input when it has no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = Fields;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Fields, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a fields object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let item = self.0;
        let mut out: Vec<Option<Value>> = vec![None; item.fields.len()];
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let Some(i) = item.field_index(&key.0) else {
                map.next_value::<IgnoredAny>()?;
                return Err(de::Error::custom(format!(
                    "item {} has no field `{}`",
                    item.code, key.0
                )));
            };
            let bad = |what: &str| {
                de::Error::custom(format!("field `{}` is not {what}", item.fields[i].name))
            };
            let v = match item.fields[i].ty {
                FieldType::Int => Value::Int(map.next_value()?),
                FieldType::Bool => Value::Bool(map.next_value()?),
                FieldType::Decimal => {
                    let t: Text<'de> = map.next_value()?;
                    Value::Decimal(Decimal::from_str(&t.0).map_err(|_| bad("a decimal"))?)
                }
                FieldType::Date => {
                    let t: Text<'de> = map.next_value()?;
                    Value::Date(parse_date(&t.0).ok_or_else(|| bad("a date"))?)
                }
                FieldType::Enum
                | FieldType::String
                | FieldType::RegionCode
                | FieldType::Template => {
                    let t: Text<'de> = map.next_value()?;
                    Value::Text(t.0.into())
                }
            };
            out[i] = Some(v);
        }
        if let Some(spec) = item
            .fields
            .iter()
            .zip(&out)
            .find(|(s, v)| s.required && v.is_none())
            .map(|(s, _)| s)
        {
            return Err(de::Error::custom(format!(
                "required field `{}` is missing",
                spec.name
            )));
        }
        Ok(Fields(out.into_boxed_slice()))
    }
}
