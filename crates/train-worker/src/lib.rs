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

pub mod protocol;

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
}

/// What the worker answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The text or the run was accepted.
    Accepted,
    /// Some training happened.
    Trained(Trained),
    /// The model at `steps`, as checkpoint bytes.
    Model { bytes: Vec<u8>, steps: u64 },
    /// The request could not be carried out; the sentence says why.
    Refused(String),
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
        }
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
}
