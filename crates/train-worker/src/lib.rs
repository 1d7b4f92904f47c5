//! Chapter 5's CPU training, run where it cannot freeze the page.
//!
//! One training step of the panel's larger models takes from a tenth of a second to a few
//! seconds on the CPU, and a step cannot be cut in half. Run on the page's thread, each step
//! would freeze scrolling and every slider for that long. So the panel hands its CPU run to
//! a Web Worker: a second WebAssembly instance with its own thread, which trains and answers
//! with the losses, while the page stays free.
//!
//! The worker is a small state machine, [`TrainWorker`], fed [`Request`]s and answering
//! [`Reply`]s, one reply per request, in order. It is plain Rust, tested natively below; the
//! same machine also runs on the page's own thread when a browser cannot start the worker.
//! [`protocol`] turns requests and replies into JavaScript values for `postMessage`.
//!
//! Chapter 4's tokenizer uses the same worker for its long job: byte pair encoding trained on
//! the whole Shakespeare text ([`Request::Bpe`], then [`Request::Merge`] until done), sending
//! the merges back as they are made so the page can draw progress and encode with them.

pub mod protocol;

use engine::models::bpe::{BpeConfig, BpeTrainer};
use engine::models::checkpoint::Checkpoint;
use engine::models::gpt_recipe::{cpu_steps, evaluate, next_stop, Corpus, Eval, Settings};
use engine::models::train::Trainer;
use engine::models::transformer::{ModelError, Transformer};

/// What the page asks the worker to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// The training text (sent once; the worker splits it as the page does).
    Text(String),
    /// Start a run with these settings: from the seed's initial weights, or from a
    /// checkpoint at a step (when a lost GPU hands its run over to the CPU).
    Start { settings: Settings, from: Option<(Vec<u8>, u64)> },
    /// Train for about `budget_ms` milliseconds (at least one step), never past the next
    /// check; at a check, also score the model and write a sample.
    Train { budget_ms: f64 },
    /// The current model, as checkpoint bytes.
    Model,
    /// Score another model (the GPU's, read back at `step`) on the held-out slice and have
    /// it write a sample; answered with a [`Reply::Trained`] that has no losses.
    Check { model: Vec<u8>, step: u64, seed: u64 },
    /// Count the pairs of `text` for a BPE run of `merges` merges (at most [`MAX_MERGES`]);
    /// answered with the base alphabet and the symbols per character before any merge.
    Bpe { text: String, config: BpeConfig, merges: usize },
    /// Make merges for about `budget_ms` milliseconds (at least one), up to the run's total.
    Merge { budget_ms: f64 },
}

/// The most merges one BPE run may ask for.
pub const MAX_MERGES: usize = 5_000;

/// What the worker answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The text or the run was accepted.
    Accepted,
    /// Some training happened.
    Trained(Trained),
    /// The model at `steps`, as checkpoint bytes.
    Model { bytes: Vec<u8>, steps: u64 },
    /// Some BPE merges were made.
    Merged(Merged),
    /// The request could not be carried out; the sentence says why.
    Refused(String),
}

/// One BPE request's results: only what is new since the last reply, so the page appends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Merged {
    /// The base alphabet, sent once, in the reply that starts the run.
    pub alphabet: Vec<String>,
    /// The merges made by this request, as (left, right), in order.
    pub pairs: Vec<(String, String)>,
    /// Symbols per character after each of those merges (before any merge, in the first reply).
    pub symbols_per_char: Vec<f64>,
    /// Milliseconds of work this request took.
    pub millis: f64,
    /// No more merges will come: the run's total is reached, or no pair is left.
    pub done: bool,
}

/// One [`Request::Train`]'s results.
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    /// Each step's loss, in order.
    pub losses: Vec<f32>,
    /// Milliseconds spent on those steps (not on the check).
    pub millis: f64,
    /// Steps taken in the run so far.
    pub steps: u64,
    /// The check, when this request reached one.
    pub eval: Option<Eval>,
    /// Why training stopped, if it had to: the losses before it are still reported.
    pub error: Option<ModelError>,
}

/// The worker's state: the text, and the run in progress.
#[derive(Default)]
pub struct TrainWorker {
    corpus: Option<Corpus>,
    run: Option<(Settings, Trainer)>,
    /// A BPE run and the number of merges it was asked for.
    bpe: Option<(BpeTrainer, usize)>,
}

