use super::*;
use crate::assert_close;
use crate::labs::masked_lm::chosen_count;

/// The whole play text, as the page downloads it.
fn corpus() -> Arc<Corpus> {
    let text = include_str!("../../../../../assets/shakespeare/tragedies.txt");
    Arc::new(Corpus::from_text(text).unwrap())
}

#[test]
fn the_leaky_mask_shows_each_position_one_character_ahead() {
    let m = Attention::SeesNext.mask(4);
    let allowed: Vec<bool> = m.data.iter().map(|v| v.is_finite()).collect();
    #[rustfmt::skip]
    let expected = [
        true, true, false, false,
        true, true, true, false,
        true, true, true, true,
        true, true, true, true,
    ];
    assert_eq!(allowed, expected);
    assert!(m.data.iter().filter(|v| v.is_finite()).all(|&v| v == 0.0));
}

#[test]
fn both_models_start_from_the_same_weights_and_see_the_same_windows() {
    let c = corpus();
    assert_eq!((c.vocab.len(), c.mask_id(), c.model_vocab()), (73, 73, 74));
    let mut race = Race::new(c.clone(), Settings::default()).unwrap();
    assert_eq!(race.mlm.model.params, race.clm.model.params);
    let (clm, mlm) = race.draw_batches();
    assert_eq!(clm.inputs.len(), BATCH * CONTEXT);
    let graded = mlm.targets.iter().filter(|&&t| t != NOT_A_TARGET).count();
    assert_eq!(graded, BATCH * chosen_count(CONTEXT));
    assert_eq!(graded, 40, "5 of every 32 characters");
    for i in 0..BATCH * CONTEXT {
        if mlm.targets[i] == NOT_A_TARGET {
            assert_eq!(mlm.inputs[i], clm.inputs[i], "an unchosen character is left alone");
        } else {
            assert_eq!(mlm.targets[i], clm.inputs[i], "the MLM target is the original character");
        }
    }
    assert!(mlm.inputs.contains(&c.mask_id()) && !clm.inputs.contains(&c.mask_id()));
    assert!(Race::new(c.clone(), Settings { total_steps: 0, ..Settings::default() }).is_err());
    let race = Race::new(c.clone(), Settings::default()).unwrap();
    assert!(race.guesses(Blank { window: 0, position: 0 }, 3).is_err());
    let long = vec![0; CONTEXT];
    assert!(race.continue_mlm(&long, 1).is_err() && race.continue_clm(&[], 1, 1).is_err());
    assert!(race.continue_clm(&[c.mask_id()], 1, 1).is_err());
}

/// The default run, seed 1, 600 steps: what the page shows after 25 steps and at the end.
#[test]
fn the_default_run() {
    let c = corpus();
    let mut race = Race::new(c.clone(), Settings::default()).unwrap();
    // Both start near ln 74 = 4.304, the loss of a uniform guess over the vocabulary.
    assert_close!(libm::log(74.0), 4.304, 5e-4);
    assert_close!([race.initial_mlm_loss, race.initial_clm_loss], [4.248417, 4.3076944], 1e-4);
    let mut clock = {
        let mut t = 0.0;
        move || {
            t += 1.0;
            t
        }
    };
    while !race.finished() {
        race.train_for(10.0, MAX_STEPS, &mut clock).unwrap();
    }
    assert_eq!(race.records.len(), 600);
    assert_eq!(race.checks.len(), 25, "the start and every 25 steps");
    // After 25 steps, as the browser check reads them.
    let (r, h) = (race.records[24], race.checks[1]);
    assert_eq!((r.mlm_signals, r.clm_signals, h.step), (1_000, 6_400, 25));
    assert_close!([r.mlm_loss, r.clm_loss, h.mlm, h.clm], [3.4776378, 3.4784787, 3.4468303, 3.298025], 1e-4);
    // The held-out curve: the CLM model pulls away, the MLM one stays near the character
    // frequencies.
    let at = |step: usize| race.checks[step / 25];
    assert_close!([at(100).mlm, at(100).clm], [3.3448796, 3.1019723], 1e-4);
    assert_close!([at(300).mlm, at(300).clm], [3.3022728, 2.7128165], 1e-4);
    let (r, h) = (race.records[599], race.checks[24]);
    assert_eq!((r.mlm_signals, r.clm_signals, h.step), (24_000, 153_600, 600));
    assert_close!([r.mlm_loss, r.clm_loss, h.mlm, h.clm], [3.1635146, 2.578813, 3.220941, 2.5071697], 1e-4);
    // The entropy of the training text's character frequencies: the best loss a model that
    // ignores context can reach. The MLM model ends barely below it.
    assert_close!(crate::models::train::unigram_entropy(&c.train), 3.2878652, 1e-6);
    // Fill in the blank: 256 seeded held-out blanks.
    let b = blanks(256, 3);
    let (mlm, clm) = race.fill_accuracy(&b).unwrap();
    assert_eq!(((mlm * 256.0).round(), (clm * 256.0).round()), (31.0, 74.0));
    assert_close!([mlm, clm], [0.12109375, 0.2890625], 1e-12);
    assert_eq!(c.show(&race.blanked(b[0])), "ur but our own cause\nT▮ prick us");
    assert_eq!(c.vocab.chars()[c.held_out_window(b[0].window)[b[0].position]], 'o');
    let (m, g) = race.guesses(b[0], 3).unwrap();
    let chars = |gs: &Guesses| c.show(&gs.iter().map(|g| g.0).collect::<Vec<_>>());
    assert_eq!((chars(&m), chars(&g)), (" eo".to_string(), "hoe".to_string()));
    assert_close!([m[0].1, g[0].1], [0.15320747, 0.69925493], 1e-4);
    // Continuation.
    let prompt = c.vocab.encode("OTHELLO.\nI am ").unwrap();
    assert_eq!(c.show(&race.continue_clm(&prompt, 16, 1).unwrap()), "nowef'tcer onef ");
    let (filled, rounds) = race.continue_mlm(&prompt, 16).unwrap();
    assert_eq!(c.show(&filled), "\n".repeat(16));
    assert_eq!(rounds, [3, 12, 14, 2, 15, 13, 0, 7, 8, 11, 1, 5, 4, 6, 10, 9]);
}

