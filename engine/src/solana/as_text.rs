//! Serde helpers that write addresses, hashes and signatures as their base58 text (their
//! `Display`/`FromStr` forms) instead of byte arrays, in every JSON this crate produces or reads.
//! Use with `#[serde(with = "as_text")]`, or `as_text::option`, `as_text::vec`,
//! `as_text::option_vec`.

use std::fmt::Display;
use std::str::FromStr;

use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

pub fn serialize<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    T::from_str(&text).map_err(|e| D::Error::custom(format!("{text:?}: {e}")))
}

pub mod option {
    use super::*;

    pub fn serialize<T: Display, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.collect_str(value),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        Option::<String>::deserialize(deserializer)?
            .map(|text| T::from_str(&text).map_err(|e| D::Error::custom(format!("{text:?}: {e}"))))
            .transpose()
    }
}

pub mod vec {
    use super::*;

    pub fn serialize<T: Display, S: Serializer>(
        values: &[T],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(ToString::to_string))
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Vec<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        Vec::<String>::deserialize(deserializer)?
            .into_iter()
            .map(|text| T::from_str(&text).map_err(|e| D::Error::custom(format!("{text:?}: {e}"))))
            .collect()
    }
}

pub mod option_vec {
    use super::*;

    pub fn serialize<T: Display, S: Serializer>(
        values: &Option<Vec<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match values {
            Some(values) => super::vec::serialize(values, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        Option::<Vec<String>>::deserialize(deserializer)?
            .map(|texts| {
                texts
                    .into_iter()
                    .map(|text| {
                        T::from_str(&text).map_err(|e| D::Error::custom(format!("{text:?}: {e}")))
                    })
                    .collect()
            })
            .transpose()
    }
}
