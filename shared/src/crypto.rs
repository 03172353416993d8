//! Randomness and keyed hashing for codes and tokens.

use crate::config::CodeSecret;
use hmac::{Mac, SimpleHmac};
use sha2::Sha256;

type HmacSha256 = SimpleHmac<Sha256>;

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct RandomError;

pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| RandomError)?;
    Ok(buf)
}

/// A uniform number below `bound`, by rejection so no value is favoured.
pub fn random_below(bound: u32) -> Result<u32, RandomError> {
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>()?);
        if n < zone {
            return Ok(n % bound);
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[(b >> 4) as usize] as char, DIGITS[(b & 15) as usize] as char]).collect()
}

/// HMAC-SHA256 over the parts, each length-prefixed so `("ab","c")` and `("a","bc")` differ.
pub fn keyed_hash(secret: &CodeSecret, parts: &[&str]) -> String {
    hex(&mac(secret, parts).finalize().into_bytes())
}

/// Compares in constant time whether `hash` is the keyed hash of `parts`.
pub fn keyed_hash_matches(secret: &CodeSecret, parts: &[&str], hash: &str) -> bool {
    let Some(expected) = unhex(hash) else { return false };
    mac(secret, parts).verify_slice(&expected).is_ok()
}

fn mac(secret: &CodeSecret, parts: &[&str]) -> HmacSha256 {
    // SimpleHmac accepts a key of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.expose()).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hashes_bind_every_part() {
        let secret = CodeSecret::new(vec![7u8; 32]).unwrap();
        let h = keyed_hash(&secret, &["alice", "delete_account", "123456"]);
        assert!(keyed_hash_matches(&secret, &["alice", "delete_account", "123456"], &h));
        assert!(!keyed_hash_matches(&secret, &["alice", "dismiss_enterprise", "123456"], &h));
        assert!(!keyed_hash_matches(&secret, &["alicedelete_account", "", "123456"], &h));
        let other = CodeSecret::new(vec![8u8; 32]).unwrap();
        assert!(!keyed_hash_matches(&other, &["alice", "delete_account", "123456"], &h));
        assert!(!keyed_hash_matches(&secret, &["alice", "delete_account", "123456"], "zz"));
    }

    #[test]
    fn random_below_stays_in_range() {
        for _ in 0..1000 {
            assert!(random_below(1_000_000).unwrap() < 1_000_000);
        }
    }
}