impl TrainWorker {
    /// Carries out one request; `clock` reads milliseconds.
    pub fn handle(&mut self, request: Request, clock: &mut dyn FnMut() -> f64) -> Reply {
        match request {
            Request::Text(text) => match Corpus::from_text(&text) {
                Ok(corpus) => {
                    self.corpus = Some(corpus);
                    self.run = None;
                    Reply::Accepted
                }
                Err(why) => Reply::Refused(why),
            },
            Request::Start { settings, from } => match self.start(settings, from) {
                Ok(()) => Reply::Accepted,
                Err(why) => Reply::Refused(why),
            },
            Request::Train { budget_ms } => self.train(budget_ms, clock),
            Request::Model => match (&self.corpus, &self.run) {
                (Some(corpus), Some((_, trainer))) => {
                    match Checkpoint::new(trainer.model.clone(), corpus.vocab.clone()) {
                        Ok(checkpoint) => Reply::Model { bytes: checkpoint.to_bytes(), steps: trainer.steps },
                        Err(e) => Reply::Refused(format!("{e}.")),
                    }
                }
                _ => Reply::Refused("No run has started.".into()),
            },
            Request::Check { model, step, seed } => {
                let Some(corpus) = &self.corpus else {
                    return Reply::Refused("The training text has not arrived.".into());
                };
                let checkpoint = match Checkpoint::from_bytes(&model) {
                    Ok(c) => c,
                    Err(e) => return Reply::Refused(format!("{e}.")),
                };
                let (eval, error) = match evaluate(&checkpoint.model, corpus, step, seed) {
                    Ok(e) => (Some(e), None),
                    Err(e) => (None, Some(e)),
                };
                Reply::Trained(Trained { losses: vec![], millis: 0.0, steps: step, eval, error })
            }
            Request::Bpe { text, config, merges } => {
                if merges > MAX_MERGES {
                    return Reply::Refused(format!("A run makes at most {MAX_MERGES} merges, not {merges}."));
                }
                let started = clock();
                let trainer = BpeTrainer::new(&text, config);
                let mut reply = Merged {
                    alphabet: trainer.alphabet().to_vec(),
                    symbols_per_char: trainer.tokens_per_character(),
                    ..Merged::default()
                };
                self.bpe = Some((trainer, merges));
                reply.done = self.bpe_done();
                reply.millis = clock() - started;
                Reply::Merged(reply)
            }
            Request::Merge { budget_ms } => self.merge(budget_ms, clock),
        }
    }

    /// Whether the BPE run has made all its merges, or can make no more.
    fn bpe_done(&self) -> bool {
        self.bpe.as_ref().is_none_or(|(t, total)| t.merges().len() >= *total || t.pair_table(1).is_empty())
    }

    fn merge(&mut self, budget_ms: f64, clock: &mut dyn FnMut() -> f64) -> Reply {
        let Some((trainer, total)) = &mut self.bpe else {
            return Reply::Refused("No BPE run has started.".into());
        };
        let started = clock();
        let before = trainer.merges().len();
        while trainer.merges().len() < *total && trainer.step().is_some() {
            if clock() - started >= budget_ms {
                break;
            }
        }
        let made = &trainer.merges()[before..];
        let pairs = made.iter().map(|m| (m.left.clone(), m.right.clone())).collect();
        let symbols_per_char = trainer.tokens_per_character()[before + 1..].to_vec();
        let millis = clock() - started;
        let done = self.bpe_done();
        Reply::Merged(Merged { alphabet: vec![], pairs, symbols_per_char, millis, done })
    }

    fn start(&mut self, settings: Settings, from: Option<(Vec<u8>, u64)>) -> Result<(), String> {
        let corpus = self.corpus.as_ref().ok_or("The training text has not arrived.")?;
        let config = settings.size.config(corpus.vocab.len());
        let (model, steps) = match from {
            None => (Transformer::new(config, settings.seed).map_err(|e| format!("{e}."))?, 0),
            Some((bytes, steps)) => {
                let checkpoint = Checkpoint::from_bytes(&bytes).map_err(|e| format!("{e}."))?;
                if checkpoint.vocab != corpus.vocab || checkpoint.model.config != config {
                    return Err("The handed-over model does not match the run's settings.".into());
                }
                (checkpoint.model, steps)
            }
        };
        let mut trainer = Trainer::new(model, corpus.train.clone(), settings.train_config())
            .map_err(|e| format!("{e}."))?;
        trainer.steps = steps;
        self.run = Some((settings, trainer));
        Ok(())
    }

