//! Where chapter 9's MiniLM runs in a widget: on the CPU (`engine::models::minilm`, on the
//! page's thread) or on WebGPU (`gpu::GpuMiniLm`, checked against the engine by crates/gpu's
//! tests). When the browser has a GPU and the model is loaded, one sentence is encoded on each
//! once, timed, and the faster is used; the reader can pick the other from the menu. A lost or
//! failing GPU hands back to the CPU with a sentence saying why.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::models::minilm::HiddenStates;
use engine::models::wordpiece::Encoding;
use gpu::GpuMiniLm;

use crate::hooks::gpu::{use_gpu, GpuHandle, GpuState};
use crate::hooks::minilm::Encoder;
use crate::hooks::training_run::machine::Backend;

/// The sentence both backends encode to be timed: 20 tokens with [CLS] and [SEP].
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

/// The note under the backend menu, from what the browser said, the timings and any failure.
pub fn note(state: &GpuState, timings: Option<Timings>, failure: Option<&str>, backend: Backend) -> String {
    if let Some(why) = failure {
        return why.to_string();
    }
    let using = match backend {
        Backend::Gpu => "using WebGPU",
        Backend::Cpu => "using the CPU",
    };
    match (state, timings) {
        (GpuState::Probing, _) => "Looking for a WebGPU adapter…".to_string(),
        (GpuState::Unavailable(why), _) => format!("{why} MiniLM runs on the CPU."),
        (GpuState::Lost(why), _) => format!("The GPU device was lost ({why}); MiniLM runs on the CPU."),
        (GpuState::Ready(_), None) => {
            "WebGPU is available: once MiniLM is loaded, one sentence is timed on each backend and the faster one is used."
                .to_string()
        }
        (GpuState::Ready(_), Some(t)) => {
            format!("WebGPU: {:.0} ms per sentence, CPU: {:.0} ms — {using}", t.gpu_ms, t.cpu_ms)
        }
    }
}

/// A widget's MiniLM backend. Copy, so closures can share it.
#[derive(Clone, Copy)]
pub struct MiniLmBackend {
    pub gpu: GpuHandle,
    /// The backend in use.
    pub backend: RwSignal<Backend>,
    pub timings: RwSignal<Option<Timings>>,
    /// Why the GPU is no longer used although the browser has one.
    pub failure: RwSignal<Option<String>>,
    /// The GPU copy of the model, once built and timed.
    model: StoredValue<Option<Rc<GpuMiniLm>>, LocalStorage>,
    reader_picked: StoredValue<bool>,
    timing_started: StoredValue<bool>,
}

/// Asks for a GPU, and falls back to the CPU if it is lost.
pub fn use_minilm_backend() -> MiniLmBackend {
    let gpu = use_gpu(|| {});
    let handle = MiniLmBackend {
        gpu,
        backend: RwSignal::new(Backend::Cpu),
        timings: RwSignal::new(None),
        failure: RwSignal::new(None),
        model: StoredValue::new_local(None),
        reader_picked: StoredValue::new(false),
        timing_started: StoredValue::new(false),
    };
    Effect::new(move |_| {
        if let GpuState::Lost(_) = gpu.state.get() {
            handle.model.set_value(None);
            handle.backend.set(Backend::Cpu);
        }
    });
    handle
}

/// Runs the GPU copy on one batch and reads back every layer.
async fn gpu_forward(model: &GpuMiniLm, batch: &[&[u32]]) -> Result<Vec<HiddenStates>, String> {
    model.forward(batch).map_err(|e| e.to_string())?.await.map_err(|e| e.to_string())
}

impl MiniLmBackend {
    /// The reader's pick from the menu, kept whatever the timings say.
    pub fn pick(&self, backend: Backend) {
        self.reader_picked.set_value(true);
        self.backend.set(backend);
    }

