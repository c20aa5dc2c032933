//! Lists with a hard length cap enforced while the body is read: serde stops at the
//! first element past the cap, so a request cannot make the server build (or validate,
//! or de-duplicate) a list of a hundred thousand items before it is refused. The caps are
//! work bounds, well above each field's documented limit, which validation still checks
//! with a precise field error.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

/// A `Vec<T>` of at most `MAX` items, as JSON a plain array.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> Default for Bounded<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T, const MAX: usize> Bounded<T, MAX> {
    /// `None` when `items` is over the cap.
    pub fn new(items: Vec<T>) -> Option<Self> {
        (items.len() <= MAX).then_some(Self(items))
    }

    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> Deref for Bounded<T, MAX> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Serialize, const MAX: usize> Serialize for Bounded<T, MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for Bounded<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Capped<T, const MAX: usize>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for Capped<T, MAX> {
            type Value = Bounded<T, MAX>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {MAX} items")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX));
                while let Some(item) = seq.next_element()? {
                    if items.len() == MAX {
                        return Err(de::Error::custom(format_args!(
                            "an array in the body has more than {MAX} items"
                        )));
                    }
                    items.push(item);
                }
                Ok(Bounded(items))
            }
        }

        deserializer.deserialize_seq(Capped(PhantomData))
    }
}

/// A JSON object of at most `MAX` keys, refused while the body is read past that.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BoundedMap<const MAX: usize>(serde_json::Map<String, serde_json::Value>);

impl<const MAX: usize> BoundedMap<MAX> {
    pub fn into_inner(self) -> serde_json::Map<String, serde_json::Value> {
        self.0
    }
}

impl<const MAX: usize> Deref for BoundedMap<MAX> {
    type Target = serde_json::Map<String, serde_json::Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for BoundedMap<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(Capped::<MAX>)
    }
}

/// For an optional field that must be a JSON object of at most `MAX` keys: `null` is
/// absent; an object is capped while reading; anything else (an array, a string, …) is
/// skimmed without being built and comes back as `Some(null)`, so validation can name
/// the field precisely.
pub fn object_or_null<'de, D: Deserializer<'de>, const MAX: usize>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    struct Skim<const MAX: usize>;

    const NOT_AN_OBJECT: Option<serde_json::Value> = Some(serde_json::Value::Null);

    impl<'de, const MAX: usize> Visitor<'de> for Skim<MAX> {
        type Value = Option<serde_json::Value>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a JSON object of at most {MAX} keys")
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Capped::<MAX>
                .visit_map(map)
                .map(|m| Some(serde_json::Value::Object(m.into_inner())))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(NOT_AN_OBJECT)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(NOT_AN_OBJECT)
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(NOT_AN_OBJECT)
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(NOT_AN_OBJECT)
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(NOT_AN_OBJECT)
        }

        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(NOT_AN_OBJECT)
        }
    }

    deserializer.deserialize_any(Skim::<MAX>)
}

struct Capped<const MAX: usize>;

impl<'de, const MAX: usize> Visitor<'de> for Capped<MAX> {
    type Value = BoundedMap<MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object of at most {MAX} keys")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            if out.len() == MAX {
                return Err(de::Error::custom(format_args!(
                    "an object in the body has more than {MAX} keys"
                )));
            }
            out.insert(key, value);
        }
        Ok(BoundedMap(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_over_its_cap_is_refused_while_reading() {
        let ok: Bounded<u8, 3> = serde_json::from_str("[1,2,3]").unwrap();
        assert_eq!(&*ok, &[1, 2, 3]);
        let err = serde_json::from_str::<Bounded<u8, 3>>("[1,2,3,4]").unwrap_err();
        assert!(err.to_string().contains("more than 3 items"), "{err}");
        assert_eq!(serde_json::to_string(&ok).unwrap(), "[1,2,3]");
    }

    #[test]
    fn an_object_over_its_cap_is_refused_while_reading() {
        let ok: BoundedMap<2> = serde_json::from_str(r#"{"a":1,"b":2}"#).unwrap();
        assert_eq!(ok.len(), 2);
        let err = serde_json::from_str::<BoundedMap<2>>(r#"{"a":1,"b":2,"c":3}"#).unwrap_err();
        assert!(err.to_string().contains("more than 2 keys"), "{err}");
    }
}
