//! Numbers as Tencent writes them: some pages send a number as a JSON string
//! (`"EventTime":"1670574414123"` in the group pages' samples), others as a number; both are read.
//! Used with `#[serde(deserialize_with = "…")]` on the event types' integer fields.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

/// An integer field: a JSON integer, or a string holding one (`" 12"`, `"1e3"`, `"1.0"` are not).
pub(crate) fn int<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + TryFrom<i64>,
{
    deserializer.deserialize_any(Int(PhantomData))
}

/// An optional integer field (`null` is `None`): as [`int`].
pub(crate) fn opt_int<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + TryFrom<i64>,
{
    struct Opt<T>(PhantomData<T>);
    impl<'de, T: TryFrom<u64> + TryFrom<i64>> Visitor<'de> for Opt<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, a string holding one, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            int(d).map(Some)
        }
    }
    deserializer.deserialize_option(Opt(PhantomData))
}

struct Int<T>(PhantomData<T>);

impl<T: TryFrom<u64> + TryFrom<i64>> Visitor<'_> for Int<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom("integer out of range"))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom("integer out of range"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        let digits = v.strip_prefix('-').unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom("expected an integer in a string"));
        }
        if v.starts_with('-') {
            let n: i64 = v.parse().map_err(|_| E::custom("integer out of range"))?;
            self.visit_i64(n)
        } else {
            let n: u64 = v.parse().map_err(|_| E::custom("integer out of range"))?;
            self.visit_u64(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(deserialize_with = "super::int", default)]
        a: u64,
        #[serde(deserialize_with = "super::int", default)]
        b: i32,
        #[serde(deserialize_with = "super::opt_int", default)]
        c: Option<u32>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numbers_and_numeric_strings_are_read_and_nothing_else() {
        assert_eq!(
            t(r#"{"a":"1670574414123","b":-5,"c":"7"}"#).unwrap(),
            T {
                a: 1_670_574_414_123,
                b: -5,
                c: Some(7)
            }
        );
        assert_eq!(
            t(r#"{"a":1,"b":"-2","c":null}"#).unwrap(),
            T {
                a: 1,
                b: -2,
                c: None
            }
        );
        assert_eq!(
            t(r#"{}"#).unwrap(),
            T {
                a: 0,
                b: 0,
                c: None
            }
        );
        for bad in [
            r#"{"a":-1}"#,
            r#"{"a":"x"}"#,
            r#"{"a":""}"#,
            r#"{"a":" 1"}"#,
            r#"{"a":"1.0"}"#,
            r#"{"a":1.5}"#,
            r#"{"a":"18446744073709551616"}"#,
            r#"{"b":3000000000}"#,
            r#"{"c":"-1"}"#,
            r#"{"a":true}"#,
            r#"{"a":"-"}"#,
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }
}
