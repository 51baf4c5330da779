//! Computations both query languages share: digests (`States.Hash`,
//! `$hash`), UUIDs (`States.UUID`, `$uuid`), partitions
//! (`States.ArrayPartition`, `$partition`), inclusive integer ranges
//! (`States.ArrayRange`, `$range`) and base64. Each language checks and
//! converts its own arguments and words its own errors; the arithmetic lives
//! here once.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The digest algorithms, as ASL and AWS's JSONata `$hash` spell them.
pub(crate) const HASH_ALGORITHMS: [&str; 5] = ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/// The lowercase hex digest of `bytes`, or `None` for an algorithm not in
/// [`HASH_ALGORITHMS`].
pub(crate) fn hash_hex(algorithm: &str, bytes: &[u8]) -> Option<String> {
    let digest = match algorithm {
        "MD5" => Md5::digest(bytes).to_vec(),
        "SHA-1" => Sha1::digest(bytes).to_vec(),
        "SHA-256" => Sha256::digest(bytes).to_vec(),
        "SHA-384" => Sha384::digest(bytes).to_vec(),
        "SHA-512" => Sha512::digest(bytes).to_vec(),
        _ => return None,
    };
    Some(hex(&digest))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// A version 4 (random) UUID, lowercase, made of `random`'s bits: the
/// caller chooses the random source (entropy, or a seeded one in tests).
pub(crate) fn uuid_v4(random: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(random)
        .into_uuid()
        .to_string()
}

/// `items` cut into chunks of `size` items (`size` > 0); the last chunk may
/// be shorter. Empty for an empty array.
pub(crate) fn partition<T: Clone>(items: &[T], size: usize) -> Vec<Vec<T>> {
    items.chunks(size.max(1)).map(<[T]>::to_vec).collect()
}

/// How many integers `start`, `start + step`, ... reach up to `end`
/// inclusive (`step` != 0; 0 when `step` points away from `end`).
pub(crate) fn range_len(start: i64, end: i64, step: i64) -> u128 {
    let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
    if step == 0 || (step > 0 && start > end) || (step < 0 && start < end) {
        0
    } else {
        ((end - start) / step + 1).unsigned_abs()
    }
}

/// The integers `start`, `start + step`, ... up to `end` inclusive; check
/// [`range_len`] against a limit first.
pub(crate) fn range(start: i64, end: i64, step: i64) -> impl Iterator<Item = i64> {
    let count = range_len(start, end, step);
    (0..count).map(move |i| (i128::from(start) + i as i128 * i128::from(step)) as i64)
}

/// Standard alphabet, padded output; on input, padding is optional and
/// unused trailing bits are ignored, as by Java's decoders.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `bytes` in standard, padded base64.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes standard base64 (padding optional; ASCII whitespace skipped, as
/// in MIME).
pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if text.contains(|c: char| c.is_ascii_whitespace()) {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        BASE64.decode(compact)
    } else {
        BASE64.decode(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn digests_are_lowercase_hex() {
        assert_eq!(
            hash_hex("MD5", b"input data").as_deref(),
            Some("812f45842bc6d66ee14572ce20db8e86")
        );
        assert_eq!(hash_hex("SHA-1", b"").map(|h| h.len()), Some(40));
        assert_eq!(hash_hex("SHA-512", b"").map(|h| h.len()), Some(128));
        assert_eq!(hash_hex("sha-256", b""), None);
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn partitions_keep_a_short_last_chunk() {
        let items = [json!(0), json!(1), json!(2)];
        assert_eq!(
            partition(&items, 2),
            [vec![json!(0), json!(1)], vec![json!(2)]]
        );
        assert_eq!(partition(&items, 4), [items.to_vec()]);
        assert!(partition::<Value>(&[], 3).is_empty());
    }

    #[test]
    fn ranges_include_an_end_a_step_lands_on() {
        assert_eq!(range(1, 9, 2).collect::<Vec<_>>(), [1, 3, 5, 7, 9]);
        assert_eq!(range(0, 10, 3).collect::<Vec<_>>(), [0, 3, 6, 9]);
        assert_eq!(range(5, 1, -2).collect::<Vec<_>>(), [5, 3, 1]);
        assert_eq!(range_len(1, 0, 1), 0);
        assert_eq!(range_len(0, 0, 0), 0);
        assert_eq!(range_len(i64::MIN, i64::MAX, 1), 1 << 64);
    }

    #[test]
    fn base64_round_trips_and_skips_whitespace() {
        assert_eq!(base64_encode(b"Data to encode"), "RGF0YSB0byBlbmNvZGU=");
        assert_eq!(
            base64_decode("RGF0YSB0\nbyBlbmNvZGU").unwrap(),
            b"Data to encode"
        );
        assert!(base64_decode("*").is_err());
    }
}
