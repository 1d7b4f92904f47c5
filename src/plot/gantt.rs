//! A pipeline schedule as a Gantt chart: one row per stage, one box per forward or backward
//! pass, labelled by micro-batch, with time running left to right. [`gantt`] is the geometry,
//! tested natively; the parallelism lab turns it into SVG.

use engine::labs::parallelism::{Pass, Timeline};

use crate::plot::describe::{number, position, TableText};

/// The chart's width; the time axis runs from [`LEFT`] to `WIDTH - RIGHT`.
pub const WIDTH: f64 = 420.0;
pub const LEFT: f64 = 30.0;
pub const RIGHT: f64 = 6.0;
/// Space above the rows, and each row's height.
pub const TOP: f64 = 4.0;
pub const ROW: f64 = 24.0;
/// Room under the rows for the time axis.
pub const BOTTOM: f64 = 18.0;
/// A box carries its micro-batch's number when it is at least this much wider than the
/// number's digits (about 6 px each at the chart's font size).
pub const LABEL_PAD: f64 = 4.0;
pub const DIGIT: f64 = 6.0;

/// One pass drawn as a box.
#[derive(Clone, Debug, PartialEq)]
pub struct PassBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// A forward pass (else a backward one).
    pub forward: bool,
    /// The micro-batch, counted from 1.
    pub micro_batch: usize,
    /// Whether the box is wide enough to carry its number.
    pub labelled: bool,
}

/// One stage's row: its label's position and the idle band behind its boxes.
#[derive(Clone, Debug, PartialEq)]
pub struct StageRow {
    /// The stage, counted from 1.
    pub stage: usize,
    /// The row's top.
    pub y: f64,
}

/// The whole chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Gantt {
    pub height: f64,
    pub rows: Vec<StageRow>,
    pub boxes: Vec<PassBox>,
    /// The baseline of the time axis.
    pub axis_y: f64,
    /// Where the time axis ends (the makespan).
    pub axis_end: f64,
}

/// The chart for a simulated step: stages top to bottom, the makespan across the width.
pub fn gantt(timeline: &Timeline) -> Gantt {
    let span = if timeline.makespan > 0.0 { timeline.makespan } else { 1.0 };
    let scale = (WIDTH - LEFT - RIGHT) / span;
    let mut boxes = Vec::new();
    let mut rows = Vec::new();
    for (stage, slots) in timeline.stages.iter().enumerate() {
        let y = TOP + ROW * stage as f64;
        rows.push(StageRow { stage: stage + 1, y });
        for slot in slots {
            let (forward, i) = match slot.pass {
                Pass::Forward(i) => (true, i),
                Pass::Backward(i) => (false, i),
            };
            let width = (slot.end - slot.start) * scale;
            boxes.push(PassBox {
                x: LEFT + slot.start * scale,
                y: y + 1.0,
                width,
                height: ROW - 2.0,
                forward,
                micro_batch: i + 1,
                labelled: width >= LABEL_PAD + DIGIT * (i + 1).to_string().len() as f64,
            });
        }
    }
    let axis_y = TOP + ROW * timeline.stages.len() as f64 + 2.0;
    Gantt { height: axis_y + BOTTOM, rows, boxes, axis_y, axis_end: LEFT + timeline.makespan * scale }
}

/// The chart in a sentence, for its accessible name: `title`, the stages and micro-batches,
/// how long the step takes and the share of stage time spent idle (the bubble).
pub fn describe(title: &str, timeline: &Timeline) -> String {
    let micro_batches = timeline
        .stages
        .first()
        .map_or(0, |slots| slots.iter().filter(|s| matches!(s.pass, Pass::Forward(_))).count());
    format!(
        "{}: {} stage{}, {} micro-batch{}; the step takes {} time units, and {}% of stage time is idle.",
        title.trim_end_matches('.'),
        timeline.stages.len(),
        if timeline.stages.len() == 1 { "" } else { "s" },
        micro_batches,
        if micro_batches == 1 { "" } else { "es" },
        number(timeline.makespan),
        number(100.0 * timeline.bubble_fraction())
    )
}

