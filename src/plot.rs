//! Plots drawn as SVG. The geometry is computed by pure functions (tested natively) and the
//! components only turn it into elements, so colours follow the theme through CSS.

pub mod chart;
pub mod contour;
pub mod heatmap;
pub mod optimizer_class;
