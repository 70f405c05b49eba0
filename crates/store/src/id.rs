//! [`SnapshotId`]: the content address of a snapshot.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Length of a snapshot id in hex digits (a blake3 digest, 32 bytes).
pub const SNAPSHOT_ID_LEN: usize = 64;

/// Shortest prefix [`Store::resolve`](crate::Store::resolve) accepts.
pub const MIN_PREFIX_LEN: usize = 8;

/// The id of a snapshot: the blake3 digest of its canonical content, as 64
/// lower-case hex digits (see [`crate::canonical`] for the encoding).
///
/// Two snapshots have the same id exactly when they hold the same content:
/// the same source, `as_of`, department, region, schema version, columns and
/// values, and the same quarantined rows, whatever the row order they came in.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotId(String);

impl SnapshotId {
    /// Parses a full id: exactly 64 hex digits (upper case is accepted and
    /// lowered).
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() != SNAPSHOT_ID_LEN {
            return Err(Error::InvalidId {
                text: text.to_owned(),
                reason: "a snapshot id has 64 hex digits",
            });
        }
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidId {
                text: text.to_owned(),
                reason: "a snapshot id has only hex digits 0-9 a-f",
            });
        }
        Ok(SnapshotId(text.to_ascii_lowercase()))
    }

    pub(crate) fn from_digest(digest: &blake3::Hash) -> Self {
        SnapshotId(digest.to_hex().to_string())
    }

    /// The id as 64 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `n` hex digits, for display (`n` is capped at 64).
    pub fn short(&self, n: usize) -> &str {
        &self.0[..n.min(SNAPSHOT_ID_LEN)]
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SnapshotId({})", self.0)
    }
}

impl FromStr for SnapshotId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        SnapshotId::parse(s)
    }
}

impl AsRef<str> for SnapshotId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for SnapshotId {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SnapshotId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SnapshotId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Checks that `text` can be a prefix of a snapshot id and returns it lowered.
pub(crate) fn parse_prefix(text: &str) -> Result<String> {
    if text.len() < MIN_PREFIX_LEN || text.len() > SNAPSHOT_ID_LEN {
        return Err(Error::InvalidId {
            text: text.to_owned(),
            reason: "a snapshot id or prefix has 8 to 64 hex digits",
        });
    }
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidId {
            text: text.to_owned(),
            reason: "a snapshot id has only hex digits 0-9 a-f",
        });
    }
    Ok(text.to_ascii_lowercase())
}
