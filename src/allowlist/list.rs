//! [`IpAllowlist`]: sorted, merged address ranges, searched without allocating.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::Error;

/// The most entries a list may have: Tencent's lists are a few dozen; more is not a list of
/// webhook egress addresses.
pub const MAX_ENTRIES: usize = 4096;

/// A set of IPv4 and IPv6 addresses and CIDR ranges, such as Tencent's webhook egress addresses.
///
/// Built once (sorted and merged), then [`contains`](IpAllowlist::contains) is a binary search
/// over the ranges of the address's family, without allocating. An IPv4-mapped IPv6 address
/// (`::ffff:1.2.3.4`, what a dual-stack socket reports for an IPv4 peer) is looked up as the IPv4
/// address it maps, in the list and in the entries alike.
///
/// An entry whose host bits are set (`10.0.0.5/24`) stands for its whole network (`10.0.0.0/24`).
///
/// # Examples
///
/// ```
/// use tim_callback_auth::allowlist::IpAllowlist;
///
/// let list: IpAllowlist = "127.0.0.2, 183.192.202.0/25, 2001:db8::/32".parse()?;
/// assert!(list.contains("183.192.202.127".parse()?));
/// assert!(!list.contains("183.192.202.128".parse()?));
/// assert!(list.contains("::ffff:127.0.0.2".parse()?));
/// assert!(list.contains("2001:db8::1".parse()?));
/// assert_eq!(list.len(), 3);
/// assert!("".parse::<IpAllowlist>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct IpAllowlist {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    entries: usize,
}

impl IpAllowlist {
    /// Builds a list from entries such as `127.0.0.2`, `183.192.202.0/25` or `2001:db8::/32`
    /// (surrounding white space ignored).
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) for no entry at all, more than [`MAX_ENTRIES`], an entry that is
    /// not an address or a CIDR range, or a list that allows every address of a family
    /// (`0.0.0.0/0`, `::/0`, or ranges that add up to one of them): such a list filters nothing,
    /// while a health check would report it ready. To accept every source, use no filter.
    pub fn new<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut count = 0;
        for (i, entry) in entries.into_iter().enumerate() {
            count += 1;
            if count > MAX_ENTRIES {
                return Err(Error::invalid_input(format!(
                    "more than {MAX_ENTRIES} entries"
                )));
            }
            let entry = entry.as_ref().trim();
            match parse_entry(entry) {
                Some(Range::V4(start, end)) => v4.push((start, end)),
                Some(Range::V6(start, end)) => v6.push((start, end)),
                None => {
                    // Named by its position, never shown: a value given in the wrong place may
                    // be a secret.
                    return Err(Error::invalid_input(format!(
                        "entry {} is not an IP address or a CIDR range",
                        i + 1
                    )));
                }
            }
        }
        if count == 0 {
            return Err(Error::invalid_input(
                "the list is empty: an empty allowlist would refuse every callback",
            ));
        }
        let (v4, v6) = (merge(v4), merge(v6));
        for (everything, family) in [
            (v4 == [(0, u32::MAX)], "IPv4 address (0.0.0.0/0"),
            (v6 == [(0, u128::MAX)], "IPv6 address (::/0"),
        ] {
            if everything {
                return Err(Error::invalid_input(format!(
                    "the list allows every {family}, or ranges that add up to it): it would filter \
                     nothing; to accept every source, use no source filter"
                )));
            }
        }
        Ok(Self {
            v4,
            v6,
            entries: count,
        })
    }

    /// Whether `address` is in the list.
    #[inline]
    pub fn contains(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(v4) => search(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => search(&self.v4, u32::from(v4)),
                None => search(&self.v6, u128::from(v6)),
            },
        }
    }

    /// How many entries the list was built from.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Always `false`: an empty list cannot be built.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The list as the fewest CIDR blocks that cover exactly its merged ranges (for logs, the list
    /// is public; and parseable: `IpAllowlist::new(list.ranges())` is the same set of addresses).
    ///
    /// ```
    /// use tim_callback_auth::allowlist::IpAllowlist;
    ///
    /// let list: IpAllowlist = "10.0.0.0/25, 10.0.0.128/25, 10.0.1.0, 2001:db8::/32".parse()?;
    /// let ranges: Vec<String> = list.ranges().collect();
    /// assert_eq!(ranges, ["10.0.0.0/24", "10.0.1.0/32", "2001:db8::/32"]);
    /// assert_eq!(IpAllowlist::new(&ranges)?.ranges().collect::<Vec<_>>(), ranges);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ranges(&self) -> impl Iterator<Item = String> + '_ {
        let v4 = self.v4.iter().flat_map(|&(a, b)| {
            cidr_blocks(u128::from(a), u128::from(b), 32)
                .map(|(start, prefix)| format!("{}/{prefix}", Ipv4Addr::from(start as u32)))
        });
        let v6 = self.v6.iter().flat_map(|&(a, b)| {
            cidr_blocks(a, b, 128)
                .map(|(start, prefix)| format!("{}/{prefix}", Ipv6Addr::from(start)))
        });
        v4.chain(v6)
    }
}

