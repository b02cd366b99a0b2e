//! Counting allowed referral x class pairs without looking at each pair
//! (a statistic; on the large presets a pair-by-pair scan cost more than
//! the rest of the market).

use super::Market;

/// Prefix counts per region: how many classes before each position are
/// long enough for each length threshold, with and without the
/// `own_region_only` classes.
pub(super) struct PairCounter {
    /// Distinct class lengths, ascending.
    lengths: Vec<u32>,
    /// `any[g][v][p]`: classes in `by_region[g][..p]` of at least
    /// `lengths[v]` minutes.
    any: Vec<Vec<Vec<u32>>>,
    /// As `any`, counting only classes open to neighbouring regions.
    shared: Vec<Vec<Vec<u32>>>,
}

impl PairCounter {
    pub(super) fn new(market: &Market<'_>) -> PairCounter {
        let mut lengths: Vec<u32> = market.classes.iter().map(|c| c.minutes).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let prefix = |list: &[u32], min: u32, shared_only: bool| {
            let mut count = 0;
            let mut out = Vec::with_capacity(list.len() + 1);
            out.push(0);
            for &c in list {
                let class = &market.classes[c as usize];
                count += u32::from(class.minutes >= min && !(shared_only && class.own_region_only));
                out.push(count);
            }
            out
        };
        let table = |shared_only: bool| -> Vec<Vec<Vec<u32>>> {
            market
                .by_region
                .iter()
                .map(|list| {
                    lengths
                        .iter()
                        .map(|&min| prefix(list, min, shared_only))
                        .collect()
                })
                .collect()
        };
        PairCounter {
            any: table(false),
            shared: table(true),
            lengths,
        }
    }

    /// The number of classes free referral `i` may use.
    pub(super) fn pairs(&self, market: &Market<'_>, i: usize) -> usize {
        let referral = &market.scenario.referrals[market.free[i]];
        let v = self.lengths.partition_point(|&l| l < referral.minutes);
        if v == self.lengths.len() {
            return 0;
        }
        let mut total = 0;
        for lane in market.lanes_of(i) {
            let g = lane.region as usize;
            let table = if g == referral.region {
                &self.any[g][v]
            } else {
                &self.shared[g][v]
            };
            total += (table[lane.end as usize] - table[lane.early as usize]) as usize;
            if referral.unavailable.is_empty() {
                continue;
            }
            // Take the classes on days the family cannot come back out
            // (the list is in date order: each day is one stretch).
            let list = &market.by_region[g][lane.early as usize..lane.end as usize];
            let day_of = |c: u32| market.class_day[c as usize];
            for &date in &referral.unavailable {
                let d = super::day(date);
                let from = list.partition_point(|&c| day_of(c) < d);
                let to = list.partition_point(|&c| day_of(c) <= d);
                total -= list[from..to]
                    .iter()
                    .filter(|&&c| {
                        let class = &market.classes[c as usize];
                        class.minutes >= referral.minutes
                            && !(class.own_region_only && g != referral.region)
                    })
                    .count();
            }
        }
        total
    }
}
