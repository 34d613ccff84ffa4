//! Numbers as Tencent writes them: some pages send a number as a JSON string
//! (`"EventTime":"1670574414123"` in the group pages' samples), others as a number; both are read.
//! Used with `#[serde(deserialize_with = "…")]` on the event types' integer fields; accounts
//! likewise, which some pages send as numbers.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

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

/// An optional floating-point field (`null` is `None`): a JSON number, or a string holding a
/// finite decimal number (`"22.5"`).
pub(crate) fn opt_float<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    struct Float;
    impl<'de> Visitor<'de> for Float {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, a string holding one, or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<f64>, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<f64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<f64>, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<f64>, E> {
            Ok(Some(v))
        }
        #[allow(clippy::cast_precision_loss)]
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<f64>, E> {
            Ok(Some(v as f64))
        }
        #[allow(clippy::cast_precision_loss)]
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<f64>, E> {
            Ok(Some(v as f64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<f64>, E> {
            let plain = !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
            match v.parse::<f64>() {
                Ok(n) if plain && n.is_finite() => Ok(Some(n)),
                _ => Err(E::custom("expected a decimal number in a string")),
            }
        }
    }
    deserializer.deserialize_any(Float)
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

/// An account field (a UserID): a JSON string, or an integer written as its decimal digits (the
/// Live pages' samples send `Owner_Account` and `Member_Account` as numbers).
pub(crate) fn account<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(Account)
}

/// An optional account field (`null` is `None`): as [`account`].
pub(crate) fn opt_account<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::<AccountValue>::deserialize(deserializer).map(|v| v.map(|v| v.0))
}

struct AccountValue(String);

impl<'de> Deserialize<'de> for AccountValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        account(deserializer).map(AccountValue)
    }
}

struct Account;

impl Visitor<'_> for Account {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a UserID: a string or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
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

    #[derive(Deserialize, Debug, PartialEq)]
    struct A {
        #[serde(deserialize_with = "super::account", default)]
        a: String,
        #[serde(deserialize_with = "super::opt_account", default)]
        b: Option<String>,
    }

    #[test]
    fn accounts_are_strings_or_integers() {
        let a: A = serde_json::from_str(r#"{"a":144115216631667826,"b":"x"}"#).unwrap();
        assert_eq!(
            a,
            A {
                a: "144115216631667826".into(),
                b: Some("x".into())
            }
        );
        let a: A = serde_json::from_str(r#"{"a":"y","b":-3}"#).unwrap();
        assert_eq!(
            a,
            A {
                a: "y".into(),
                b: Some("-3".into())
            }
        );
        let a: A = serde_json::from_str(r#"{"b":null}"#).unwrap();
        assert_eq!(
            a,
            A {
                a: String::new(),
                b: None
            }
        );
        for bad in [
            r#"{"a":1.5}"#,
            r#"{"a":true}"#,
            r#"{"a":[]}"#,
            r#"{"b":{}}"#,
        ] {
            assert!(serde_json::from_str::<A>(bad).is_err(), "{bad}");
        }
    }
}
