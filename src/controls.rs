//! The shared inputs every widget builds from: validated number boxes and their rules, one
//! slider, a typed menu, the backend menu, number lists and matrices typed as text, a progress
//! bar for downloads and long jobs, the frame (title and backend badge) around each widget,
//! and the answer box under a graded exercise. Controls hold no model arithmetic and import
//! no widget.

pub mod answer_check;
pub mod backend_select;
pub mod choice;
pub mod download_progress;
pub mod number_field;
pub mod number_list;
pub mod share_link;
pub mod slider;
pub mod widget_frame;
