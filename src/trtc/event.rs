//! The fields of a TRTC event a handler routes on, read from the verified body without a JSON
//! parser's allocations.
//!
//! The scan reads the top-level object strictly (keys, colons, commas, the three values) and
//! skips every other value by its strings and brackets alone, eight bytes at a time, without
//! checking the grammar inside it (`EventInfo` is most of the body; the bytes are signed by Tencent, and the handler's parser
//! checks them when it reads them). For any body a JSON parser accepts, this skipping is exact, so
//! the scan and the parser find the same members: a property test holds it to `serde_json` (what
//! the scan reads, `serde_json` reads the same, whenever it parses the body at all). Where two
//! correct readers could differ, the scan refuses:
//!
//! - `EventGroupId`, `EventType` and `CallbackTs` must each appear exactly once in the top-level
//!   object (a parser keeping the first or the last of a duplicate would disagree);
//! - their values must be plain non-negative integers (`0` or no leading zero, no fraction, no
//!   exponent) that fit a `u64`;
//! - no top-level key may contain a backslash escape (`"Event\u0054ype"` is `EventType` to a
//!   parser; Tencent never escapes these names).

/// Nesting deeper than this is refused (Tencent's events are 2 to 3 levels deep; `serde_json`'s
/// own limit is 128).
pub(crate) const MAX_DEPTH: usize = 64;

/// The top-level fields every TRTC event carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fields {
    pub(crate) event_group_id: u64,
    pub(crate) event_type: u64,
    pub(crate) callback_ts: u64,
}

/// Reads the three fields from a JSON event body, or `None` when the body is not valid JSON, is
/// not an object, or breaks one of the rules above.
pub(crate) fn scan(body: &[u8]) -> Option<Fields> {
    let mut p = Parser { b: body, i: 0 };
    let mut found: [Option<u64>; 3] = [None; 3];
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        return None; // an empty object has none of the fields
    }
    loop {
        let (key, escaped) = p.string()?;
        if escaped {
            return None; // a top-level key with an escape: see the module docs
        }
        p.ws();
        p.expect(b':')?;
        p.ws();
        match field(key) {
            Some(slot) => {
                if found[slot].is_some() {
                    return None;
                }
                found[slot] = Some(p.plain_integer()?);
            }
            None => p.skip_value()?,
        }
        p.ws();
        match p.next()? {
            b',' => p.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    p.ws();
    if p.i != body.len() {
        return None;
    }
    Some(Fields {
        event_group_id: found[0]?,
        event_type: found[1]?,
        callback_ts: found[2]?,
    })
}

/// Which of the three fields a top-level key (without escapes) names, if any.
fn field(raw: &[u8]) -> Option<usize> {
    match raw {
        b"EventGroupId" => Some(0),
        b"EventType" => Some(1),
        b"CallbackTs" => Some(2),
        _ => None,
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// A string, opening quote included; returns its raw inside (escapes not decoded) and
    /// whether it has an escape.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        self.expect(b'"')?;
        let start = self.i;
        let (end, escaped) = string_end(self.b, self.i)?;
        self.i = end;
        Some((&self.b[start..end - 1], escaped))
    }

    /// `0` or a non-zero digit followed by digits, fitting a `u64`, not followed by a fraction or
    /// an exponent.
    fn plain_integer(&mut self) -> Option<u64> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let value = crate::verify::digits::parse_canonical(&self.b[start..self.i])?;
        match self.peek() {
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(value),
        }
    }

    /// Skips one member's value: up to the `,` or `}` that ends it at the top level, stepping over
    /// strings (escape-aware) and nested brackets (fewer than [`MAX_DEPTH`] levels).
    fn skip_value(&mut self) -> Option<()> {
        let b = self.b;
        let start = self.i;
        if let Some(b'{' | b'[') = self.peek() {
            // An object or an array (`EventInfo`): to its matching bracket, word at a time.
            self.i = swar::container_end(b, start)?;
            return Some(());
        }
        let mut i = start;
        let mut depth = 0usize;
        loop {
            i = swar::next_structural(b, i);
            match *b.get(i)? {
                b'"' => i = string_end(b, i + 1)?.0,
                b'{' | b'[' => {
                    depth += 1;
                    if depth >= MAX_DEPTH {
                        return None;
                    }
                    i += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    i += 1;
                }
                // A `,`, `}` or `]` at the top level ends the value (the caller accepts only
                // `,` and `}` there).
                b',' | b'}' | b']' if depth == 0 => break,
                // A `,` inside a container, or a byte the word-at-a-time search flagged that
                // is not structural (`Y`, `_`, `y`, DEL: see `swar`).
                _ => i += 1,
            }
        }
        // A value is not nothing.
        if b[start..i]
            .iter()
            .all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            return None;
        }
        self.i = i;
        Some(())
    }
}

