//! Plots drawn as SVG (and the matrix tables). The geometry is computed by pure functions
//! (tested natively) and the components only turn it into elements, so colours follow the
//! theme through CSS. Plots import no widget.

pub mod attention_grid;
pub mod bars;
pub mod bits;
pub mod chart;
pub mod contour;
pub mod describe;
pub mod feature_arrows;
pub mod gantt;
pub mod heatmap;
pub mod histogram;
pub mod lines;
pub mod network;
pub mod optimizer_class;
pub mod sae;
pub mod scale;
pub mod scatter;
pub mod tree;
pub mod word_map;
