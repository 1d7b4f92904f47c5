//! The one door: `cargo xtask setup | serve | build | test`.
//!
//! Each command installs what it needs first (the wasm target, Trunk, the wasm-bindgen CLI
//! that matches Cargo.lock, binaryen's wasm-opt, playwright-core and, as root, Debian's
//! Chromium) into a per-user folder outside the repository, so a second run, or a fresh
//! clone on the same machine, starts at once.

mod data;
mod prerender;
mod site;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const TRUNK_VERSION: &str = "0.21.14";
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const BINARYEN_VERSION: &str = "132.0.0";
const PLAYWRIGHT_VERSION: &str = "1.65";
/// The accessibility checker the browser suite runs on every chapter (light and dark).
const AXE_VERSION: &str = "4.14.1";
/// TensorFlow.js, the peer `cargo xtask bench` races in the browser (core and two backends).
const TFJS_VERSION: &str = "4.22.0";
const TFJS_PACKAGES: [&str; 3] = ["tfjs-core", "tfjs-backend-wasm", "tfjs-backend-webgpu"];
/// Lighthouse, for the benchmark's page-load scores (run with Debian's Chromium).
const LIGHTHOUSE_VERSION: &str = "13.5.0";
/// PyTorch, the peer the tiny GPT's CPU training is timed against (one thread). The registry
/// this machine reaches serves the CUDA build (about 5 GB installed); it runs on the CPU.
const TORCH_VERSION: &str = "2.15.0";
const NUMPY_VERSION: &str = "2.3.5";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(true).and_then(|()| setup_bench()),
        Some("serve") => serve(),
        Some("build") => build().map(|_| ()),
        // What `build` does after Trunk, alone, on a dist/ as Trunk wrote it (for measuring).
        Some("finish") => finish(&root().join("dist")),
        Some("test") => test(),
        Some("bench") if args.get(1).map(String::as_str) == Some("cpu-training") => bench_cpu_training(),
        Some("bench") if args.get(1).map(String::as_str) == Some("matmul") => bench_matmul(),
        Some("bench") if args.get(1).map(String::as_str) == Some("worker") => bench_worker(),
        Some("bench") if args.get(1).map(String::as_str) == Some("page") => bench_page(&args[2..]),
        Some("bench") => bench(),
        Some("data") => match args.get(1).map(String::as_str) {
            Some("shakespeare") => data::shakespeare(),
            Some("glove") => data::glove(),
            Some("minilm") => data::minilm(),
            Some("paragraphs") => data::paragraphs(),
            None => data::shakespeare()
                .and_then(|()| data::glove())
                .and_then(|()| data::minilm())
                .and_then(|()| data::paragraphs()),
            Some(other) => {
                Err(format!("unknown data set `{other}`; expected shakespeare, glove, minilm or paragraphs"))
            }
        },
        Some("train-gpt") => train_gpt(),
        Some("train-mlm-clm") => train_mlm_clm(),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup | serve | build | test | bench | data | train-gpt | train-mlm-clm>"
            );
            eprintln!(
                "  setup   install the tools the book and its benchmarks need (per user, outside the repo)"
            );
            eprintln!("  serve   build and serve the book at http://127.0.0.1:8080");
            eprintln!("  build   build the deployable site into dist/ and report the wasm size");
            eprintln!("  test    run every test: native, then the browser suite in headless Chromium");
            eprintln!("  bench   run the benchmarks (release) and print tables for BENCHMARKS.md");
            eprintln!("          (`bench cpu-training`: only the tiny GPT's CPU training against PyTorch;");
            eprintln!("          `bench matmul`: only the engine's matmul against matrixmultiply;");
            eprintln!("          `bench worker`: only chapter 5's CPU training in the page's Web Worker, against native;");
            eprintln!("          `bench page [NAME=DIST ...]`: widgets' CPU work on the page's own thread, sites in turns)");
            eprintln!(
                "  data    rebuild assets/shakespeare/, glove/ and minilm/ from their sources (or name one)"
            );
            eprintln!("  train-gpt  train the shipped tiny GPT natively into assets/tiny-gpt/ (~10 min)");
            eprintln!(
                "  train-mlm-clm  train chapter 6's shipped MLM and CLM pair into assets/bert-vs-gpt/ (~6 min)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the folder above xtask/). `cargo run` sets CARGO_MANIFEST_DIR at run
/// time too; preferring that keeps a binary shared between two checkouts (one target
/// folder) from working on the checkout it was compiled in.
fn root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Where tools live: `$MLBOOK_TOOLS`, else `~/.cache/mlbook-tools`.
fn tools_dir() -> PathBuf {
    if let Some(dir) = env::var_os("MLBOOK_TOOLS") {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HOME").map(PathBuf::from).unwrap_or_else(env::temp_dir);
    home.join(".cache").join("mlbook-tools")
}

fn npm_dir() -> PathBuf {
    tools_dir().join("npm")
}

/// PATH with our tools first, so Trunk finds the pinned wasm-bindgen and wasm-opt.
fn tool_path() -> String {
    let mut parts = vec![tools_dir().join("bin"), npm_dir().join("node_modules").join(".bin")];
    if let Some(path) = env::var_os("PATH") {
        parts.extend(env::split_paths(&path));
    }
    env::join_paths(parts).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
}

fn run(command: &mut Command) -> Result {
    eprintln!("$ {}", describe(command));
    let status = command.status().map_err(|e| format!("cannot start `{}`: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The first line a program prints for `--version`, or None if it is not there.
fn version_of(program: &Path, flag: &str) -> Option<String> {
    let output = Command::new(program).arg(flag).output().ok()?;
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    output.status.success().then(|| text.trim().to_string())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs whatever is missing. `browser` also asks for Chromium (the test suite needs it).
fn setup(browser: bool) -> Result {
    let tools = tools_dir();
    std::fs::create_dir_all(&tools).map_err(|e| format!("{}: {e}", tools.display()))?;

    let targets = Command::new("rustup").args(["target", "list", "--installed"]).output();
    let has_wasm =
        targets.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"));
    if !has_wasm {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }

    let trunk = tools.join("bin").join("trunk");
    if !version_of(&trunk, "--version").is_some_and(|v| v.contains(TRUNK_VERSION)) {
        eprintln!("Installing Trunk {TRUNK_VERSION} (about 10-15 minutes on two cores, once)...");
        run(Command::new("cargo")
            .args(["install", "--locked", "trunk", "--version", TRUNK_VERSION, "--root"])
            .arg(&tools))?;
    }

    let bindgen = tools.join("bin").join("wasm-bindgen");
    if !version_of(&bindgen, "--version").is_some_and(|v| v.contains(WASM_BINDGEN_VERSION)) {
        eprintln!("Installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (about 5 minutes, once)...");
        // Not --locked: its own lock file wants a crate version the registry no longer has.
        run(Command::new("cargo")
            .args(["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION, "--root"])
            .arg(&tools))?;
    }

    let npm = npm_dir();
    let wasm_opt = npm.join("node_modules").join(".bin").join("wasm-opt");
    let playwright = npm.join("node_modules").join("playwright-core").join("package.json");
    let binaryen_ok = version_of(&wasm_opt, "--version").is_some_and(|v| v.contains("version_132"));
    let axe_ok = std::fs::read_to_string(npm.join("node_modules").join("axe-core").join("package.json"))
        .is_ok_and(|json| json.contains(&format!("\"version\": \"{AXE_VERSION}\"")));
    if !binaryen_ok || !playwright.exists() || !axe_ok {
        std::fs::create_dir_all(&npm).map_err(|e| e.to_string())?;
        if !npm.join("package.json").exists() {
            std::fs::write(npm.join("package.json"), "{\"name\":\"mlbook-tools\",\"private\":true}\n")
                .map_err(|e| e.to_string())?;
        }
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&npm)
            .arg(format!("binaryen@{BINARYEN_VERSION}"))
            .arg(format!("playwright-core@{PLAYWRIGHT_VERSION}"))
            .arg(format!("axe-core@{AXE_VERSION}")))?;
    }

    let lavapipe = Path::new("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json");
    if browser && !lavapipe.exists() {
        // Mesa's software Vulkan: the GPU tests run on it when the machine has no GPU.
        if !is_root() {
            return Err(
                "Vulkan (lavapipe) is missing: run `sudo apt-get install mesa-vulkan-drivers libvulkan1`."
                    .into(),
            );
        }
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "mesa-vulkan-drivers", "libvulkan1"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }

    if browser && !Path::new("/usr/bin/chromium").exists() {
        if !is_root() {
            return Err(
                "Chromium is missing: run `sudo apt-get install chromium chromium-driver`, then retry."
                    .into(),
            );
        }
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "chromium",
                "chromium-driver",
                "fonts-dejavu-core",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    Ok(())
}

fn trunk() -> Command {
    let mut command = Command::new(tools_dir().join("bin").join("trunk"));
    command.current_dir(root()).env("PATH", tool_path()).env("TRUNK_SKIP_VERSION_CHECK", "true");
    command
}

fn serve() -> Result {
    setup(false)?;
    run(Command::new("cargo").args(["fetch", "--locked"]).current_dir(root()))?;
    eprintln!("Serving the book at http://127.0.0.1:8080 (Ctrl-C stops it)...");
    run(trunk().args(["serve", "--release", "--offline"]))
}

/// Builds dist/, finishes it (see `site`) and prints the wasm size, raw and brotli-compressed.
fn build() -> Result<PathBuf> {
    setup(false)?;
    run(Command::new("cargo").args(["fetch", "--locked"]).current_dir(root()))?;
    run(trunk().args(["build", "--release", "--offline"]))?;
    let dist = root().join("dist");
    finish(&dist)?;
    for (file, raw, brotli) in wasm_sizes(&dist)? {
        eprintln!("wasm: {} KiB raw, {} KiB brotli ({file})", raw / 1024, brotli / 1024);
    }
    Ok(dist)
}

/// After Trunk: the book's text prerendered into the served HTML and each chapter's own page
/// (see `prerender`), then the
/// Content-Security-Policy (hashing the inline scripts Trunk just wrote) and the service
/// worker's lists of files to cache (see `site`).
fn finish(dist: &Path) -> Result {
    prerender::prerender(dist, &root())?;
    site::finish(dist, &prerender::chapter_pages(&root())?)
}

/// TensorFlow.js from npm, version-pinned, into the per-user npm folder (the bench page
/// serves it from there; nothing is fetched at run time).
fn setup_bench() -> Result {
    let tensorflow = npm_dir().join("node_modules").join("@tensorflow");
    let pinned = |package: &str| {
        std::fs::read_to_string(tensorflow.join(package).join("package.json"))
            .is_ok_and(|json| json.contains(&format!("\"version\": \"{TFJS_VERSION}\"")))
    };
    let lighthouse = std::fs::read_to_string(npm_dir().join("node_modules/lighthouse/package.json"))
        .is_ok_and(|json| json.contains(&format!("\"version\": \"{LIGHTHOUSE_VERSION}\"")));
    if TFJS_PACKAGES.iter().all(|p| pinned(p)) && lighthouse {
        return Ok(());
    }
    eprintln!(
        "Installing TensorFlow.js {TFJS_VERSION} and Lighthouse {LIGHTHOUSE_VERSION} for the benchmark..."
    );
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--prefix"]).arg(npm_dir());
    for package in TFJS_PACKAGES {
        npm.arg(format!("@tensorflow/{package}@{TFJS_VERSION}"));
    }
    npm.arg(format!("lighthouse@{LIGHTHOUSE_VERSION}"));
    run(&mut npm)
}

/// The native benchmarks (engine matmul vs matrixmultiply, XOR on the CPU; the tiny GPT's
/// training on the GPU layer vs the engine), then the in-browser one: crates/bench-web built to wasm (release, simd128 from .cargo/config.toml)
/// and bound with the pinned wasm-bindgen, raced against TensorFlow.js in headless Chromium
/// by tests/bench/bench.mjs; last, Lighthouse on the built site (tests/bench/lighthouse.mjs).
fn bench() -> Result {
    setup(true)?;
    setup_bench()?;
    bench_matmul()?;
    // Chapter 4's BPE trainer: 1,000 merges on the whole training text.
    run(Command::new("cargo")
        .args(["run", "--release", "--locked", "-p", "engine", "--example", "bench_bpe"])
        .current_dir(root()))?;
    // Chapter 5's model trained on the CPU, one thread: the engine against PyTorch.
    bench_cpu_training()?;
    // Chapter 5's model trained natively: the GPU layer on this machine's Vulkan device
    // against the engine, 10 steps each.
    run(Command::new("cargo")
        .args(["run", "--release", "--locked", "-p", "gpu", "--example", "bench_gpu_transformer", "--", "10"])
        .current_dir(root()))?;

    run(Command::new("cargo")
        .args(["build", "--release", "--locked", "-p", "bench-web", "--target", "wasm32-unknown-unknown"])
        .current_dir(root()))?;
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let target = if target.is_absolute() { target } else { root().join(target) };
    let wasm = target.join("wasm32-unknown-unknown").join("release").join("bench_web.wasm");
    let package = target.join("bench-web");
    run(Command::new(tools_dir().join("bin").join("wasm-bindgen"))
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&package)
        .arg(&wasm))?;
    run(Command::new("node")
        .arg(root().join("tests").join("bench").join("bench.mjs"))
        .env("MLBOOK_BENCH_PKG", &package)
        .env("MLBOOK_NPM", npm_dir())
        .current_dir(root()))?;

    // Page loads: Lighthouse on the built site's cover and chapter 5, mobile and desktop, the
    // median of three runs each.
    let dist = build()?;
    for preset in ["mobile", "desktop"] {
        run(Command::new("node")
            .arg(root().join("tests").join("bench").join("lighthouse.mjs"))
            .env("MLBOOK_DIST", &dist)
            .env("MLBOOK_NPM", npm_dir())
            .env("MLBOOK_LIGHTHOUSE_PRESET", preset)
            .env("MLBOOK_LIGHTHOUSE_RUNS", "3")
            .current_dir(root()))?;
    }
    Ok(())
}

/// The engine's matmul against matrixmultiply, built for the x86-64 baseline and then for
/// this CPU (see [`engine_example_both_ways`]).
fn bench_matmul() -> Result {
    let (baseline, native) = engine_example_both_ways("bench_matmul")?;
    run(Command::new(baseline).current_dir(root()))?;
    run(Command::new(native).current_dir(root()))
}

/// PyTorch, pinned, in its own virtual environment under the tools folder; installed once
/// (a second run finds it and starts at once). Returns the environment's python.
fn setup_torch() -> Result<PathBuf> {
    let venv = tools_dir().join("torch-venv");
    let python = venv.join("bin").join("python");
    let check = format!("import torch, numpy; assert torch.__version__.split('+')[0] == '{TORCH_VERSION}'");
    let installed = Command::new(&python)
        .args(["-c", &check])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(python);
    }
    eprintln!("Installing PyTorch {TORCH_VERSION} into {} (once)...", venv.display());
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args([format!("torch=={TORCH_VERSION}"), format!("numpy=={NUMPY_VERSION}")]))?;
    Ok(python)
}

/// The number after `label` in a benchmark's output line.
fn tokens_per_second(output: &[u8], label: &str) -> Result<f64> {
    let text = String::from_utf8_lossy(output);
    text.lines()
        .find_map(|line| line.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no `{label}` line in:\n{text}"))
}

/// Runs `command` and returns its standard output, with its standard error passed through.
fn output_of(command: &mut Command) -> Result<Vec<u8>> {
    eprintln!("$ {}", describe(command));
    let out = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(command)))?;
    if !out.status.success() {
        return Err(format!("`{}` failed ({})", describe(command), out.status));
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(out.stdout)
}

/// The host's target triple (`rustc -vV`), for builds that name it explicitly.
fn host_triple() -> Result<String> {
    let out = Command::new("rustc").arg("-vV").output().map_err(|e| format!("cannot start rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV printed no host".into())
}

/// Builds an engine example in release twice and returns the two binaries: for the x86-64
/// baseline (what `cargo build` makes, SSE2: every native build may assume it), and for
/// this machine's CPU (`-C target-cpu=native`: AVX2 or AVX-512 where the CPU has them, as
/// PyTorch and matrixmultiply pick at run time). The second build names the host target, so
/// its flags reach only the engine and its dependencies and it lands in
/// `target/<host>/release`, beside the first instead of over it. Neither build fuses a
/// multiply and an add (Rust never contracts them), so both compute the same bits.
fn engine_example_both_ways(example: &str) -> Result<(PathBuf, PathBuf)> {
    run(Command::new("cargo")
        .args(["build", "--release", "--locked", "-p", "engine", "--example", example])
        .current_dir(root()))?;
    let host = host_triple()?;
    run(Command::new("cargo")
        .args(["build", "--release", "--locked", "-p", "engine", "--example", example, "--target", &host])
        .env(
            format!("CARGO_TARGET_{}_RUSTFLAGS", host.to_uppercase().replace('-', "_")),
            "-C target-cpu=native",
        )
        .current_dir(root()))?;
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let target = if target.is_absolute() { target } else { root().join(target) };
    Ok((
        target.join("release").join("examples").join(example),
        target.join(&host).join("release").join("examples").join(example),
    ))
}

/// Prints the median and range of `ratios` under `label`.
fn print_ratios(label: &str, mut ratios: Vec<f64>) {
    ratios.sort_by(f64::total_cmp);
    let n = ratios.len();
    println!(
        "{label} = {:.2}x (median of {n} rounds; {:.2}x to {:.2}x)",
        ratios[n / 2],
        ratios[0],
        ratios[n - 1]
    );
}

/// Chapter 5's tiny GPT trained on the CPU with one thread: the engine's trainer
/// (`bench_cpu_training`, built for the x86-64 baseline and for this CPU) and the same
/// model, batch and recipe in PyTorch (tests/bench/torch_tiny_gpt.py), in turns so that all
/// three see the same load; prints each round's ratios and the medians, by wall time and by
/// on-CPU time (which leaves out time the shared cores spend on other jobs).
fn bench_cpu_training() -> Result {
    let python = setup_torch()?;
    let (baseline, native) = engine_example_both_ways("bench_cpu_training")?;
    let (rounds, steps) = (5, "20");
    let (mut wall, mut cpu) = ([vec![], vec![]], [vec![], vec![]]);
    for round in 1..=rounds {
        // Every thread pool PyTorch could use is held to one thread.
        let torch = output_of(
            Command::new(&python)
                .arg(root().join("tests").join("bench").join("torch_tiny_gpt.py"))
                .arg(steps)
                .envs([("OMP_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"), ("CUDA_VISIBLE_DEVICES", "")])
                .current_dir(root()),
        )?;
        let (torch_wall, torch_cpu) = (
            tokens_per_second(&torch, "torch tokens/s:")?,
            tokens_per_second(&torch, "torch on-CPU tokens/s:")?,
        );
        for (build, engine) in [&baseline, &native].into_iter().enumerate() {
            let ours = output_of(Command::new(engine).arg(steps).current_dir(root()))?;
            let (ours_wall, ours_cpu) = (
                tokens_per_second(&ours, "engine tokens/s:")?,
                tokens_per_second(&ours, "engine on-CPU tokens/s:")?,
            );
            println!(
                "round {round}, {} build: engine {ours_wall:.0} tokens/s ({ours_cpu:.0} on-CPU), PyTorch {torch_wall:.0} ({torch_cpu:.0} on-CPU), engine / PyTorch {:.2}x ({:.2}x on-CPU)",
                ["baseline", "native"][build],
                ours_wall / torch_wall,
                ours_cpu / torch_cpu
            );
            wall[build].push(ours_wall / torch_wall);
            cpu[build].push(ours_cpu / torch_cpu);
        }
    }
    for (build, name) in ["x86-64 baseline build", "build for this CPU"].into_iter().enumerate() {
        let what = format!("tiny GPT CPU training, one thread, {name}: engine / PyTorch {TORCH_VERSION}");
        print_ratios(&format!("{what}, wall time"), wall[build].clone());
        print_ratios(&format!("{what}, on-CPU time"), cpu[build].clone());
    }
    Ok(())
}

/// Chapter 5's CPU training in the page's own Web Worker (the built site, headless Chromium,
/// tests/bench/worker.mjs) and the same requests answered natively by the same `TrainWorker`
/// (crates/train-worker/examples/bench_worker.rs, the x86-64 baseline build), in turns;
/// prints each round's ratio and the median. `MLBOOK_DIST` names a site already built;
/// otherwise `cargo xtask build` builds one first.
fn bench_worker() -> Result {
    let dist = match env::var_os("MLBOOK_DIST") {
        Some(dist) => PathBuf::from(dist),
        None => build()?,
    };
    run(Command::new("cargo")
        .args(["build", "--release", "--locked", "-p", "train-worker", "--example", "bench_worker"])
        .current_dir(root()))?;
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let target = if target.is_absolute() { target } else { root().join(target) };
    let native = target.join("release").join("examples").join("bench_worker");
    let (rounds, steps) = (3, "40");
    let (mut ratios, mut cpu_ratios) = (vec![], vec![]);
    for round in 1..=rounds {
        let ours = output_of(Command::new(&native).arg(steps).current_dir(root()))?;
        let page = output_of(
            Command::new("node")
                .arg(root().join("tests").join("bench").join("worker.mjs"))
                .env("MLBOOK_DIST", &dist)
                .env("MLBOOK_NPM", npm_dir())
                .env("MLBOOK_WORKER_STEPS", steps)
                .current_dir(root()),
        )?;
        let (native_rate, worker_rate) =
            (tokens_per_second(&ours, "native tokens/s:")?, tokens_per_second(&page, "worker tokens/s:")?);
        let (native_cpu, worker_cpu) = (
            tokens_per_second(&ours, "native on-CPU tokens/s:")?,
            tokens_per_second(&page, "worker on-CPU tokens/s:")?,
        );
        println!(
            "round {round}: Web Worker {worker_rate:.0} tokens/s ({worker_cpu:.0} on-CPU), native {native_rate:.0} ({native_cpu:.0} on-CPU), worker / native {:.2}x ({:.2}x on-CPU)",
            worker_rate / native_rate,
            worker_cpu / native_cpu
        );
        ratios.push(worker_rate / native_rate);
        cpu_ratios.push(worker_cpu / native_cpu);
    }
    let what = "chapter 5's CPU training (small preset): Web Worker in Chromium / native";
    print_ratios(&format!("{what}, wall time"), ratios);
    print_ratios(&format!("{what}, on-CPU time"), cpu_ratios);
    Ok(())
}

/// The figures tests/bench/widgets.mjs prints, and whether more is faster.
const PAGE_FIGURES: [(&str, bool); 6] = [
    ("minilm ms per sentence:", false),
    ("minilm on-CPU ms per sentence:", false),
    ("skip-gram pairs/s:", true),
    ("skip-gram on-CPU pairs/s:", true),
    ("sae-gpt steps/s:", true),
    ("sae-gpt on-CPU steps/s:", true),
];

/// Widgets' CPU work on the page's own thread (tests/bench/widgets.mjs: MiniLM's 20-token
/// sentence, skip-gram pairs/s, the SAE on the tiny GPT), in the built site in headless
/// Chromium. `sites` are `NAME=DIST` pairs, sites built differently (say, the app's module at
/// two opt-levels), run in turns, the order flipped every round so that none always goes first;
/// each figure is printed per round and as a speed ratio against the first site, with the
/// sites' WebAssembly sizes. With no sites, `MLBOOK_DIST` or a fresh `cargo xtask build`.
/// `MLBOOK_PAGE_ROUNDS` sets the rounds (3).
fn bench_page(sites: &[String]) -> Result {
    let sites: Vec<(String, PathBuf)> = if sites.is_empty() {
        let dist = match env::var_os("MLBOOK_DIST") {
            Some(dist) => PathBuf::from(dist),
            None => build()?,
        };
        vec![("site".into(), dist)]
    } else {
        sites
            .iter()
            .map(|s| match s.split_once('=') {
                Some((name, dist)) if !name.is_empty() => Ok((name.to_owned(), PathBuf::from(dist))),
                _ => Err(format!("`{s}`: expected NAME=DIST, e.g. z=dist-z")),
            })
            .collect::<Result<_>>()?
    };
    for (name, dist) in &sites {
        for (file, raw, brotli) in wasm_sizes(dist)? {
            println!("{name}: {file} {} KiB raw, {} KiB brotli", raw / 1024, brotli / 1024);
        }
    }
    let rounds: usize = env::var("MLBOOK_PAGE_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    // figures[site][figure]: one value per round.
    let mut figures = vec![vec![Vec::new(); PAGE_FIGURES.len()]; sites.len()];
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..sites.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
            println!(
                "round {}, {} (load average {})",
                round + 1,
                sites[i].0,
                load.split(' ').take(3).collect::<Vec<_>>().join(" ")
            );
            let out = output_of(
                Command::new("node")
                    .arg(root().join("tests").join("bench").join("widgets.mjs"))
                    .env("MLBOOK_DIST", &sites[i].1)
                    .env("MLBOOK_NPM", npm_dir())
                    .current_dir(root()),
            )?;
            for (k, (label, _)) in PAGE_FIGURES.iter().enumerate() {
                if let Ok(value) = tokens_per_second(&out, label) {
                    figures[i][k].push(value);
                }
            }
        }
    }
    println!();
    for (k, (label, faster_is_more)) in PAGE_FIGURES.iter().enumerate() {
        for (i, (name, _)) in sites.iter().enumerate() {
            let values = &figures[i][k];
            if values.is_empty() {
                continue;
            }
            let shown: Vec<String> = values.iter().map(|v| format!("{v:.1}")).collect();
            println!("{name} {label} {} (median {:.1})", shown.join(", "), median(values));
            if i > 0 && figures[0][k].len() == values.len() {
                let ratios = figures[0][k]
                    .iter()
                    .zip(values)
                    .map(|(first, v)| if *faster_is_more { v / first } else { first / v })
                    .collect();
                print_ratios(&format!("  {label} speed of {name} / {}", sites[0].0), ratios);
            }
        }
    }
    Ok(())
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Each WebAssembly module in `dist`: its name, bytes raw and bytes brotli-compressed (with
/// node's zlib at its default quality, as the Lighthouse host serves it).
fn wasm_sizes(dist: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut wasm: Vec<PathBuf> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    if wasm.is_empty() {
        return Err(format!("no .wasm in {}", dist.display()));
    }
    wasm.sort();
    let script = "const z=require('zlib'),f=require('fs');process.stdout.write(String(z.brotliCompressSync(f.readFileSync(process.argv[1])).length))";
    wasm.iter()
        .map(|wasm| {
            let raw = std::fs::metadata(wasm).map_err(|e| e.to_string())?.len();
            let brotli =
                Command::new("node").args(["-e", script]).arg(wasm).output().map_err(|e| e.to_string())?;
            let brotli = String::from_utf8_lossy(&brotli.stdout).trim().parse::<u64>().unwrap_or(0);
            Ok((wasm.file_name().unwrap_or_default().to_string_lossy().into_owned(), raw, brotli))
        })
        .collect()
}

/// Steps the shipped checkpoint trains for: about 11 passes over the training text, half an
/// hour on one core.
const SHIPPED_STEPS: &str = "8000";

/// Trains the checkpoint the site ships (assets/tiny-gpt/) with the engine, natively.
fn train_gpt() -> Result {
    let assets = root().join("assets");
    run(Command::new("cargo")
        .args(["run", "--release", "--locked", "-p", "engine", "--example", "train_tiny_gpt", "--"])
        .arg(assets.join("shakespeare").join("tragedies.txt"))
        .arg(assets.join("tiny-gpt").join("tiny-gpt.bin"))
        .arg(assets.join("tiny-gpt").join("REPORT.md"))
        .arg(SHIPPED_STEPS)
        .current_dir(root()))
}

/// Steps chapter 6's shipped pair trains for: both models, the same batches; about 11 ms a
/// step for the two on an idle core (six minutes), 27 minutes on the busy machine that wrote
/// the shipped files.
const MLM_CLM_STEPS: &str = "30000";

/// Trains chapter 6's shipped MLM and CLM checkpoints (assets/bert-vs-gpt/) with the
/// engine, natively.
fn train_mlm_clm() -> Result {
    let assets = root().join("assets");
    run(Command::new("cargo")
        .args(["run", "--release", "--locked", "-p", "engine", "--example", "train_mlm_clm", "--"])
        .arg(assets.join("shakespeare").join("tragedies.txt"))
        .arg(assets.join("bert-vs-gpt"))
        .arg(MLM_CLM_STEPS)
        .current_dir(root()))
}

/// The GPU kernels against the engine once more, in headless Chromium on WebGPU
/// (crates/gpu/tests/web.rs), through wasm-bindgen-test-runner and chromedriver. It runs in
/// crates/gpu, where the runner finds `webdriver.json` (Chromium's flags, WebGPU on). The
/// suite (every case the native tests run) takes ~100 s on SwiftShader on 2 busy cores, 43 s
/// of it the 10,000-step XOR run; the runner's 20 s default limit is raised for busy CI.
fn gpu_browser_tests() -> Command {
    let mut command = Command::new("cargo");
    command
        .args(["test", "-p", "gpu", "--target", "wasm32-unknown-unknown", "--test", "web", "--locked"])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            tools_dir().join("bin").join("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
        .env("PATH", tool_path())
        .current_dir(root().join("crates").join("gpu"));
    command
}

/// The phases of `cargo xtask test`, timed: a cold clone must pass them all well inside CI's
/// budget, so each run prints what every phase cost.
struct Phases {
    timings: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    fn run<T>(&mut self, name: &'static str, phase: impl FnOnce() -> Result<T>) -> Result<T> {
        eprintln!("\n== {name}");
        let started = std::time::Instant::now();
        let result = phase();
        self.timings.push((name, started.elapsed()));
        result
    }

    fn report(&self) {
        let total: std::time::Duration = self.timings.iter().map(|(_, t)| *t).sum();
        eprintln!("\nTest phases (wall clock):");
        for (name, took) in &self.timings {
            eprintln!("  {:>7.1} s  {name}", took.as_secs_f64());
        }
        eprintln!("  {:>7.1} s  total", total.as_secs_f64());
    }
}

fn test() -> Result {
    let mut phases = Phases { timings: Vec::new() };
    let result = test_phases(&mut phases);
    phases.report();
    result
}

/// Habits first (formatting, then clippy with warnings denied on both targets), then the
/// native and wasm tests, then the site and the browser suite.
fn test_phases(phases: &mut Phases) -> Result {
    phases.run("install missing tools", || setup(true))?;
    phases.run("cargo fmt --check", || {
        run(Command::new("cargo").args(["fmt", "--all", "--check"]).current_dir(root()))
    })?;
    phases.run("clippy, native, warnings denied", || {
        run(Command::new("cargo")
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--locked",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root()))
    })?;
    phases.run("clippy, wasm, warnings denied", || {
        run(Command::new("cargo")
            .args(["clippy", "-p", "mlbook", "-p", "gpu", "-p", "train-worker", "-p", "bench-web"])
            .args(["--target", "wasm32-unknown-unknown", "--all-targets", "--locked", "--", "-D", "warnings"])
            .current_dir(root()))
    })?;
    // The code is read as a book too: its doc comments' links must all lead somewhere.
    phases.run("docs, broken links denied", || {
        run(Command::new("cargo")
            .args(["doc", "--no-deps", "--locked", "-p", "engine", "-p", "gpu", "-p", "mlbook"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .current_dir(root()))
    })?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).to_string();
    phases.run("native tests (engine, GPU on Vulkan, app, bookgen, ...)", || {
        run(Command::new("cargo")
            .args(["test", "--workspace", "--all-features", "--locked"])
            .env("LP_NUM_THREADS", threads)
            .current_dir(root()))
    })?;
    phases.run("GPU tests in Chromium on WebGPU", || run(&mut gpu_browser_tests()))?;
    let dist = phases.run("build the site", build)?;
    phases.run("browser suite", || {
        run(Command::new("node")
            .arg(root().join("tests").join("browser").join("book.mjs"))
            .env("MLBOOK_DIST", &dist)
            .env("MLBOOK_NPM", npm_dir())
            .current_dir(root()))
    })
}
