//! A small fully connected network drawn left to right: one column of nodes per layer,
//! every node joined to every node of the next layer, and the loss as a box after the
//! output. [`network_diagram`] is the geometry, tested natively; chapter 1's stepper draws
//! its 2-2-1 network with it.

/// The node circles' radius.
pub const RADIUS: f64 = 26.0;
/// The columns' x, one per layer, and the band the nodes of a column spread over.
const COLUMNS: [f64; 3] = [50.0, 190.0, 320.0];
const TOP: f64 = 60.0;
const BOTTOM: f64 = 160.0;
/// The loss box: its width and height, and its left edge's distance past the output node.
const LOSS_SIZE: (f64, f64) = (56.0, 48.0);
const LOSS_GAP: f64 = 76.0;

/// A line from (x1, y1) to (x2, y2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

impl Edge {
    fn midpoint(self) -> (f64, f64) {
        ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)
    }
}

/// Where everything of the diagram goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagram {
    /// Each layer's node centres, inputs first.
    pub nodes: Vec<Vec<(f64, f64)>>,
    /// The edges from layer `l` to layer `l + 1`, by source node then target node.
    pub edges: Vec<Vec<Edge>>,
    /// The loss box (x, y, width, height) and its centre.
    pub loss: (f64, f64, f64, f64),
    pub loss_centre: (f64, f64),
    /// The edge from the output into the loss box.
    pub loss_edge: Edge,
    /// Where the weight labels sit: the first and last edge of each layer gap, written
    /// above the upper edge and below the lower one.
    pub weight_labels: Vec<[(f64, f64); 2]>,
}

/// Spreads `n` nodes evenly over the band from [`TOP`] to [`BOTTOM`]; one node sits in the
/// middle.
fn column(x: f64, n: usize) -> Vec<(f64, f64)> {
    if n == 1 {
        return vec![(x, (TOP + BOTTOM) / 2.0)];
    }
    (0..n).map(|i| (x, TOP + (BOTTOM - TOP) * i as f64 / (n - 1) as f64)).collect()
}

/// The diagram of a network with these layer sizes (at most three layers, as the chapter's
/// is), followed by its loss.
pub fn network_diagram(sizes: &[usize]) -> Diagram {
    let nodes: Vec<Vec<(f64, f64)>> = sizes.iter().zip(COLUMNS).map(|(&n, x)| column(x, n)).collect();
    let edges: Vec<Vec<Edge>> = nodes
        .windows(2)
        .map(|pair| {
            pair[0]
                .iter()
                .flat_map(|&(x1, y1)| pair[1].iter().map(move |&(x2, y2)| Edge { x1, y1, x2, y2 }))
                .collect()
        })
        .collect();
    let (out_x, out_y) = nodes.last().and_then(|l| l.first()).copied().unwrap_or((0.0, 0.0));
    let (w, h) = LOSS_SIZE;
    let loss = (out_x + LOSS_GAP, out_y - h / 2.0, w, h);
    let loss_centre = (loss.0 + w / 2.0, out_y);
    let loss_edge = Edge { x1: out_x, y1: out_y, x2: loss.0 + 24.0, y2: out_y };
    // Offsets from each labelled edge's midpoint, chosen so the text clears the lines.
    const OFFSETS: [[(f64, f64); 2]; 2] = [[(-2.0, -12.0), (-2.0, 22.0)], [(3.0, -15.0), (3.0, 27.0)]];
    let weight_labels = edges
        .iter()
        .zip(OFFSETS)
        .filter_map(|(gap, offsets)| {
            let (first, last) = (gap.first()?.midpoint(), gap.last()?.midpoint());
            Some([
                (first.0 + offsets[0].0, first.1 + offsets[0].1),
                (last.0 + offsets[1].0, last.1 + offsets[1].1),
            ])
        })
        .collect();
    Diagram { nodes, edges, loss, loss_centre, loss_edge, weight_labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chapter_network_is_laid_out_in_columns() {
        let d = network_diagram(&[2, 2, 1]);
        assert_eq!(
            d.nodes,
            vec![
                vec![(50.0, 60.0), (50.0, 160.0)],
                vec![(190.0, 60.0), (190.0, 160.0)],
                vec![(320.0, 110.0)]
            ]
        );
        assert_eq!(d.edges[0].len(), 4, "every input feeds every hidden unit");
        assert_eq!(d.edges[0][1], Edge { x1: 50.0, y1: 60.0, x2: 190.0, y2: 160.0 });
        assert_eq!(d.edges[1][1], Edge { x1: 190.0, y1: 160.0, x2: 320.0, y2: 110.0 });
        assert_eq!(d.loss, (396.0, 86.0, 56.0, 48.0));
        assert_eq!(d.loss_centre, (424.0, 110.0));
        assert_eq!(d.loss_edge, Edge { x1: 320.0, y1: 110.0, x2: 420.0, y2: 110.0 });
        assert_eq!(d.weight_labels, vec![[(118.0, 48.0), (118.0, 182.0)], [(258.0, 70.0), (258.0, 162.0)]]);
    }
}
