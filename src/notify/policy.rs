//! The notification policy: for each newly stored event, what (if anything) the desktop shows.
//!
//! Pure: no I/O, no clock. Each call gets a [`Now`]; the answer is a list of [`Decision`]s. For
//! every event exactly one of them is its *fate* — [`Decision::Show`] or [`Decision::Suppressed`]
//! with the reason — possibly preceded or followed by [`Decision::Summary`] entries, which tell the
//! notifier to show a summary in its slot, *replacing* whatever that slot showed before.
//!
//! Order of the rules, and why:
//! 1. `enabled = false`, a muted subscription, an event type outside the include/exclude lists, and
//!    a priority under the minimum are stored silently — the user asked for that.
//!    Before that, the subscription's rules ([`super::rules`]) are checked against the mapped
//!    event: the first match may mark it read (whatever is shown), mute or skip it, or replace its
//!    priority (which the minimum-priority check then sees).
//! 2. High and urgent priority bypass quiet hours, do-not-disturb and the throttle (shown as
//!    critical): they are rare by definition and the reason to have notifications at all.
//! 3. During quiet hours or do-not-disturb, events are counted; when both are over, ONE summary of
//!    what arrived meanwhile is shown (slot [`SummarySlot::Quiet`]).
//! 4. Otherwise the per-subscription token bucket lets a burst through, then about one per interval.
//!    What it holds back is counted into one summary per subscription ("37 more from Builds",
//!    slot [`SummarySlot::Throttle`]) that is updated in place at most once per
//!    `summary_refresh_secs`; the count is exact. A burst ends when the bucket has refilled and
//!    nothing was held back for an interval; the next burst's summary counts from zero again.
//!
//! 5. Watchdogs ([`super::watchdog`]): every stored event that no rule skips is an arrival; a
//!    subscription that stays silent past its deadline gets one [`Decision::Watchdog`] (high
//!    priority, so quiet hours do not hide it) and one more when the event is back.
//!
//! Pending summaries are flushed by [`NotificationPolicy::tick`]; the engine calls it when
//! [`NotificationPolicy::next_deadline`] passes (no polling, invariant 6). `decide` flushes too.

use std::collections::{BTreeMap, HashMap};

use crate::SubscriptionId;

use super::NotifyInput;
use super::payload::{Mapped, Priority, Templates, Urgency, map_event, parse_json};
use super::prefs::{NotificationPrefs, SubscriptionNotifyPrefs};
use super::rules::{RuleMatch, RuleSubject, first_match};
use super::schedule::{DoNotDisturb, Now};
use super::sound;
use super::throttle::Throttle;
use super::watchdog::{OverdueFact, WatchdogChange, WatchdogPrefs, Watchdogs, span_words};
use crate::untrusted::one_line;

/// What to do, produced by [`NotificationPolicy::decide`] and [`NotificationPolicy::tick`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Show a notification for this event.
    Show(Notice),
    /// Show this summary, replacing the previous content of its slot.
    Summary(SummaryNotice),
    /// The event is stored but not shown, for this reason.
    Suppressed(Suppressed),
    /// A rule asked for this stored event to be marked read (comes before the event's fate).
    MarkRead {
        /// The history row key.
        event_key: i64,
    },
    /// A watchdog changed: a subscription went overdue, or is back. The owner stores or
    /// resolves the history marker, then shows the notice (if `show`).
    Watchdog(WatchdogNotice),
}

/// A watchdog's notification and the change behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogNotice {
    /// What changed.
    pub change: WatchdogChange,
    /// "No backup.done from Backups for 26 h — expected every 24 h".
    pub title: String,
    /// A sentence of context.
    pub body: String,
    /// Overdue is critical (it bypasses quiet hours like any high-priority event); back is normal.
    pub urgency: Urgency,
    /// False when notifications are off or the subscription is muted: the marker is still kept.
    pub show: bool,
    /// The subscription's high-priority sound for "overdue" (not when quiet); "back" is silent.
    pub sound: Option<String>,
}

impl WatchdogNotice {
    /// The subscription it is about.
    pub fn subscription(&self) -> &SubscriptionId {
        match &self.change {
            WatchdogChange::Overdue(fact) | WatchdogChange::Back { fact, .. } => &fact.subscription,
        }
    }
}

/// Why an event was not shown on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Suppressed {
    /// Notifications are switched off.
    Disabled,
    /// The subscription is muted.
    Muted,
    /// The event type is not in `include_types`, or is in `exclude_types`.
    TypeFiltered,
    /// Below the minimum priority (low and min by default).
    BelowMinPriority,
    /// Held back by the throttle; counted in the subscription's throttle summary.
    Throttled,
    /// Quiet hours or do-not-disturb; counted in the end-of-quiet summary.
    Quiet,
    /// A rule with `mute = true` matched.
    RuleMuted,
    /// A rule with `skip = true` matched.
    RuleSkipped,
}

/// A notification for one event: plain text, capped; the notifier escapes it if needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The event's subscription.
    pub subscription: SubscriptionId,
    /// The history row key (what a click opens).
    pub event_key: i64,
    /// The SSE id, if any.
    pub event_id: Option<String>,
    /// Title, body, link, priority, tags and icon.
    pub mapped: Mapped,
    /// How the desktop should present it.
    pub urgency: Urgency,
    /// The sound theme name to play (see [`super::sound`]); `None`: silent.
    pub sound: Option<String>,
    /// The image URL to fetch and show with it ([`SubscriptionNotifyPrefs::image_to_fetch`]):
    /// only a shown event carries one, so nothing muted, skipped or held back is ever fetched.
    pub image: Option<String>,
}

/// Where a summary lives: one per subscription for the throttle, one for the end of quiet time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SummarySlot {
    /// "N more from `<subscription>`".
    Throttle(SubscriptionId),
    /// "N events while notifications were paused".
    Quiet,
    /// A watchdog's "overdue", replaced in place by its "back".
    Watchdog(SubscriptionId),
    /// A notice from the app itself (e.g. "no system tray on this desktop").
    App,
}

/// A summary to show in its slot, replacing what the slot showed before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryNotice {
    /// Which summary.
    pub slot: SummarySlot,
    /// How many events it stands for (exact).
    pub count: u64,
    /// E.g. "37 more from Builds".
    pub title: String,
    /// E.g. "Latest: Deploy failed".
    pub body: String,
    /// Always normal: a summary is never more pressing than the events it stands for.
    pub urgency: Urgency,
}

#[derive(Debug)]
struct SubscriptionState {
    throttle: Throttle,
    name: String,
    /// Events held back in the current burst.
    held: u64,
    last_held_ms: i64,
    /// When the summary was last emitted, if it has been in this burst.
    emitted_at: Option<i64>,
    /// A newer count than the one last emitted is waiting.
    dirty: bool,
    latest_title: String,
}

