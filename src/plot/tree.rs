//! A beam-search tree laid out left to right: the prompt at the root, one column per step,
//! each step's candidates stacked in the order beam search expanded them (so a beam's
//! candidates sit together). [`tree_layout`] is the geometry, tested natively.

use engine::models::generate::BeamTree;

/// The distance between steps, and between stacked candidates.
pub const COLUMN: f64 = 74.0;
pub const ROW: f64 = 22.0;
/// How far an edge stops short of the labels at its ends.
const EDGE_GAP: f64 = 14.0;

/// Where each node of a beam tree is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeLayout {
    /// (x, y) of every node, in `tree.nodes` order.
    pub points: Vec<(f64, f64)>,
    /// Each node's edge from its parent (or the root): (x1, y1, x2, y2), in `tree.nodes` order.
    pub edges: Vec<(f64, f64, f64, f64)>,
    /// Where the prompt (the root) sits.
    pub root: (f64, f64),
    pub width: f64,
    pub height: f64,
}

/// Lays out `tree`: column by step, rows in expansion order, the root centred on the left.
pub fn tree_layout(tree: &BeamTree) -> TreeLayout {
    let steps = tree.nodes.iter().map(|n| n.step + 1).max().unwrap_or(0);
    let mut rows_in_step = vec![0usize; steps];
    let points: Vec<(f64, f64)> = tree
        .nodes
        .iter()
        .map(|n| {
            let row = rows_in_step[n.step];
            rows_in_step[n.step] += 1;
            (40.0 + COLUMN * (n.step + 1) as f64, 16.0 + ROW * row as f64)
        })
        .collect();
    let rows = rows_in_step.iter().copied().max().unwrap_or(1).max(1);
    let height = 16.0 + ROW * rows as f64;
    let root = (40.0, height / 2.0 - 8.0);
    let edges = tree
        .nodes
        .iter()
        .zip(&points)
        .map(|(n, &(x, y))| {
            let (px, py) = n.parent.map_or(root, |p| points[p]);
            (px + EDGE_GAP, py, x - EDGE_GAP, y)
        })
        .collect();
    TreeLayout { points, edges, root, width: 40.0 + COLUMN * (steps as f64 + 0.6), height }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::models::generate::BeamNode;

    #[test]
    fn tree_columns_follow_steps_and_rows_stack() {
        let node = |step, parent, kept| BeamNode { token: 0, log_prob: -1.0, parent, step, kept };
        let tree = BeamTree {
            width: 2,
            nodes: vec![
                node(0, None, true),
                node(0, None, true),
                node(1, Some(0), true),
                node(1, Some(0), false),
                node(1, Some(1), true),
                node(1, Some(1), false),
            ],
            best: vec![0, 0],
            best_log_prob: -1.0,
        };
        let l = tree_layout(&tree);
        assert_eq!(l.points[0].0, 40.0 + COLUMN);
        assert_eq!(l.points[2].0, 40.0 + 2.0 * COLUMN);
        assert_eq!(l.points[5].1, 16.0 + 3.0 * ROW, "four candidates at step 2 stack");
        assert_eq!(l.height, 16.0 + 4.0 * ROW);
        assert_eq!(l.root, (40.0, l.height / 2.0 - 8.0));
        assert_eq!(l.edges[0], (54.0, l.root.1, 40.0 + COLUMN - 14.0, 16.0), "step 1 hangs from the root");
        assert_eq!(l.edges[4], (l.points[1].0 + 14.0, l.points[1].1, l.points[4].0 - 14.0, l.points[4].1));
        assert_eq!(l.width, 40.0 + COLUMN * 2.6);
    }
}
