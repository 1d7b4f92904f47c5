//! Where the training panel's CPU run happens: in a Web Worker (`crates/train-worker`), so a
//! long step never freezes the page, or, if the browser cannot start the worker, on the
//! page's own thread with the very same [`TrainWorker`] in short slices.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;

use futures_channel::oneshot;
use train_worker::{Reply, Request, TrainWorker};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::browser::now_ms;

/// The worker's script, beside the page (`web/train-worker-start.js`), which loads the files
/// Trunk builds from `crates/train-worker` (train-worker.js and train-worker_bg.wasm).
const WORKER_START: &str = "train-worker-start.js";

/// How long the worker may take to load before the page trains on its own thread instead.
const START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long one training request may run: in the worker, long enough that messages cost
/// little; on the page's thread, short enough to keep sliders moving.
pub const WORKER_BUDGET_MS: f64 = 150.0;
pub const PAGE_BUDGET_MS: f64 = 12.0;

type Waiting = Rc<RefCell<VecDeque<oneshot::Sender<Result<JsValue, String>>>>>;

/// A running worker. Replies come back in the order requests went out, so each reply
/// answers the oldest request still waiting.
pub struct WorkerLink {
    worker: Worker,
    waiting: Waiting,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
}

impl Drop for WorkerLink {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

impl WorkerLink {
    /// Starts the worker and waits for its first message, which says it is listening.
    async fn start() -> Result<WorkerLink, String> {
        // A file beside the page (a blob: script would need the page's Content-Security-Policy
        // to allow blob: workers); it loads Trunk's glue and the worker's WebAssembly.
        let worker = Worker::new(WORKER_START)
            .map_err(|e| format!("the browser refused to start a worker ({})", describe(&e)))?;

        let waiting: Waiting = Rc::default();
        let replies = waiting.clone();
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(sender) = replies.borrow_mut().pop_front() {
                let _ = sender.send(Ok(event.data()));
            }
        });
        let failed = waiting.clone();
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |event: ErrorEvent| {
            // The worker stopped (its files are missing, or it crashed): every request still
            // waiting gets the reason.
            for sender in failed.borrow_mut().drain(..) {
                let _ = sender.send(Err(event.message()));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let link = WorkerLink { worker, waiting, _on_message: on_message, _on_error: on_error };
        let (sender, ready) = oneshot::channel();
        link.waiting.borrow_mut().push_back(sender);
        // A worker that never says it is listening (its WebAssembly never arrives) is given
        // up after a while, so the page can train on its own thread instead.
        let started = Rc::new(std::cell::Cell::new(false));
        let (late, waiting) = (started.clone(), link.waiting.clone());
        leptos::prelude::set_timeout(
            move || {
                if !late.get() {
                    for sender in waiting.borrow_mut().drain(..) {
                        let _ = sender.send(Err(format!(
                            "the worker did not start within {} s",
                            START_TIMEOUT.as_secs()
                        )));
                    }
                }
            },
            START_TIMEOUT,
        );
        let answer = ready.await;
        started.set(true);
        match answer {
            Ok(Ok(_)) => Ok(link),
            Ok(Err(why)) => Err(why),
            Err(_) => Err("the worker stopped before it started".into()),
        }
    }

    fn call(&self, request: &Request) -> impl Future<Output = Result<Reply, String>> + 'static {
        let (sender, reply) = oneshot::channel();
        self.waiting.borrow_mut().push_back(sender);
        let posted = self.worker.post_message(&request.to_js());
        if posted.is_err() {
            self.waiting.borrow_mut().pop_back();
        }
        async move {
            posted.map_err(|e| format!("the worker did not take the message ({})", describe(&e)))?;
            match reply.await {
                Ok(Ok(value)) => Reply::from_js(&value),
                Ok(Err(why)) => Err(why),
                Err(_) => Err("the worker stopped".into()),
            }
        }
    }
}

fn describe(error: &JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => error.as_string().unwrap_or_else(|| format!("{error:?}")),
    }
}

/// The CPU run's home.
pub enum CpuRunner {
    Worker(WorkerLink),
    /// The page's thread; the string says why the worker could not start.
    Page(Rc<RefCell<TrainWorker>>, String),
}

impl CpuRunner {
    /// A runner with nothing in it yet: a worker if one starts, else the page's thread.
    pub async fn open() -> CpuRunner {
        match WorkerLink::start().await {
            Ok(link) => CpuRunner::Worker(link),
            Err(why) => CpuRunner::Page(Rc::default(), why),
        }
    }

    /// A runner holding the training text: a worker if one starts, else the page's thread.
    pub async fn start(text: String) -> CpuRunner {
        let runner = CpuRunner::open().await;
        if let Ok(Reply::Accepted) = runner.call(Request::Text(text.clone())).await {
            return runner;
        }
        // The worker took the text badly: the page's thread will do.
        let page = CpuRunner::Page(Rc::default(), "the worker did not accept the training text".into());
        let _ = page.call(Request::Text(text)).await;
        page
    }

    /// Sends one request; the reply comes back later, in order.
    pub fn call(&self, request: Request) -> impl Future<Output = Result<Reply, String>> + 'static {
        let on_page = match self {
            CpuRunner::Worker(link) => Err(link.call(&request)),
            CpuRunner::Page(worker, _) => Ok(worker.borrow_mut().handle(request, &mut now_ms)),
        };
        async move {
            match on_page {
                Ok(reply) => Ok(reply),
                Err(from_worker) => from_worker.await,
            }
        }
    }

    /// Whether requests run on the page's own thread (so a loop of them must let the page
    /// draw between them).
    pub fn on_page(&self) -> bool {
        matches!(self, CpuRunner::Page(..))
    }

    /// How long one training request may run here.
    pub fn budget_ms(&self) -> f64 {
        match self {
            CpuRunner::Worker(_) => WORKER_BUDGET_MS,
            CpuRunner::Page(..) => PAGE_BUDGET_MS,
        }
    }

    /// For the backend badge.
    pub fn describe(&self) -> String {
        match self {
            CpuRunner::Worker(_) => "in a Web Worker, off the page's thread".into(),
            CpuRunner::Page(_, why) => format!("on the page's thread ({why})"),
        }
    }
}