/// The leaky model of the default run with the leak switched on, alone for 300 steps (its
/// batches and learning rates are the race's, so the page's leaky curve is this one).
#[test]
fn a_leaky_mask_learns_to_copy_and_cannot_write() {
    let c = corpus();
    let mut race = Race::new(c.clone(), Settings { leaky: true, ..Settings::default() }).unwrap();
    let mut leaky = race.leaky.take().unwrap();
    let mut losses = vec![];
    for step in 0..300 {
        let (clm, _) = race.draw_batches();
        losses.push(leaky.step(&clm, race.schedule().lr_at(step), step).unwrap());
    }
    // It starts where the honest model starts and then falls through the floor.
    assert_close!(
        [losses[24], losses[99], losses[149], losses[299]],
        [3.4769683, 2.5990086, 1.0440657, 0.13877645],
        1e-4
    );
    let own = loss(&leaky.model, &race.held_out_clm, Attention::SeesNext).unwrap();
    let hidden = loss(&leaky.model, &race.held_out_clm, Attention::Causal).unwrap();
    // Held out: 0.124 nats when it may peek, 10.34 when the next character is not there,
    // worse than a uniform guess over 74 tokens (4.304).
    assert_close!([own, hidden], [0.12439348, 10.342014], 1e-4);
    race.leaky = Some(leaky);
    let prompt = c.vocab.encode("OTHELLO.\nI am ").unwrap();
    assert_eq!(c.show(&race.continue_leaky(&prompt, 16, 1).unwrap().unwrap()), "a".repeat(16));
}

/// A run of 25 steps (seed 1), as the browser check trains it: the numbers the page shows
/// when it finishes.
#[test]
fn a_run_of_25_steps() {
    let c = corpus();
    let mut race = Race::new(c.clone(), Settings { total_steps: 25, ..Settings::default() }).unwrap();
    let mut clock = || 0.0;
    while !race.finished() {
        race.train_for(10.0, MAX_STEPS, &mut clock).unwrap();
    }
    let (r, h) = (race.records[24], *race.checks.last().unwrap());
    assert_eq!((r.mlm_signals, r.clm_signals, h.step), (1_000, 6_400, 25));
    assert_close!([r.mlm_loss, r.clm_loss, h.mlm, h.clm], [3.380362, 3.4344127, 3.3884225, 3.2444096], 1e-4);
    let (mlm, clm) = race.fill_accuracy(&blanks(256, 3)).unwrap();
    assert_close!([mlm, clm], [0.12109375, 0.1171875], 1e-12);
    let prompt = c.vocab.encode("OTHELLO.\nI am ").unwrap();
    assert_eq!(c.show(&race.continue_clm(&prompt, 16, 1).unwrap()), "howeeotf.rciefe ");
    assert_eq!(race.continue_mlm(&prompt, 16).map(|(t, _)| c.show(&t)).unwrap(), " ".repeat(16));
    assert!(race.step().is_err(), "a finished run takes no more steps");
}

