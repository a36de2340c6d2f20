//! The two graph walks grouping needs, over dependency lists by index (`edges[i]` are the
//! nodes `i` depends on): finding a cycle to spell out, and ordering a group so its own
//! dependencies come first.
//!
//! Both are iterative or bounded by a group's size: the graphs come from a model's answer,
//! and a long chain of dependencies must not be able to overflow the stack.

/// A dependency cycle, as the path that closes it (`[a, b, a]`: a depends on b, b on a);
/// `None` when the graph has none. The walk starts from the lowest index, so the same
/// graph always reports the same cycle.
pub fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    // 0: unseen, 1: on the current path, 2: done (no cycle through it).
    let mut state = vec![0u8; edges.len()];
    (0..edges.len()).find_map(|start| walk(start, edges, &mut state))
}

fn walk(start: usize, edges: &[Vec<usize>], state: &mut [u8]) -> Option<Vec<usize>> {
    if state[start] != 0 {
        return None;
    }
    // The current path, each node with the index of the next edge to follow.
    let mut path: Vec<(usize, usize)> = vec![(start, 0)];
    state[start] = 1;
    while let Some((node, next)) = path.last_mut() {
        let node = *node;
        let Some(&to) = edges[node].get(*next) else {
            state[node] = 2;
            path.pop();
            continue;
        };
        *next += 1;
        match state[to] {
            0 => {
                state[to] = 1;
                path.push((to, 0));
            }
            1 => return Some(closed_path(&path, to)),
            _ => {}
        }
    }
    None
}

fn closed_path(path: &[(usize, usize)], back_to: usize) -> Vec<usize> {
    let from = path.iter().position(|&(n, _)| n == back_to).unwrap_or(0);
    let mut cycle: Vec<usize> = path[from..].iter().map(|&(n, _)| n).collect();
    cycle.push(back_to);
    cycle
}

/// `members` reordered so that each comes after the members it depends on, moving as little
/// as possible: members keep the model's order, and a dependency listed later is pulled
/// forward to just before the first member that needs it. Dependencies outside `members`
/// are ignored; the graph must have no cycle among `members` (checked before grouping).
pub fn dependencies_first(members: &[usize], edges: &[Vec<usize>]) -> Vec<usize> {
    let mut placed = vec![false; members.len()];
    let mut out = Vec::with_capacity(members.len());
    for i in 0..members.len() {
        place(i, members, edges, &mut placed, &mut out);
    }
    out
}

/// Places member `i` after its unplaced dependencies, depth first with an explicit stack.
fn place(i: usize, members: &[usize], edges: &[Vec<usize>], placed: &mut [bool], out: &mut Vec<usize>) {
    let position = |task: usize| members.iter().position(|&m| m == task);
    let mut stack = vec![i];
    while let Some(&top) = stack.last() {
        if placed[top] {
            stack.pop();
            continue;
        }
        let pending =
            edges[members[top]].iter().filter_map(|&d| position(d)).find(|&p| !placed[p] && !stack.contains(&p));
        match pending {
            Some(p) => stack.push(p),
            None => {
                placed[top] = true;
                out.push(members[top]);
                stack.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_is_spelled_from_where_it_closes() {
        let edges = vec![vec![1], vec![2], vec![1]];
        assert_eq!(find_cycle(&edges), Some(vec![1, 2, 1]));
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0, 0]));
        assert_eq!(find_cycle(&[vec![1, 2], vec![2], vec![]]), None);
    }

    #[test]
    fn dependencies_are_pulled_forward_and_the_rest_keeps_its_order() {
        // 0 depends on 2; 3 depends on 1; 4 is outside the group.
        let edges = vec![vec![2, 4], vec![], vec![], vec![1], vec![]];
        assert_eq!(dependencies_first(&[0, 1, 2, 3], &edges), vec![2, 0, 1, 3]);
        assert_eq!(dependencies_first(&[3, 1], &edges), vec![1, 3]);
    }
}
