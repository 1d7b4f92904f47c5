//! The timer behind every Train and Play button.

use std::time::Duration;

use leptos::prelude::*;

/// Calls `tick` every `period` while `running` is true. There is never more than one timer:
/// setting `running` to true while it already is restarts the timer instead of adding a
/// second one (which would keep ticking after Pause), and the timer stops when `running`
/// turns false or the widget leaves the page.
pub fn use_interval<F: Fn() + Clone + 'static>(running: RwSignal<bool>, period: Duration, tick: F) {
    let handle = StoredValue::new(None::<IntervalHandle>);
    let stop = move || {
        if let Some(h) = handle.get_value() {
            h.clear();
            handle.set_value(None);
        }
    };
    Effect::new(move |_| {
        stop();
        if running.get() {
            if let Ok(h) = set_interval_with_handle(tick.clone(), period) {
                handle.set_value(Some(h));
            }
        }
    });
    on_cleanup(stop);
}
