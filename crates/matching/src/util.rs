//! Small deterministic helpers: a fixed 64-bit string hash for blocking
//! keys, a hasher for integer keys, and SplitMix64 for sampling. Nothing
//! here depends on the process (no random state), so keys, samples and
//! therefore links are the same on every run and every machine.

use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over bytes, 64 bits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyHasher(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl KeyHasher {
    pub(crate) fn new(rule: u8) -> KeyHasher {
        let mut h = KeyHasher(FNV_OFFSET);
        h.bytes(&[rule, 0xff]);
        h
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    /// Adds a part followed by a separator that cannot occur in UTF-8.
    pub(crate) fn part(&mut self, b: &[u8]) -> &mut Self {
        self.bytes(b).bytes(&[0xfe])
    }

    pub(crate) fn finish(&self) -> u64 {
        mix64(self.0)
    }
}

/// The SplitMix64 finaliser.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A well-mixed value of `(seed, stream, index)`.
pub(crate) fn draw(seed: u64, stream: u64, index: u64) -> u64 {
    mix64(seed ^ mix64(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix64(index)))
}

/// Uniform in `0..n` from a 64-bit draw.
pub(crate) fn below(x: u64, n: usize) -> usize {
    ((u128::from(x) * n as u128) >> 64) as usize
}

/// Hash of a string for sampling decisions.
pub(crate) fn str_hash(seed: u64, s: &str) -> u64 {
    let mut h = KeyHasher::new(0);
    h.bytes(&seed.to_le_bytes()).bytes(s.as_bytes());
    h.finish()
}

/// A hasher for keys that are already well-distributed integers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Eight bytes at a time (strings: names, pinyin keys, codes).
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w) ^ (rest.len() as u64) << 56)
                .wrapping_mul(K);
        }
        self.0 = mix64(h ^ bytes.len() as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = mix64(n);
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = mix64(u64::from(n));
    }
}

/// Build-hasher of [`IntHasher`].
pub(crate) type IntBuild = BuildHasherDefault<IntHasher>;

/// `log2`, with 0 mapped to a very small weight rather than −∞.
pub(crate) fn log2(x: f64) -> f64 {
    if x > 0.0 { x.log2() } else { -1074.0 }
}
