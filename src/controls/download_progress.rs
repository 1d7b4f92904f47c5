//! A progress bar for a download or any long job counted in units: "12.4 of 23.3 MB", the bar
//! filling as the count grows, indeterminate while the total is unknown.

use leptos::prelude::*;

/// `count` in the bar's unit: megabytes to one decimal for bytes, whole numbers otherwise.
fn amount(count: u64, bytes: bool) -> String {
    if bytes {
        format!("{:.1}", count as f64 / 1e6)
    } else {
        count.to_string()
    }
}

/// What the bar says: "12.4 of 23.3 MB", or "12.4 MB" when the total is unknown.
pub fn progress_text(done: u64, total: Option<u64>, bytes: bool) -> String {
    let unit = if bytes { " MB" } else { "" };
    match total {
        Some(t) => format!("{} of {}{unit}", amount(done, bytes), amount(t, bytes)),
        None => format!("{}{unit}", amount(done, bytes)),
    }
}

/// The bar with its caption and numbers. `name` is its `data-value`; the element carries the
/// count as `data-number` and the total as `data-total` (empty when unknown).
#[component]
pub fn DownloadProgress(
    /// What is happening, e.g. "Downloading MiniLM's weights".
    caption: &'static str,
    name: &'static str,
    /// (done, total).
    #[prop(into)]
    progress: Signal<(u64, Option<u64>)>,
    /// Counting bytes (shown in MB) rather than items.
    #[prop(optional)]
    bytes: bool,
) -> impl IntoView {
    view! {
        <div class="gpt-progress download-progress" role="status">
            <span>{caption}</span>
            <progress max=move || progress.get().1.map(|t| t.max(1) as f64)
                value=move || progress.get().1.map(|_| progress.get().0 as f64)
                aria-label=caption></progress>
            <span class="gpt-progress-text" data-value=name data-number=move || progress.get().0
                data-total=move || progress.get().1.map(|t| t.to_string()).unwrap_or_default()>
                {move || { let (d, t) = progress.get(); progress_text(d, t, bytes) }}
            </span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(progress_text(12_400_000, Some(23_346_692), true), "12.4 of 23.3 MB");
        assert_eq!(progress_text(1_000_000, None, true), "1.0 MB");
        assert_eq!(progress_text(3, Some(12), false), "3 of 12");
    }
}