/// The GPU path's contract: `upcoming` gives the batches `step` would draw, stopping at the
/// held-out check, and `record_steps` with losses and weights from steps taken elsewhere
/// (here the same learners stepped by hand) leaves the race exactly as stepping it would.
#[test]
fn steps_taken_elsewhere_record_like_steps_taken_here() {
    let c = corpus();
    let settings = Settings { total_steps: 30, leaky: true, ..Settings::default() };
    let mut here = Race::new(c.clone(), settings).unwrap();
    let mut there = here.clone();
    let mut drawn = here.clone();
    let mut clock = || 0.0;
    // The learners "elsewhere" keep their own optimizer state from chunk to chunk, as the GPU does.
    let (mut mlm, mut clm, mut leaky) = (there.mlm.clone(), there.clm.clone(), there.leaky.clone().unwrap());
    for chunk in [10u64, 100, 100] {
        let batches = there.upcoming(chunk);
        let expected = chunk.min(EVAL_EVERY - there.steps() % EVAL_EVERY).min(30 - there.steps());
        assert_eq!(batches.len() as u64, expected, "a chunk stops at the check and at the end");
        assert!(batches.iter().all(|b| *b == drawn.draw_batches()), "the same batches as step draws");
        let mut losses = (vec![], vec![], vec![]);
        for (i, (cb, mb)) in batches.iter().enumerate() {
            let lr = there.schedule().lr_at(there.steps() + i as u64);
            let step = there.steps() + i as u64;
            losses.0.push(mlm.step(mb, lr, step).unwrap());
            losses.1.push(clm.step(cb, lr, step).unwrap());
            losses.2.push(leaky.step(cb, lr, step).unwrap());
        }
        let done = Trained {
            mlm: mlm.model.clone(),
            clm: clm.model.clone(),
            leaky: Some(leaky.model.clone()),
            mlm_losses: losses.0,
            clm_losses: losses.1,
            leaky_losses: Some(losses.2),
        };
        assert!(there.clone().record_steps(Trained { mlm_losses: vec![], ..done.clone() }).is_err());
        there.record_steps(done).unwrap();
        here.train_for(1e9, batches.len() as u64, &mut clock).unwrap();
        assert_eq!(here.records, there.records);
        assert_eq!(here.checks, there.checks);
        assert_eq!(here.mlm.model.params, there.mlm.model.params);
    }
    assert!(there.finished() && there.upcoming(5).is_empty());
    let mut fresh = Race::new(c, settings).unwrap();
    let bad = Trained {
        mlm: fresh.mlm.model.clone(),
        clm: fresh.clm.model.clone(),
        leaky: fresh.leaky.as_ref().map(|l| l.model.clone()),
        mlm_losses: vec![f32::NAN],
        clm_losses: vec![1.0],
        leaky_losses: Some(vec![1.0]),
    };
    assert_eq!(fresh.record_steps(bad), Err(ModelError::Diverged { step: 0 }));
    assert_eq!(fresh.steps(), 0);
}

/// A run of 10 steps from seed 1, what the page's WebGPU check compares its losses with.
#[test]
fn a_run_of_10_steps() {
    let mut race = Race::new(corpus(), Settings { total_steps: 10, ..Settings::default() }).unwrap();
    let mut clock = || 0.0;
    race.train_for(1e9, MAX_STEPS, &mut clock).unwrap();
    let (r, h) = (race.records[9], *race.checks.last().unwrap());
    assert_eq!((r.mlm_signals, r.clm_signals, h.step), (400, 2_560, 10));
    assert_close!([r.mlm_loss, r.clm_loss, h.mlm, h.clm], [3.3821225, 3.329416, 3.528005, 3.3209994], 1e-4);
}

/// The pair the book ships (`cargo xtask train-mlm-clm`), read from the repository.
fn shipped(c: &Arc<Corpus>) -> Race {
    let read = |bytes: &[u8]| Checkpoint::from_bytes(bytes).expect("a shipped checkpoint reads");
    let mlm = read(include_bytes!("../../../../../assets/bert-vs-gpt/mlm.bin"));
    let clm = read(include_bytes!("../../../../../assets/bert-vs-gpt/clm.bin"));
    Race::from_checkpoints(Arc::clone(c), Settings::default(), &mlm, &clm)
        .expect("the shipped pair fits the lab")
}