/// The index just past the `"` that closes a string whose inside starts at `i`, and whether the
/// string has an escape; `None` when the string is not closed or holds a raw control character.
#[inline]
fn string_end(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        i = swar::next_special_in_string(b, i);
        match *b.get(i)? {
            b'"' => return Some((i + 1, escaped)),
            // An escape: the byte after the backslash is part of it (`\"` does not close).
            b'\\' => {
                escaped = true;
                i += 2;
            }
            // A control character: JSON strings must escape them.
            _ => return None,
        }
    }
}

/// Word-at-a-time searches: eight bytes per step instead of one, for the runs of plain bytes that
/// make up most of a body. Each returns the index of the first byte of interest at or after `i`
/// (or `b.len()`); the property tests below pin them to the byte-at-a-time definitions
/// ([`PLAIN`], [`STRUCTURAL`]).
///
/// The trick: `v - 0x0101…` & `!v` & `0x8080…` flags the bytes of `v` that are zero, and the lowest
/// flag is always exact (a borrow only travels upwards from a flagged byte), so the first match
/// is found with `trailing_zeros` on the little-endian word. Brackets are folded into one value
/// before that test (`(c | 0x20) & !0x06` is `0x79` for `[ ] { }`, and also for `Y _ y` and DEL:
/// the caller steps over those).
mod swar {
    use super::{PLAIN, STRUCTURAL};

    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;

