//! Live widgets, one per file. Each calls `crates/engine` for every number it shows.

pub mod backprop_stepper;
pub mod number_field;

use leptos::prelude::*;

use crate::book::Widget;

/// The view for a widget named in a chapter. The match is exhaustive: a widget listed in
/// `bookgen::directive::Widget` cannot be missing here.
pub fn widget_view(widget: Widget) -> AnyView {
    match widget {
        Widget::BackpropStepper => view! { <backprop_stepper::BackpropStepper /> }.into_any(),
    }
}
