//! First come, first served: how a chair plans by hand. Only a yardstick
//! for the benchmark; the service never uses it.

use super::scenario::Scenario;

/// The oldest referral takes the earliest free slot at its own table; a
/// neighbouring table only when that keeps the norm and the home table
/// would not. Returns the slot index per referral.
pub fn first_come_first_served(scenario: &Scenario) -> Vec<Option<usize>> {
    let mut slot_of: Vec<Option<usize>> = vec![None; scenario.referrals.len()];
    let mut taken = vec![false; scenario.slots.len()];
    for &(r, s) in &scenario.pinned {
        slot_of[r] = Some(s);
        taken[s] = true;
    }
    let mut by_start: Vec<usize> = (0..scenario.slots.len()).collect();
    by_start.sort_by_key(|&s| (scenario.slots[s].start, s));
    let mut queue: Vec<usize> = (0..scenario.referrals.len())
        .filter(|&r| slot_of[r].is_none())
        .collect();
    queue.sort_by(|&a, &b| {
        let (ra, rb) = (&scenario.referrals[a], &scenario.referrals[b]);
        (ra.registered, &ra.id).cmp(&(rb.registered, &rb.id))
    });
    for r in queue {
        let referral = &scenario.referrals[r];
        let first_free = |home: bool| {
            by_start.iter().copied().find(|&s| {
                !taken[s]
                    && (scenario.slots[s].region == referral.region) == home
                    && scenario.refusal(r, s, true).is_none()
            })
        };
        let home = first_free(true);
        let home_in_norm = home.is_some_and(|s| scenario.slots[s].date <= referral.due);
        let choice = if home_in_norm {
            home
        } else {
            first_free(false)
                .filter(|&s| scenario.slots[s].date <= referral.due)
                .or(home)
        };
        if let Some(s) = choice {
            taken[s] = true;
            slot_of[r] = Some(s);
        }
    }
    slot_of
}
