//! Requests and replies as JavaScript values, for `postMessage` between the page and the
//! worker. Each is a plain object with a `kind` and its fields; losses travel as a
//! `Float32Array` and checkpoints as a `Uint8Array` (copied, not shared); BPE symbols as
//! arrays of strings.

use js_sys::{Array, Float32Array, Float64Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use engine::models::bpe::{BpeConfig, TieBreak};
use engine::models::gpt_recipe::{Eval, Settings, Size};
use engine::models::transformer::ModelError;

use crate::{Merged, Reply, Request, Trained};

fn object(kind: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"kind".into(), &kind.into());
    for (name, value) in fields {
        let _ = Reflect::set(&o, &(*name).into(), value);
    }
    o.into()
}

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn number(value: &JsValue, name: &str) -> Result<f64, String> {
    field(value, name).as_f64().ok_or_else(|| format!("the message has no number `{name}`"))
}

fn text(value: &JsValue, name: &str) -> Result<String, String> {
    field(value, name).as_string().ok_or_else(|| format!("the message has no text `{name}`"))
}

fn flag(value: &JsValue, name: &str) -> Result<bool, String> {
    field(value, name).as_bool().ok_or_else(|| format!("the message has no flag `{name}`"))
}

fn strings(items: impl IntoIterator<Item = impl AsRef<str>>) -> JsValue {
    items.into_iter().map(|s| JsValue::from(s.as_ref())).collect::<Array>().into()
}

fn text_list(value: &JsValue, name: &str) -> Result<Vec<String>, String> {
    let list =
        field(value, name).dyn_into::<Array>().map_err(|_| format!("the message has no list `{name}`"))?;
    list.iter()
        .map(|s| s.as_string().ok_or_else(|| format!("`{name}` holds something that is not text")))
        .collect()
}

fn bytes(value: &JsValue, name: &str) -> Result<Vec<u8>, String> {
    field(value, name)
        .dyn_into::<Uint8Array>()
        .map(|a| a.to_vec())
        .map_err(|_| format!("the message has no bytes `{name}`"))
}

impl Request {
    pub fn to_js(&self) -> JsValue {
        match self {
            Request::Text(text) => object("text", &[("text", text.into())]),
            Request::Start { settings, from } => {
                let mut fields = vec![
                    ("size", settings.size.value().into()),
                    ("max_lr", settings.max_lr.into()),
                    ("seed", (settings.seed as f64).into()),
                    ("total_steps", (settings.total_steps as f64).into()),
                ];
                if let Some((model, steps)) = from {
                    fields.push(("model", Uint8Array::from(model.as_slice()).into()));
                    fields.push(("steps", (*steps as f64).into()));
                }
                object("start", &fields)
            }
            Request::Train { budget_ms } => object("train", &[("budget_ms", (*budget_ms).into())]),
            Request::Model => object("model", &[]),
            Request::Check { model, step, seed } => object(
                "check",
                &[
                    ("model", Uint8Array::from(model.as_slice()).into()),
                    ("step", (*step as f64).into()),
                    ("seed", (*seed as f64).into()),
                ],
            ),
            Request::Bpe { text, config, merges } => object(
                "bpe",
                &[
                    ("text", text.into()),
                    ("end_of_word", config.end_of_word.into()),
                    ("alphabetical", (config.tie_break == TieBreak::Alphabetical).into()),
                    ("merges", (*merges as f64).into()),
                ],
            ),
            Request::Merge { budget_ms } => object("merge", &[("budget_ms", (*budget_ms).into())]),
        }
    }

    pub fn from_js(value: &JsValue) -> Result<Request, String> {
        match text(value, "kind")?.as_str() {
            "text" => Ok(Request::Text(text(value, "text")?)),
            "start" => {
                let settings = Settings {
                    size: Size::from_value(&text(value, "size")?),
                    max_lr: number(value, "max_lr")? as f32,
                    seed: number(value, "seed")? as u64,
                    total_steps: number(value, "total_steps")? as u64,
                };
                let from = match field(value, "model").is_undefined() {
                    true => None,
                    false => Some((bytes(value, "model")?, number(value, "steps")? as u64)),
                };
                Ok(Request::Start { settings, from })
            }
            "train" => Ok(Request::Train { budget_ms: number(value, "budget_ms")? }),
            "model" => Ok(Request::Model),
            "check" => Ok(Request::Check {
                model: bytes(value, "model")?,
                step: number(value, "step")? as u64,
                seed: number(value, "seed")? as u64,
            }),
            "bpe" => {
                let tie_break =
                    if flag(value, "alphabetical")? { TieBreak::Alphabetical } else { TieBreak::FirstMet };
                Ok(Request::Bpe {
                    text: text(value, "text")?,
                    config: BpeConfig { end_of_word: flag(value, "end_of_word")?, tie_break },
                    merges: number(value, "merges")? as usize,
                })
            }
            "merge" => Ok(Request::Merge { budget_ms: number(value, "budget_ms")? }),
            other => Err(format!("unknown request `{other}`")),
        }
    }
}

