//! The colour class of each optimizer, the same in every chart, path and legend that races
//! them (`opt-sgd`, …; the colours themselves are in the stylesheet).

pub use engine::core::optim::Kind;

/// The CSS class that colours an optimizer's lines and swatches.
pub trait OptimizerClass {
    fn class(self) -> &'static str;
}

impl OptimizerClass for Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Sgd => "opt-sgd",
            Kind::Momentum => "opt-momentum",
            Kind::RmsProp => "opt-rmsprop",
            Kind::Adam => "opt-adam",
            Kind::AdamW => "opt-adamw",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_the_key_with_a_prefix() {
        for kind in Kind::ALL {
            assert_eq!(kind.class(), format!("opt-{}", kind.key()));
        }
    }
}
