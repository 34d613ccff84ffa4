//! [`RecentEvents`]: the events the handler already answered, so that Tencent's retries of them
//! are answered without calling it again.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// An event, by app and the first 8 bytes of its verified MAC. Only Tencent can make a valid MAC,
/// so two different events of one app share a key with probability 2⁻⁶⁴ per pair.
pub(crate) type EventKey = (u64, u64);

/// A bounded set of recently handled events, each kept until its `CallbackTs` leaves the
/// verifier's window (after that a retry is refused as expired anyway) or until `capacity` newer
/// events push it out, oldest first.
///
/// Memory: a hash table sized for `capacity` entries at creation (24 bytes per slot, 2 slots per
/// entry at most) and a queue of the same capacity (24 bytes per entry): about 300 KB at the
/// default 4,096. One lock per verified event, held for a lookup or an insert.
#[derive(Debug)]
pub(crate) struct RecentEvents {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Key → expiry (Unix milliseconds).
    expiries: HashMap<EventKey, u64>,
    /// Insertion order, with the expiry each insertion set.
    order: VecDeque<(EventKey, u64)>,
}

impl RecentEvents {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            state: Mutex::new(State {
                expiries: HashMap::with_capacity(capacity),
                order: VecDeque::with_capacity(capacity),
            }),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the event was answered and has not expired at `now_ms`.
    pub(crate) fn contains(&self, key: EventKey, now_ms: u64) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .expiries
            .get(&key)
            .is_some_and(|&until| until > now_ms)
    }

    /// Remembers an answered event until `until_ms`.
    pub(crate) fn insert(&self, key: EventKey, until_ms: u64, now_ms: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let State { expiries, order } = &mut *state;
        // Drop what expired, and make room: oldest first.
        while let Some(&(old, old_until)) = order.front() {
            if old_until > now_ms && order.len() < self.capacity {
                break;
            }
            order.pop_front();
            // A key inserted again later has a newer expiry: keep that one.
            if expiries.get(&old) == Some(&old_until) {
                expiries.remove(&old);
            }
        }
        expiries.insert(key, until_ms);
        order.push_back((key, until_ms));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state.lock().unwrap().expiries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_expire_and_the_oldest_make_room() {
        let recent = RecentEvents::new(2);
        recent.insert((1, 10), 100, 0);
        assert!(recent.contains((1, 10), 99));
        assert!(!recent.contains((1, 10), 100), "expired");
        assert!(!recent.contains((2, 10), 50), "another app");
        recent.insert((1, 11), 200, 0);
        recent.insert((1, 12), 200, 0);
        assert!(!recent.contains((1, 10), 50), "pushed out by newer events");
        assert!(recent.contains((1, 11), 50) && recent.contains((1, 12), 50));
        assert_eq!(recent.len(), 2);
        // Expired entries leave on the next insert even when there is room.
        let recent = RecentEvents::new(10);
        recent.insert((1, 1), 10, 0);
        recent.insert((1, 2), 10, 0);
        recent.insert((1, 3), 100, 20);
        assert_eq!(recent.len(), 1);
    }

    #[test]
    fn a_key_inserted_again_keeps_its_newer_expiry() {
        let recent = RecentEvents::new(2);
        recent.insert((1, 1), 100, 0);
        recent.insert((1, 1), 300, 0);
        recent.insert((1, 2), 300, 0); // evicts the first insertion of (1, 1), not its entry
        assert!(recent.contains((1, 1), 200));
    }
}