/// The chart as a table: per stage, its busy and idle time and the most micro-batches whose
/// activations it held at once.
pub fn table(timeline: &Timeline) -> TableText {
    let peaks = timeline.peak_in_flight();
    let rows = timeline
        .stages
        .iter()
        .zip(peaks)
        .enumerate()
        .map(|(k, (slots, peak))| {
            let busy: f64 = slots.iter().map(|s| s.end - s.start).sum();
            vec![format!("S{}", k + 1), number(busy), number(timeline.makespan - busy), position(peak as f64)]
        })
        .collect();
    let headers = ["stage", "busy", "idle", "peak in flight"].map(String::from).to_vec();
    TableText { headers, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::labs::parallelism::{simulate, Schedule};

    #[test]
    fn boxes_sit_in_their_stage_row_at_their_time() {
        // 2 stages, 1 micro-batch, forward 1 and backward 2: makespan 6 across 384 px.
        let t = simulate(Schedule::GPipe, 2, 1, 1.0, 2.0).unwrap();
        let g = gantt(&t);
        assert_eq!(g.rows, vec![StageRow { stage: 1, y: 4.0 }, StageRow { stage: 2, y: 28.0 }]);
        let scale = 384.0 / 6.0;
        // Stage 1: forward at 0..1, backward at 4..6 (after stage 2's backward at 2..4).
        assert_eq!(
            g.boxes[0],
            PassBox {
                x: 30.0,
                y: 5.0,
                width: scale,
                height: 22.0,
                forward: true,
                micro_batch: 1,
                labelled: true
            }
        );
        assert_eq!(
            (g.boxes[1].x, g.boxes[1].width, g.boxes[1].forward),
            (30.0 + 4.0 * scale, 2.0 * scale, false)
        );
        // Stage 2: forward at 1..2, backward at 2..4.
        assert_eq!((g.boxes[2].x, g.boxes[2].y), (30.0 + scale, 29.0));
        assert_eq!(g.boxes[3].x, 30.0 + 2.0 * scale);
        assert_eq!(g.axis_y, 54.0);
        assert_eq!(g.height, 72.0);
        assert_eq!(g.axis_end, WIDTH - RIGHT);
        // Each stage is busy 3 of the 6 time units: half the stage time is the bubble.
        assert_eq!(
            describe("GPipe.", &t),
            "GPipe: 2 stages, 1 micro-batch; the step takes 6.00 time units, and 50.0% of stage time is idle."
        );
        let rows = table(&t).rows;
        assert_eq!(rows[1], ["S2", "3.00", "3.00", "1"]);
    }

    #[test]
    fn narrow_boxes_drop_their_numbers() {
        // 4 stages, 32 micro-batches: a forward is 384 / 105 ≈ 3.7 px, too narrow for a label.
        let g = gantt(&simulate(Schedule::OneFOneB, 4, 32, 1.0, 2.0).unwrap());
        assert_eq!(g.boxes.len(), 4 * 64);
        assert!(g.boxes.iter().all(|b| !b.labelled));
        // 8 micro-batches: a forward is 384 / 33 ≈ 11.6 px, room for one digit.
        let wide = gantt(&simulate(Schedule::OneFOneB, 4, 8, 1.0, 2.0).unwrap());
        assert!(wide.boxes.iter().all(|b| b.labelled));
        // 12: a forward is 384 / 45 ≈ 8.5 px, too narrow even for one digit; a backward,
        // 17.1 px, holds two.
        let twelve = gantt(&simulate(Schedule::GPipe, 4, 12, 1.0, 2.0).unwrap());
        assert!(twelve.boxes.iter().all(|b| b.labelled != b.forward));
    }
}
