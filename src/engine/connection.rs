//! What the engine connects with, held apart from what is saved.
//!
//! A subscription's credential lives in the OS keyring; to connect, the engine needs it as a
//! header value. Kept inside a `SubscriptionConfig` — the type `config.toml` is written from — a
//! resolved secret would be one careless save away from the file. A [`ConnectionSpec`] holds the
//! subscription as saved and, beside it, the resolved credential headers; nothing writes a
//! `ConnectionSpec` anywhere, so a secret cannot reach `config.toml` by construction.

use crate::config::SubscriptionConfig;
use crate::event::SubscriptionId;
use std::fmt;

/// A subscription as saved plus the credential headers resolved for it (in memory only).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionSpec {
    subscription: SubscriptionConfig,
    credentials: Vec<(String, String)>,
}

impl ConnectionSpec {
    /// `subscription` with `credentials` (header name, value) to send beside its own headers; a
    /// credential header replaces an extra header of the same name.
    pub fn new(subscription: SubscriptionConfig, credentials: Vec<(String, String)>) -> Self {
        Self {
            subscription,
            credentials,
        }
    }

    /// The subscription as saved (no secret in it).
    pub fn subscription(&self) -> &SubscriptionConfig {
        &self.subscription
    }

    /// The subscription's id.
    pub fn id(&self) -> &SubscriptionId {
        &self.subscription.id
    }

    /// Every header to send: the extra headers, then the credentials (which win on a name
    /// clash).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let credential = |name: &str| {
            self.credentials
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        self.subscription
            .headers
            .iter()
            .filter(move |(name, _)| !credential(name))
            .chain(&self.credentials)
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Whether anything sent may be a credential: a resolved secret, or any header of the
    /// subscription's own (an extra header may carry a key too).
    pub fn sends_credentials(&self) -> bool {
        !self.credentials.is_empty() || !self.subscription.headers.is_empty()
    }
}

impl From<SubscriptionConfig> for ConnectionSpec {
    /// A subscription that needs no secret (or whose secret is not resolved).
    fn from(subscription: SubscriptionConfig) -> Self {
        Self::new(subscription, Vec::new())
    }
}

impl From<&SubscriptionConfig> for ConnectionSpec {
    fn from(subscription: &SubscriptionConfig) -> Self {
        Self::new(subscription.clone(), Vec::new())
    }
}

impl fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.credentials.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ConnectionSpec")
            .field("subscription", &self.subscription)
            .field("credentials (values redacted)", &names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_win_and_never_show_in_debug() {
        let mut subscription =
            SubscriptionConfig::adhoc("https://h.example/events", Some("s")).unwrap();
        subscription.headers = vec![
            ("authorization".into(), "stale".into()),
            ("X-Team".into(), "ops".into()),
        ];
        let spec = ConnectionSpec::new(
            subscription,
            vec![("Authorization".into(), "Bearer s3cret".into())],
        );
        let headers: Vec<(&str, &str)> = spec.headers().collect();
        assert_eq!(
            headers,
            vec![("X-Team", "ops"), ("Authorization", "Bearer s3cret")]
        );
        assert!(
            spec.subscription()
                .headers
                .iter()
                .all(|(_, v)| v != "Bearer s3cret")
        );
        assert!(!format!("{spec:?}").contains("s3cret"));
    }
}
