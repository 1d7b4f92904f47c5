//! Where chapter 9's MiniLM runs in a widget: on the CPU (`engine::models::minilm`, on the
//! page's thread) or on WebGPU (`gpu::GpuMiniLm`, checked against the engine by crates/gpu's
//! tests).
//!
//! The GPU side is shared by the whole page, as the downloaded model is (`hooks::minilm`):
//! one device, one GPU copy of the model (about 90 MB), built once, and one timing. The copy
//! is built a step at a time (`gpu::GpuMiniLmBuilder`: a slice of the word table, one layer,
//! or the pipelines per step) with the page's event loop running between steps, while the
//! CPU serves.
//! Then one sentence is encoded on each backend, timed, and every MiniLM widget uses the
//! faster, unless its reader has picked the other from its menu. A lost or failing GPU hands
//! every widget back to the CPU with a sentence saying why.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::models::minilm::HiddenStates;
use engine::models::wordpiece::Encoding;
use gpu::{Gpu, GpuMiniLm};

use crate::hooks::gpu::GpuState;
use crate::hooks::minilm::Encoder;
use crate::hooks::training_run::machine::Backend;

/// The sentence both backends encode to be timed: 20 tokens with `[CLS]` and `[SEP]`.
const TIMED_SENTENCE: &str =
    "The quick brown fox jumps over the lazy dog while the old farmer watched from his porch.";

/// One encoding of [`TIMED_SENTENCE`] on each backend, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timings {
    pub gpu_ms: f64,
    pub cpu_ms: f64,
}

/// The faster backend of a timing (the CPU on a tie: it needs no copy of the model).
pub fn faster(t: Timings) -> Backend {
    if t.gpu_ms < t.cpu_ms {
        Backend::Gpu
    } else {
        Backend::Cpu
    }
}

/// Where the page's one GPU copy of MiniLM stands.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuCopy {
    /// Waiting for the model's download and a GPU.
    Waiting,
    /// Being copied to the GPU: `done` of `steps` steps taken.
    Building { done: usize, steps: usize },
    /// Copied, and one sentence timed on each backend.
    Ready(Timings),
    /// Building or running it failed: the sentence says why.
    Failed(String),
}

/// The note under a widget's backend menu, from what the browser said, the GPU copy and the
/// backend the widget uses.
pub fn note(state: &GpuState, copy: &GpuCopy, backend: Backend) -> String {
    let using = match backend {
        Backend::Gpu => "using WebGPU",
        Backend::Cpu => "using the CPU",
    };
    match (state, copy) {
        (GpuState::Lost(why), _) => format!("The GPU device was lost ({why}); MiniLM runs on the CPU."),
        (_, GpuCopy::Failed(why)) => why.clone(),
        (GpuState::Probing, _) => "Looking for a WebGPU adapter…".to_string(),
        (GpuState::Unavailable(why), _) => format!("{why} MiniLM runs on the CPU."),
        (GpuState::Ready(_), GpuCopy::Waiting) => {
            "WebGPU is available: once MiniLM is loaded, it is copied to \
             the GPU, one sentence is timed on each backend and the faster one is used."
                .to_string()
        }
        (GpuState::Ready(_), GpuCopy::Building { done, steps }) => {
            format!("Copying MiniLM to the GPU: step {done} of {steps}; the CPU encodes meanwhile.")
        }
        (GpuState::Ready(_), GpuCopy::Ready(t)) => {
            format!("WebGPU: {:.0} ms per sentence, CPU: {:.0} ms — {using}", t.gpu_ms, t.cpu_ms)
        }
    }
}

/// The page's GPU side of MiniLM, shared by every MiniLM widget: what the browser said, and
/// where the GPU copy stands. Reference-counted signals, so no widget owns them.
#[derive(Clone)]
struct Shared {
    gpu_state: ArcRwSignal<GpuState>,
    copy: ArcRwSignal<GpuCopy>,
}

thread_local! {
    static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
    /// The page's device for MiniLM, once the browser has given one.
    static DEVICE: RefCell<Option<Gpu>> = const { RefCell::new(None) };
    /// The GPU copy, once built and timed; gone again if the device is lost or a run fails.
    static MODEL: RefCell<Option<Rc<GpuMiniLm>>> = const { RefCell::new(None) };
    /// Whether building the GPU copy has begun (it begins once per page).
    static BUILD_BEGUN: Cell<bool> = const { Cell::new(false) };
    /// How many GPU copies of MiniLM this page has built (the page shows it for its checks).
    static COPIES_BUILT: Cell<usize> = const { Cell::new(0) };
    /// The longest building step so far, in milliseconds: how long the page went without
    /// answering the reader because of the copy (shown for the checks too).
    static LONGEST_STEP_MS: Cell<f64> = const { Cell::new(0.0) };
}