    /// The bytes of `v` that are zero, flagged in their top bit (exact up to the lowest flag).
    #[inline]
    fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(LO) & !v & HI
    }

    #[inline]
    fn word(b: &[u8], i: usize) -> Option<u64> {
        let bytes = b.get(i..i + 8)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// The first `"`, `\` or control character at or after `i`.
    #[inline]
    pub(super) fn next_special_in_string(b: &[u8], mut i: usize) -> usize {
        while let Some(w) = word(b, i) {
            let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
            let m = zero_bytes(w ^ (LO * u64::from(b'"')))
                | zero_bytes(w ^ (LO * u64::from(b'\\')))
                | below_space;
            if m != 0 {
                return i + (m.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        while i < b.len() && PLAIN[usize::from(b[i])] {
            i += 1;
        }
        i
    }

    /// The first `"`, `,`, bracket (or `Y`, `_`, `y`, DEL) at or after `i`.
    #[inline]
    pub(super) fn next_structural(b: &[u8], mut i: usize) -> usize {
        while let Some(w) = word(b, i) {
            let folded = (w | (LO * 0x20)) & !(LO * 0x06);
            let m = zero_bytes(w ^ (LO * u64::from(b'"')))
                | zero_bytes(w ^ (LO * u64::from(b',')))
                | zero_bytes(folded ^ (LO * 0x79));
            if m != 0 {
                return i + (m.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        while i < b.len() && !STRUCTURAL[usize::from(b[i])] {
            i += 1;
        }
        i
    }

    /// The index just past the bracket that closes the object or array opening at `start`:
    /// strings are stepped over (escape-aware), brackets counted (fewer than [`MAX_DEPTH`]
    /// levels), and nothing else is checked (the handler's parser does). `None` when it does not
    /// close, or nests too deep.
    ///
    /// Eight bytes per step: the quotes, backslashes and brackets of a word are found at once
    /// (with the folded-bracket false positives, which the match ignores), and only those bytes
    /// are visited. [`container_end_bytewise`] is the same walk a byte at a time; a property test
    /// holds them equal.
    pub(super) fn container_end(b: &[u8], start: usize) -> Option<usize> {
        let mut walk = Walk::default();
        let mut p = start;
        while let Some(w) = word(b, p) {
            let folded = (w | (LO * 0x20)) & !(LO * 0x06);
            let mut m = zero_bytes(w ^ (LO * u64::from(b'"')))
                | zero_bytes(w ^ (LO * u64::from(b'\\')))
                | zero_bytes(folded ^ (LO * 0x79));
            while m != 0 {
                let j = p + (m.trailing_zeros() / 8) as usize;
                m &= m - 1;
                if j >= walk.skip_to {
                    if let Some(end) = walk.step(b[j], j) {
                        return end;
                    }
                }
            }
            p += 8;
        }
        let mut j = p.max(walk.skip_to);
        while j < b.len() {
            if let Some(end) = walk.step(b[j], j) {
                return end;
            }
            j = (j + 1).max(walk.skip_to);
        }
        None
    }

    /// The state of a walk through a container.
    #[derive(Default)]
    struct Walk {
        depth: usize,
        in_string: bool,
        /// Bytes before this index are part of an escape.
        skip_to: usize,
    }

    impl Walk {
        /// One byte at index `j`: `Some(Some(end))` when the container closed, `Some(None)` when
        /// it nests too deep, `None` to go on.
        #[inline]
        #[allow(clippy::option_option)]
        fn step(&mut self, c: u8, j: usize) -> Option<Option<usize>> {
            if self.in_string {
                match c {
                    b'\\' => self.skip_to = j + 2,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                return None;
            }
            match c {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth >= super::MAX_DEPTH {
                        return Some(None);
                    }
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(Some(j + 1));
                    }
                }
                _ => {}
            }
            None
        }
    }

    /// [`container_end`], a byte at a time: the definition the fast walk is held to.
    #[cfg(test)]
    pub(super) fn container_end_bytewise(b: &[u8], start: usize) -> Option<usize> {
        let mut walk = Walk::default();
        let mut j = start;
        while j < b.len() {
            if let Some(end) = walk.step(b[j], j) {
                return end;
            }
            j = (j + 1).max(walk.skip_to);
        }
        None
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn the_container_walk_is_the_byte_walk(
                open in prop_oneof![Just(b'{'), Just(b'[')],
                rest in proptest::collection::vec(
                    prop_oneof![
                        4 => proptest::sample::select(b"ab09 :\t\n-.".to_vec()),
                        3 => proptest::sample::select(b"\"\\,[]{}Y_y\x7f".to_vec()),
                        1 => any::<u8>(),
                    ],
                    0..60,
                ),
                prefix in 0usize..3,
            ) {
                let mut b = vec![b' '; prefix];
                b.push(open);
                b.extend_from_slice(&rest);
                prop_assert_eq!(container_end(&b, prefix), container_end_bytewise(&b, prefix));
            }
        }

        fn bytes() -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(
                prop_oneof![
                    4 => proptest::sample::select(b"ab09 :\t\n-.".to_vec()),
                    1 => proptest::sample::select(b"\"\\,[]{}Y_y\x7f\x1f\x00\x80\xff\xfb\xdd".to_vec()),
                    1 => any::<u8>(),
                ],
                0..40,
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn string_search_is_the_byte_loop(b in bytes(), start in 0usize..40) {
                let start = start.min(b.len());
                let plain = (start..b.len()).find(|&i| !PLAIN[usize::from(b[i])]).unwrap_or(b.len());
                prop_assert_eq!(next_special_in_string(&b, start), plain);
            }

            #[test]
            fn structural_search_finds_the_first_structural_byte(b in bytes(), start in 0usize..40) {
                let start = start.min(b.len());
                // It may stop early on `Y _ y` DEL (the caller steps over them), never late.
                let mut i = start;
                loop {
                    i = next_structural(&b, i);
                    if i == b.len() || STRUCTURAL[usize::from(b[i])] {
                        break;
                    }
                    prop_assert!(matches!(b[i], b'Y' | b'_' | b'y' | 0x7f), "{}", b[i]);
                    i += 1;
                }
                let plain = (start..b.len()).find(|&i| STRUCTURAL[usize::from(b[i])]).unwrap_or(b.len());
                prop_assert_eq!(i, plain);
            }
        }
    }
}

/// Bytes that stand for themselves inside a string: all but `"`, `\` and control characters.
const PLAIN: [bool; 256] = {
    let mut table = [true; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = false;
        c += 1;
    }
    table[b'"' as usize] = false;
    table[b'\\' as usize] = false;
    table
};

/// Bytes that matter when skipping a value: strings, brackets, and the `,` that ends it.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'"' as usize] = true;
    table[b'{' as usize] = true;
    table[b'}' as usize] = true;
    table[b'[' as usize] = true;
    table[b']' as usize] = true;
    table[b',' as usize] = true;
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The body of Tencent's "Verify Signature Example", byte for byte.
    pub(crate) const DOCS_BODY: &str = "{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t1615554923704,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t12345,\n\t\t\"EventTs\":\t1608441737,\n\t\t\"UserId\":\t\"test\",\n\t\t\"UniqueId\":\t1615554922656,\n\t\t\"Role\":\t20,\n\t\t\"Reason\":\t1\n\t}\n}";

    #[test]
    fn reads_the_docs_example() {
        assert_eq!(
            scan(DOCS_BODY.as_bytes()),
            Some(Fields {
                event_group_id: 1,
                event_type: 103,
                callback_ts: 1_615_554_923_704,
            })
        );
    }

    #[test]
    fn refuses_what_two_readers_could_read_differently() {
        let ok = r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"EventInfo":{}}"#;
        assert!(scan(ok.as_bytes()).is_some());
        for bad in [
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"CallbackTs":4}"#,
            r#"{"EventGroupId":1,"Event\u0054ype":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":1,"EventType":2.0,"CallbackTs":3}"#,
            r#"{"EventGroupId":1,"EventType":2e0,"CallbackTs":3}"#,
            r#"{"EventGroupId":01,"EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":-1,"EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":"1","EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":18446744073709551616}"#,
            r#"{"EventGroupId":1,"EventType":2}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3} x"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,}"#,
            r#"[{"EventGroupId":1,"EventType":2,"CallbackTs":3}]"#,
            "{\"EventGroupId\":1,\"EventType\":2,\"CallbackTs\":3,\"x\":\"a\u{1}\"}",
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":[1}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"\"}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":1]"#,
            "",
            "{}",
        ] {
            assert_eq!(scan(bad.as_bytes()), None, "{bad}");
        }
        let deep = format!(
            r#"{{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":{}{}}}"#,
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert_eq!(scan(deep.as_bytes()), None);
        let allowed = format!(
            r#"{{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":{}{}}}"#,
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(scan(allowed.as_bytes()).is_some());
    }

    #[test]
    fn the_grammar_inside_other_values_is_left_to_the_handlers_parser() {
        // Skipped by strings and brackets: the handler's parser refuses these bodies when it
        // reads them, and the three fields are the same either way.
        for body in [
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":01}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":tru}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"\ud800"}"#,
        ] {
            assert!(scan(body.as_bytes()).is_some(), "{body}");
        }
    }

    /// A JSON value as text, from a small recursive strategy (strings with escapes and non-ASCII,
    /// numbers in every form, literals, nesting).
    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            (any::<i32>(), 0u32..1000, -20i32..20).prop_map(|(a, b, e)| format!("{a}.{b}e{e}")),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("null".to_owned()),
            json_string(),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(" ,\n"))),
                proptest::collection::vec((json_string(), inner), 0..4).prop_map(|v| {
                    let members: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("{k}:\t{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    fn json_string() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                "[a-zA-Z0-9 ]",
                Just("\\\"".to_owned()),
                Just("\\\\".to_owned()),
                Just("\\n".to_owned()),
                Just("\\u00e9".to_owned()),
                Just("\\ud83d\\ude00".to_owned()),
                Just("é漢😀".to_owned()),
            ],
            0..6,
        )
        .prop_map(|parts| format!("\"{}\"", parts.concat()))
    }

    /// A top-level member: one of the three fields (sometimes in a form the scan refuses), an
    /// escaped spelling of one, or any other key.
    fn member() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("EventGroupId"),
            Just("EventType"),
            Just("CallbackTs"),
            Just("Event\\u0054ype"),
            Just("EventInfo"),
            Just("eventtype"),
        ];
        let value = prop_oneof![
            4 => any::<u64>().prop_map(|n| n.to_string()),
            1 => json_value(),
        ];
        (name, value).prop_map(|(k, v)| format!("\"{k}\" : {v}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whenever the scan accepts a body, serde_json parses it, and finds each field once
        /// with the same value.
        #[test]
        fn whatever_the_scan_reads_serde_json_reads_the_same(
            members in proptest::collection::vec(member(), 0..7),
            ws in "[ \t\n\r]{0,2}",
        ) {
            let body = format!("{ws}{{{ws}{}{ws}}}{ws}", members.join(&format!(",{ws}")));
            if let Some(fields) = scan(body.as_bytes()) {
                let parsed: serde_json::Value = serde_json::from_str(&body)
                    .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
                prop_assert_eq!(parsed["EventGroupId"].as_u64(), Some(fields.event_group_id));
                prop_assert_eq!(parsed["EventType"].as_u64(), Some(fields.event_type));
                prop_assert_eq!(parsed["CallbackTs"].as_u64(), Some(fields.callback_ts));
            }
        }

        /// Every well-formed event (the three fields once, as integers, anything else around
        /// them) is read.
        #[test]
        fn every_well_formed_event_is_read(
            group in any::<u64>(), kind in any::<u64>(), ts in any::<u64>(),
            info in json_value(), order in Just([0usize, 1, 2, 3]).prop_shuffle(),
        ) {
            let members = [
                format!("\"EventGroupId\":{group}"),
                format!("\"EventType\": {kind}"),
                format!("\"CallbackTs\" :{ts}"),
                format!("\"EventInfo\":{info}"),
            ];
            let body = format!("{{{}}}", order.map(|i| members[i].clone()).join(",\n"));
            prop_assert_eq!(
                scan(body.as_bytes()),
                Some(Fields { event_group_id: group, event_type: kind, callback_ts: ts }),
                "{}", body
            );
        }

        /// Arbitrary bytes never make the scan panic, and whenever serde_json reads a body the
        /// scan accepts, both read the same three values.
        #[test]
        fn arbitrary_bytes_are_read_alike_or_refused(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            prefix in prop_oneof![Just(""), Just(r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"#)],
        ) {
            let mut bytes = prefix.as_bytes().to_vec();
            bytes.extend_from_slice(&body);
            if let (Some(fields), Ok(parsed)) =
                (scan(&bytes), serde_json::from_slice::<serde_json::Value>(&bytes))
            {
                prop_assert_eq!(parsed["EventGroupId"].as_u64(), Some(fields.event_group_id));
                prop_assert_eq!(parsed["EventType"].as_u64(), Some(fields.event_type));
                prop_assert_eq!(parsed["CallbackTs"].as_u64(), Some(fields.callback_ts));
            }
        }
    }
}

/// MEASUREMENT ONLY: the serde read.
pub(crate) fn read(body: &[u8]) -> Option<Fields> {
    #[derive(serde::Deserialize)]
    struct Event<'a> {
        #[serde(rename = "EventGroupId")]
        event_group_id: u64,
        #[serde(rename = "EventType")]
        event_type: u64,
        #[serde(rename = "CallbackTs")]
        callback_ts: u64,
        #[serde(rename = "EventInfo", borrow, default)]
        #[allow(dead_code)]
        event_info: Option<&'a serde_json::value::RawValue>,
    }
    let text = std::str::from_utf8(body).ok()?;
    let e: Event<'_> = serde_json::from_str(text).ok()?;
    Some(Fields {
        event_group_id: e.event_group_id,
        event_type: e.event_type,
        callback_ts: e.callback_ts,
    })
}
