//! One harness, two targets: `gpu_tests!(case, ...)` turns each async case of `cases.rs` into
//! a test for the target being built, as candle's per-device test macro does.
//!
//! - Natively (`tests/match_engine.rs`): a `#[test]` that blocks on the case with pollster,
//!   on one device shared by the whole test binary (any Vulkan device; Mesa's software
//!   lavapipe will do).
//! - In the browser (`tests/web.rs`): a `#[wasm_bindgen_test]` that awaits the case, on one
//!   device for the page (WebGPU in headless Chromium, SwiftShader when there is no GPU),
//!   and logs how long it took.
//!
//! No adapter is a failure with a message, never a skip: a CI machine that lost its driver
//! must notice.

/// Prints a line: to stdout natively, to the browser's console (shown by the test runner)
/// in the browser.
macro_rules! log {
    ($($arg:tt)*) => {{
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_test::console_log!($($arg)*);
        #[cfg(not(target_arch = "wasm32"))]
        println!($($arg)*);
    }};
}

/// Expands each named case of `cases.rs` into a test for this target.
macro_rules! gpu_tests {
    ($($case:ident),* $(,)?) => {
        $(gpu_test!($case);)*
    };
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::sync::OnceLock;

    use gpu::Gpu;

    /// One device for the whole test binary (tests run on several threads and share it).
    pub fn gpu() -> &'static Gpu {
        static GPU: OnceLock<Gpu> = OnceLock::new();
        GPU.get_or_init(|| match pollster::block_on(Gpu::request()) {
            Ok(gpu) => gpu,
            Err(err) => panic!("the GPU tests need a GPU adapter and none was found: {err}"),
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::gpu;

/// A native test: block on the case. Readbacks inside it poll the device until done.
#[cfg(not(target_arch = "wasm32"))]
macro_rules! gpu_test {
    ($case:ident) => {
        #[test]
        fn $case() {
            pollster::block_on(common::cases::$case(common::gpu()));
        }
    };
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::RefCell;

    use gpu::Gpu;

    thread_local! {
        /// One device for the whole page (the tests run one after another on its one thread).
        static GPU: RefCell<Option<Gpu>> = const { RefCell::new(None) };
    }

    /// The page's device, requested on first use.
    pub async fn gpu() -> Gpu {
        if let Some(gpu) = GPU.with(|slot| slot.borrow().clone()) {
            return gpu;
        }
        let gpu = match Gpu::request().await {
            Ok(gpu) => gpu,
            Err(err) => panic!("the browser GPU tests need a WebGPU adapter and none was found: {err}"),
        };
        GPU.with(|slot| *slot.borrow_mut() = Some(gpu.clone()));
        gpu
    }

    /// Logs how long a test took (shown with `-- --nocapture`, or when the test fails).
    pub struct Timer {
        what: &'static str,
        start: f64,
    }

    impl Timer {
        pub fn start(what: &'static str) -> Timer {
            Timer { what, start: js_sys::Date::now() }
        }
    }

    impl Drop for Timer {
        fn drop(&mut self) {
            let ms = js_sys::Date::now() - self.start;
            wasm_bindgen_test::console_log!("{}: {ms:.0} ms", self.what);
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::{gpu, Timer};

/// A browser test: await the case; the browser's event loop completes every readback.
#[cfg(target_arch = "wasm32")]
macro_rules! gpu_test {
    ($case:ident) => {
        #[wasm_bindgen_test::wasm_bindgen_test]
        async fn $case() {
            let _timer = common::Timer::start(stringify!($case));
            common::cases::$case(&common::gpu().await).await;
        }
    };
}
