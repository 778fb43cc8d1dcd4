//! `enum_with_unknown!`: a code-point enum that keeps values it does not know.

/// Declares a `Copy` enum over an integer type with an `Unknown(value)` variant, conversions
/// both ways, and `Display` that prints the protocol's own name for the code point
/// (the optional `=> "NAME"`, else the variant name) or `Unknown(n)`.
///
/// ```text
/// enum_with_unknown! {
///     /// EAP codes (RFC 3748 §4).
///     pub enum Code(u8) {
///         Request = 1 => "Request",
///         Response = 2,
///     }
/// }
/// ```
#[macro_export]
macro_rules! enum_with_unknown {
    (
        $( #[$enum_attr:meta] )*
        pub enum $name:ident($ty:ty) {
            $(
                $( #[$variant_attr:meta] )*
                $variant:ident = $value:expr $( => $label:literal )?
            ),+ $(,)?
        }
    ) => {
        $( #[$enum_attr] )*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $(
                $( #[$variant_attr] )*
                $variant
            ),*,
            /// A code point this implementation does not know; kept so re-encoding is exact.
            Unknown($ty),
        }

        impl ::core::convert::From<$ty> for $name {
            #[inline]
            fn from(value: $ty) -> Self {
                match value {
                    $( v if v == $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
        }

        impl ::core::convert::From<$name> for $ty {
            #[inline]
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl $name {
            /// The protocol's name for this code point, `None` when unknown.
            pub fn name(&self) -> ::core::option::Option<&'static str> {
                match self {
                    $( $name::$variant => ::core::option::Option::Some(
                        $crate::__label!($variant $(, $label)?)), )*
                    $name::Unknown(_) => ::core::option::Option::None,
                }
            }
            /// The numeric code point.
            #[inline]
            pub fn value(&self) -> $ty {
                <$ty>::from(*self)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    ::core::option::Option::Some(n) => f.write_str(n),
                    ::core::option::Option::None => write!(f, "Unknown({})", <$ty>::from(*self)),
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __label {
    ($variant:ident) => {
        stringify!($variant)
    };
    ($variant:ident, $label:literal) => {
        $label
    };
}

#[cfg(test)]
mod tests {
    enum_with_unknown! {
        /// test enum
        pub enum Demo(u8) {
            A = 1 => "AAA",
            B = 2,
        }
    }

    #[test]
    fn round_trip_and_names() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(Demo::from(v)), v);
        }
        assert_eq!(Demo::from(1), Demo::A);
        assert_eq!(Demo::A.to_string(), "AAA");
        assert_eq!(Demo::B.to_string(), "B");
        assert_eq!(Demo::from(9).to_string(), "Unknown(9)");
        assert_eq!(Demo::from(9).name(), None);
    }
}
