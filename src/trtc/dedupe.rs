//! [`RecentEvents`]: the events the handler already answered, so that Tencent's retries of them
//! are answered without calling it again.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// An event, by app, the first 8 bytes of its verified MAC, and the route (method and path, hashed)
/// it was answered on. Only Tencent can make a valid MAC, so two different events of one app share
/// a key with probability 2⁻⁶⁴ per pair; the route keeps a copy of an event replayed to another
/// route under the same layer from standing for Tencent's delivery to this one.
pub(crate) type EventKey = (u64, u64, u64);

/// The most events a layer remembers, whatever it is asked for (about 80 MB).
pub(crate) const MAX_CAPACITY: usize = 1 << 20;

/// A bounded set of recently handled events, each kept until its `CallbackTs` leaves the
/// verifier's window (after that a retry is refused as expired anyway) or until `capacity` newer
/// events push it out, oldest first.
///
/// Memory: a hash table and a queue for `capacity` entries, allocated at the first insert (a layer
/// that never answers an event holds nothing): 32 bytes per table slot (up to 2 slots per entry)
/// and 32 bytes per queued entry, about 400 KB at the default 4,096. One lock per verified
/// event, held for a lookup or an insert.
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
        Self {
            capacity: capacity.clamp(1, MAX_CAPACITY),
            state: Mutex::new(State {
                expiries: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
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
        if order.capacity() == 0 {
            // Once, at the first answered event: afterwards inserts allocate nothing.
            expiries.reserve(self.capacity);
            order.reserve_exact(self.capacity);
        }
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
        recent.insert((1, 10, 0), 100, 0);
        assert!(recent.contains((1, 10, 0), 99));
        assert!(!recent.contains((1, 10, 0), 100), "expired");
        assert!(!recent.contains((2, 10, 0), 50), "another app");
        recent.insert((1, 11, 0), 200, 0);
        recent.insert((1, 12, 0), 200, 0);
        assert!(
            !recent.contains((1, 10, 0), 50),
            "pushed out by newer events"
        );
        assert!(recent.contains((1, 11, 0), 50) && recent.contains((1, 12, 0), 50));
        assert_eq!(recent.len(), 2);
        // Expired entries leave on the next insert even when there is room.
        let recent = RecentEvents::new(10);
        recent.insert((1, 1, 0), 10, 0);
        recent.insert((1, 2, 0), 10, 0);
        recent.insert((1, 3, 0), 100, 20);
        assert_eq!(recent.len(), 1);
    }

    #[test]
    fn nothing_is_allocated_before_the_first_event_and_capacity_is_bounded() {
        let recent = RecentEvents::new(usize::MAX);
        assert_eq!(recent.capacity(), MAX_CAPACITY);
        assert_eq!(recent.state.lock().unwrap().order.capacity(), 0);
        let recent = RecentEvents::new(8);
        recent.insert((1, 1, 0), 10, 0);
        assert!(recent.state.lock().unwrap().order.capacity() >= 8);
        // The same event on another route is another entry.
        assert!(!recent.contains((1, 1, 7), 5));
    }

    #[test]
    fn a_key_inserted_again_keeps_its_newer_expiry() {
        let recent = RecentEvents::new(2);
        recent.insert((1, 1, 0), 100, 0);
        recent.insert((1, 1, 0), 300, 0);
        recent.insert((1, 2, 0), 300, 0); // evicts the first insertion of (1, 1, 0), not its entry
        assert!(recent.contains((1, 1, 0), 200));
    }
}
