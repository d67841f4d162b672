//! API keys and the short-lived tokens exchanged for them.
//!
//! The browser never holds the API key for long: it trades it for a token
//! that only opens the WebSocket and then the proxy of its own session.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Tokens {
    keys: Vec<String>,
    ttl: Duration,
    /// token -> (API key it was issued for, expiry)
    issued: HashMap<String, (String, Instant)>,
    /// Tokens in the order they expire (one TTL for all: issue order), so
    /// forgetting the expired ones costs nothing per token still valid.
    expiries: VecDeque<(Instant, String)>,
}

impl Tokens {
    pub fn new(keys: Vec<String>, ttl: Duration) -> Self {
        Tokens { keys, ttl, issued: HashMap::new(), expiries: VecDeque::new() }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether `key` is one of the accepted API keys.
    pub fn accepts(&self, key: &str) -> bool {
        self.keys.iter().any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
    }

    /// A new token for a valid key.
    pub fn issue(&mut self, key: &str, now: Instant) -> Option<String> {
        if !self.accepts(key) {
            return None;
        }
        while let Some((expiry, token)) = self.expiries.front() {
            if *expiry > now {
                break;
            }
            self.issued.remove(token);
            self.expiries.pop_front();
        }
        let token = random_hex(32);
        self.issued.insert(token.clone(), (key.to_string(), now + self.ttl));
        self.expiries.push_back((now + self.ttl, token.clone()));
        Some(token)
    }

    /// The API key behind a token that has not expired.
    pub fn check(&self, token: &str, now: Instant) -> Option<&str> {
        match self.issued.get(token) {
            Some((key, expiry)) if *expiry > now => Some(key),
            _ => None,
        }
    }
}

/// Key comparison that does not stop at the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_need_a_key_and_expire() {
        let mut t = Tokens::new(vec!["k".into()], Duration::from_secs(10));
        let now = Instant::now();
        assert!(t.issue("wrong", now).is_none());
        let token = t.issue("k", now).unwrap();
        assert_eq!(t.check(&token, now + Duration::from_secs(9)), Some("k"));
        assert_eq!(t.check(&token, now + Duration::from_secs(10)), None);
        assert_eq!(t.check("nope", now), None);
    }

    #[test]
    fn expired_tokens_are_forgotten_and_valid_ones_kept() {
        let mut t = Tokens::new(vec!["k".into()], Duration::from_secs(10));
        let start = Instant::now();
        let old: Vec<String> = (0..3).map(|i| t.issue("k", start + Duration::from_secs(i)).unwrap()).collect();
        let later = start + Duration::from_secs(11);
        let fresh = t.issue("k", later).unwrap();
        // Issued at 0 and 1 s: expired at 11 s, and gone; the one from 2 s is not.
        assert_eq!(t.issued.len(), 2);
        assert_eq!(t.expiries.len(), 2);
        assert!(!t.issued.contains_key(&old[0]) && !t.issued.contains_key(&old[1]));
        assert_eq!(t.check(&old[2], later), Some("k"));
        assert_eq!(t.check(&fresh, later), Some("k"));
    }
}