/// Counted while quiet hours or do-not-disturb hold notifications back.
#[derive(Debug, Default)]
struct QuietHold {
    total: u64,
    /// Per subscription: display name and count (bounded by the number of subscriptions).
    by_subscription: BTreeMap<SubscriptionId, (String, u64)>,
}

/// The policy and its per-subscription state. One per app.
#[derive(Debug)]
pub struct NotificationPolicy {
    prefs: NotificationPrefs,
    subscriptions: HashMap<SubscriptionId, SubscriptionNotifyPrefs>,
    state: HashMap<SubscriptionId, SubscriptionState>,
    dnd: DoNotDisturb,
    quiet: QuietHold,
    watchdogs: Watchdogs,
}

impl NotificationPolicy {
    /// A policy with these global preferences and default per-subscription ones.
    pub fn new(prefs: NotificationPrefs) -> Self {
        Self {
            prefs,
            subscriptions: HashMap::new(),
            state: HashMap::new(),
            dnd: DoNotDisturb::Off,
            quiet: QuietHold::default(),
            watchdogs: Watchdogs::default(),
        }
    }

    /// The global preferences in force.
    pub fn prefs(&self) -> &NotificationPrefs {
        &self.prefs
    }

    /// Replaces the global preferences, keeping throttle state and held counts.
    pub fn set_prefs(&mut self, prefs: NotificationPrefs) {
        self.prefs = prefs;
        for (id, state) in &mut self.state {
            let sub = self.subscriptions.get(id).cloned().unwrap_or_default();
            state.throttle.reconfigure(sub.throttle(&self.prefs));
        }
    }

    /// Sets one subscription's preferences (mute, filters, templates, throttle override).
    pub fn set_subscription(&mut self, id: SubscriptionId, prefs: SubscriptionNotifyPrefs) {
        if let Some(state) = self.state.get_mut(&id) {
            state.throttle.reconfigure(prefs.throttle(&self.prefs));
        }
        self.subscriptions.insert(id, prefs);
    }

    /// Forgets a removed subscription (its preferences, throttle state and watchdog).
    pub fn remove_subscription(&mut self, id: &SubscriptionId) {
        self.subscriptions.remove(id);
        self.state.remove(id);
        self.watchdogs.configure(id, "", None, 0);
    }

    /// Starts, changes or (with `None`) stops the watchdog of subscription `id` (display name
    /// `name`); a new watch counts from `now_ms` until [`Self::restore_watchdog`].
    pub fn set_watchdog(
        &mut self,
        id: &SubscriptionId,
        name: &str,
        prefs: Option<&WatchdogPrefs>,
        now_ms: i64,
    ) {
        self.watchdogs.configure(id, name, prefs, now_ms);
    }

    /// Watchdogs that still need [`Self::restore_watchdog`], with the event type they count.
    pub fn watchdogs_to_restore(&self) -> Vec<(SubscriptionId, Option<String>)> {
        self.watchdogs.unrestored()
    }

    /// What history says about a watched subscription: its last arrival and its newest overdue
    /// marker (row key, time).
    pub fn restore_watchdog(
        &mut self,
        id: &SubscriptionId,
        last_arrival: Option<i64>,
        marker: Option<(i64, i64)>,
    ) {
        self.watchdogs.restore(id, last_arrival, marker);
    }

    /// Remembers the history row of an overdue marker, so "back" can resolve it.
    pub fn set_watchdog_marker(&mut self, id: &SubscriptionId, key: i64) {
        self.watchdogs.set_marker(id, key);
    }

    /// The subscriptions that are overdue now (for the tray status).
    pub fn overdue(&self) -> Vec<OverdueFact> {
        self.watchdogs.overdue()
    }

    /// Sets the manual do-not-disturb. Switching it off (or letting it expire) releases the
    /// end-of-quiet summary at the next `tick` or `decide`.
    pub fn set_do_not_disturb(&mut self, dnd: DoNotDisturb) {
        self.dnd = dnd;
    }

    /// The do-not-disturb setting (for the tray), `Off` once an expiry has passed.
    pub fn do_not_disturb(&self, now: Now) -> DoNotDisturb {
        if self.dnd.is_active(now.unix_ms) {
            self.dnd
        } else {
            DoNotDisturb::Off
        }
    }

    /// Whether notifications are being held back at `now` (quiet hours or do-not-disturb).
    pub fn is_quiet(&self, now: Now) -> bool {
        self.dnd.is_active(now.unix_ms)
            || self
                .prefs
                .quiet_hours
                .as_ref()
                .is_some_and(|q| q.contains(now.local))
    }

    /// Decides what one newly stored event shows. See the module docs for the rules.
    pub fn decide(&mut self, input: &NotifyInput, now: Now) -> Vec<Decision> {
        let mut out = self.tick(now);
        out.extend(self.decide_event(input, now));
        out
    }

    fn decide_event(&mut self, input: &NotifyInput, now: Now) -> Vec<Decision> {
        let empty = SubscriptionNotifyPrefs::default();
        let sub = self
            .subscriptions
            .get(&input.subscription)
            .unwrap_or(&empty);
        let (mapped, rule) = map_and_match(input, sub, &self.prefs);
        let mut out = Vec::new();
        let skipped = rule.as_ref().is_some_and(|r| r.effect.skip);
        if !skipped && !crate::event::is_marker_type(&input.event_type) {
            let change =
                self.watchdogs
                    .arrived(&input.subscription, &input.event_type, input.received_at);
            if let Some(change) = change {
                out.push(Decision::Watchdog(self.watchdog_notice(change, now)));
            }
        }
        let sub = self
            .subscriptions
            .get(&input.subscription)
            .unwrap_or(&empty);
        if rule.as_ref().is_some_and(|r| r.effect.mark_read) {
            out.push(Decision::MarkRead {
                event_key: input.event_key,
            });
        }
        match static_fate(sub, &self.prefs, &input.event_type, &mapped, rule.as_ref()) {
            Some(reason) => out.push(Decision::Suppressed(reason)),
            None => out.extend(self.rate_limited(input, mapped, now)),
        }
        out
    }

