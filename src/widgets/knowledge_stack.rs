//! Chapter 11's knowledge stack as a map: each layer with the chapters that teach it (links)
//! and one number computed now by those chapters' engine code (`engine::labs::knowledge_stack`).

use leptos::prelude::*;

use engine::labs::knowledge_stack::{layers, Layer};

use crate::controls::number_field::with_commas;
use crate::controls::widget_frame::WidgetFrame;
use crate::route::chapter_href;

/// A layer's number as the page writes it: a count with separators, a tiny gap in
/// scientific notation, anything else with its decimals.
pub fn shown(layer: &Layer) -> String {
    match layer.decimals {
        0 => with_commas(layer.value as i64),
        d if d > 6 => format!("{:.1e}", layer.value),
        d => format!("{:.*}", d, layer.value),
    }
}

#[component]
pub fn KnowledgeStack() -> impl IntoView {
    // The top of the stack first, as the diagram above draws it.
    let rows = layers()
        .into_iter()
        .rev()
        .map(|layer| {
            let links = layer
                .chapters
                .iter()
                .map(|&(n, slug)| view! { <a href=chapter_href(slug, None)>{format!("Chapter {n}")}</a> })
                .collect_view();
            view! {
                <li class="ks-layer" data-level=layer.level>
                    <div class="ks-head"><span class="ks-level">{layer.level}</span>" "<strong>{layer.name}</strong><span class="ks-links">{links}</span></div>
                    <p class="ks-measure">{layer.measure}": "<strong data-value=format!("ks-{}", layer.level)>{shown(&layer)}</strong></p>
                </li>
            }
        })
        .collect_view();
    view! {
        <WidgetFrame class="knowledge-stack" label="The knowledge stack" title="Live: one number from every layer" badge="CPU · engine::labs::knowledge_stack">
            <ol class="ks-stack">{rows}</ol>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_for_reading() {
        let stack = layers();
        assert_eq!(shown(&stack[0]), "0.268536");
        assert!(shown(&stack[1]).contains('e'));
        assert_eq!(shown(&stack[4]), "108,352");
        assert_eq!(shown(&stack[5]), "0.5855");
    }
}