    fn train(&mut self, budget_ms: f64, clock: &mut dyn FnMut() -> f64) -> Reply {
        let (Some(corpus), Some((settings, trainer))) = (&self.corpus, &mut self.run) else {
            return Reply::Refused("No run has started.".into());
        };
        let done = trainer.steps;
        let stop = next_stop(done, settings.total_steps);
        let started = clock();
        let (losses, mut error) = cpu_steps(trainer, budget_ms, stop.saturating_sub(done), clock);
        let millis = clock() - started;
        let mut eval = None;
        if error.is_none() && done < stop && trainer.steps == stop {
            match evaluate(&trainer.model, corpus, stop, settings.seed) {
                Ok(e) => eval = Some(e),
                Err(e) => error = Some(e),
            }
        }
        Reply::Trained(Trained { losses, millis, steps: trainer.steps, eval, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::models::gpt_recipe::{Size, EVAL_EVERY};

    fn text() -> String {
        include_str!("../../../assets/shakespeare/tragedies.txt")[..60_000].to_string()
    }

    fn settings() -> Settings {
        Settings { size: Size::Tiny, max_lr: 1e-2, seed: 3, total_steps: 40 }
    }

    /// A clock that moves 1 ms per reading: the step loop reads it once per step, so a budget
    /// of `n` ms allows `n` steps.
    fn clock() -> impl FnMut() -> f64 {
        let mut now = 0.0;
        move || {
            now += 1.0;
            now
        }
    }

    fn trained(reply: Reply) -> Trained {
        match reply {
            Reply::Trained(t) => t,
            other => panic!("expected Trained, got {other:?}"),
        }
    }

    #[test]
    fn requests_before_the_text_or_the_run_are_refused_in_words() {
        let mut w = TrainWorker::default();
        let mut c = clock();
        assert!(
            matches!(w.handle(Request::Start { settings: settings(), from: None }, &mut c), Reply::Refused(m) if m.contains("text"))
        );
        assert!(
            matches!(w.handle(Request::Train { budget_ms: 10.0 }, &mut c), Reply::Refused(m) if m.contains("No run"))
        );
        assert!(matches!(w.handle(Request::Model, &mut c), Reply::Refused(_)));
        assert!(
            matches!(w.handle(Request::Text("tiny".into()), &mut c), Reply::Refused(m) if m.contains("too few"))
        );
    }

    /// The worker trains exactly as the page's own thread would: the same losses as a
    /// [`Trainer`] stepped directly, a check at step 25 equal to [`evaluate`], and never a
    /// step past the check in one request.
    #[test]
    fn the_worker_trains_like_the_trainer_and_checks_at_25() {
        let mut w = TrainWorker::default();
        let mut c = clock();
        assert_eq!(w.handle(Request::Text(text()), &mut c), Reply::Accepted);
        assert_eq!(w.handle(Request::Start { settings: settings(), from: None }, &mut c), Reply::Accepted);
        let mut losses = vec![];
        let mut evals = vec![];
        while losses.len() < EVAL_EVERY as usize {
            let t = trained(w.handle(Request::Train { budget_ms: 3.0 }, &mut c));
            assert!(t.error.is_none() && !t.losses.is_empty() && t.losses.len() <= 3);
            losses.extend(t.losses);
            assert_eq!(t.steps, losses.len() as u64);
            evals.extend(t.eval);
        }
        assert_eq!(losses.len(), 25, "no request runs past the check");
        assert_eq!(evals.len(), 1);

        let corpus = Corpus::from_text(&text()).unwrap();
        let s = settings();
        let model = Transformer::new(s.size.config(corpus.vocab.len()), s.seed).unwrap();
        let mut direct = Trainer::new(model, corpus.train.clone(), s.train_config()).unwrap();
        let expected: Vec<f32> = (0..25).map(|_| direct.step().unwrap().loss).collect();
        assert_eq!(losses, expected);
        assert_eq!(evals[0], evaluate(&direct.model, &corpus, 25, s.seed).unwrap());

        // The model it hands back is the trained one, at step 25.
        match w.handle(Request::Model, &mut c) {
            Reply::Model { bytes, steps } => {
                assert_eq!(steps, 25);
                assert_eq!(Checkpoint::from_bytes(&bytes).unwrap().model, direct.model);
            }
            other => panic!("{other:?}"),
        }
        // Checking a model sent from elsewhere (the GPU path) scores it the same way.
        let bytes = Checkpoint::new(direct.model.clone(), corpus.vocab.clone()).unwrap().to_bytes();
        let checked = trained(w.handle(Request::Check { model: bytes, step: 25, seed: s.seed }, &mut c));
        assert!(checked.losses.is_empty() && checked.error.is_none());
        assert_eq!(checked.eval, Some(evals[0].clone()));
        // The last stretch ends at the run's end, with a check there too.
        let mut last = None;
        for _ in 0..40 {
            let t = trained(w.handle(Request::Train { budget_ms: 1_000.0 }, &mut c));
            if t.losses.is_empty() {
                break;
            }
            last = Some(t);
        }
        let last = last.unwrap();
        assert_eq!(last.steps, 40);
        assert_eq!(last.eval.map(|e| e.step), Some(40));
        assert!(
            trained(w.handle(Request::Train { budget_ms: 10.0 }, &mut c)).losses.is_empty(),
            "nothing past the end"
        );
    }

    /// A run handed over at step 30 (a lost GPU) goes on from those weights and that step.
    #[test]
    fn a_handed_over_model_continues_from_its_step() {
        let mut w = TrainWorker::default();
        let mut c = clock();
        w.handle(Request::Text(text()), &mut c);
        let corpus = Corpus::from_text(&text()).unwrap();
        let s = settings();
        let model = Transformer::new(s.size.config(corpus.vocab.len()), 99).unwrap();
        let bytes = Checkpoint::new(model.clone(), corpus.vocab.clone()).unwrap().to_bytes();
        assert_eq!(
            w.handle(Request::Start { settings: s, from: Some((bytes.clone(), 30)) }, &mut c),
            Reply::Accepted
        );
        let t = trained(w.handle(Request::Train { budget_ms: 1.0 }, &mut c));
        assert_eq!(t.steps, 31);
        let mut direct = Trainer::new(model, corpus.train.clone(), s.train_config()).unwrap();
        direct.steps = 30;
        assert_eq!(t.losses, vec![direct.step().unwrap().loss]);
        // A model of another shape is refused, not trained.
        let other = Settings { size: Size::Small, ..s };
        assert!(
            matches!(w.handle(Request::Start { settings: other, from: Some((bytes, 30)) }, &mut c), Reply::Refused(m) if m.contains("does not match"))
        );
        assert!(matches!(
            w.handle(Request::Start { settings: s, from: Some((vec![1, 2, 3], 30)) }, &mut c),
            Reply::Refused(_)
        ));
    }

    #[test]
    fn a_diverging_run_reports_its_step_and_keeps_the_losses_before_it() {
        let mut w = TrainWorker::default();
        let mut c = clock();
        w.handle(Request::Text(text()), &mut c);
        let s = Settings { max_lr: 100.0, total_steps: 20, ..settings() };
        w.handle(Request::Start { settings: s, from: None }, &mut c);
        let t = trained(w.handle(Request::Train { budget_ms: 1e9 }, &mut c));
        match t.error {
            Some(ModelError::Diverged { step }) => assert_eq!(t.losses.len() as u64, step),
            Some(other) => panic!("{other}"),
            None => assert!(t.losses.iter().all(|l| l.is_finite())),
        }
    }

    /// The worker's BPE run makes the same merges as a trainer run directly, a budget's worth
    /// per request, and the encoder rebuilt from what it sent encodes as that trainer does.
    #[test]
    fn the_worker_runs_bpe_in_slices_and_sends_every_merge() {
        use engine::models::bpe::{BpeEncoder, TieBreak};
        let config = BpeConfig { end_of_word: true, tie_break: TieBreak::Alphabetical };
        let mut w = TrainWorker::default();
        let mut c = clock();
        assert!(matches!(w.handle(Request::Merge { budget_ms: 5.0 }, &mut c), Reply::Refused(_)));
        let too_many = Request::Bpe { text: text(), config, merges: MAX_MERGES + 1 };
        assert!(matches!(w.handle(too_many, &mut c), Reply::Refused(m) if m.contains("5000")));

        let first = match w.handle(Request::Bpe { text: text(), config, merges: 120 }, &mut c) {
            Reply::Merged(m) => m,
            other => panic!("expected Merged, got {other:?}"),
        };
        assert!(first.pairs.is_empty() && !first.done);
        assert_eq!(first.symbols_per_char.len(), 1);
        let (mut pairs, mut curve, mut replies) = (vec![], first.symbols_per_char, 0);
        loop {
            let Reply::Merged(m) = w.handle(Request::Merge { budget_ms: 7.0 }, &mut c) else { panic!() };
            assert!(m.pairs.len() <= 7 && m.pairs.len() == m.symbols_per_char.len());
            pairs.extend(m.pairs);
            curve.extend(m.symbols_per_char);
            replies += 1;
            if m.done {
                break;
            }
        }
        assert_eq!((pairs.len(), replies), (120, 18));

        let mut direct = BpeTrainer::new(&text(), config);
        direct.run_to(120);
        let direct_pairs: Vec<_> =
            direct.merges().iter().map(|m| (m.left.clone(), m.right.clone())).collect();
        assert_eq!(pairs, direct_pairs);
        assert_eq!(curve, direct.tokens_per_character());
        let encoder = BpeEncoder::new(true, &first.alphabet, &pairs).unwrap();
        for word in ["thee", "Denmark", "unfathered", "0"] {
            assert_eq!(encoder.encode_word(word), direct.encode_word(word));
        }
    }
}