    /// Decides, for an event that passed every filter, between showing it, holding it for the
    /// end-of-quiet summary, and counting it into the throttle summary.
    fn rate_limited(&mut self, input: &NotifyInput, mapped: Mapped, now: Now) -> Vec<Decision> {
        let suppressed = |reason| vec![Decision::Suppressed(reason)];
        let sub = self
            .subscriptions
            .get(&input.subscription)
            .cloned()
            .unwrap_or_default();
        let quiet = self.is_quiet(now);
        // Quiet hours and do-not-disturb mute even what they let through.
        let sound = sound::choose(sub.sound.as_ref(), &sub.sounds, mapped.priority, quiet)
            .map(|name| name.as_str().to_owned());
        let image = sub.image_to_fetch(mapped.image.as_deref());
        if mapped.priority.is_pressing() {
            return vec![show(input, mapped, sound, image)];
        }
        if quiet {
            self.quiet.total += 1;
            let entry = self
                .quiet
                .by_subscription
                .entry(input.subscription.clone())
                .or_insert_with(|| (String::new(), 0));
            entry.0.clone_from(&input.subscription_name);
            entry.1 += 1;
            return suppressed(Suppressed::Quiet);
        }

        let config = sub.throttle(&self.prefs);
        let state = self
            .state
            .entry(input.subscription.clone())
            .or_insert_with(|| SubscriptionState {
                throttle: Throttle::new(config),
                name: String::new(),
                held: 0,
                last_held_ms: i64::MIN,
                emitted_at: None,
                dirty: false,
                latest_title: String::new(),
            });
        state.name.clone_from(&input.subscription_name);
        let interval_ms = i64::try_from(config.interval.as_millis()).unwrap_or(i64::MAX);
        if state.held > 0
            && !state.dirty
            && now.unix_ms.saturating_sub(state.last_held_ms) >= interval_ms
            && state.throttle.is_full(now.unix_ms)
        {
            // The previous burst is over: the next summary counts from zero.
            state.held = 0;
            state.emitted_at = None;
        }
        if state.throttle.try_take(now.unix_ms) {
            return vec![show(input, mapped, sound, image)];
        }

        state.held += 1;
        state.last_held_ms = now.unix_ms;
        state.latest_title = mapped.title;
        let refresh_ms = i64::try_from(self.prefs.summary_refresh().as_millis()).unwrap_or(0);
        let due = state
            .emitted_at
            .is_none_or(|at| now.unix_ms.saturating_sub(at) >= refresh_ms);
        let mut out = suppressed(Suppressed::Throttled);
        if due {
            out.push(Decision::Summary(throttle_summary(
                &input.subscription,
                state,
            )));
            state.emitted_at = Some(now.unix_ms);
            state.dirty = false;
        } else {
            state.dirty = true;
        }
        out
    }

    /// Emits what has become due: throttle summaries whose refresh period has passed (held while
    /// it is quiet), and the end-of-quiet summary once quiet hours and do-not-disturb are both over.
    pub fn tick(&mut self, now: Now) -> Vec<Decision> {
        let mut out: Vec<Decision> = self
            .watchdogs
            .due(now.unix_ms)
            .into_iter()
            .map(|change| Decision::Watchdog(self.watchdog_notice(change, now)))
            .collect();
        if self.is_quiet(now) {
            return out;
        }
        let refresh_ms = i64::try_from(self.prefs.summary_refresh().as_millis()).unwrap_or(0);
        let mut due: Vec<SubscriptionId> = self
            .state
            .iter()
            .filter(|(_, s)| {
                s.dirty
                    && s.emitted_at
                        .is_none_or(|at| now.unix_ms.saturating_sub(at) >= refresh_ms)
            })
            .map(|(id, _)| id.clone())
            .collect();
        due.sort();
        for id in due {
            if let Some(state) = self.state.get_mut(&id) {
                out.push(Decision::Summary(throttle_summary(&id, state)));
                state.emitted_at = Some(now.unix_ms);
                state.dirty = false;
            }
        }
        if self.quiet.total > 0 {
            out.push(Decision::Summary(quiet_summary(&std::mem::take(
                &mut self.quiet,
            ))));
        }
        if matches!(self.dnd, DoNotDisturb::Until(_)) {
            self.dnd = DoNotDisturb::Off;
        }
        out
    }

    /// When quiet time that is on at `now` ends (Unix ms); `None` while an open-ended
    /// do-not-disturb is on.
    fn quiet_end(&self, now: Now) -> Option<i64> {
        let dnd_end = match self.dnd {
            DoNotDisturb::On => return None,
            DoNotDisturb::Until(end) if end > now.unix_ms => end,
            _ => now.unix_ms,
        };
        let hours_end = self
            .prefs
            .quiet_hours
            .as_ref()
            .and_then(|q| q.remaining_ms(now.local))
            .map_or(now.unix_ms, |left| now.unix_ms.saturating_add(left));
        Some(dnd_end.max(hours_end))
    }

