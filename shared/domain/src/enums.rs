//! [`string_enum!`]: the one way a closed list maps to and from its wire name.
//!
//! Every enum the API publishes (scopes, plans, statuses, event types) is declared with
//! it, so each gets the same `ALL`, `as_str`, `Display`, `FromStr`, serde and PostgreSQL
//! (as text) behaviour. Reading a stored value that is not in the list is an error, never
//! a plausible default: a corrupt row must surface as one.

use std::fmt;

/// A name that is not in an enum's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// The enum's name, e.g. `ContactStatus`.
    pub kind: &'static str,
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.kind, self.name)
    }
}

impl std::error::Error for UnknownName {}

/// Declares `pub enum Name { Variant = "wire_name", … }` with `ALL`, `as_str`,
/// `Display`, `FromStr` (error [`UnknownName`]), serde as the wire name, and PostgreSQL
/// `text`/`varchar` conversions.
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err($crate::UnknownName {
                        kind: stringify!($name),
                        name: other.to_string(),
                    }),
                }
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let name = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                name.parse().map_err(|_| {
                    <D::Error as $crate::__private::serde::de::Error>::unknown_variant(
                        &name,
                        &[$($wire),+],
                    )
                })
            }
        }

        impl<'a> $crate::__private::postgres_types::FromSql<'a> for $name {
            fn from_sql(
                ty: &$crate::__private::postgres_types::Type,
                raw: &'a [u8],
            ) -> ::std::result::Result<Self, Box<dyn ::std::error::Error + Sync + Send>> {
                let name = <&str as $crate::__private::postgres_types::FromSql>::from_sql(ty, raw)?;
                Ok(name.parse::<$name>()?)
            }

            fn accepts(ty: &$crate::__private::postgres_types::Type) -> bool {
                <&str as $crate::__private::postgres_types::FromSql>::accepts(ty)
            }
        }

        impl $crate::__private::postgres_types::ToSql for $name {
            fn to_sql(
                &self,
                ty: &$crate::__private::postgres_types::Type,
                out: &mut $crate::__private::postgres_types::private::BytesMut,
            ) -> ::std::result::Result<
                $crate::__private::postgres_types::IsNull,
                Box<dyn ::std::error::Error + Sync + Send>,
            > {
                <&str as $crate::__private::postgres_types::ToSql>::to_sql(&self.as_str(), ty, out)
            }

            fn accepts(ty: &$crate::__private::postgres_types::Type) -> bool {
                <&str as $crate::__private::postgres_types::ToSql>::accepts(ty)
            }

            $crate::__private::postgres_types::to_sql_checked!();
        }
    };
}

#[cfg(test)]
mod tests {
    crate::string_enum! {
        /// A test enum.
        pub enum Colour {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn names_round_trip_through_every_form() {
        for colour in Colour::ALL {
            assert_eq!(colour.as_str().parse::<Colour>(), Ok(*colour));
            assert_eq!(colour.to_string(), colour.as_str());
            let json = serde_json::to_string(colour).unwrap();
            assert_eq!(json, format!("\"{}\"", colour.as_str()));
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), *colour);
        }
    }

    #[test]
    fn an_unknown_name_is_an_error_naming_the_enum_and_the_value() {
        let err = "blue".parse::<Colour>().unwrap_err();
        assert_eq!(err.to_string(), "unknown Colour \"blue\"");
        let err = serde_json::from_str::<Colour>("\"blue\"").unwrap_err();
        assert!(err.to_string().contains("dark_blue"), "{err}");
    }
}
