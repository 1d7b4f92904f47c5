//! A typed choice: a `<select>` over the values of an enum, each with a label, so a widget
//! never matches on option strings itself.

use leptos::prelude::*;

use engine::models::bpe::TieBreak;
use engine::models::mlp::Activation;

/// Something a reader picks from a short list: every value, the value its option carries,
/// and the label the reader sees.
pub trait Choosable: Copy + PartialEq + Send + Sync + 'static {
    /// Every value, in the order the menu lists them.
    fn all() -> &'static [Self];
    /// The option's `value` attribute (what the browser tests select by).
    fn value(self) -> &'static str;
    /// The option's text.
    fn label(self) -> &'static str;

    /// The value whose option carries `value`, if any.
    fn from_value(value: &str) -> Option<Self> {
        Self::all().iter().copied().find(|c| c.value() == value)
    }
}

/// A labelled menu over `T`. The menu always shows `value`, and each pick goes to
/// `on_change`; an option the page did not write is ignored.
#[component]
pub fn Choice<T: Choosable>(
    /// The words before the menu, e.g. "activation".
    label: &'static str,
    /// The menu's `data-name`, for tests.
    name: &'static str,
    /// The current choice.
    #[prop(into)]
    value: Signal<T>,
    /// Receives each new choice.
    on_change: Callback<T>,
    /// The values offered, in order, when a widget offers only some (every value otherwise).
    #[prop(optional)]
    options: Option<&'static [T]>,
) -> impl IntoView {
    let options = options
        .unwrap_or(T::all())
        .iter()
        .map(|&option| {
            view! { <option value=option.value() prop:selected=move || value.get() == option>{option.label()}</option> }
        })
        .collect_view();
    view! {
        <label class="select">{label}" "
            <select data-name=name on:change=move |ev| {
                if let Some(choice) = T::from_value(&event_target_value(&ev)) {
                    on_change.run(choice);
                }
            }>
                {options}
            </select>
        </label>
    }
}

/// The activations, as the XOR trainer and the overfitting lab offer them.
impl Choosable for Activation {
    fn all() -> &'static [Self] {
        &[Activation::Relu, Activation::Tanh, Activation::Sigmoid]
    }
    fn value(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Activation::Relu => "ReLU",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
        }
    }
}

/// The tie-break rules, as the menu offers them.
impl Choosable for TieBreak {
    fn all() -> &'static [Self] {
        &[TieBreak::FirstMet, TieBreak::Alphabetical]
    }
    fn value(self) -> &'static str {
        match self {
            TieBreak::FirstMet => "first-met",
            TieBreak::Alphabetical => "alphabetical",
        }
    }
    fn label(self) -> &'static str {
        match self {
            TieBreak::FirstMet => "first met",
            TieBreak::Alphabetical => "alphabetical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Fruit {
        Apple,
        Pear,
    }

    impl Choosable for Fruit {
        fn all() -> &'static [Self] {
            &[Fruit::Apple, Fruit::Pear]
        }
        fn value(self) -> &'static str {
            match self {
                Fruit::Apple => "apple",
                Fruit::Pear => "pear",
            }
        }
        fn label(self) -> &'static str {
            match self {
                Fruit::Apple => "An apple",
                Fruit::Pear => "A pear",
            }
        }
    }

    #[test]
    fn options_map_back_to_their_values() {
        assert_eq!(Fruit::from_value("pear"), Some(Fruit::Pear));
        assert_eq!(Fruit::from_value("apple"), Some(Fruit::Apple));
        assert_eq!(Fruit::from_value("plum"), None);
    }
}