    /// When `tick` next has something to do (Unix ms), or `None` if nothing is pending (or only an
    /// open-ended do-not-disturb can end the wait). A time in the past means "now". It is a wake-up
    /// hint: calling `tick` earlier or later is harmless, and it never asks to spin.
    pub fn next_deadline(&self, now: Now) -> Option<i64> {
        let summaries = self.summary_deadline(now);
        [summaries, self.watchdogs.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Builds the notice for a watchdog change at `now`.
    fn watchdog_notice(&self, change: WatchdogChange, now: Now) -> WatchdogNotice {
        let (title, body, urgency, id) = match &change {
            WatchdogChange::Overdue(fact) => (
                fact.describe(now.unix_ms),
                "SSE Tray keeps watching and says so when it is back.".to_owned(),
                Urgency::Critical,
                &fact.subscription,
            ),
            WatchdogChange::Back { fact, at } => (
                format!(
                    "{} from {} is back",
                    fact.event_type.as_deref().unwrap_or("Events"),
                    fact.name
                ),
                format!(
                    "After {} without one (expected every {}).",
                    span_words(at.saturating_sub(fact.last_arrival)),
                    span_words(
                        i64::try_from(fact.every.duration().as_millis()).unwrap_or(i64::MAX)
                    ),
                ),
                Urgency::Normal,
                &fact.subscription,
            ),
        };
        let sub = self.subscriptions.get(id);
        let show = self.prefs.enabled && !sub.is_some_and(|s| s.mute);
        let sound = match (&change, sub) {
            (WatchdogChange::Overdue(_), Some(sub)) => sound::choose(
                sub.sound.as_ref(),
                &sub.sounds,
                Priority::High,
                self.is_quiet(now),
            )
            .map(|name| name.as_str().to_owned()),
            _ => None,
        };
        WatchdogNotice {
            title: one_line(&title, self.prefs.limits().title_chars),
            body,
            urgency,
            show,
            sound,
            change,
        }
    }

    fn summary_deadline(&self, now: Now) -> Option<i64> {
        let refresh_ms = i64::try_from(self.prefs.summary_refresh().as_millis()).unwrap_or(0);
        let throttle = self
            .state
            .values()
            .filter(|s| s.dirty)
            .map(|s| {
                s.emitted_at
                    .map_or(now.unix_ms, |at| at.saturating_add(refresh_ms))
            })
            .min();
        let anything = throttle.is_some() || self.quiet.total > 0;
        if !anything {
            return None;
        }
        if self.is_quiet(now) {
            return self.quiet_end(now);
        }
        let quiet = (self.quiet.total > 0).then_some(now.unix_ms);
        [throttle, quiet].into_iter().flatten().min()
    }
}

/// What the notification for `input` shows (its title, body, link, priority, tags), without
/// deciding whether it is shown: the history window uses it so a row reads like its notification.
pub fn mapped_for(
    input: &NotifyInput,
    sub: &SubscriptionNotifyPrefs,
    prefs: &NotificationPrefs,
) -> Mapped {
    map_and_match(input, sub, prefs).0
}

/// Maps the event with the subscription's templates and finds the first rule that matches it; a
/// matching rule's priority replaces the mapped one.
fn map_and_match(
    input: &NotifyInput,
    sub: &SubscriptionNotifyPrefs,
    prefs: &NotificationPrefs,
) -> (Mapped, Option<RuleMatch>) {
    let templates = Templates {
        title: sub.title_template.as_ref(),
        body: sub.body_template.as_ref(),
        replace_key: sub.replace_key.as_ref(),
        markdown: sub.markdown,
    };
    let mut mapped = map_event(input, templates, prefs.limits());
    let rule = if sub.rule.is_empty() {
        None
    } else {
        let json = parse_json(&input.data);
        first_match(
            &sub.rule,
            &RuleSubject {
                event_type: &input.event_type,
                json: json.as_ref(),
                title: &mapped.title,
                body: &mapped.body,
            },
        )
    };
    if let Some(priority) = rule.as_ref().and_then(|r| r.effect.priority) {
        mapped.priority = priority;
    }
    (mapped, rule)
}

/// The reasons an event is not shown that depend only on settings and the event itself (not on
/// time, quiet hours or the throttle), in the order the module docs give.
fn static_fate(
    sub: &SubscriptionNotifyPrefs,
    prefs: &NotificationPrefs,
    event_type: &str,
    mapped: &Mapped,
    rule: Option<&RuleMatch>,
) -> Option<Suppressed> {
    let effect = rule.map(|r| r.effect).unwrap_or_default();
    if !prefs.enabled {
        Some(Suppressed::Disabled)
    } else if sub.mute {
        Some(Suppressed::Muted)
    } else if !sub.allows_type(event_type) {
        Some(Suppressed::TypeFiltered)
    } else if effect.skip {
        Some(Suppressed::RuleSkipped)
    } else if effect.mute {
        Some(Suppressed::RuleMuted)
    } else if mapped.priority < sub.min_priority(prefs) {
        Some(Suppressed::BelowMinPriority)
    } else {
        None
    }
}

/// What the settings window's "test rule" box shows: which rule matched a sample event and what
/// would happen to it (quiet hours and the throttle aside, which depend on the moment).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleTest {
    /// The first matching rule, if any.
    pub matched: Option<RuleMatch>,
    /// The title the notification would have.
    pub title: String,
    /// Its body.
    pub body: String,
    /// Its priority, after the rule.
    pub priority: Priority,
    /// Why it would not be shown; `None`: it would be shown (or held by quiet hours/throttle).
    pub suppressed: Option<Suppressed>,
    /// Whether it would be stored as read.
    pub mark_read: bool,
}

/// Runs a sample event (`payload_json` as the data, `event_type`) through the subscription's
/// rules and filters, with the global preferences `global`. Pure: nothing is shown or stored.
pub fn test_rules(
    global: &NotificationPrefs,
    sub: &SubscriptionNotifyPrefs,
    payload_json: &str,
    event_type: &str,
) -> RuleTest {
    let input = NotifyInput {
        subscription: SubscriptionId::new("test"),
        subscription_name: "Test".into(),
        event_key: 0,
        event_id: None,
        event_type: event_type.to_owned(),
        data: payload_json.to_owned(),
        received_at: 0,
    };
    let (mapped, matched) = map_and_match(&input, sub, global);
    let suppressed = static_fate(sub, global, event_type, &mapped, matched.as_ref());
    RuleTest {
        mark_read: matched.as_ref().is_some_and(|r| r.effect.mark_read),
        matched,
        title: mapped.title,
        body: mapped.body,
        priority: mapped.priority,
        suppressed,
    }
}

fn show(
    input: &NotifyInput,
    mapped: Mapped,
    sound: Option<String>,
    image: Option<String>,
) -> Decision {
    Decision::Show(Notice {
        sound,
        image,
        subscription: input.subscription.clone(),
        event_key: input.event_key,
        event_id: input.event_id.clone(),
        urgency: mapped.priority.urgency(),
        mapped,
    })
}

fn throttle_summary(id: &SubscriptionId, state: &SubscriptionState) -> SummaryNotice {
    SummaryNotice {
        slot: SummarySlot::Throttle(id.clone()),
        count: state.held,
        title: one_line(&format!("{} more from {}", state.held, state.name), 100),
        body: format!("Latest: {}", state.latest_title),
        urgency: Urgency::Normal,
    }
}

fn quiet_summary(hold: &QuietHold) -> SummaryNotice {
    const LISTED: usize = 5;
    let mut counts: Vec<&(String, u64)> = hold.by_subscription.values().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut body = counts
        .iter()
        .take(LISTED)
        .map(|(name, n)| format!("{name}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if counts.len() > LISTED {
        body.push_str(&format!(
            ", and {} more subscriptions",
            counts.len() - LISTED
        ));
    }
    let noun = if hold.total == 1 { "event" } else { "events" };
    SummaryNotice {
        slot: SummarySlot::Quiet,
        count: hold.total,
        title: format!("{} {noun} while notifications were paused", hold.total),
        body,
        urgency: Urgency::Normal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::payload::Priority;
    use crate::notify::schedule::{LocalTime, QuietHours, TimeOfDay, Weekday};
    use crate::notify::template::Template;

    fn event(sub: &str, key: i64, data: &str) -> NotifyInput {
        NotifyInput {
            subscription: SubscriptionId::new(sub),
            subscription_name: sub.to_uppercase(),
            event_key: key,
            event_id: Some(format!("id-{key}")),
            event_type: "message".into(),
            data: data.into(),
            received_at: 0,
        }
    }

    /// Monday 12:00 plus `ms`, local = UTC.
    fn at(ms: i64) -> Now {
        // 2024-01-01T12:00:00Z, a Monday.
        Now::from_unix_ms(1_704_110_400_000 + ms, 0)
    }

    #[derive(Default, Debug)]
    struct Tally {
        shown: Vec<i64>,
        summaries: Vec<SummaryNotice>,
        suppressed: HashMap<Suppressed, u64>,
        marked_read: Vec<i64>,
        watchdog: Vec<WatchdogNotice>,
    }

    fn tally(decisions: impl IntoIterator<Item = Decision>, t: &mut Tally) {
        for d in decisions {
            match d {
                Decision::Show(n) => t.shown.push(n.event_key),
                Decision::Summary(s) => t.summaries.push(s),
                Decision::Suppressed(r) => *t.suppressed.entry(r).or_default() += 1,
                Decision::MarkRead { event_key } => t.marked_read.push(event_key),
                Decision::Watchdog(n) => t.watchdog.push(n),
            }
        }
    }

    #[test]
    fn only_shown_events_carry_an_image_to_fetch() {
        let mut policy = NotificationPolicy::new(NotificationPrefs {
            burst: 1,
            ..NotificationPrefs::default()
        });
        policy.set_subscription(
            SubscriptionId::new("lan"),
            toml::from_str("allow_http_images = true").unwrap(),
        );
        let images = |decisions: Vec<Decision>| -> Vec<Option<String>> {
            decisions
                .into_iter()
                .filter_map(|d| match d {
                    Decision::Show(n) => Some(n.image),
                    _ => None,
                })
                .collect()
        };
        let http = r#"{"icon":"http://lan.example/a.png"}"#;
        let https = r#"{"icon":"https://cdn.example/a.png"}"#;
        assert_eq!(
            images(policy.decide(&event("lan", 1, http), at(0))),
            [Some("http://lan.example/a.png".to_owned())]
        );
        // Throttled: no Show, so nothing to fetch.
        assert!(images(policy.decide(&event("lan", 2, http), at(1))).is_empty());
        // Default subscription: https only.
        assert_eq!(images(policy.decide(&event("web", 3, http), at(2))), [None]);
        assert_eq!(
            images(policy.decide(&event("other", 4, https), at(3))),
            [Some("https://cdn.example/a.png".to_owned())]
        );
        policy.set_subscription(
            SubscriptionId::new("muted"),
            toml::from_str("mute = true").unwrap(),
        );
        assert!(images(policy.decide(&event("muted", 5, https), at(4))).is_empty());
    }

    #[test]
    fn burst_of_1000_gives_the_burst_and_one_exact_summary() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let mut t = Tally::default();
        for key in 0..1000 {
            tally(policy.decide(&event("builds", key, "x"), at(0)), &mut t);
        }
        assert_eq!(t.shown, vec![0, 1, 2, 3, 4]);
        assert_eq!(t.suppressed[&Suppressed::Throttled], 995);
        // The first held event opens the summary at once; later ones wait for the refresh.
        assert_eq!(t.summaries.len(), 1);
        assert_eq!(t.summaries[0].count, 1);
        assert_eq!(policy.next_deadline(at(0)), Some(at(2_000).unix_ms));
        assert!(policy.tick(at(1_999)).is_empty());
        tally(policy.tick(at(2_000)), &mut t);
        assert_eq!(t.summaries.len(), 2);
        let last = t.summaries.last().unwrap();
        assert_eq!(last.count, 995);
        assert_eq!(last.title, "995 more from BUILDS");
        assert!(
            t.summaries
                .iter()
                .all(|s| s.slot == SummarySlot::Throttle(SubscriptionId::new("builds")))
        );
        assert_eq!(policy.next_deadline(at(2_000)), None);
        assert!(policy.tick(at(60_000)).is_empty());
    }

    #[test]
    fn long_burst_counts_every_event_exactly_once() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let mut t = Tally::default();
        // 1000 events, one every 100 ms, for 100 s.
        for key in 0..1000 {
            let now = at(key * 100);
            tally(policy.decide(&event("builds", key, "x"), now), &mut t);
        }
        tally(policy.tick(at(200_000)), &mut t);
        // 5 at once, then one per 10 s for the remaining ~100 s.
        assert_eq!(t.shown.len(), 5 + 9);
        let held = t.suppressed[&Suppressed::Throttled];
        assert_eq!(held + t.shown.len() as u64, 1000);
        assert_eq!(t.summaries.last().unwrap().count, held);
        // Never more than one summary update per refresh period.
        assert!(
            t.summaries.len() <= 100_000 / 2_000 + 2,
            "{}",
            t.summaries.len()
        );
    }

    #[test]
    fn a_new_burst_after_calm_starts_a_new_count_in_the_same_slot() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let mut t = Tally::default();
        for key in 0..8 {
            tally(policy.decide(&event("b", key, "x"), at(0)), &mut t);
        }
        tally(policy.tick(at(5_000)), &mut t);
        assert_eq!(t.summaries.last().unwrap().count, 3);
        // A minute later the bucket is full again.
        let mut t = Tally::default();
        for key in 8..15 {
            tally(policy.decide(&event("b", key, "x"), at(60_000)), &mut t);
        }
        assert_eq!(t.shown.len(), 5);
        assert_eq!(t.summaries.len(), 1);
        assert_eq!(t.summaries[0].count, 1);
        assert_eq!(
            t.summaries[0].slot,
            SummarySlot::Throttle(SubscriptionId::new("b"))
        );
        tally(policy.tick(at(62_000)), &mut t);
        assert_eq!(t.summaries.last().unwrap().count, 2);
    }

