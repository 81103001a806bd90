//! Noticing that the computer slept.
//!
//! Monotonic clocks (which tokio's timers use) stop during suspend on Linux and macOS, so an idle
//! timer armed before a suspend fires late by the length of the sleep, while the TCP connection it
//! guards is almost certainly dead. The wall clock keeps counting. A watcher compares the two on a
//! slow tick and, when the wall clock ran ahead, announces a wake-up so every subscription
//! reconnects within seconds. One tick for the whole app, not one per subscription.

use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A wall-clock lead smaller than this is clock adjustment noise, not a suspend.
pub const SUSPEND_THRESHOLD: Duration = Duration::from_secs(5);

/// How long the machine seems to have slept, given how far each clock moved over one interval.
pub fn suspended_for(monotonic: Duration, wall: Duration) -> Option<Duration> {
    let lead = wall.checked_sub(monotonic)?;
    (lead >= SUSPEND_THRESHOLD).then_some(lead)
}

/// A wake-up announcement: a counter that increases at each detected resume, with the length of
/// the last sleep in seconds.
pub type WakeSignal = watch::Receiver<(u64, u64)>;

/// The sending side of a [`WakeSignal`], for tests and for platforms that learn of a resume from
/// the OS directly.
pub type WakeSender = watch::Sender<(u64, u64)>;

/// A channel with no wake-up yet.
pub fn wake_channel() -> (WakeSender, WakeSignal) {
    watch::channel((0, 0))
}

/// Runs the watcher until `cancel` fires, ticking every `tick`.
pub async fn watch_for_suspend(tick: Duration, sender: WakeSender, cancel: CancellationToken) {
    let mut mono_before = Instant::now();
    let mut wall_before = SystemTime::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
        let (mono_now, wall_now) = (Instant::now(), SystemTime::now());
        let wall = wall_now
            .duration_since(wall_before)
            .unwrap_or(Duration::ZERO);
        if let Some(slept) = suspended_for(mono_now - mono_before, wall) {
            tracing::info!("computer resumed after about {} s asleep", slept.as_secs());
            sender.send_modify(|(generation, seconds)| {
                *generation += 1;
                *seconds = slept.as_secs();
            });
        }
        (mono_before, wall_before) = (mono_now, wall_now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_a_wall_clock_lead() {
        let s = Duration::from_secs;
        assert_eq!(suspended_for(s(10), s(10)), None);
        assert_eq!(
            suspended_for(s(10), s(12)),
            None,
            "small adjustments are noise"
        );
        assert_eq!(suspended_for(s(10), s(3_610)), Some(s(3_600)));
        assert_eq!(
            suspended_for(s(10), s(2)),
            None,
            "clock set backwards is not a suspend"
        );
    }
}
