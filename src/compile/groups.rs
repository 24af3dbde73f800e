//! Client groups and the barriers they meet at.

use std::time::Duration;

use super::Compiler;
use super::durations::Zero;
use super::scope::Phase;
use crate::plan::step::Barrier;
use crate::plan::{BarrierPlan, GroupPlan, Instances};
use crate::source::Pos;
use crate::spec::Name;

/// The fields of a client's result file that the runner fills itself.
const RESULT_FIELDS: &[&str] = &[
    "client_id",
    "group",
    "index",
    "status",
    "success",
    "session_id",
    "session_ids",
    "reinitialized",
    "started_at",
    "start_ms",
    "elapsed_ms",
    "error",
    "vars",
    "counts",
    "steps",
];

/// The client group a list of steps belongs to.
pub(super) struct Owner {
    name: String,
    /// Its instances; unknown for an arrival group.
    count: Option<u64>,
}

/// A `barrier:` step, as seen by the compiler.
pub(super) struct BarrierUse {
    name: String,
    group: String,
    count: u64,
    at: Pos,
}

impl Compiler<'_> {
    pub(super) fn groups(&mut self) -> Vec<GroupPlan> {
        let spec = self.spec;
        if spec.clients.is_empty() && spec.before.is_none() && spec.after.is_none() {
            let at = self.source.pos_of_offset(0);
            self.error(at, "this scenario has no steps")
                .help("add a client group: `clients: { main: { steps: [ … ] } }`");
        }
        spec.clients
            .iter()
            .map(|(name, group)| {
                self.check_group_name(name);
                if matches!(name.value.as_str(), "before" | "after") {
                    self.error(
                        name.at,
                        format!(
                            "`{}` cannot name a client group: reports use it for the phase",
                            name.value
                        ),
                    )
                    .width(name.value.len())
                    .help("choose another name for the group");
                }
                let instances = match self.arrivals(group) {
                    Some(arrivals) => Instances::Arrivals(arrivals),
                    None => Instances::Count(self.fixed_count(group.count.as_ref(), 1)),
                };
                let owner = Owner {
                    name: name.value.clone(),
                    count: match instances {
                        Instances::Count(count) => Some(count),
                        Instances::Arrivals(_) => None,
                    },
                };
                let mut scope = self.phase_scope(Phase::Clients);
                let steps = self.steps(&group.steps, &mut scope, Some(&owner));
                self.check_record_names(&group.record);
                let record = group
                    .record
                    .iter()
                    .map(|(key, value)| (key.value.clone(), self.value(value, &scope)))
                    .collect();
                GroupPlan {
                    name: name.value.clone(),
                    description: group.description.clone(),
                    instances,
                    start_after: self.fixed_duration(group.start_after.as_ref(), Duration::ZERO, Zero::Allowed),
                    ramp_up: self.fixed_duration(group.ramp_up.as_ref(), Duration::ZERO, Zero::Allowed),
                    steps,
                    record,
                }
            })
            .collect()
    }

    /// `record:` fields go beside the runner's own fields in each result file.
    fn check_record_names(&mut self, record: &crate::spec::Entries<crate::spec::Spanned<crate::spec::Node>>) {
        for (name, _) in record.iter() {
            if RESULT_FIELDS.contains(&name.value.as_str()) {
                self.error(
                    name.at,
                    format!("`{}` is a field the runner writes in every result file", name.value),
                )
                .width(name.value.len())
                .help("record it under another name");
            }
        }
    }

    pub(super) fn barrier(&mut self, name: &Name, owner: Option<&Owner>) -> Barrier {
        match owner {
            Some(Owner {
                name: group,
                count: Some(count),
            }) => self.barrier_uses.push(BarrierUse {
                name: name.value.clone(),
                group: group.clone(),
                count: *count,
                at: name.at,
            }),
            Some(Owner { count: None, .. }) => {
                self.error(
                    name.at,
                    "an arrival group cannot meet at a barrier: how many of its instances would come is not known",
                )
                .width(name.value.len())
                .help("meet in groups with a `count`; an arrival runs its steps on its own");
            }
            None => {
                self.error(
                    name.at,
                    "a barrier holds clients together, but `before:` and `after:` run once, alone",
                )
                .width(name.value.len())
                .help("move the barrier into the steps of a client group");
            }
        }
        Barrier {
            barrier: name.value.clone(),
        }
    }

    /// Every barrier with the groups that meet at it; a barrier only one instance reaches is an error.
    pub(super) fn barriers(&mut self) -> Vec<BarrierPlan> {
        let mut barriers: Vec<(BarrierPlan, Pos)> = Vec::new();
        for used in std::mem::take(&mut self.barrier_uses) {
            let index = match barriers.iter().position(|(b, _)| b.name == used.name) {
                Some(i) => i,
                None => {
                    let plan = BarrierPlan {
                        name: used.name.clone(),
                        groups: Vec::new(),
                    };
                    barriers.push((plan, used.at));
                    barriers.len() - 1
                }
            };
            let groups = &mut barriers[index].0.groups;
            if !groups.iter().any(|(g, _)| *g == used.group) {
                groups.push((used.group, used.count));
            }
        }
        for (barrier, at) in &barriers {
            if barrier.parties() == 1 {
                let group = &barrier.groups[0].0;
                self.error(
                    *at,
                    format!(
                        "only one client instance reaches barrier `{}`, so it would wait for nobody",
                        barrier.name
                    ),
                )
                .width(barrier.name.len())
                .help(format!(
                    "raise the `count` of group `{group}`, or name the barrier in another group too"
                ));
            }
        }
        barriers.into_iter().map(|(b, _)| b).collect()
    }
}
