//! Maps keyed by the runtime's own ids and pointers (callback ids, coroutine addresses): a
//! multiply-rotate hash (FxHash's) in place of SipHash, whose flood resistance these keys do
//! not need (no script or peer chooses them) and whose ~150 instructions per lookup were paid
//! several times per plugin call.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` for keys the runtime makes itself.
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// FxHash's step: rotate, mix the word in, multiply.
#[derive(Default, Clone, Copy, Debug)]
pub struct IdHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_and_pointers_spread() {
        let mut map: IdMap<u64, u64> = IdMap::default();
        for id in 0..10_000 {
            map.insert(id, id * 2);
        }
        assert!((0..10_000).all(|id| map.get(&id) == Some(&(id * 2))));
        let boxes: Vec<Box<u64>> = (0..1000).map(Box::new).collect();
        let by_address: IdMap<*const u64, u64> =
            boxes.iter().map(|b| (&**b as *const u64, **b)).collect();
        assert!(
            boxes
                .iter()
                .all(|b| by_address.get(&(&**b as *const u64)) == Some(&**b))
        );
    }
}