    #[test]
    fn subscriptions_are_throttled_independently() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let mut t = Tally::default();
        for key in 0..10 {
            tally(policy.decide(&event("a", key, "x"), at(0)), &mut t);
            tally(policy.decide(&event("b", 100 + key, "x"), at(0)), &mut t);
        }
        assert_eq!(t.shown.len(), 10);
        tally(policy.tick(at(2_000)), &mut t);
        let finals: HashMap<_, _> = t
            .summaries
            .iter()
            .map(|s| (s.slot.clone(), s.count))
            .collect();
        assert_eq!(finals[&SummarySlot::Throttle(SubscriptionId::new("a"))], 5);
        assert_eq!(finals[&SummarySlot::Throttle(SubscriptionId::new("b"))], 5);
    }

    #[test]
    fn high_and_urgent_bypass_the_throttle_as_critical() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        for key in 0..20 {
            policy.decide(&event("b", key, "x"), at(0));
        }
        for (key, p) in [(100, "high"), (101, "urgent"), (102, "5")] {
            let data = format!(r#"{{"title":"t","priority":"{p}"}}"#);
            let out = policy.decide(&event("b", key, &data), at(0));
            match &out[..] {
                [Decision::Show(n)] => {
                    assert_eq!(n.event_key, key);
                    assert_eq!(n.urgency, Urgency::Critical);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    fn night_policy() -> NotificationPolicy {
        NotificationPolicy::new(NotificationPrefs {
            quiet_hours: Some(QuietHours {
                start: TimeOfDay::new(22, 0).unwrap(),
                end: TimeOfDay::new(7, 0).unwrap(),
                days: vec![],
            }),
            ..NotificationPrefs::default()
        })
    }

    fn local(weekday: Weekday, h: u8, m: u8, unix_ms: i64) -> Now {
        Now {
            unix_ms,
            local: LocalTime::at(weekday, h, m),
        }
    }

    #[test]
    fn quiet_hours_across_midnight_then_one_summary() {
        let mut policy = night_policy();
        let hour = 3_600_000;
        let mut t = Tally::default();
        // Monday 21:59: shown.
        tally(
            policy.decide(&event("a", 1, "x"), local(Weekday::Mon, 21, 59, 0)),
            &mut t,
        );
        assert_eq!(t.shown, vec![1]);
        // 22:00 Monday to 06:59 Tuesday: held, across midnight, for two subscriptions.
        for key in 0..30 {
            let now = local(Weekday::Mon, 23, 0, hour);
            tally(policy.decide(&event("a", 10 + key, "x"), now), &mut t);
        }
        for key in 0..12 {
            let now = local(Weekday::Tue, 6, 59, 9 * hour);
            tally(policy.decide(&event("b", 100 + key, "x"), now), &mut t);
        }
        // An urgent one comes through at 02:00.
        let urgent = r#"{"title":"fire","priority":"urgent"}"#;
        tally(
            policy.decide(
                &event("a", 999, urgent),
                local(Weekday::Tue, 2, 0, 4 * hour),
            ),
            &mut t,
        );
        assert_eq!(t.shown, vec![1, 999]);
        assert_eq!(t.suppressed[&Suppressed::Quiet], 42);
        assert!(t.summaries.is_empty());
        // The wake-up is 07:00 (one minute after 06:59).
        let before_end = local(Weekday::Tue, 6, 59, 9 * hour);
        assert_eq!(policy.next_deadline(before_end), Some(9 * hour + 60_000));
        assert!(policy.tick(before_end).is_empty());
        tally(
            policy.tick(local(Weekday::Tue, 7, 0, 9 * hour + 60_000)),
            &mut t,
        );
        assert_eq!(t.summaries.len(), 1);
        let s = &t.summaries[0];
        assert_eq!(s.slot, SummarySlot::Quiet);
        assert_eq!(s.count, 42);
        assert_eq!(s.title, "42 events while notifications were paused");
        assert_eq!(s.body, "A: 30, B: 12");
        // Only once.
        assert!(
            policy
                .tick(local(Weekday::Tue, 7, 1, 9 * hour + 120_000))
                .is_empty()
        );
        // And the daytime event after it is shown (not throttled by the night's events).
        let out = policy.decide(&event("a", 2000, "x"), local(Weekday::Tue, 8, 0, 10 * hour));
        assert!(matches!(&out[..], [Decision::Show(_)]), "{out:?}");
    }

    #[test]
    fn dnd_with_expiry_and_end_of_quiet_summary() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        policy.set_do_not_disturb(DoNotDisturb::Until(at(60_000).unix_ms));
        assert!(policy.is_quiet(at(0)));
        let mut t = Tally::default();
        for key in 0..7 {
            tally(policy.decide(&event("a", key, "x"), at(key * 1000)), &mut t);
        }
        assert_eq!(t.suppressed[&Suppressed::Quiet], 7);
        assert_eq!(policy.next_deadline(at(7_000)), Some(at(60_000).unix_ms));
        assert!(policy.tick(at(59_999)).is_empty());
        // The first event after expiry brings the summary first, then is itself shown.
        let out = policy.decide(&event("a", 50, "x"), at(60_000));
        match &out[..] {
            [Decision::Summary(s), Decision::Show(n)] => {
                assert_eq!((s.slot.clone(), s.count), (SummarySlot::Quiet, 7));
                assert_eq!(s.title, "7 events while notifications were paused");
                assert_eq!(n.event_key, 50);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(policy.do_not_disturb(at(60_000)), DoNotDisturb::Off);
    }

    #[test]
    fn indefinite_dnd_waits_for_the_user() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        policy.set_do_not_disturb(DoNotDisturb::On);
        policy.decide(&event("a", 1, "x"), at(0));
        assert_eq!(policy.next_deadline(at(0)), None);
        assert!(policy.tick(at(1_000_000_000)).is_empty());
        policy.set_do_not_disturb(DoNotDisturb::Off);
        assert_eq!(policy.next_deadline(at(5)), Some(at(5).unix_ms));
        let out = policy.tick(at(5));
        assert!(
            matches!(&out[..], [Decision::Summary(s)] if s.count == 1 && s.title.starts_with("1 event "))
        );
    }

    #[test]
    fn dnd_ending_inside_quiet_hours_keeps_holding() {
        let mut policy = night_policy();
        policy.set_do_not_disturb(DoNotDisturb::Until(1_000));
        policy.decide(&event("a", 1, "x"), local(Weekday::Mon, 20, 0, 0));
        // DND is over at 23:00 but quiet hours are on: no summary until 07:00.
        assert!(policy.tick(local(Weekday::Mon, 23, 0, 10_000)).is_empty());
        let out = policy.tick(local(Weekday::Tue, 7, 0, 20_000));
        assert!(matches!(&out[..], [Decision::Summary(s)] if s.count == 1));
    }

    #[test]
    fn a_throttle_summary_pending_when_quiet_starts_waits_for_the_end() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let mut t = Tally::default();
        for key in 0..9 {
            tally(policy.decide(&event("a", key, "x"), at(0)), &mut t);
        }
        assert_eq!(t.summaries.last().unwrap().count, 1);
        policy.set_do_not_disturb(DoNotDisturb::Until(at(30_000).unix_ms));
        tally(policy.decide(&event("a", 9, "x"), at(1_000)), &mut t);
        // Due at 2 s, but quiet: nothing, and the wake-up is the end of the quiet time.
        assert!(policy.tick(at(2_000)).is_empty());
        assert_eq!(policy.next_deadline(at(2_000)), Some(at(30_000).unix_ms));
        tally(policy.tick(at(30_000)), &mut t);
        let last_two: Vec<_> = t
            .summaries
            .iter()
            .rev()
            .take(2)
            .map(|s| (s.slot.clone(), s.count))
            .collect();
        assert_eq!(
            last_two,
            vec![
                (SummarySlot::Quiet, 1),
                (SummarySlot::Throttle(SubscriptionId::new("a")), 4)
            ]
        );
        assert_eq!(policy.next_deadline(at(30_000)), None);
    }

    #[test]
    fn mute_filters_min_priority_and_disabled() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        policy.set_subscription(
            SubscriptionId::new("muted"),
            SubscriptionNotifyPrefs {
                mute: true,
                ..Default::default()
            },
        );
        policy.set_subscription(
            SubscriptionId::new("ci"),
            SubscriptionNotifyPrefs {
                include_types: vec!["build".into(), "deploy".into()],
                exclude_types: vec!["deploy".into()],
                ..Default::default()
            },
        );
        policy.set_subscription(
            SubscriptionId::new("picky"),
            SubscriptionNotifyPrefs {
                min_priority: Some(Priority::High),
                ..Default::default()
            },
        );
        let fate = |policy: &mut NotificationPolicy, input: &NotifyInput| {
            policy.decide(input, at(0)).pop().unwrap()
        };
        let urgent = r#"{"priority":"urgent"}"#;
        assert_eq!(
            fate(&mut policy, &event("muted", 1, urgent)),
            Decision::Suppressed(Suppressed::Muted)
        );
        let mut typed = event("ci", 2, "x");
        typed.event_type = "deploy".into();
        assert_eq!(
            fate(&mut policy, &typed),
            Decision::Suppressed(Suppressed::TypeFiltered)
        );
        typed.event_type = "test".into();
        assert_eq!(
            fate(&mut policy, &typed),
            Decision::Suppressed(Suppressed::TypeFiltered)
        );
        typed.event_type = "build".into();
        assert!(matches!(fate(&mut policy, &typed), Decision::Show(_)));
        // Low and min are silent by default; "picky" wants high and above.
        for low in [r#"{"priority":"low"}"#, r#"{"priority":1}"#] {
            assert_eq!(
                fate(&mut policy, &event("a", 3, low)),
                Decision::Suppressed(Suppressed::BelowMinPriority)
            );
        }
        assert_eq!(
            fate(&mut policy, &event("picky", 4, "x")),
            Decision::Suppressed(Suppressed::BelowMinPriority)
        );
        assert!(matches!(
            fate(&mut policy, &event("picky", 5, r#"{"priority":4}"#)),
            Decision::Show(_)
        ));
        // Filtered events do not use up the throttle.
        for key in 0..100 {
            fate(&mut policy, &event("muted", key, "x"));
        }
        policy.set_prefs(NotificationPrefs {
            enabled: false,
            ..NotificationPrefs::default()
        });
        assert_eq!(
            fate(&mut policy, &event("a", 6, urgent)),
            Decision::Suppressed(Suppressed::Disabled)
        );
    }

    #[test]
    fn min_priority_can_let_low_events_through_quietly() {
        let mut policy = NotificationPolicy::new(NotificationPrefs {
            min_priority: Priority::Low,
            ..NotificationPrefs::default()
        });
        match &policy.decide(&event("a", 1, r#"{"priority":"low"}"#), at(0))[..] {
            [Decision::Show(n)] => assert_eq!(n.urgency, Urgency::Low),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn templates_from_subscription_prefs() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        policy.set_subscription(
            SubscriptionId::new("ci"),
            SubscriptionNotifyPrefs {
                title_template: Some(Template::parse("{data.repo}: {data.status}").unwrap()),
                body_template: Some(Template::parse("by {data.who.name}").unwrap()),
                ..Default::default()
            },
        );
        let out = policy.decide(
            &event(
                "ci",
                1,
                r#"{"repo":"api","status":"red","url":"https://x.io"}"#,
            ),
            at(0),
        );
        match &out[..] {
            [Decision::Show(n)] => {
                assert_eq!(n.mapped.title, "api: red");
                assert_eq!(n.mapped.body, "by");
                assert_eq!(n.mapped.link.as_deref(), Some("https://x.io/"));
            }
            other => panic!("{other:?}"),
        }
        let out = policy.decide(&event("ci", 2, "not json <b>"), at(0));
        assert!(
            matches!(&out[..], [Decision::Show(n)] if n.mapped.title == ":" && n.mapped.body == "by")
        );
    }

    #[test]
    fn a_markdown_subscription_notifies_with_the_markup_stripped() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let data = r#"{"title":"Deploy","message":"**bold** and [log](https://x.io)"}"#;
        policy.set_subscription(
            SubscriptionId::new("md"),
            SubscriptionNotifyPrefs {
                markdown: true,
                ..Default::default()
            },
        );
        let shown = |out: Vec<Decision>| match &out[..] {
            [Decision::Show(n)] => (n.mapped.body.clone(), n.mapped.markdown),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            shown(policy.decide(&event("md", 1, data), at(0))),
            ("bold and log".to_owned(), true)
        );
        assert_eq!(
            shown(policy.decide(&event("plain", 2, data), at(0))),
            ("**bold** and [log](https://x.io)".to_owned(), false),
            "only where the subscription says so"
        );
    }

    #[test]
    fn odd_payloads_never_panic_and_stay_plain() {
        let mut policy = NotificationPolicy::new(NotificationPrefs {
            burst: 100,
            ..NotificationPrefs::default()
        });
        let huge = "x".repeat(5_000_000);
        let payloads = [
            "",
            "null",
            "[]",
            "[{\"title\":\"in an array\"}]",
            "3.5e400",
            "\"\\ud800\"",
            "{\"title\":\"<script>alert(1)</script> & co\",\"url\":\"javascript:alert(1)\"}",
            "{\"url\":\"file:///etc/passwd\",\"click\":\"data:text/html,x\"}",
            "{\"url\":\" https://x.io\"}",
            "\u{0}\u{1b}[31mred\u{7}",
            huge.as_str(),
        ];
        for (key, data) in payloads.iter().enumerate() {
            let out = policy.decide(&event("a", key as i64, data), at(0));
            let [Decision::Show(n)] = &out[..] else {
                panic!("{data:.40}: {out:?}")
            };
            assert_eq!(n.mapped.link, None, "{data:.40}");
            assert!(n.mapped.body.chars().count() <= 300);
            assert!(!n.mapped.body.chars().any(char::is_control) || n.mapped.body.contains('\n'));
        }
    }

    fn ruled(rules: &str) -> SubscriptionNotifyPrefs {
        toml::from_str(rules).unwrap()
    }

    #[test]
    fn rules_mute_skip_reprioritise_and_mark_read() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        policy.set_subscription(
            SubscriptionId::new("ci"),
            ruled(
                r#"
                [[rule]]
                field = "status"
                equals = "passed"
                mute = true
                mark_read = true
                [[rule]]
                event_type = "ping"
                skip = true
                [[rule]]
                regex = "(?i)disk full"
                priority = "urgent"
                [[rule]]
                regex = "nightly"
                priority = "low"
                "#,
            ),
        );
        let mut t = Tally::default();
        tally(
            policy.decide(&event("ci", 1, r#"{"status":"passed"}"#), at(0)),
            &mut t,
        );
        let mut ping = event("ci", 2, "x");
        ping.event_type = "ping".into();
        tally(policy.decide(&ping, at(0)), &mut t);
        tally(
            policy.decide(&event("ci", 3, r#"{"title":"nightly report"}"#), at(0)),
            &mut t,
        );
        assert_eq!(t.marked_read, vec![1]);
        assert_eq!(t.suppressed[&Suppressed::RuleMuted], 1);
        assert_eq!(t.suppressed[&Suppressed::RuleSkipped], 1);
        assert_eq!(
            t.suppressed[&Suppressed::BelowMinPriority],
            1,
            "lowered by a rule"
        );
        // Raised by a rule: through do-not-disturb, as critical.
        policy.set_do_not_disturb(DoNotDisturb::On);
        let out = policy.decide(&event("ci", 4, r#"{"message":"DISK FULL on db1"}"#), at(0));
        match &out[..] {
            [Decision::Show(n)] => {
                assert_eq!(n.mapped.priority, Priority::Urgent);
                assert_eq!(n.urgency, Urgency::Critical);
            }
            other => panic!("{other:?}"),
        }
        // Other subscriptions are not ruled.
        let out = policy.decide(&event("other", 5, r#"{"status":"passed"}"#), at(0));
        assert_eq!(out, vec![Decision::Suppressed(Suppressed::Quiet)]);
    }

    #[test]
    fn mark_read_applies_even_when_notifications_are_off() {
        let mut policy = NotificationPolicy::new(NotificationPrefs {
            enabled: false,
            ..NotificationPrefs::default()
        });
        policy.set_subscription(
            SubscriptionId::new("a"),
            ruled("[[rule]]\nevent_type = \"message\"\nmark_read = true"),
        );
        assert_eq!(
            policy.decide(&event("a", 9, "x"), at(0)),
            vec![
                Decision::MarkRead { event_key: 9 },
                Decision::Suppressed(Suppressed::Disabled)
            ]
        );
    }

    #[test]
    fn test_rules_names_the_rule_and_the_outcome() {
        let global = NotificationPrefs::default();
        let sub = ruled(
            r#"
            exclude_types = ["noise"]
            [[rule]]
            name = "green"
            field = "build.status"
            equals = "passed"
            mute = true
            [[rule]]
            name = "red"
            field = "build.status"
            equals = "failed"
            priority = "high"
            mark_read = true
            "#,
        );
        let green = test_rules(&global, &sub, r#"{"build":{"status":"passed"}}"#, "build");
        let hit = green.matched.unwrap();
        assert_eq!((hit.index, hit.name.as_deref()), (0, Some("green")));
        assert_eq!(green.suppressed, Some(Suppressed::RuleMuted));
        let red = test_rules(
            &global,
            &sub,
            r#"{"title":"Build 7","build":{"status":"failed"}}"#,
            "build",
        );
        assert_eq!(red.matched.unwrap().index, 1);
        assert_eq!(
            (red.title.as_str(), red.priority),
            ("Build 7", Priority::High)
        );
        assert_eq!(red.suppressed, None);
        assert!(red.mark_read);
        let none = test_rules(&global, &sub, "not json", "build");
        assert_eq!(none.matched, None);
        assert_eq!(none.suppressed, None);
        let filtered = test_rules(&global, &sub, "{}", "noise");
        assert_eq!(filtered.suppressed, Some(Suppressed::TypeFiltered));
    }

    #[test]
    fn a_silent_subscription_is_overdue_once_through_dnd_and_back_once() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let id = SubscriptionId::new("b");
        let prefs = ruled(
            "[watchdog]\nevery = 60\nevent_type = \"done\"\n[[rule]]\nfield = \"test\"\nequals = \"yes\"\nskip = true",
        );
        policy.set_watchdog(&id, "Backups", prefs.watchdog.as_ref(), at(0).unix_ms);
        policy.set_subscription(id.clone(), prefs);
        policy.set_do_not_disturb(DoNotDisturb::On);
        assert_eq!(policy.next_deadline(at(0)), Some(at(60_000).unix_ms));
        let mut t = Tally::default();
        tally(policy.tick(at(59_999)), &mut t);
        assert!(t.watchdog.is_empty());
        tally(policy.tick(at(90_000)), &mut t);
        let [notice] = &t.watchdog[..] else {
            panic!("{t:?}")
        };
        assert_eq!(
            notice.title,
            "No done from Backups for 90 s — expected every 60 s"
        );
        assert_eq!(notice.urgency, Urgency::Critical);
        assert!(notice.show);
        assert_eq!(policy.overdue().len(), 1);
        tally(policy.tick(at(200_000)), &mut t);
        assert_eq!(t.watchdog.len(), 1, "once");
        // A skipped event and another type are not arrivals; the expected one is.
        let mut done = event("b", 1, r#"{"test":"yes"}"#);
        done.event_type = "done".into();
        done.received_at = at(300_000).unix_ms;
        tally(policy.decide(&done, at(300_000)), &mut t);
        tally(policy.decide(&event("b", 2, "x"), at(300_000)), &mut t);
        assert_eq!(t.watchdog.len(), 1);
        done.data = "{}".into();
        tally(policy.decide(&done, at(300_000)), &mut t);
        let back = t.watchdog.last().unwrap();
        assert_eq!(back.title, "done from Backups is back");
        assert_eq!(back.body, "After 5 min without one (expected every 60 s).");
        assert!(matches!(back.change, WatchdogChange::Back { .. }));
        assert!(policy.overdue().is_empty());
        assert_eq!(policy.next_deadline(at(300_000)), Some(at(360_000).unix_ms));
    }

    #[test]
    fn a_muted_subscription_keeps_its_watchdog_but_shows_nothing() {
        let mut policy = NotificationPolicy::new(NotificationPrefs::default());
        let id = SubscriptionId::new("m");
        let prefs = ruled("mute = true\n[watchdog]\nevery = \"1m\"");
        policy.set_watchdog(&id, "M", prefs.watchdog.as_ref(), at(0).unix_ms);
        policy.set_subscription(id, prefs);
        let out = policy.tick(at(60_000));
        assert!(
            matches!(&out[..], [Decision::Watchdog(n)] if !n.show),
            "{out:?}"
        );
    }

    #[test]
    fn sounds_by_priority_silent_when_low_or_quiet() {
        let mut policy = NotificationPolicy::new(NotificationPrefs {
            min_priority: Priority::Low,
            ..NotificationPrefs::default()
        });
        policy.set_subscription(
            SubscriptionId::new("a"),
            ruled("sound = \"bell\"\n[sounds]\nurgent = \"alarm-clock-elapsed\""),
        );
        let sound_of = |policy: &mut NotificationPolicy, key, data: &str, now| match &policy
            .decide(&event("a", key, data), now)[..]
        {
            [Decision::Show(n)] => n.sound.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            sound_of(&mut policy, 1, "x", at(0)).as_deref(),
            Some("bell")
        );
        assert_eq!(
            sound_of(&mut policy, 2, r#"{"priority":"low"}"#, at(0)),
            None
        );
        let urgent = r#"{"priority":"urgent"}"#;
        assert_eq!(
            sound_of(&mut policy, 3, urgent, at(0)).as_deref(),
            Some("alarm-clock-elapsed")
        );
        policy.set_do_not_disturb(DoNotDisturb::On);
        assert_eq!(sound_of(&mut policy, 4, urgent, at(0)), None, "DND mutes");
    }
}