/// The fewest CIDR blocks `(start, prefix)` that cover `first..=last` exactly, in a `width`-bit
/// address space: at each step, the largest block that starts at the current address (its
/// alignment) and does not pass `last`.
fn cidr_blocks(first: u128, last: u128, width: u32) -> impl Iterator<Item = (u128, u32)> {
    let mut next = Some(first);
    std::iter::from_fn(move || {
        let start = next?;
        // log2 of the block's size: no more than the start's alignment, nor what is left.
        let aligned = start.trailing_zeros().min(width);
        let left = (last - start)
            .checked_add(1)
            .map_or(128, |n| 127 - n.leading_zeros());
        let bits = aligned.min(left);
        let end = start | u128::MAX.checked_shr(128 - bits).unwrap_or(0);
        next = (end < last).then(|| end + 1);
        Some((start, width - bits))
    })
}

impl FromStr for IpAllowlist {
    type Err = Error;

    /// Entries separated by commas (or white space).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(
            s.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|e| !e.is_empty()),
        )
    }
}

impl fmt::Debug for IpAllowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpAllowlist")
            .field("entries", &self.entries)
            .field("v4_ranges", &self.v4.len())
            .field("v6_ranges", &self.v6.len())
            .finish()
    }
}

enum Range {
    V4(u32, u32),
    V6(u128, u128),
}

fn parse_entry(entry: &str) -> Option<Range> {
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => {
            // Digits only: no sign, no spaces, as Tencent writes them.
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3
            {
                return None;
            }
            (address, Some(prefix.parse::<u32>().ok()?))
        }
        None => (entry, None),
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let prefix = prefix.unwrap_or(32);
            (prefix <= 32).then(|| v4_range(u32::from(v4), prefix))
        }
        IpAddr::V6(v6) => {
            let prefix = prefix.unwrap_or(128);
            if prefix > 128 {
                return None;
            }
            // A mapped IPv4 range is an IPv4 range: looked up where mapped peers are.
            match v6.to_ipv4_mapped() {
                Some(v4) if prefix >= 96 => Some(v4_range(u32::from(v4), prefix - 96)),
                _ => {
                    let bits = u128::from(v6);
                    let host = u128::MAX.checked_shr(prefix).unwrap_or(0);
                    Some(Range::V6(bits & !host, bits | host))
                }
            }
        }
    }
}

fn v4_range(bits: u32, prefix: u32) -> Range {
    let host = u32::MAX.checked_shr(prefix).unwrap_or(0);
    Range::V4(bits & !host, bits | host)
}

/// Sorts and merges overlapping or adjacent inclusive ranges.
fn merge<T: Copy + Ord + num::Succ>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut merged: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if last.1.succ().is_none_or(|next| start <= next) => {
                last.1 = last.1.max(end);
            }
            _ => merged.push((start, end)),
        }
    }
    merged.shrink_to_fit();
    merged
}

/// Whether `value` lies in one of the sorted, disjoint, inclusive `ranges`.
#[inline]
fn search<T: Copy + Ord>(ranges: &[(T, T)], value: T) -> bool {
    // The first range that ends at or after `value`: the only one that can hold it.
    let i = ranges.partition_point(|&(_, end)| end < value);
    ranges.get(i).is_some_and(|&(start, _)| start <= value)
}

