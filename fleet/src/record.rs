//! [`Record`]: one app's token snapshot as the fleet stores it, one line of text.
//!
//! `v1 <fetched_ms> <holder> <enabled> <current> <previous> <previous_until>`: the store's clock
//! when the holder fetched it (milliseconds), the instance that fetched it, `1` or `0`, the
//! current token and the previous one in lowercase hex (`-` for none), and the Unix second until
//! which the previous one is still accepted (`0` with none). The store's fencing compares the
//! `fetched_ms` of what it holds with a write's, so the line starts with it.
//!
//! Redis is inside the user's trust boundary, but its contents are read as an attacker wrote
//! them: one strict reading, a typed error for anything else, never a panic.

use std::fmt;

use tim_callback_auth::{CallbackToken, TokenSnapshot};

/// One app's shared snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// The store's clock, in milliseconds, when the holder fetched it.
    pub(crate) fetched_ms: u64,
    /// The instance that fetched it.
    pub(crate) holder: String,
    /// What Tencent answered (and the previous token during its grace).
    pub(crate) snapshot: TokenSnapshot,
}

/// Why a stored line is not a record. Never shows the line (it holds the token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadRecord(&'static str);

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the stored token record is not valid: {}", self.0)
    }
}

impl std::error::Error for BadRecord {}

/// Whether `id` can name an instance ([`FleetBuilder::instance_id`](crate::FleetBuilder::instance_id)):
/// 1 to 64 of ASCII letters, digits and `.`, `_`, `:`, `-`.
///
/// ```
/// assert!(tim_callback_fleet::valid_instance_id("pod-7f9c.eu:1"));
/// assert!(!tim_callback_fleet::valid_instance_id("a b"));
/// ```
pub fn valid_instance_id(id: &str) -> bool {
    id.len() <= 64 && valid_holder(id)
}

