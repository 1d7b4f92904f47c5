//! The plays' text (`shakespeare/tragedies.txt`, 842 KB), downloaded once for every widget
//! that reads it: the first caller fetches it, callers arriving meanwhile wait for that
//! download, and later callers share the same copy. A failed download is not kept, so the
//! next call tries again.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::oneshot;

/// Where the site serves the text.
pub const PATH: &str = "shakespeare/tragedies.txt";

/// The text, or a sentence saying why it could not be had.
pub type PlayText = Result<Rc<String>, String>;

enum Download {
    NotStarted,
    Running(Vec<oneshot::Sender<PlayText>>),
    Done(Rc<String>),
}

thread_local! {
    static DOWNLOAD: RefCell<Download> = const { RefCell::new(Download::NotStarted) };
}

/// The plays' text, downloading it only if no one has yet.
pub async fn play_text() -> PlayText {
    enum Then {
        Fetch,
        Wait(oneshot::Receiver<PlayText>),
        Have(Rc<String>),
    }
    let then = DOWNLOAD.with(|download| {
        let mut download = download.borrow_mut();
        match &mut *download {
            Download::Done(text) => Then::Have(Rc::clone(text)),
            Download::Running(waiting) => {
                let (tell, told) = oneshot::channel();
                waiting.push(tell);
                Then::Wait(told)
            }
            Download::NotStarted => {
                *download = Download::Running(Vec::new());
                Then::Fetch
            }
        }
    });
    match then {
        Then::Have(text) => Ok(text),
        Then::Wait(told) => {
            told.await.unwrap_or_else(|_| Err(format!("{PATH}: the download was interrupted")))
        }
        Then::Fetch => {
            let got = crate::browser::text(PATH).await.map(Rc::new);
            let after = match &got {
                Ok(text) => Download::Done(Rc::clone(text)),
                Err(_) => Download::NotStarted,
            };
            let waiting = DOWNLOAD.with(|download| match download.replace(after) {
                Download::Running(waiting) => waiting,
                _ => Vec::new(),
            });
            for tell in waiting {
                let _ = tell.send(got.clone());
            }
            got
        }
    }
}