mod num {
    /// The next value, if any (for merging adjacent ranges).
    pub(super) trait Succ: Sized {
        fn succ(self) -> Option<Self>;
    }
    impl Succ for u32 {
        fn succ(self) -> Option<Self> {
            self.checked_add(1)
        }
    }
    impl Succ for u128 {
        fn succ(self) -> Option<Self> {
            self.checked_add(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entries_are_parsed_merged_and_searched() {
        let list = IpAllowlist::new([
            "10.0.0.0/24",
            "10.0.1.0/24",
            "10.0.0.128/25",
            "192.168.1.7",
            " 10.0.0.5/24 ",
            "0.0.0.0/1",
        ])
        .unwrap();
        // 0.0.0.0/1 swallows the lower half of IPv4 (10.0.0.0/8 included).
        let single = u32::from(Ipv4Addr::new(192, 168, 1, 7));
        assert_eq!(list.v4, vec![(0, u32::MAX >> 1), (single, single)]);
        assert_eq!(
            list.ranges().collect::<Vec<_>>(),
            ["0.0.0.0/1", "192.168.1.7/32"]
        );
        let half = IpAllowlist::new(["::/1"]).unwrap();
        assert_eq!(half.ranges().collect::<Vec<_>>(), ["::/1"]);
        let list = IpAllowlist::new(["10.0.0.0/24", "10.0.1.0/24", "192.168.1.7"]).unwrap();
        assert_eq!(
            list.ranges().collect::<Vec<_>>(),
            ["10.0.0.0/23", "192.168.1.7/32"]
        );
        assert_eq!(list.len(), 3);
        for (address, inside) in [
            ("10.0.0.0", true),
            ("10.0.1.255", true),
            ("10.0.2.0", false),
            ("9.255.255.255", false),
            ("192.168.1.7", true),
            ("192.168.1.8", false),
            ("::ffff:10.0.1.1", true),
            ("::ffff:10.0.2.1", false),
            ("::10.0.1.1", false),
            ("2001:db8::1", false),
        ] {
            assert_eq!(list.contains(address.parse().unwrap()), inside, "{address}");
        }
    }

    #[test]
    fn bad_lists_are_refused_with_the_entry() {
        for (entries, needle) in [
            (vec![], "empty"),
            (vec!["1.2.3.4", "not-an-ip"], "entry 2"),
            (vec!["1.2.3.4/33"], "entry 1"),
            (vec!["::/129"], "entry 1"),
            (vec!["1.2.3.4/"], "entry 1"),
            (vec!["1.2.3.4/+8"], "entry 1"),
            (vec!["1.2.3.4/ 8"], "entry 1"),
            (vec!["1.2.3"], "entry 1"),
        ] {
            let error = IpAllowlist::new(entries.iter().copied()).unwrap_err();
            assert!(error.to_string().contains(needle), "{entries:?}: {error}");
        }
        let too_many: Vec<String> = (0..=MAX_ENTRIES)
            .map(|i| format!("10.{}.{}.1", i / 256, i % 256))
            .collect();
        assert!(IpAllowlist::new(&too_many)
            .unwrap_err()
            .to_string()
            .contains("more than"));
        assert!(IpAllowlist::new(&too_many[..MAX_ENTRIES]).is_ok());
    }

    #[test]
    fn a_list_that_allows_everyone_is_refused() {
        for entries in [
            vec!["0.0.0.0/0"],
            vec!["::/0"],
            vec!["10.0.0.1", "::/0"],
            vec!["0.0.0.0/1", "128.0.0.0/1"],
            vec!["::ffff:0.0.0.0/96"],
            vec!["2001:db8::/32", "0.0.0.0/0"],
        ] {
            let error = IpAllowlist::new(entries.iter().copied()).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidInput, "{entries:?}");
            assert!(
                error.to_string().contains("allows every"),
                "{entries:?}: {error}"
            );
        }
        // Half of a family is a (very wide) list, not everyone.
        assert!(IpAllowlist::new(["0.0.0.0/1", "::/1"]).is_ok());
    }

    #[test]
    fn mapped_ipv6_entries_are_ipv4_ranges() {
        let list = IpAllowlist::new(["::ffff:183.192.202.0/121", "2001:db8::/127"]).unwrap();
        assert!(list.contains("183.192.202.127".parse().unwrap()));
        assert!(!list.contains("183.192.202.128".parse().unwrap()));
        assert!(list.contains("2001:db8::1".parse().unwrap()));
        assert!(!list.contains("2001:db8::2".parse().unwrap()));
    }

    /// A naive range check: every entry's network, compared bit by bit.
    fn naive_contains(entries: &[(IpAddr, u32)], address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        entries
            .iter()
            .any(|&(network, prefix)| match (network, address) {
                (IpAddr::V4(n), IpAddr::V4(a)) => {
                    prefix == 0 || (u32::from(n) ^ u32::from(a)) >> (32 - prefix) == 0
                }
                (IpAddr::V6(n), IpAddr::V6(a)) => {
                    prefix == 0 || (u128::from(n) ^ u128::from(a)) >> (128 - prefix) == 0
                }
                _ => false,
            })
    }

    fn entry() -> impl Strategy<Value = (IpAddr, u32)> {
        prop_oneof![
            (any::<u32>(), 0u32..=32).prop_map(|(a, p)| (IpAddr::V4(Ipv4Addr::from(a)), p)),
            // Near each other, so that ranges overlap and touch.
            (0u32..4096, 20u32..=32)
                .prop_map(|(a, p)| (IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (a << 8))), p)),
            (any::<u128>(), 0u32..=128).prop_map(|(a, p)| (IpAddr::V6(Ipv6Addr::from(a)), p)),
            (0u128..4096, 110u32..=128).prop_map(|(a, p)| (
                IpAddr::V6(Ipv6Addr::from((0x2001_0db8u128 << 96) | (a << 8))),
                p
            )),
        ]
    }