/// The shared signals; the first call asks the browser for a device.
fn shared() -> Shared {
    if let Some(s) = SHARED.with(|s| s.borrow().clone()) {
        return s;
    }
    let s =
        Shared { gpu_state: ArcRwSignal::new(GpuState::Probing), copy: ArcRwSignal::new(GpuCopy::Waiting) };
    SHARED.with(|slot| *slot.borrow_mut() = Some(s.clone()));
    let state = s.gpu_state.clone();
    spawn_local(async move {
        match Gpu::request().await {
            Ok(device) => {
                let lost = state.clone();
                device.on_lost(move |reason| {
                    let _ = MODEL.try_with(|m| m.try_borrow_mut().map(|mut m| *m = None));
                    lost.set(GpuState::Lost(reason));
                });
                state.set(GpuState::Ready(device.describe()));
                DEVICE.with(|d| *d.borrow_mut() = Some(device));
            }
            Err(error) => state.set(GpuState::Unavailable(error.to_string())),
        }
    });
    s
}

/// How many GPU copies of MiniLM this page has built: 1 once any MiniLM widget has one, and
/// still 1 with two widgets on the page.
pub fn gpu_copies_built() -> usize {
    COPIES_BUILT.with(Cell::get)
}

/// The longest step of building the GPU copy so far, in milliseconds.
pub fn longest_build_step_ms() -> f64 {
    LONGEST_STEP_MS.with(Cell::get)
}

/// Drops the GPU copy after a failure; every widget moves to the CPU and says why.
fn fail(why: String) {
    MODEL.with(|m| *m.borrow_mut() = None);
    shared().copy.set(GpuCopy::Failed(format!("{why} MiniLM runs on the CPU.")));
}

/// Builds the page's GPU copy of the model a step at a time, yielding to the event loop
/// between steps, then runs one sentence there untimed (the pipelines compile, the buffers
/// are made) and times it on each backend. Runs once per page.
fn build_gpu_copy(encoder: Rc<Encoder>) {
    let s = shared();
    let Some(device) = DEVICE.with(|d| d.borrow().clone()) else { return };
    if BUILD_BEGUN.with(|b| b.replace(true)) {
        return;
    }
    spawn_local(async move {
        let lost = || matches!(s.gpu_state.get_untracked(), GpuState::Lost(_));
        let mut builder = GpuMiniLm::builder(&device, &encoder.model);
        let steps = builder.steps();
        loop {
            s.copy.set(GpuCopy::Building { done: builder.steps_done(), steps });
            crate::browser::pause(0).await;
            if lost() {
                return;
            }
            let began = crate::browser::now_ms();
            let more = builder.step();
            let ms = crate::browser::now_ms() - began;
            LONGEST_STEP_MS.with(|l| l.set(l.get().max(ms)));
            if !more {
                break;
            }
        }
        let Some(model) = builder.finish() else {
            return fail("MiniLM's copy to the GPU stopped before its last step.".into());
        };
        COPIES_BUILT.with(|n| n.set(n.get() + 1));
        crate::browser::pause(0).await;
        let ids = encoder.tokenizer.encode(TIMED_SENTENCE, encoder.model.config.positions).ids;
        if let Err(e) = gpu_forward(&model, &[&ids]).await {
            return fail(format!("MiniLM could not run on the GPU ({e})."));
        }
        let began = crate::browser::now_ms();
        let timed = gpu_forward(&model, &[&ids]).await;
        let gpu_ms = crate::browser::now_ms() - began;
        if let Err(e) = timed {
            return fail(format!("MiniLM could not run on the GPU ({e})."));
        }
        crate::browser::pause(0).await;
        let began = crate::browser::now_ms();
        let cpu = encoder.model.forward(&ids);
        let cpu_ms = crate::browser::now_ms() - began;
        if cpu.is_err() || lost() {
            return;
        }
        MODEL.with(|m| *m.borrow_mut() = Some(Rc::new(model)));
        s.copy.set(GpuCopy::Ready(Timings { gpu_ms, cpu_ms }));
    });
}

/// Runs the GPU copy on one batch and reads back every layer.
async fn gpu_forward(model: &GpuMiniLm, batch: &[&[u32]]) -> Result<Vec<HiddenStates>, String> {
    model.forward(batch).map_err(|e| e.to_string())?.await.map_err(|e| e.to_string())
}

/// A widget's MiniLM backend: the page's shared GPU side, and this widget's choice. Copy, so
/// closures can share it.
#[derive(Clone, Copy)]
pub struct MiniLmBackend {
    /// What the browser said when the page asked for a GPU.
    pub gpu_state: RwSignal<GpuState>,
    /// Where the page's GPU copy stands.
    pub copy: RwSignal<GpuCopy>,
    /// The backend this widget uses.
    pub backend: RwSignal<Backend>,
    reader_picked: StoredValue<bool>,
}