/// The shipped pair scores what its REPORT.md states: on the whole held-out tenth and on the
/// page's windows and blanks.
#[test]
fn the_shipped_pair_scores_what_its_report_states() {
    let c = corpus();
    let race = shipped(&c);
    let report = include_str!("../../../../../assets/bert-vs-gpt/REPORT.md");
    let stated = |s: String| assert!(report.contains(&s), "REPORT.md does not state {s:?}");

    // Every whole window of the held-out tenth.
    let all = race.score_held_out(6).unwrap();
    assert_eq!((all.windows, all.mlm_graded, all.clm_graded), (2_630, 13_150, 84_160));
    // On the whole tenth the two are close: the CLM model's loss per character is a little
    // lower than the MLM model's at its masked positions, and their blanks are a tie (25 of
    // 2,630 apart).
    assert_close!([all.mlm_loss, all.clm_loss], [1.979378, 1.916836], 1e-4);
    assert_eq!((all.mlm_hits, all.clm_hits), (1_160, 1_185));
    stated(format!("MLM {:.4} nats at the {} chosen positions", all.mlm_loss, all.mlm_graded));
    stated(format!("CLM {:.4} nats per character over {} characters", all.clm_loss, all.clm_graded));
    let (m, g) = all.accuracy();
    stated(format!(
        "MLM {:.2}% ({} right), CLM {:.2}% ({} right)",
        100.0 * m,
        all.mlm_hits,
        100.0 * g,
        all.clm_hits
    ));

    // The page's view: the held-out windows of the curves, and its 256 blanks.
    let h = race.checks[0];
    assert_eq!((h.step, race.steps()), (0, 0));
    // The page's 32 windows and 256 blanks favour the MLM model more than the whole tenth does.
    assert_close!([h.mlm, h.clm], [1.7571232, 1.8783938], 1e-4);
    let (pm, pg) = race.fill_accuracy(&blanks(256, 3)).unwrap();
    assert_eq!(((pm * 256.0).round(), (pg * 256.0).round()), (128.0, 110.0));
    assert_close!([pm, pg], [0.5, 0.4296875], 1e-12);
    stated(format!("held-out MLM {:.4}, CLM {:.4}", h.mlm, h.clm));
    stated(format!("fill-in-the-blank MLM {:.2}%, CLM {:.2}%", 100.0 * pm, 100.0 * pg));
    stated(format!("- Training: {} steps", 30_000));
    // 40 graded positions a step for the MLM model, 256 for the CLM model.
    stated(format!(
        "{} positions in all, the CLM model at every position, {} in all",
        30_000 * 40,
        30_000 * 256
    ));

    // Written back, the checkpoints are the files' bytes.
    let (mlm, clm) = race.checkpoints().unwrap();
    assert_eq!(mlm.to_bytes(), include_bytes!("../../../../../assets/bert-vs-gpt/mlm.bin"));
    assert_eq!(clm.to_bytes(), include_bytes!("../../../../../assets/bert-vs-gpt/clm.bin"));
}

/// A checkpoint that is not this lab's is refused in words.
#[test]
fn checkpoints_of_another_shape_or_vocabulary_are_refused() {
    let c = corpus();
    let race = Race::new(c.clone(), Settings::default()).unwrap();
    let (mlm, clm) = race.checkpoints().unwrap();
    assert_eq!(mlm.vocab.chars()[73], MASK_CHAR);
    assert!(Race::from_checkpoints(c.clone(), Settings::default(), &mlm, &clm).is_ok());
    let gpt = crate::models::transformer_inspect::tests::shipped();
    let err = Race::from_checkpoints(c.clone(), Settings::default(), &mlm, &gpt).unwrap_err().to_string();
    assert!(err.contains("the CLM checkpoint's 73 characters are not the play text's 73 and '▮'"), "{err}");
    let other = Checkpoint::new(
        Transformer::new(TransformerConfig { d_model: 16, ..model_config(74) }, 1).unwrap(),
        mlm.vocab.clone(),
    )
    .unwrap();
    let err = Race::from_checkpoints(c, Settings::default(), &other, &clm).unwrap_err().to_string();
    assert!(err.contains("the MLM checkpoint's model is not this lab's shape"), "{err}");
}

/// What the page shows of the shipped pair before the reader trains: the first blank and the
/// default prompt's continuations.
#[test]
fn the_shipped_pair_on_the_page() {
    let c = corpus();
    let race = shipped(&c);
    let b = blanks(256, 3);
    assert_eq!(c.show(&race.blanked(b[0])), "ur but our own cause\nT▮ prick us");
    let (m, g) = race.guesses(b[0], 3).unwrap();
    let chars = |gs: &Guesses| c.show(&gs.iter().map(|g| g.0).collect::<Vec<_>>());
    // The MLM model puts the right `o` first; the CLM model, reading only `T`, puts `h` first.
    assert_eq!((chars(&m), chars(&g)), ("ohI".to_string(), "hoi".to_string()));
    assert_close!([m[0].1, m[1].1, g[0].1, g[1].1], [0.42002955, 0.17983836, 0.6520474, 0.2482418], 1e-4);
    let prompt = c.vocab.encode("OTHELLO.\nI am ").unwrap();
    assert_eq!(c.show(&race.continue_clm(&prompt, 16, 1).unwrap()), "onst timed of la");
    let (filled, rounds) = race.continue_mlm(&prompt, 16).unwrap();
    assert_eq!(c.show(&filled), "the non on o non");
    assert_eq!(rounds, [14, 12, 13, 2, 15, 3, 4, 0, 7, 8, 5, 6, 1, 11, 9, 10]);
}
