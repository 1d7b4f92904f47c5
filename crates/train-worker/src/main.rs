//! The worker's entry point: answer each message from the page with [`TrainWorker::handle`].
//! The page waits for the first message, [`Reply::Accepted`], before it sends anything:
//! messages sent while the WebAssembly was still loading would be lost.

use std::cell::RefCell;

use train_worker::{Reply, Request, TrainWorker};
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let worker = RefCell::new(TrainWorker::default());
    let answer = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let reply = match Request::from_js(&event.data()) {
            Ok(request) => worker.borrow_mut().handle(request, &mut js_sys::Date::now),
            Err(why) => Reply::Refused(format!("The worker could not read the page's message: {why}.")),
        };
        let _ = answer.post_message(&reply.to_js());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let _ = scope.post_message(&Reply::Accepted.to_js());
}