/// The page's GPU side of MiniLM for one widget. The widget starts on the CPU, moves to the
/// faster backend once the shared timing is there (unless its reader has picked), and back
/// to the CPU if the device is lost or a GPU run fails.
pub fn use_minilm_backend() -> MiniLmBackend {
    let s = shared();
    let handle = MiniLmBackend {
        gpu_state: RwSignal::from(s.gpu_state),
        copy: RwSignal::from(s.copy),
        backend: RwSignal::new(Backend::Cpu),
        reader_picked: StoredValue::new(false),
    };
    Effect::new(move |_| match (handle.gpu_state.get(), handle.copy.get()) {
        (GpuState::Lost(_), _) | (_, GpuCopy::Failed(_)) => handle.backend.set(Backend::Cpu),
        (_, GpuCopy::Ready(t)) if !handle.reader_picked.get_value() => handle.backend.set(faster(t)),
        _ => {}
    });
    handle
}

impl MiniLmBackend {
    /// The reader's pick from the menu, kept whatever the timings say.
    pub fn pick(&self, backend: Backend) {
        self.reader_picked.set_value(true);
        self.backend.set(backend);
    }

    /// The note under the menu (tracked).
    pub fn note(&self) -> String {
        note(&self.gpu_state.get(), &self.copy.get(), self.backend.get())
    }

    /// Once the model is loaded: starts building the page's GPU copy if there is a GPU and
    /// no copy yet (whichever widget asks first; later calls do nothing).
    pub fn prepare(&self, encoder: Rc<Encoder>) {
        if matches!(self.gpu_state.get_untracked(), GpuState::Ready(_)) {
            build_gpu_copy(encoder);
        }
    }

    /// Whether the GPU copy is built and can encode (tracked).
    pub fn gpu_ready(&self) -> bool {
        matches!(self.copy.get(), GpuCopy::Ready(_)) && MODEL.with(|m| m.borrow().is_some())
    }

    /// Encodes `texts` on the GPU in one padded batch, every layer read back. An error says
    /// why; every widget is then back on the CPU, with the reason in its note.
    pub async fn encode_on_gpu(
        &self,
        encoder: &Encoder,
        texts: &[String],
    ) -> Result<Vec<(Encoding, HiddenStates)>, String> {
        let model = ready_model()?;
        let encodings: Vec<Encoding> =
            texts.iter().map(|t| encoder.tokenizer.encode(t, encoder.model.config.positions)).collect();
        let batch: Vec<&[u32]> = encodings.iter().map(|e| &e.ids[..]).collect();
        match gpu_forward(&model, &batch).await {
            Ok(states) => Ok(encodings.into_iter().zip(states).collect()),
            Err(e) => {
                fail(format!("MiniLM stopped running on the GPU ({e})."));
                Err(e)
            }
        }
    }

    /// The sentence vectors of `texts` (last layer, mean over the tokens, unit length, as
    /// `engine::labs::semantic_search::embed` computes them) on the GPU in one padded batch;
    /// only the last layer is read back. An error moves every widget to the CPU.
    pub async fn sentence_vectors_on_gpu(
        &self,
        encoder: &Encoder,
        texts: &[&str],
    ) -> Result<Vec<Vec<f32>>, String> {
        let model = ready_model()?;
        let ids: Vec<Vec<u32>> =
            texts.iter().map(|t| encoder.tokenizer.encode(t, encoder.model.config.positions).ids).collect();
        let batch: Vec<&[u32]> = ids.iter().map(|i| &i[..]).collect();
        let vectors = match model.sentence_vectors(&batch) {
            Ok(reading) => reading.await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        vectors.inspect_err(|e| fail(format!("MiniLM stopped running on the GPU ({e}).")))
    }
}

/// The page's GPU copy, or why there is none.
fn ready_model() -> Result<Rc<GpuMiniLm>, String> {
    MODEL.with(|m| m.borrow().clone()).ok_or_else(|| "The GPU copy of MiniLM is not ready.".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_faster_backend_is_used_and_the_note_names_it() {
        let t = Timings { gpu_ms: 12.4, cpu_ms: 40.0 };
        assert_eq!(faster(t), Backend::Gpu);
        assert_eq!(faster(Timings { gpu_ms: 40.0, cpu_ms: 40.0 }), Backend::Cpu);
        let ready = GpuState::Ready("an adapter".into());
        assert_eq!(
            note(&ready, &GpuCopy::Ready(t), Backend::Gpu),
            "WebGPU: 12 ms per sentence, CPU: 40 ms — using WebGPU"
        );
        assert!(note(&ready, &GpuCopy::Ready(t), Backend::Cpu).ends_with("using the CPU"));
        assert!(note(&ready, &GpuCopy::Waiting, Backend::Cpu).starts_with("WebGPU is available"));
        assert_eq!(
            note(&ready, &GpuCopy::Building { done: 3, steps: 21 }, Backend::Cpu),
            "Copying MiniLM to the GPU: step 3 of 21; the CPU encodes meanwhile."
        );
        assert_eq!(note(&ready, &GpuCopy::Failed("It failed.".into()), Backend::Cpu), "It failed.");
        let lost = GpuState::Lost("reset".into());
        assert!(note(&lost, &GpuCopy::Ready(t), Backend::Cpu).contains("lost (reset)"));
    }
}
