//! Timers: [`Clock::call_later`] and the [`DelayedCall`] it returns.
//!
//! The reactor owns a real clock and sleeps in `poll` until the next call
//! is due (poll's time-out). A test makes a [`Clock::manual`] clock instead
//! (Twisted's `task.Clock`) and moves time forward by hand with
//! [`Clock::advance`]: no real time passes, so the test is fast and always
//! gives the same result.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

/// A call waiting for its time.
type Call = Box<dyn FnOnce()>;

/// When a call is due, and a number that keeps calls due at the same time
/// in the order they were made.
type Key = (Duration, u64);

/// A source of time with calls scheduled on it (Twisted's `IReactorTime`).
///
/// A handle: clones share the same calls. It lives on one thread.
#[derive(Clone)]
pub struct Clock {
    timers: Rc<RefCell<Timers>>,
}

struct Timers {
    start: Instant,
    /// `Some(t)`: a manual clock, whose time is `t` (only `advance` moves it).
    manual: Option<Duration>,
    next_number: u64,
    /// Ordered by due time, then by creation: the first is the next due.
    calls: BTreeMap<Key, Call>,
}

impl Clock {
    /// A clock on real time (the reactor's).
    pub fn new() -> Clock {
        Clock::with(None)
    }

    /// A clock whose time only moves when a test calls [`Clock::advance`]
    /// (Twisted's `task.Clock`). It starts at 0.
    pub fn manual() -> Clock {
        Clock::with(Some(Duration::ZERO))
    }

    fn with(manual: Option<Duration>) -> Clock {
        let timers = Timers {
            start: Instant::now(),
            manual,
            next_number: 0,
            calls: BTreeMap::new(),
        };
        Clock {
            timers: Rc::new(RefCell::new(timers)),
        }
    }

    /// The time elapsed since the clock was made (Twisted's `seconds()`).
    pub fn now(&self) -> Duration {
        self.timers.borrow().now()
    }

    /// Calls `f` once `delay` has passed (Twisted's `callLater`). The call
    /// can be cancelled until then through the returned [`DelayedCall`].
    pub fn call_later(&self, delay: Duration, f: impl FnOnce() + 'static) -> DelayedCall {
        let mut timers = self.timers.borrow_mut();
        let key = (timers.now().saturating_add(delay), timers.next_number);
        timers.next_number += 1;
        timers.calls.insert(key, Box::new(f));
        DelayedCall {
            key,
            timers: Rc::downgrade(&self.timers),
        }
    }

    /// Moves a manual clock forward by `by`, running every call that falls
    /// due, in order (Twisted's `Clock.advance`). On a real clock, time is
    /// not moved: only the calls already due are run.
    pub fn advance(&self, by: Duration) {
        {
            let mut timers = self.timers.borrow_mut();
            if let Some(now) = timers.manual.as_mut() {
                *now = now.saturating_add(by);
            }
        }
        self.run_due();
    }

    /// How many calls are waiting (Twisted's `getDelayedCalls()`).
    pub fn pending(&self) -> usize {
        self.timers.borrow().calls.len()
    }

    /// How long until the next call is due (zero if one is late), or
    /// `None` when no call waits: the reactor's `poll` time-out.
    pub(crate) fn time_to_next(&self) -> Option<Duration> {
        let timers = self.timers.borrow();
        let (&(due, _), _) = timers.calls.first_key_value()?;
        Some(due.saturating_sub(timers.now()))
    }

    /// Runs, in order, every call due now. A call may schedule or cancel
    /// others: we take one call out at a time, and never keep the timers
    /// borrowed while a call runs.
    pub(crate) fn run_due(&self) {
        let now = self.now();
        loop {
            let call = {
                let mut timers = self.timers.borrow_mut();
                match timers.calls.first_key_value() {
                    Some((&(due, _), _)) if due <= now => timers.calls.pop_first().map(|(_, c)| c),
                    _ => None,
                }
            };
            match call {
                Some(call) => call(),
                None => break,
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}

impl Timers {
    fn now(&self) -> Duration {
        self.manual.unwrap_or_else(|| self.start.elapsed())
    }
}

/// A call scheduled by [`Clock::call_later`] (Twisted's `DelayedCall`).
pub struct DelayedCall {
    key: Key,
    timers: Weak<RefCell<Timers>>,
}

impl DelayedCall {
    /// Cancels the call. Returns false if it had already run or been
    /// cancelled (Twisted raises an error there; we simply say so).
    pub fn cancel(&self) -> bool {
        match self.timers.upgrade() {
            Some(timers) => timers.borrow_mut().calls.remove(&self.key).is_some(),
            None => false,
        }
    }

    /// True while the call waits (Twisted's `active()`).
    pub fn is_active(&self) -> bool {
        match self.timers.upgrade() {
            Some(timers) => timers.borrow().calls.contains_key(&self.key),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Records the names of the calls that ran, in order.
    #[derive(Clone, Default)]
    struct Log(Rc<RefCell<Vec<&'static str>>>);

    impl Log {
        fn call(&self, name: &'static str) -> impl FnOnce() + 'static {
            let log = self.clone();
            move || log.0.borrow_mut().push(name)
        }
        fn seen(&self) -> Vec<&'static str> {
            self.0.borrow().clone()
        }
    }

    #[test]
    fn calls_fire_in_time_order_then_creation_order() {
        let clock = Clock::manual();
        let log = Log::default();
        clock.call_later(Duration::from_secs(3), log.call("c"));
        clock.call_later(Duration::from_secs(1), log.call("a"));
        clock.call_later(Duration::from_secs(2), log.call("b1"));
        clock.call_later(Duration::from_secs(2), log.call("b2"));
        clock.advance(Duration::from_millis(999));
        assert!(log.seen().is_empty(), "nothing is due before 1 s");
        clock.advance(Duration::from_millis(1));
        assert_eq!(log.seen(), ["a"]);
        clock.advance(Duration::from_secs(5));
        assert_eq!(log.seen(), ["a", "b1", "b2", "c"]);
        assert_eq!(clock.pending(), 0);
        assert_eq!(clock.now(), Duration::from_secs(6));
    }

    #[test]
    fn a_cancelled_call_never_runs() {
        let clock = Clock::manual();
        let log = Log::default();
        let kept = clock.call_later(Duration::from_secs(1), log.call("kept"));
        let dropped = clock.call_later(Duration::from_secs(1), log.call("dropped"));
        assert!(dropped.is_active());
        assert!(dropped.cancel());
        assert!(!dropped.cancel(), "a second cancel says it was not pending");
        clock.advance(Duration::from_secs(1));
        assert_eq!(log.seen(), ["kept"]);
        assert!(!kept.is_active());
        assert!(!kept.cancel(), "too late: it already ran");
    }

    #[test]
    fn a_call_may_schedule_another_which_runs_when_due() {
        let clock = Clock::manual();
        let log = Log::default();
        let inner_clock = clock.clone();
        let later = log.call("second");
        let first = log.call("first");
        clock.call_later(Duration::from_secs(1), move || {
            first();
            inner_clock.call_later(Duration::from_secs(1), later);
        });
        clock.advance(Duration::from_secs(1));
        assert_eq!(log.seen(), ["first"]);
        assert_eq!(clock.time_to_next(), Some(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(1));
        assert_eq!(log.seen(), ["first", "second"]);
        assert_eq!(clock.time_to_next(), None);
    }
}