    /// The note under the menu (tracked).
    pub fn note(&self) -> String {
        let failure = self.failure.get();
        note(&self.gpu.state.get(), self.timings.get(), failure.as_deref(), self.backend.get())
    }

    /// Whether the GPU copy is built and can encode (tracked: it is built when the timings
    /// arrive).
    pub fn gpu_ready(&self) -> bool {
        self.timings.track();
        self.model.with_value(Option::is_some)
    }

    fn fail(&self, why: String) {
        self.model.set_value(None);
        let _ = self.failure.try_set(Some(format!("{why} MiniLM runs on the CPU.")));
        let _ = self.backend.try_set(Backend::Cpu);
    }

    /// Once there are both a loaded encoder and a GPU: copies the model to the GPU, runs one
    /// sentence there untimed (the pipelines compile, the buffers are made), then times it on
    /// each backend and switches to the faster unless the reader has picked. Runs once.
    pub fn time_both(&self, encoder: Rc<Encoder>) {
        if self.timing_started.get_value() {
            return;
        }
        let Some(device) = self.gpu.device.with_value(|g| g.clone()) else { return };
        self.timing_started.set_value(true);
        let this = *self;
        spawn_local(async move {
            crate::browser::pause(0).await;
            let model = Rc::new(GpuMiniLm::new(&device, &encoder.model));
            let ids = encoder.tokenizer.encode(TIMED_SENTENCE, encoder.model.config.positions).ids;
            if let Err(e) = gpu_forward(&model, &[&ids]).await {
                return this.fail(format!("MiniLM could not run on the GPU ({e})."));
            }
            let began = crate::browser::now_ms();
            let timed = gpu_forward(&model, &[&ids]).await;
            let gpu_ms = crate::browser::now_ms() - began;
            if let Err(e) = timed {
                return this.fail(format!("MiniLM could not run on the GPU ({e})."));
            }
            crate::browser::pause(0).await;
            let began = crate::browser::now_ms();
            let cpu = encoder.model.forward(&ids);
            let cpu_ms = crate::browser::now_ms() - began;
            if cpu.is_err() {
                return;
            }
            this.model.set_value(Some(model));
            let timings = Timings { gpu_ms, cpu_ms };
            if !this.reader_picked.get_value() {
                let _ = this.backend.try_set(faster(timings));
            }
            let _ = this.timings.try_set(Some(timings));
        });
    }

    /// Encodes `texts` on the GPU in one padded batch. An error says why; the widget is then
    /// back on the CPU, with the reason in the note.
    pub async fn encode_on_gpu(
        &self,
        encoder: &Encoder,
        texts: &[String],
    ) -> Result<Vec<(Encoding, HiddenStates)>, String> {
        let Some(model) = self.model.get_value() else {
            return Err("The GPU copy of MiniLM is not ready.".into());
        };
        let encodings: Vec<Encoding> =
            texts.iter().map(|t| encoder.tokenizer.encode(t, encoder.model.config.positions)).collect();
        let batch: Vec<&[u32]> = encodings.iter().map(|e| &e.ids[..]).collect();
        match gpu_forward(&model, &batch).await {
            Ok(states) => Ok(encodings.into_iter().zip(states).collect()),
            Err(e) => {
                self.fail(format!("MiniLM stopped running on the GPU ({e})."));
                Err(e)
            }
        }
    }
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
            note(&ready, Some(t), None, Backend::Gpu),
            "WebGPU: 12 ms per sentence, CPU: 40 ms — using WebGPU"
        );
        assert!(note(&ready, Some(t), None, Backend::Cpu).ends_with("using the CPU"));
        assert!(note(&ready, None, None, Backend::Cpu).starts_with("WebGPU is available"));
        assert_eq!(note(&ready, Some(t), Some("It failed."), Backend::Cpu), "It failed.");
        assert!(note(&GpuState::Lost("reset".into()), None, None, Backend::Cpu).contains("lost (reset)"));
    }
}