    fn address() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            (0u32..(4096 << 8)).prop_map(|a| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | a))),
            (0u32..(4096 << 8))
                .prop_map(|a| IpAddr::V6(Ipv4Addr::from(0x0a00_0000 | a).to_ipv6_mapped())),
            any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
            (0u128..(4096 << 8))
                .prop_map(|a| IpAddr::V6(Ipv6Addr::from((0x2001_0db8u128 << 96) | a))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Membership by binary search over merged ranges agrees with a naive check of every
        /// entry, for generated lists and addresses (v4, v6, mapped), and at the edges of every
        /// range.
        #[test]
        fn membership_agrees_with_a_naive_check(
            entries in proptest::collection::vec(entry(), 1..40),
            addresses in proptest::collection::vec(address(), 1..40),
        ) {
            let text: Vec<String> = entries.iter().map(|(a, p)| format!("{a}/{p}")).collect();
            let list = match IpAllowlist::new(&text) {
                Ok(list) => list,
                Err(error) => {
                    // Refused only when the entries cover a whole family: its first and last
                    // addresses, and every probe of that family, are in it.
                    prop_assert!(error.to_string().contains("allows every"), "{}", error);
                    let v4 = naive_contains(&entries, IpAddr::V4(Ipv4Addr::from(0)))
                        && naive_contains(&entries, IpAddr::V4(Ipv4Addr::from(u32::MAX)))
                        && addresses.iter().filter(|a| a.is_ipv4()).all(|&a| naive_contains(&entries, a));
                    let v6 = naive_contains(&entries, IpAddr::V6(Ipv6Addr::from(0)))
                        && naive_contains(&entries, IpAddr::V6(Ipv6Addr::from(u128::MAX)))
                        && addresses.iter().filter(|a| matches!(a, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none())).all(|&a| naive_contains(&entries, a));
                    prop_assert!(v4 || v6, "{:?}", text);
                    return Ok(());
                }
            };
            let mut probes = addresses.clone();
            for &(network, prefix) in &entries {
                match network {
                    IpAddr::V4(n) => {
                        let host = u32::MAX.checked_shr(prefix).unwrap_or(0);
                        let (lo, hi) = (u32::from(n) & !host, u32::from(n) | host);
                        for edge in [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)] {
                            probes.push(IpAddr::V4(Ipv4Addr::from(edge)));
                        }
                    }
                    IpAddr::V6(n) => {
                        let host = u128::MAX.checked_shr(prefix).unwrap_or(0);
                        let (lo, hi) = (u128::from(n) & !host, u128::from(n) | host);
                        for edge in [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)] {
                            probes.push(IpAddr::V6(Ipv6Addr::from(edge)));
                        }
                    }
                }
            }
            // The list written back as CIDR blocks is the same set: rebuilt, it agrees everywhere
            // and writes the same blocks.
            let blocks: Vec<String> = list.ranges().collect();
            let rebuilt = IpAllowlist::new(&blocks).unwrap();
            prop_assert_eq!(rebuilt.ranges().collect::<Vec<_>>(), blocks);
            for address in probes {
                prop_assert_eq!(list.contains(address), naive_contains(&entries, address), "{}", address);
                prop_assert_eq!(rebuilt.contains(address), list.contains(address), "{}", address);
            }
        }
    }
}
