//! Bearer tokens: generated once, shown once, stored only as a SHA-256 hash.
//!
//! Two kinds exist because the two sides have different powers: a subscriber token names the one
//! user whose stream it may read; a publisher token may publish to any user and is rate limited.

use sha2::{Digest, Sha256};

/// What a token is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Reads the stream of the user the token names (`GET /events`).
    Subscriber,
    /// Publishes to any user (`POST /events`); the name is a label for logs and rate limits.
    Publisher,
}

impl TokenKind {
    /// The string stored next to the hash.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Subscriber => "subscriber",
            TokenKind::Publisher => "publisher",
        }
    }

    /// Parses [`TokenKind::as_str`] output.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "subscriber" => Some(TokenKind::Subscriber),
            "publisher" => Some(TokenKind::Publisher),
            _ => None,
        }
    }
}

/// What the store knows about a token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The token's kind.
    pub kind: TokenKind,
    /// The user (subscriber) or label (publisher) it was issued for.
    pub name: String,
    /// Hex SHA-256 of the token.
    pub hash: String,
}

/// A fresh random token: `sst_` and 64 hex digits (256 bits).
pub fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("sst_{}", hex(&bytes))
}

/// Hex SHA-256 of a token, the only form that is stored.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Hex SHA-256 of any bytes (also names the claim keys of raw Redis messages).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The token from an `Authorization: Bearer <token>` header value, if it is one.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_is_sha256_hex() {
        let a = generate_token();
        assert!(a.starts_with("sst_") && a.len() == 68);
        assert_ne!(a, generate_token());
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }
}
