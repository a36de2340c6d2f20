//! What a watcher shows, and where: the raw frames (`--output json`), plain lines when stdout
//! is not a terminal (a pipe, a CI log: no control codes), or on a terminal a live view
//! redrawn in place (indicatif) with retries and failures printed above it as they happen.
//! Nodes are named by their path; a job's tree is fetched once to learn the names, again
//! when a node it does not hold shows up (spawned ones), and never more than once per node.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::board::{Board, Frame};
use super::http::Api;
use super::out::{Fail, Out};
use super::render;
use super::stream::Sink;
use super::Format;

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Json,
    Plain,
    Live,
}

/// Shows the events of one job (`submit --watch`, `watch --job`) or of many (`watch`).
pub(super) struct Viewer<'a> {
    mode: Mode,
    api: &'a Api,
    board: Board,
    out: &'a Out,
    /// The live view's drawing area (Live mode only).
    live: Option<ProgressBar>,
    /// Several jobs share the stream: lines say which job, and a job's end is shown when it
    /// happens rather than in a final summary.
    many_jobs: bool,
}

impl<'a> Viewer<'a> {
    /// `replaying`: the stream starts with stored events (`since`), so the jobs' trees give
    /// names but not statuses.
    pub(super) fn new(api: &'a Api, out: &'a Out, format: Format, replaying: bool, many_jobs: bool) -> Self {
        let mode = match format {
            Format::Json => Mode::Json,
            Format::Text if is_terminal() => Mode::Live,
            Format::Text => Mode::Plain,
        };
        let live = (mode == Mode::Live).then(live_area);
        Self { mode, api, board: Board::new(replaying), out, live, many_jobs }
    }

    /// Removes the live view, leaving the notices printed above it.
    pub(super) fn finish(&mut self) {
        if let Some(live) = self.live.take() {
            live.finish_and_clear();
        }
    }

    async fn learn(&mut self, frame: &Frame) {
        if let Some(job_id) = self.board.wants_tree(frame) {
            // A tree that cannot be fetched leaves the nodes named by their short ids.
            if let Ok((view, spend)) = self.api.job(&job_id).await {
                self.board.learn(&view);
                self.board.learn_spend(frame, spend);
            }
        }
    }

    fn show_live(&mut self, frame: &Frame) {
        let Some(live) = &self.live else { return };
        if let Some(notice) = render::notice(&self.board, frame) {
            live.println(notice);
        }
        self.board.apply(frame);
        if self.many_jobs {
            self.forget_ended(frame, true);
        } else if frame.job_end().is_some() {
            // The watch ends here: the view is cleared and the summary takes its place.
            return;
        }
        self.redraw();
    }

    fn show_plain(&mut self, frame: &Frame) -> Result<(), Fail> {
        let line = render::plain_line(&self.board, frame, self.many_jobs);
        self.board.apply(frame);
        if self.many_jobs {
            self.forget_ended(frame, false);
        }
        self.out.line(&line)
    }

    /// A job that ended is dropped from the board, so a long `cadre watch` does not grow
    /// without end; on the live view its end stays as a line.
    fn forget_ended(&mut self, frame: &Frame, announce: bool) {
        let Some(job_id) = frame.job_id.as_deref().filter(|_| frame.job_end().is_some()) else { return };
        if let (Some(job), Some(live), true) = (self.board.jobs.get(job_id), &self.live, announce) {
            live.println(render::ended(job));
        }
        self.board.jobs.remove(job_id);
    }

    fn redraw(&self) {
        if let Some(live) = &self.live {
            let lines = render::live(&self.board, crate::events::now_ms());
            let text = if lines.is_empty() { "waiting for events…".to_string() } else { lines.join("\n") };
            live.set_message(text);
        }
    }
}

impl Sink for Viewer<'_> {
    async fn frame(&mut self, text: &str, frame: &Frame) -> Result<(), Fail> {
        if self.mode == Mode::Json {
            return self.out.line(text);
        }
        self.learn(frame).await;
        if self.mode == Mode::Live {
            self.show_live(frame);
            Ok(())
        } else {
            self.show_plain(frame)
        }
    }

    fn tick(&mut self) {
        self.redraw();
    }
}

impl Drop for Viewer<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A terminal that can redraw: `TERM=dumb` (an editor's shell, some CI) cannot.
fn is_terminal() -> bool {
    std::io::stdout().is_terminal() && std::env::var("TERM").map_or(true, |term| term != "dumb")
}

fn live_area() -> ProgressBar {
    let live = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
    // "{msg}" is a valid template; the fallback only guards against that changing.
    live.set_style(ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    live.set_message("waiting for events…");
    live
}
