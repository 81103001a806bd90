//! The toasts that hold a thread while they wait for a click (Windows), counted so that neither
//! the click cap nor the thread count can be used up.
//!
//! notify-rust's `wait_for_response` blocks on a channel with no timeout; it returns when the toast
//! is activated, dismissed or times out into the Action Center. If Windows never reports any of
//! those (toasts turned off for the app, an unregistered app id), the thread never returns. So a
//! waiter counts toward the cap only for `max_wait`; after that its slot is given to new toasts
//! (its thread may still deliver a late click). Threads that outlived `max_wait` are still
//! counted against a hard limit, so a system that never answers costs a bounded number of threads.
//! Time is passed in, so the rules test without waiting.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One waiting thread's place; give it back with [`Waiters::leave`].
#[derive(Debug)]
pub(crate) struct Ticket(u64);

/// Counts waiting threads: at most `cap` recent ones, and at most `thread_limit` in all.
#[derive(Debug)]
pub(crate) struct Waiters {
    cap: usize,
    max_wait: Duration,
    thread_limit: usize,
    next: u64,
    /// Ticket number → when it was given; numbers grow with time, so the first is the oldest.
    recent: BTreeMap<u64, Instant>,
    /// Waiters past `max_wait` whose thread has not returned yet.
    overdue: usize,
}

/// How many overdue threads may exist per counted slot.
const OVERDUE_PER_SLOT: usize = 3;

impl Waiters {
    /// At most `cap` (at least one) waiters younger than `max_wait`, and `4 × cap` threads in all.
    pub(crate) fn new(cap: usize, max_wait: Duration) -> Self {
        let cap = cap.max(1);
        Self {
            cap,
            max_wait,
            thread_limit: cap.saturating_mul(1 + OVERDUE_PER_SLOT),
            next: 0,
            recent: BTreeMap::new(),
            overdue: 0,
        }
    }

    /// A place for one more waiting thread started at `now`, or `None` when full (the toast is
    /// then shown without click handling). Returns how many waiters just became overdue too.
    pub(crate) fn enter(&mut self, now: Instant) -> (Option<Ticket>, usize) {
        let newly_overdue = self.expire(now);
        let full =
            self.recent.len() >= self.cap || self.recent.len() + self.overdue >= self.thread_limit;
        if full {
            return (None, newly_overdue);
        }
        let number = self.next;
        self.next += 1;
        self.recent.insert(number, now);
        (Some(Ticket(number)), newly_overdue)
    }

    /// The thread holding `ticket` returned.
    pub(crate) fn leave(&mut self, ticket: Ticket) {
        if self.recent.remove(&ticket.0).is_none() {
            self.overdue = self.overdue.saturating_sub(1);
        }
    }

    /// Moves the waiters older than `max_wait` out of the cap; returns how many moved.
    fn expire(&mut self, now: Instant) -> usize {
        let mut moved = 0;
        while let Some((&number, &since)) = self.recent.first_key_value() {
            if now.saturating_duration_since(since) < self.max_wait {
                break;
            }
            self.recent.remove(&number);
            self.overdue += 1;
            moved += 1;
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(600);

    #[test]
    fn the_cap_frees_when_threads_return() {
        let t0 = Instant::now();
        let mut w = Waiters::new(2, WAIT);
        let (a, _) = w.enter(t0);
        let (b, _) = w.enter(t0);
        assert!(w.enter(t0).0.is_none(), "full at the cap");
        w.leave(a.expect("first"));
        assert!(w.enter(t0).0.is_some(), "a returned thread frees its slot");
        w.leave(b.expect("second"));
    }

    #[test]
    fn waiters_that_never_return_stop_counting_after_max_wait() {
        let t0 = Instant::now();
        let mut w = Waiters::new(2, WAIT);
        let stuck = [w.enter(t0).0, w.enter(t0).0];
        assert!(w.enter(t0 + WAIT / 2).0.is_none());
        let (fresh, newly_overdue) = w.enter(t0 + WAIT);
        assert!(fresh.is_some(), "overdue waiters no longer hold the cap");
        assert_eq!(newly_overdue, 2);
        // A late return of an overdue thread is counted off the overdue ones.
        for ticket in stuck {
            w.leave(ticket.expect("entered"));
        }
        assert_eq!(w.overdue, 0);
        assert_eq!(w.recent.len(), 1);
    }

    #[test]
    fn threads_that_never_return_are_bounded() {
        let t0 = Instant::now();
        let mut w = Waiters::new(2, WAIT);
        let mut held = Vec::new();
        let mut at = t0;
        // A system that never answers: every toast's thread stays, forever.
        for _ in 0..100 {
            let (ticket, _) = w.enter(at);
            held.extend(ticket);
            at += WAIT;
        }
        assert_eq!(
            held.len(),
            2 * (1 + OVERDUE_PER_SLOT),
            "at most 4 × cap threads"
        );
        assert!(w.enter(at).0.is_none());
    }
}