impl Reply {
    pub fn to_js(&self) -> JsValue {
        match self {
            Reply::Accepted => object("accepted", &[]),
            Reply::Refused(why) => object("refused", &[("why", why.into())]),
            Reply::Model { bytes, steps } => object(
                "model",
                &[("bytes", Uint8Array::from(bytes.as_slice()).into()), ("steps", (*steps as f64).into())],
            ),
            Reply::Merged(m) => object(
                "merged",
                &[
                    ("alphabet", strings(&m.alphabet)),
                    ("left", strings(m.pairs.iter().map(|(l, _)| l))),
                    ("right", strings(m.pairs.iter().map(|(_, r)| r))),
                    ("symbols_per_char", Float64Array::from(m.symbols_per_char.as_slice()).into()),
                    ("millis", m.millis.into()),
                    ("done", m.done.into()),
                ],
            ),
            Reply::Trained(t) => {
                let mut fields = vec![
                    ("losses", Float32Array::from(t.losses.as_slice()).into()),
                    ("millis", t.millis.into()),
                    ("steps", (t.steps as f64).into()),
                ];
                if let Some(e) = &t.eval {
                    fields.push(("eval_step", (e.step as f64).into()));
                    fields.push(("val_loss", e.val_loss.into()));
                    fields.push(("sample", e.sample.as_str().into()));
                }
                match &t.error {
                    Some(ModelError::Diverged { step }) => {
                        fields.push(("diverged_at", (*step as f64).into()))
                    }
                    Some(ModelError::Invalid(why)) => fields.push(("invalid", why.as_str().into())),
                    None => {}
                }
                object("trained", &fields)
            }
        }
    }

    pub fn from_js(value: &JsValue) -> Result<Reply, String> {
        match text(value, "kind")?.as_str() {
            "accepted" => Ok(Reply::Accepted),
            "refused" => Ok(Reply::Refused(text(value, "why")?)),
            "model" => {
                Ok(Reply::Model { bytes: bytes(value, "bytes")?, steps: number(value, "steps")? as u64 })
            }
            "trained" => {
                let losses = field(value, "losses")
                    .dyn_into::<Float32Array>()
                    .map(|a| a.to_vec())
                    .map_err(|_| "the message has no losses".to_string())?;
                let eval = match field(value, "eval_step").as_f64() {
                    Some(step) => Some(Eval {
                        step: step as u64,
                        val_loss: number(value, "val_loss")? as f32,
                        sample: text(value, "sample")?,
                    }),
                    None => None,
                };
                let error = match (field(value, "diverged_at").as_f64(), field(value, "invalid").as_string())
                {
                    (Some(step), _) => Some(ModelError::Diverged { step: step as u64 }),
                    (None, Some(why)) => Some(ModelError::Invalid(why)),
                    (None, None) => None,
                };
                Ok(Reply::Trained(Trained {
                    losses,
                    millis: number(value, "millis")?,
                    steps: number(value, "steps")? as u64,
                    eval,
                    error,
                }))
            }
            "merged" => {
                let (left, right) = (text_list(value, "left")?, text_list(value, "right")?);
                if left.len() != right.len() {
                    return Err("the merges' two sides differ in length".into());
                }
                let symbols_per_char = field(value, "symbols_per_char")
                    .dyn_into::<Float64Array>()
                    .map(|a| a.to_vec())
                    .map_err(|_| "the message has no symbols per character".to_string())?;
                Ok(Reply::Merged(Merged {
                    alphabet: text_list(value, "alphabet")?,
                    pairs: left.into_iter().zip(right).collect(),
                    symbols_per_char,
                    millis: number(value, "millis")?,
                    done: flag(value, "done")?,
                }))
            }
            other => Err(format!("unknown reply `{other}`")),
        }
    }
}
