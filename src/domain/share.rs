//! A replica's share of something a cluster holds in common — a depth's slots, an agent's
//! places — and the two rules every such share follows, whichever room keeps it (the engine's
//! resource manager, the workforce's roster): it never comes down below what is held now, and
//! a share above the replica's fair part (its *target*) comes down as what is held ends, its
//! room owed to the other replicas rather than refilled here.

/// `share` held to `target`, but never below the `held` that is running now (a running slot
/// or task is never taken back): a lowered share, or a stored figure taken in.
pub fn within_target(share: u32, target: u32, held: u32) -> u32 {
    share.min(target.max(held))
}

/// The share once one of what it held has ended: one less while it is above the target.
pub fn after_one_ended(share: u32, target: u32) -> u32 {
    if share > target {
        share - 1
    } else {
        share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_comes_down_to_its_target_but_not_below_what_is_held() {
        assert_eq!(within_target(5, 2, 0), 2);
        assert_eq!(within_target(5, 2, 4), 4, "four held");
        assert_eq!(within_target(1, 3, 0), 1, "a target above the share raises nothing");
        assert_eq!((after_one_ended(4, 2), after_one_ended(2, 2), after_one_ended(0, 0)), (3, 2, 0));
    }
}