/// Whether `id` can name a holder: an instance id, `.` and a nonce (at most 80 in all).
pub(crate) fn valid_holder(id: &str) -> bool {
    (1..=80).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// A decimal with no sign and no leading zero (but `0`), at most 16 digits: the one reading of
/// a number in the stores' text (the Redis scripts read `%d+` of at most 16 digits too).
pub(crate) fn number(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 16
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

fn token(text: &str) -> Result<CallbackToken, BadRecord> {
    let bytes = unhex(text).ok_or(BadRecord("a token is not lowercase hex"))?;
    CallbackToken::from_bytes(&bytes).map_err(|_| BadRecord("a token is empty or too long"))
}

impl Record {
    /// The stored line.
    pub(crate) fn encode(&self) -> String {
        let current = self
            .snapshot
            .current()
            .map_or_else(|| "-".to_owned(), |t| hex(t.expose()));
        let (previous, until) = self.snapshot.previous().map_or_else(
            || ("-".to_owned(), 0),
            |(t, until)| (hex(t.expose()), until),
        );
        format!(
            "v1 {} {} {} {current} {previous} {until}",
            self.fetched_ms,
            self.holder,
            u8::from(self.snapshot.is_enabled()),
        )
    }

    /// Reads a stored line: exactly what [`encode`](Self::encode) writes, nothing else.
    pub(crate) fn decode(line: &str) -> Result<Self, BadRecord> {
        let fields: Vec<&str> = line.split(' ').collect();
        let [version, fetched_ms, holder, enabled, current, previous, until] = fields[..] else {
            return Err(BadRecord("it does not have seven fields"));
        };
        if version != "v1" {
            return Err(BadRecord("its version is not v1"));
        }
        let fetched_ms = number(fetched_ms).ok_or(BadRecord("its fetch time is not a number"))?;
        if !valid_holder(holder) {
            return Err(BadRecord("its holder is not an instance id"));
        }
        let until = number(until).ok_or(BadRecord("its grace deadline is not a number"))?;
        let snapshot = match (enabled, current) {
            ("1", current) if current != "-" => TokenSnapshot::enabled(token(current)?),
            ("0", "-") => TokenSnapshot::disabled(),
            ("0" | "1", _) => return Err(BadRecord("its token does not match its enabled flag")),
            _ => return Err(BadRecord("its enabled flag is not 1 or 0")),
        };
        let snapshot = match (previous, until) {
            ("-", 0) => snapshot,
            ("-", _) => return Err(BadRecord("a grace deadline without a previous token")),
            (_, 0) => return Err(BadRecord("a previous token without a grace deadline")),
            (previous, until) if snapshot.is_enabled() => {
                snapshot.with_previous(token(previous)?, until)
            }
            _ => return Err(BadRecord("a previous token while authentication is off")),
        };
        Ok(Self {
            fetched_ms,
            holder: holder.to_owned(),
            snapshot,
        })
    }

    /// The fetch time at the start of a stored line, as the stores' fencing reads it (`None`
    /// when the line is not a record's).
    pub(crate) fn fetched_ms_of(line: &str) -> Option<u64> {
        let rest = line.strip_prefix("v1 ")?;
        number(rest.split(' ').next()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn snapshot() -> impl Strategy<Value = TokenSnapshot> {
        let token = proptest::collection::vec(any::<u8>(), 1..=CallbackToken::MAX_LEN)
            .prop_map(|b| CallbackToken::from_bytes(&b).unwrap());
        prop_oneof![
            Just(TokenSnapshot::disabled()),
            token.clone().prop_map(TokenSnapshot::enabled),
            (token.clone(), token, 1u64..=9_999_999_999_999_999)
                .prop_map(|(c, p, until)| { TokenSnapshot::enabled(c).with_previous(p, until) }),
        ]
    }

    proptest::proptest! {
        /// What is written reads back as the same record.
        #[test]
        fn a_record_reads_back_as_written(
            snapshot in snapshot(),
            fetched_ms in 0u64..=9_999_999_999_999_999,
            holder in "[A-Za-z0-9._:-]{1,80}",
        ) {
            let record = Record { fetched_ms, holder, snapshot };
            let line = record.encode();
            prop_assert_eq!(Record::fetched_ms_of(&line), Some(fetched_ms));
            prop_assert_eq!(Record::decode(&line), Ok(record));
        }

        /// Any line: no panic, and a line that reads is the one canonical spelling of its
        /// record (one reading: nothing else decodes to it). The lines are valid records with
        /// one character changed, inserted or removed (most still almost read), and noise.
        #[test]
        fn any_line_reads_strictly(
            snapshot in snapshot(),
            fetched_ms in 0u64..=9_999_999_999_999_999,
            edit in 0usize..400,
            kind in 0u8..3,
            with in proptest::sample::select(vec![' ', '0', '9', 'a', 'f', 'F', '-', '+', 'x', '.', '\n', 'é']),
            noise in ".{0,80}",
        ) {
            let line = Record { fetched_ms, holder: "host-1".into(), snapshot }.encode();
            let mut chars: Vec<char> = line.chars().collect();
            let at = edit % (chars.len() + 1);
            match kind {
                0 if at < chars.len() => chars[at] = with,
                1 => chars.insert(at, with),
                _ if at < chars.len() => { chars.remove(at); }
                _ => {}
            }
            for candidate in [chars.into_iter().collect::<String>(), noise] {
                if let Ok(record) = Record::decode(&candidate) {
                    prop_assert_eq!(record.encode(), candidate);
                }
            }
        }
    }

    #[test]
    fn bad_lines_are_named_and_never_shown() {
        let good = "v1 1700000000000 host-1 1 746f6b656e - 0";
        assert!(Record::decode(good).is_ok());
        for bad in [
            "",
            "v2 1 h 1 746f6b656e - 0",
            "v1 01 h 1 746f6b656e - 0",
            "v1 +1 h 1 746f6b656e - 0",
            "v1 1 h 1 746F6B656E - 0",
            "v1 1 h 1 - - 0",
            "v1 1 h 0 746f6b656e - 0",
            "v1 1 h 2 746f6b656e - 0",
            "v1 1 h 1 746f6b656e 746f6b656e 0",
            "v1 1 h 1 746f6b656e - 5",
            "v1 1 h/x 1 746f6b656e - 0",
            "v1 1 h 1 746f6b656e - 0 extra",
            "v1  1 h 1 746f6b656e - 0",
            "v1 1 h 1 7 - 0",
        ] {
            let why = Record::decode(bad).unwrap_err().to_string();
            assert!(
                !why.contains("746f6b656e") && !why.contains("token\""),
                "{why}"
            );
        }
    }
}
