//! `--shard I/N`: the I-th of N deterministic parts of a run, so that N processes (on N machines)
//! together run it once. Each group's instances are dealt out by index — instance `k` (from 0)
//! to shard `k % N` — and so are the arrivals of each schedule, each at its own time: every
//! shard runs `1/N` of the rate, interleaved with the others, with `1/N` of `max_active`
//! (rounded up). Instances and arrivals keep the ids and indexes they have in the whole run, so
//! that the shards' results merge without clashes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::plan::BarrierPlan;

/// Shard `index` (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Default for Shard {
    /// The whole run.
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

impl Shard {
    /// True when the run is split.
    pub fn is_part(&self) -> bool {
        self.count > 1
    }

    /// Whether instance `k` (from 0, within its group) runs in this shard.
    pub fn owns(&self, k: u64) -> bool {
        k % self.count == self.index
    }

    /// How many of a group's `n` instances run in this shard.
    pub fn share(&self, n: u64) -> u64 {
        n / self.count + u64::from(self.index < n % self.count)
    }

    /// The place (from 1) among this shard's instances of the group's one with id `client_id`.
    pub fn ordinal(&self, client_id: u64) -> u64 {
        (client_id - 1) / self.count + 1
    }

    /// This shard's part of an arrival group's `max_active`.
    pub fn max_active(&self, max_active: u64) -> u64 {
        max_active.div_ceil(self.count).max(1)
    }

    /// A barrier waits for the parties of this shard only: the others meet in their own
    /// processes.
    pub fn barrier(&self, plan: &BarrierPlan) -> BarrierPlan {
        BarrierPlan {
            name: plan.name.clone(),
            groups: (plan.groups.iter())
                .map(|(group, n)| (group.clone(), self.share(*n)))
                .collect(),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why `--shard` could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShardError {
    #[error("`{0}` is not I/N: give the shard's index from 0 and the number of shards, such as 0/3")]
    Form(String),
    #[error("shard {index} of {count} does not exist: the index runs from 0 to {}", count.saturating_sub(1))]
    Range { index: u64, count: u64 },
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let form = || ShardError::Form(text.to_string());
        let (index, count) = text.split_once('/').ok_or_else(form)?;
        let index: u64 = index.trim().parse().map_err(|_| form())?;
        let count: u64 = count.trim().parse().map_err(|_| form())?;
        if count == 0 || index >= count {
            return Err(ShardError::Range { index, count });
        }
        Ok(Self { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shards_deal_out_every_instance_once() {
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        for n in 0..10 {
            let shares: u64 = shards.iter().map(|s| s.share(n)).sum();
            assert_eq!(shares, n);
            for k in 0..n {
                assert_eq!(shards.iter().filter(|s| s.owns(k)).count(), 1);
            }
            for shard in &shards {
                assert_eq!(shard.share(n), (0..n).filter(|k| shard.owns(*k)).count() as u64);
            }
        }
    }

    #[test]
    fn a_shard_is_read_from_index_slash_count() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("3/3".parse::<Shard>(), Err(ShardError::Range { index: 3, count: 3 }));
        let zero = "0/0".parse::<Shard>().unwrap_err().to_string();
        assert!(zero.contains("does not exist"), "{zero}");
        let form = "two".parse::<Shard>().unwrap_err().to_string();
        assert_eq!(
            form,
            "`two` is not I/N: give the shard's index from 0 and the number of shards, such as 0/3"
        );
    }

    #[test]
    fn a_shard_counts_its_own_instances_and_its_part_of_max_active() {
        let shard = Shard { index: 1, count: 3 };
        let ids: Vec<u64> = (0..9).filter(|k| shard.owns(*k)).map(|k| k + 1).collect();
        assert_eq!(ids, [2, 5, 8]);
        let ordinals: Vec<u64> = ids.iter().map(|&id| shard.ordinal(id)).collect();
        assert_eq!(ordinals, [1, 2, 3]);
        assert_eq!([10, 9, 1].map(|m| shard.max_active(m)), [4, 3, 1]);
    }
}
