//! Live progress on stderr while scenarios run.
//!
//! On a terminal: one indicatif bar per client group (instances finished / total, and as its
//! message where the group's most recent client is in its steps) and a totals line per scenario
//! with its live figures (request rate, errors and p99 over the last 5 s, running instances).
//! Elsewhere (CI logs, pipes): plain lines — one when a scenario starts, one when it ends, and
//! status lines with the same figures in between at most every 5 seconds. Nothing draws on a
//! timer thread: bars redraw on events, and [`Progress::tick`] (which [`crate::report::drive`]
//! calls every second) refreshes elapsed times and lets a status line out during long quiet
//! stretches.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::duration_text::format_duration;
use crate::exec::event::{ArrivalsLive, Event, Live, Position};
use crate::report::console::shown;
use crate::report::summary::format_elapsed;

/// At most this many bars per scenario: the rest of the groups share the last one.
pub const MAX_GROUP_BARS: usize = 16;

/// Status lines are at least this far apart, and only printed when something changed...
pub const STATUS_EVERY: Duration = Duration::from_secs(5);

/// ...or when nothing did for this long (a sign of life during long waits).
pub const QUIET_STATUS_EVERY: Duration = Duration::from_secs(60);

/// Groups listed by name in a scenario's start line; more are summed up.
const START_LINE_GROUPS: usize = 8;

/// When to show progress bars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// Bars when stderr is a terminal, plain status lines otherwise.
    #[default]
    Auto,
    /// Bars even when stderr does not look like a terminal (ANSI escapes are written anyway).
    Always,
    /// No live progress at all.
    Never,
}

/// True when a status line is due at `now`: never sooner than [`STATUS_EVERY`] after the last
/// line, then only if something changed since — or once [`QUIET_STATUS_EVERY`] has passed
/// without one. `last_line` is `None` before the first line.
pub fn status_line_due(last_line: Option<Instant>, now: Instant, changed: bool) -> bool {
    match last_line {
        None => changed,
        Some(last) => {
            let since = now.saturating_duration_since(last);
            (changed && since >= STATUS_EVERY) || since >= QUIET_STATUS_EVERY
        }
    }
}

/// Shows progress from executor events. Feed it every event with [`Progress::handle`], call
/// [`Progress::tick`] now and then, and [`Progress::finish`] at the end.
pub struct Progress {
    output: Output,
    scenarios: Vec<ScenarioState>,
    /// When the last plain line was written.
    last_line: Option<Instant>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let output = match self.output {
            Output::Off => "off",
            Output::Plain(_) => "plain",
            Output::Bars(_) => "bars",
        };
        let running: Vec<&str> = self.scenarios.iter().map(|s| &*s.name).collect();
        f.debug_struct("Progress")
            .field("output", &output)
            .field("running", &running)
            .finish()
    }
}

enum Output {
    Off,
    Plain(Box<dyn Write + Send>),
    Bars(MultiProgress),
}

/// What is known of a running scenario.
struct ScenarioState {
    name: Arc<str>,
    started: Instant,
    /// Each group's bar slot in `bars` (the last slot is shared beyond [`MAX_GROUP_BARS`]).
    by_group: HashMap<Arc<str>, usize>,
    total: u64,
    finished: u64,
    failed: u64,
    /// Arrivals that started no instance, counted from the events: a display far behind may miss
    /// a few, as it misses steps' starts. The live figures count them all.
    dropped: u64,
    /// The step most recently started anywhere in the scenario, and where its client was.
    last_step: Option<(Arc<str>, Placed)>,
    /// The latest live figures, and their text in the last status line.
    live: Option<Live>,
    shown_figures: String,
    /// The step most recently started in `before:`/`after:` (which have no bar).
    phase_step: Option<(Arc<str>, Arc<str>)>,
    /// Something happened since the last status line.
    changed: bool,
    bars: Option<ScenarioBars>,
}

struct ScenarioBars {
    totals: ProgressBar,
    groups: Vec<GroupBar>,
}

struct GroupBar {
    bar: ProgressBar,
    failed: u64,
    /// The step its most recent client started, and where that client was.
    step: Option<(Arc<str>, Placed)>,
    /// An arrival group's live figures.
    arrivals: Option<ArrivalsLive>,
}

/// Where a client was when it started a step, and when the display heard of it: a `for:` loop's
/// time left counts down from there.
#[derive(Clone, Copy)]
struct Placed {
    at: Position,
    seen: Instant,
}

impl Progress {
    /// Progress as `mode` asks, on stderr; nothing at all when `quiet`.
    pub fn new(mode: ProgressMode, quiet: bool) -> Self {
        if quiet {
            return Self::with_output(Output::Off);
        }
        match mode {
            ProgressMode::Never => Self::with_output(Output::Off),
            ProgressMode::Always if stderr_is_terminal() => Self::bars(ProgressDrawTarget::stderr()),
            ProgressMode::Always => Self::bars(ProgressDrawTarget::term_like(Box::new(AnsiStderr))),
            ProgressMode::Auto if stderr_is_terminal() => Self::bars(ProgressDrawTarget::stderr()),
            ProgressMode::Auto => Self::plain(Box::new(io::stderr())),
        }
    }

    /// Plain status lines to `out` (stderr, or a buffer in tests).
    pub fn plain(out: Box<dyn Write + Send>) -> Self {
        Self::with_output(Output::Plain(out))
    }

    /// Bars drawn to `target`.
    pub fn bars(target: ProgressDrawTarget) -> Self {
        Self::with_output(Output::Bars(MultiProgress::with_draw_target(target)))
    }

    /// No output.
    pub fn off() -> Self {
        Self::with_output(Output::Off)
    }

    fn with_output(output: Output) -> Self {
        Self {
            output,
            scenarios: Vec::new(),
            last_line: None,
        }
    }

    /// True when nothing is ever shown.
    pub fn is_off(&self) -> bool {
        matches!(self.output, Output::Off)
    }

    /// Takes one event into account.
    pub fn handle(&mut self, event: &Event) {
        self.handle_at(event, Instant::now());
    }

    /// [`Progress::handle`] with the current time given (for tests).
    pub fn handle_at(&mut self, event: &Event, now: Instant) {
        if self.is_off() {
            return;
        }
        match event {
            Event::ScenarioStarted { scenario, groups } => self.scenario_started(scenario, groups, now),
            Event::StepStarted { actor, step, at } => {
                let placed = Placed { at: *at, seen: now };
                if let Some(state) = self.running(&actor.scenario) {
                    state.step_started(&actor.group, step, placed);
                }
            }
            Event::Live { scenario, figures } => {
                if let Some(state) = self.running(scenario) {
                    state.live(figures, now);
                }
            }
            Event::ClientFinished { actor, passed } => {
                if let Some(state) = self.running(&actor.scenario) {
                    state.client_finished(&actor.group, *passed, now);
                }
            }
            Event::Dropped { scenario, group } => {
                if let Some(state) = self.running(scenario) {
                    state.dropped(group);
                }
            }
            Event::ScenarioFinished { scenario, passed } => self.scenario_finished(scenario, *passed, now),
            Event::Exchange(_) => {}
        }
        self.status_lines(now);
    }

    /// Refreshes elapsed times, and writes a status line when one is due.
    pub fn tick(&mut self) {
        self.tick_at(Instant::now());
    }

    /// [`Progress::tick`] with the current time given (for tests).
    pub fn tick_at(&mut self, now: Instant) {
        match &self.output {
            Output::Off => {}
            Output::Plain(_) => self.status_lines(now),
            Output::Bars(_) => {
                for scenario in &self.scenarios {
                    if let Some(bars) = &scenario.bars {
                        bars.tick(now);
                    }
                }
            }
        }
    }

    /// Ends the display: clears the bars; in plain mode, a last line for each scenario that
    /// never reported its end (an interrupted run).
    pub fn finish(&mut self) {
        let scenarios = std::mem::take(&mut self.scenarios);
        for scenario in scenarios {
            let line = format!(
                "{}: stopped, {}/{} clients finished, {} failed",
                scenario.name, scenario.finished, scenario.total, scenario.failed
            );
            if let Some(bars) = &scenario.bars {
                bars.clear();
            }
            self.line(&line);
        }
        if let Output::Bars(multi) = &self.output {
            let _ = multi.clear();
        }
        if let Output::Plain(out) = &mut self.output {
            let _ = out.flush();
        }
    }

    fn running(&mut self, name: &str) -> Option<&mut ScenarioState> {
        let index = self.scenario_index(name)?;
        Some(&mut self.scenarios[index])
    }

    fn scenario_index(&self, name: &str) -> Option<usize> {
        self.scenarios.iter().rposition(|s| &*s.name == name)
    }

    fn scenario_started(&mut self, name: &Arc<str>, groups: &[(Arc<str>, u64)], now: Instant) {
        if let Some(index) = self.scenario_index(name) {
            let old = self.scenarios.remove(index);
            if let Some(bars) = &old.bars {
                bars.clear();
            }
        }
        let mut state = ScenarioState::new(name.clone(), groups, now);
        if let Output::Bars(multi) = &self.output {
            state.bars = Some(ScenarioBars::new(multi, name, groups));
        }
        let line = start_line(name, groups);
        self.scenarios.push(state);
        if matches!(self.output, Output::Plain(_)) {
            self.line(&line);
            self.last_line = Some(now);
        }
    }

    fn scenario_finished(&mut self, name: &str, passed: bool, now: Instant) {
        let Some(index) = self.scenario_index(name) else {
            return;
        };
        let scenario = self.scenarios.remove(index);
        if let Some(bars) = &scenario.bars {
            bars.clear();
        }
        let verdict = if passed { "passed" } else { "FAILED" };
        let dropped = match scenario.dropped {
            0 => String::new(),
            n => format!(", {n} dropped"),
        };
        let line = format!(
            "{}: {verdict}, {}/{} clients passed{dropped}, {}",
            scenario.name,
            scenario.finished - scenario.failed,
            scenario.total,
            format_elapsed(now.saturating_duration_since(scenario.started))
        );
        self.line(&line);
        if matches!(self.output, Output::Plain(_)) {
            self.last_line = Some(now);
        }
    }

    /// In plain mode, a status line per running scenario when one is due.
    fn status_lines(&mut self, now: Instant) {
        if !matches!(self.output, Output::Plain(_)) || self.scenarios.is_empty() {
            return;
        }
        let changed = self.scenarios.iter().any(|s| s.changed);
        if !status_line_due(self.last_line, now, changed) {
            return;
        }
        let lines: Vec<String> = self.scenarios.iter().map(|s| s.status_line(now)).collect();
        for line in lines {
            self.line(&line);
        }
        for scenario in &mut self.scenarios {
            scenario.changed = false;
            scenario.shown_figures = scenario.figures();
        }
        self.last_line = Some(now);
    }

    /// Writes a permanent line: in plain mode to the output, with bars above them; masked and
    /// escaped like everything the console shows.
    fn line(&mut self, line: &str) {
        let line = shown(line);
        match &mut self.output {
            Output::Off => {}
            Output::Plain(out) => {
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Output::Bars(multi) => {
                let _ = multi.println(line);
            }
        }
    }
}

impl ScenarioState {
    fn new(name: Arc<str>, groups: &[(Arc<str>, u64)], now: Instant) -> Self {
        let by_group = groups
            .iter()
            .enumerate()
            .map(|(i, (g, _))| (g.clone(), i.min(MAX_GROUP_BARS - 1)))
            .collect();
        Self {
            name,
            started: now,
            by_group,
            total: groups.iter().map(|(_, n)| n).sum(),
            finished: 0,
            failed: 0,
            dropped: 0,
            last_step: None,
            live: None,
            shown_figures: String::new(),
            phase_step: None,
            changed: false,
            bars: None,
        }
    }

    fn step_started(&mut self, group: &Arc<str>, step: &Arc<str>, placed: Placed) {
        self.last_step = Some((step.clone(), placed));
        self.changed = true;
        let Some(&slot) = self.by_group.get(group) else {
            // `before:` / `after:`: shown on the totals line.
            self.phase_step = Some((group.clone(), step.clone()));
            self.show_totals();
            return;
        };
        if let Some(bars) = &mut self.bars {
            let bar = &mut bars.groups[slot];
            // Redrawn only when it reads differently: many clients start the same steps.
            let same = bar
                .step
                .as_ref()
                .is_some_and(|(s, p)| s == step && p.same_place(&placed));
            bar.step = Some((step.clone(), placed));
            if !same {
                bar.show(placed.seen);
            }
        }
    }

    fn live(&mut self, figures: &Live, now: Instant) {
        self.live = Some(figures.clone());
        if self.figures() != self.shown_figures {
            self.changed = true;
        }
        self.show_totals();
        let Some(bars) = &mut self.bars else {
            return;
        };
        for arrivals in &figures.arrivals {
            if let Some(&slot) = self.by_group.get(&arrivals.group) {
                let bar = &mut bars.groups[slot];
                bar.arrivals = Some(arrivals.clone());
                bar.show(now);
            }
        }
    }

    fn show_totals(&self) {
        if let Some(bars) = &self.bars {
            let message = totals_message(self.failed, self.phase_step.as_ref(), self.live.as_ref());
            bars.totals.set_message(shown(&message));
        }
    }

    fn client_finished(&mut self, group: &str, passed: bool, now: Instant) {
        let Some(&slot) = self.by_group.get(group) else {
            return;
        };
        self.changed = true;
        self.finished += 1;
        if !passed {
            self.failed += 1;
        }
        if let Some(bars) = &mut self.bars {
            let bar = &mut bars.groups[slot];
            if !passed {
                bar.failed += 1;
                bar.show(now);
            }
            bar.bar.inc(1);
            bars.totals.inc(1);
        }
        if !passed {
            self.show_totals();
        }
    }

    /// An arrival that started nothing: it will not finish, so the bar counts it now.
    fn dropped(&mut self, group: &str) {
        let Some(&slot) = self.by_group.get(group) else {
            return;
        };
        self.changed = true;
        self.dropped += 1;
        if let Some(bars) = &mut self.bars {
            bars.groups[slot].bar.inc(1);
            bars.totals.inc(1);
        }
    }

    /// `heartbeat: 0/1 clients finished, 0 failed, step 2/3 "call heartbeat" · pass 2/3 ·
    /// 0.2 req/s · 0 errors · p99 3.1ms · 1 active`; arrivals dropped, when some were, after
    /// the failed, and each arrival group's rates at the end.
    fn status_line(&self, now: Instant) -> String {
        let mut line = format!(
            "{}: {}/{} clients finished, {} failed",
            self.name, self.finished, self.total, self.failed
        );
        if self.dropped > 0 {
            let _ = write!(line, ", {} dropped", self.dropped);
        }
        if let Some((step, placed)) = &self.last_step {
            let (at, pass) = placed.parts(now);
            let _ = write!(line, ", {} \"{step}\"", at.as_deref().unwrap_or("step"));
            if let Some(pass) = pass {
                let _ = write!(line, " · {pass}");
            }
        }
        let figures = self.figures();
        if !figures.is_empty() {
            let _ = write!(line, " · {figures}");
        }
        line
    }

    /// The live figures as a status line shows them: `41.2 req/s · 0 errors · p99 4.1ms · 5
    /// active · visitors: target 50/s, achieved 49.8/s, 3 dropped`; nothing before the first.
    fn figures(&self) -> String {
        let Some(live) = &self.live else {
            return String::new();
        };
        let mut text = live_text(live);
        for arrivals in &live.arrivals {
            let rates = arrivals_text(arrivals).replace(" · ", ", ");
            let _ = write!(text, " · {}: {rates}", arrivals.group);
        }
        text
    }
}

impl Placed {
    /// Where the client was, `step 3/5`, and its loop's pass, `pass 12/60` or `pass 12 · 42s
    /// left` (counted down to `now`); none of either for a step without a position.
    fn parts(&self, now: Instant) -> (Option<String>, Option<String>) {
        let at = (self.at.of > 0).then(|| format!("step {}/{}", self.at.step, self.at.of));
        let pass = self.at.pass.map(|pass| {
            let mut text = match pass.of {
                Some(of) => format!("pass {}/{of}", pass.n),
                None => format!("pass {}", pass.n),
            };
            if let Some(left) = pass.left {
                let left = left.saturating_sub(now.saturating_duration_since(self.seen));
                let _ = write!(
                    text,
                    " · {} left",
                    format_duration(Duration::from_secs(left.as_secs_f64().ceil() as u64))
                );
            }
            text
        });
        (at, pass)
    }

    /// True when the two read the same, but for the time left.
    fn same_place(&self, other: &Placed) -> bool {
        let pass = |p: &Placed| p.at.pass.map(|pass| (pass.n, pass.of));
        (self.at.step, self.at.of, pass(self)) == (other.at.step, other.at.of, pass(other))
    }

    fn counts_down(&self) -> bool {
        self.at.pass.is_some_and(|pass| pass.left.is_some())
    }
}

impl ScenarioBars {
    fn new(multi: &MultiProgress, scenario: &str, groups: &[(Arc<str>, u64)]) -> Self {
        let total: u64 = groups.iter().map(|(_, n)| n).sum();
        let totals = multi.add(ProgressBar::new(total));
        totals.set_style(style("{prefix} {pos}/{len} clients finished{msg} [{elapsed}]"));
        totals.set_prefix(shown(scenario));

        let shared = groups.len() > MAX_GROUP_BARS;
        let own = if shared { MAX_GROUP_BARS - 1 } else { groups.len() };
        let mut labels: Vec<(String, u64)> = groups[..own].iter().map(|(g, n)| (shown(g), *n)).collect();
        if shared {
            let rest = &groups[own..];
            labels.push((format!("+{} groups", rest.len()), rest.iter().map(|(_, n)| n).sum()));
        }
        let width = labels
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(1)
            .clamp(1, 24);
        let group_style = style(&format!(
            "  {{prefix:<{width}}} [{{bar:30}}] {{pos}}/{{len}} {{wide_msg}}"
        ));
        let groups = labels
            .into_iter()
            .map(|(label, count)| {
                let bar = multi.add(ProgressBar::new(count));
                bar.set_style(group_style.clone());
                bar.set_prefix(label);
                GroupBar {
                    bar,
                    failed: 0,
                    step: None,
                    arrivals: None,
                }
            })
            .collect();
        Self { totals, groups }
    }

    /// Refreshes the elapsed time, and the time left of the loops the bars show.
    fn tick(&self, now: Instant) {
        self.totals.tick();
        for group in &self.groups {
            if group.step.as_ref().is_some_and(|(_, placed)| placed.counts_down()) {
                group.show(now);
            }
        }
    }

    fn clear(&self) {
        for group in &self.groups {
            group.bar.finish_and_clear();
        }
        self.totals.finish_and_clear();
    }
}

impl GroupBar {
    fn show(&self, now: Instant) {
        self.bar.set_message(shown(&self.message(now)));
    }

    /// `1 failed · target 50/s · achieved 49.8/s · 3 dropped · step 2/3 · pass 4/10 · call
    /// heartbeat`, each part when there is something to say.
    fn message(&self, now: Instant) -> String {
        let mut parts = Vec::new();
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        if let Some(arrivals) = &self.arrivals {
            parts.push(arrivals_text(arrivals));
        }
        if let Some((step, placed)) = &self.step {
            let (at, pass) = placed.parts(now);
            parts.extend(at);
            parts.extend(pass);
            parts.push(step.to_string());
        }
        parts.join(" · ")
    }
}

/// The totals line's message: `, 1 failed, before: seed · 12.3k req/s · 0 errors · p99 4.1ms ·
/// 250 active`.
fn totals_message(failed: u64, phase_step: Option<&(Arc<str>, Arc<str>)>, live: Option<&Live>) -> String {
    let mut message = String::new();
    if failed > 0 {
        let _ = write!(message, ", {failed} failed");
    }
    if let Some((phase, step)) = phase_step {
        let _ = write!(message, ", {phase}: {step}");
    }
    if let Some(live) = live {
        let _ = write!(message, " · {}", live_text(live));
    }
    message
}

/// `12.3k req/s · 0 errors · p99 4.1ms · 250 active · 248 sessions`; no p99 without a request
/// in the window, no sessions in a scenario that never opened one.
fn live_text(live: &Live) -> String {
    let errors = if live.errors == 1 { "error" } else { "errors" };
    let mut text = format!("{} req/s · {} {errors}", per_second(live.rate), live.errors);
    if let Some(p99) = live.p99_ms {
        let _ = write!(text, " · p99 {}", millis_text(p99));
    }
    let _ = write!(text, " · {} active", live.active);
    if let Some(sessions) = live.sessions {
        let noun = if sessions == 1 { "session" } else { "sessions" };
        let _ = write!(text, " · {sessions} {noun}");
    }
    text
}

/// `target 50/s · achieved 49.8/s · 3 dropped`.
fn arrivals_text(arrivals: &ArrivalsLive) -> String {
    format!(
        "target {}/s · achieved {}/s · {} dropped",
        per_second(arrivals.target),
        per_second(arrivals.achieved),
        arrivals.dropped
    )
}

/// A rate to three figures or so: `0`, `0.4`, `49.8`, `812`, `12.3k`.
fn per_second(rate: f64) -> String {
    if rate >= 1000.0 {
        return format!("{:.1}k", rate / 1000.0);
    }
    if rate >= 100.0 {
        return format!("{rate:.0}");
    }
    let text = format!("{rate:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}

/// A latency to two figures or so: `0.04ms`, `4.1ms`, `230ms`, `1.2s`.
fn millis_text(ms: f64) -> String {
    match ms {
        ms if ms < 1.0 => format!("{ms:.2}ms"),
        ms if ms < 10.0 => format!("{ms:.1}ms"),
        ms if ms < 1000.0 => format!("{ms:.0}ms"),
        ms => format!("{:.1}s", ms / 1000.0),
    }
}

/// `heartbeat: started, 5 clients (keeper ×1, workers ×4)`.
fn start_line(name: &str, groups: &[(Arc<str>, u64)]) -> String {
    let total: u64 = groups.iter().map(|(_, n)| n).sum();
    if groups.is_empty() {
        return format!("{name}: started, no clients");
    }
    let plural = if total == 1 { "" } else { "s" };
    let mut listed: Vec<String> = groups
        .iter()
        .take(START_LINE_GROUPS)
        .map(|(g, n)| format!("{g} ×{n}"))
        .collect();
    if groups.len() > START_LINE_GROUPS {
        listed.push(format!("{} more groups", groups.len() - START_LINE_GROUPS));
    }
    format!("{name}: started, {total} client{plural} ({})", listed.join(", "))
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// True when stderr is a terminal that understands cursor movement.
fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}

/// Stderr as a terminal, whatever it is: for [`ProgressMode::Always`] when it does not look like
/// one. Writes plain ANSI escapes; the width comes from `$COLUMNS` (80 without).
#[derive(Debug)]
struct AnsiStderr;

impl AnsiStderr {
    fn escape(n: usize, code: char) -> io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            io::stderr().write_all(format!("\x1b[{n}{code}").as_bytes())
        }
    }
}

impl TermLike for AnsiStderr {
    fn width(&self) -> u16 {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|&w| w > 0)
            .unwrap_or(80)
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        Self::escape(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        Self::escape(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        Self::escape(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        Self::escape(n, 'D')
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        let mut err = io::stderr().lock();
        err.write_all(s.as_bytes())?;
        err.write_all(b"\n")
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        io::stderr().write_all(s.as_bytes())
    }

    fn clear_line(&self) -> io::Result<()> {
        io::stderr().write_all(b"\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::exec::event::Pass;
    use crate::report::fixtures::{client_finished, dropped, finished, live, started, step_at, step_started};

    /// A `Write` whose text the test can read.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn take_lines(&self) -> Vec<String> {
            let text = String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap();
            text.lines().map(str::to_string).collect()
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn status_lines_are_throttled() {
        let t0 = Instant::now();
        assert!(!status_line_due(None, t0, false));
        assert!(status_line_due(None, t0, true));
        assert!(!status_line_due(Some(t0), t0 + secs(1), true));
        assert!(!status_line_due(Some(t0), t0 + Duration::from_millis(4999), true));
        assert!(status_line_due(Some(t0), t0 + secs(5), true));
        assert!(!status_line_due(Some(t0), t0 + secs(30), false));
        assert!(status_line_due(Some(t0), t0 + secs(60), false));
        // A clock that went backwards is not a reason to print.
        assert!(!status_line_due(Some(t0 + secs(10)), t0, true));
    }

    #[test]
    fn plain_lines_on_start_status_and_end() {
        let out = Buffer::default();
        let mut progress = Progress::plain(Box::new(out.clone()));
        let t0 = Instant::now();
        progress.handle_at(&started("heartbeat", &[("keeper", 1), ("workers", 4)]), t0);
        assert_eq!(
            out.take_lines(),
            ["heartbeat: started, 5 clients (keeper ×1, workers ×4)"]
        );

        progress.handle_at(&step_started("heartbeat", "workers", 1, "initialize"), t0 + secs(1));
        progress.handle_at(&client_finished("heartbeat", "workers", 1, true), t0 + secs(2));
        assert!(out.take_lines().is_empty(), "throttled");

        progress.handle_at(&client_finished("heartbeat", "workers", 2, false), t0 + secs(5));
        progress.handle_at(&client_finished("heartbeat", "workers", 3, true), t0 + secs(6));
        progress.handle_at(&step_started("heartbeat", "keeper", 1, "call heartbeat"), t0 + secs(7));
        assert_eq!(
            out.take_lines(),
            ["heartbeat: 2/5 clients finished, 1 failed, step \"initialize\""]
        );

        // Nothing new comes in, but the tick lets the pending change out.
        progress.tick_at(t0 + secs(9));
        assert!(out.take_lines().is_empty());
        progress.tick_at(t0 + secs(10));
        assert_eq!(
            out.take_lines(),
            ["heartbeat: 3/5 clients finished, 1 failed, step \"call heartbeat\""]
        );

        // Quiet: no repeat until a minute has passed.
        progress.tick_at(t0 + secs(30));
        assert!(out.take_lines().is_empty());
        progress.tick_at(t0 + secs(70));
        assert_eq!(
            out.take_lines(),
            ["heartbeat: 3/5 clients finished, 1 failed, step \"call heartbeat\""]
        );

        progress.handle_at(&client_finished("heartbeat", "keeper", 1, true), t0 + secs(71));
        progress.handle_at(&client_finished("heartbeat", "workers", 4, true), t0 + secs(72));
        progress.handle_at(&finished("heartbeat", false), t0 + secs(72));
        assert_eq!(out.take_lines(), ["heartbeat: FAILED, 4/5 clients passed, 1m 12s"]);

        progress.tick_at(t0 + secs(200));
        progress.finish();
        assert!(out.take_lines().is_empty(), "nothing runs any more");
    }

    #[test]
    fn plain_mode_reports_unfinished_scenarios_at_the_end() {
        let out = Buffer::default();
        let mut progress = Progress::plain(Box::new(out.clone()));
        let t0 = Instant::now();
        progress.handle_at(&started("soak", &[("c", 2)]), t0);
        progress.handle_at(&client_finished("soak", "c", 1, true), t0);
        progress.finish();
        assert_eq!(out.take_lines()[1..], ["soak: stopped, 1/2 clients finished, 0 failed"]);
    }

    #[test]
    fn phases_and_unknown_scenarios_do_not_count_as_clients() {
        let out = Buffer::default();
        let mut progress = Progress::plain(Box::new(out.clone()));
        let t0 = Instant::now();
        progress.handle_at(&started("seed", &[]), t0);
        progress.handle_at(&step_started("seed", "before", 1, "insert rows"), t0 + secs(1));
        progress.handle_at(&client_finished("seed", "before", 1, true), t0 + secs(1));
        progress.handle_at(&client_finished("other", "x", 1, false), t0 + secs(1));
        progress.tick_at(t0 + secs(6));
        progress.handle_at(&finished("seed", true), t0 + secs(6));
        assert_eq!(
            out.take_lines(),
            [
                "seed: started, no clients",
                "seed: 0/0 clients finished, 0 failed, step \"insert rows\"",
                "seed: passed, 0/0 clients passed, 6.0s",
            ]
        );
    }

    #[test]
    fn names_and_steps_are_masked_and_escaped() {
        let out = Buffer::default();
        let mut progress = Progress::plain(Box::new(out.clone()));
        let t0 = Instant::now();
        progress.handle_at(&started("s\x1b[2J", &[("g\u{202e}", 1)]), t0);
        progress.handle_at(
            &step_started("s\x1b[2J", "g\u{202e}", 1, "GET http://u:pw@h/"),
            t0 + secs(5),
        );
        assert_eq!(
            out.take_lines(),
            [
                "s\\u{1b}[2J: started, 1 client (g\\u{202e} ×1)",
                "s\\u{1b}[2J: 0/1 clients finished, 0 failed, step \"GET http://u:***@h/\"",
            ]
        );
        let mut progress = hidden_bars();
        progress.handle_at(&started("s\x1b[2J", &[("g\u{202e}", 1)]), t0);
        progress.handle_at(&step_started("s\x1b[2J", "g\u{202e}", 1, "x\u{7}"), t0);
        let bars = bars(&progress);
        assert_eq!(bars.totals.prefix(), "s\\u{1b}[2J");
        assert_eq!(bars.groups[0].bar.prefix(), "g\\u{202e}");
        assert_eq!(bars.groups[0].bar.message(), "x\\u{7}");
    }

    #[test]
    fn quiet_and_never_show_nothing() {
        for progress in [
            Progress::new(ProgressMode::Auto, true),
            Progress::new(ProgressMode::Never, false),
        ] {
            assert!(progress.is_off());
        }
        let mut progress = Progress::off();
        progress.handle(&started("s", &[("g", 1)]));
        progress.tick();
        progress.finish();
        assert!(progress.scenarios.is_empty());
    }

    fn hidden_bars() -> Progress {
        Progress::bars(ProgressDrawTarget::hidden())
    }

    fn bars(progress: &Progress) -> &ScenarioBars {
        progress.scenarios[0].bars.as_ref().unwrap()
    }

    #[test]
    fn one_bar_per_group_with_the_latest_step() {
        let mut progress = hidden_bars();
        let t0 = Instant::now();
        progress.handle_at(&started("lifecycle", &[("keeper", 1), ("workers", 4)]), t0);
        progress.handle_at(&step_started("lifecycle", "workers", 1, "initialize"), t0);
        progress.handle_at(&step_started("lifecycle", "workers", 2, "call echo"), t0);
        progress.handle_at(&client_finished("lifecycle", "workers", 1, true), t0);
        progress.handle_at(&client_finished("lifecycle", "workers", 2, false), t0);
        progress.handle_at(&step_started("lifecycle", "before", 1, "seed"), t0);
        {
            let bars = bars(&progress);
            assert_eq!(bars.groups.len(), 2);
            let workers = &bars.groups[1].bar;
            assert_eq!((workers.position(), workers.length()), (2, Some(4)));
            assert_eq!(workers.prefix(), "workers");
            assert_eq!(workers.message(), "1 failed · call echo");
            assert_eq!(bars.groups[0].bar.position(), 0);
            assert_eq!(bars.groups[0].bar.message(), "");
            assert_eq!((bars.totals.position(), bars.totals.length()), (2, Some(5)));
            assert_eq!(bars.totals.message(), ", 1 failed, before: seed");
        }
        let totals = bars(&progress).totals.clone();
        progress.handle_at(&finished("lifecycle", false), t0 + secs(1));
        assert!(progress.scenarios.is_empty());
        assert!(totals.is_finished());
        progress.finish();
    }

    #[test]
    fn many_groups_share_the_last_bar() {
        let names: Vec<String> = (1..=20).map(|i| format!("g{i}")).collect();
        let groups: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 2)).collect();
        let mut progress = hidden_bars();
        let t0 = Instant::now();
        progress.handle_at(&started("wide", &groups), t0);
        progress.handle_at(&client_finished("wide", "g1", 1, true), t0);
        progress.handle_at(&client_finished("wide", "g16", 1, true), t0);
        progress.handle_at(&client_finished("wide", "g20", 2, false), t0);
        progress.handle_at(&step_started("wide", "g18", 1, "ping"), t0);
        let bars = bars(&progress);
        assert_eq!(bars.groups.len(), MAX_GROUP_BARS);
        let shared = &bars.groups[MAX_GROUP_BARS - 1].bar;
        assert_eq!(shared.prefix(), "+5 groups");
        assert_eq!((shared.position(), shared.length()), (2, Some(10)));
        assert_eq!(shared.message(), "1 failed · ping");
        assert_eq!(bars.groups[0].bar.position(), 1);
        assert_eq!((bars.totals.position(), bars.totals.length()), (3, Some(40)));
    }

    #[test]
    fn start_lines_sum_up_many_groups() {
        let groups: Vec<(Arc<str>, u64)> = (1..=10).map(|i| (Arc::from(format!("g{i}")), 1)).collect();
        let line = start_line("wide", &groups);
        assert!(line.starts_with("wide: started, 10 clients (g1 ×1, "), "{line}");
        assert!(line.ends_with("g8 ×1, 2 more groups)"), "{line}");
        assert_eq!(
            start_line("one", &[(Arc::from("solo"), 1)]),
            "one: started, 1 client (solo ×1)"
        );
    }

    /// Plain lines into a buffer, and the time they start at.
    fn plain() -> (Buffer, Progress, Instant) {
        let out = Buffer::default();
        let progress = Progress::plain(Box::new(out.clone()));
        (out, progress, Instant::now())
    }

    fn figures(rate: f64, errors: u64, p99_ms: Option<f64>, active: u64) -> Live {
        Live {
            rate,
            errors,
            p99_ms,
            active,
            sessions: None,
            arrivals: Vec::new(),
        }
    }

    fn visitors(target: f64, achieved: f64, dropped: u64) -> ArrivalsLive {
        ArrivalsLive {
            group: "visitors".into(),
            target,
            achieved,
            dropped,
        }
    }

    #[test]
    fn plain_status_lines_carry_the_live_figures() {
        let (out, mut progress, t0) = plain();
        progress.handle_at(&started("load", &[("workers", 5), ("visitors", 250)]), t0);
        progress.handle_at(&dropped("load", "visitors"), t0 + secs(1));
        for n in 1..=4 {
            progress.handle_at(&live("load", figures(41.2, 0, Some(4.1), 5)), t0 + secs(n));
        }
        let mut arriving = figures(12_345.0, 1, Some(230.4), 250);
        arriving.sessions = Some(248);
        arriving.arrivals.push(visitors(50.0, 49.84, 1));
        progress.handle_at(&live("load", arriving.clone()), t0 + secs(5));
        assert_eq!(
            out.take_lines()[1..],
            [
                "load: 0/255 clients finished, 0 failed, 1 dropped · 12.3k req/s · 1 error · p99 230ms · 250 active · 248 sessions · visitors: target 50/s, achieved 49.8/s, 1 dropped"
            ]
        );
        // The same figures are no news: the next line waits for a change, or for a minute.
        progress.handle_at(&live("load", arriving), t0 + secs(10));
        assert!(out.take_lines().is_empty());
        progress.handle_at(&live("load", figures(0.2, 0, None, 1)), t0 + secs(15));
        assert_eq!(
            out.take_lines(),
            ["load: 0/255 clients finished, 0 failed, 1 dropped · 0.2 req/s · 0 errors · 1 active"]
        );
    }

    /// Client 1 of `workers` starts `step` at `at`.
    fn worker_at(step: &str, at: Position) -> Event {
        step_at("soak", "workers", 1, step, at)
    }

    fn in_loop(step: usize, of: usize, n: u64, passes: Option<u64>, left: Option<u64>) -> Position {
        Position {
            step,
            of,
            pass: Some(Pass {
                n,
                of: passes,
                left: left.map(Duration::from_secs),
            }),
        }
    }

    #[test]
    fn a_group_bar_shows_where_its_client_is_in_its_steps_and_loops() {
        let mut progress = hidden_bars();
        let t0 = Instant::now();
        progress.handle_at(&started("soak", &[("workers", 1), ("visitors", 10)]), t0);
        let message = |progress: &Progress| bars(progress).groups[0].bar.message();
        let first = Position {
            step: 1,
            of: 3,
            pass: None,
        };
        progress.handle_at(&worker_at("initialize", first), t0);
        assert_eq!(message(&progress), "step 1/3 · initialize");
        progress.handle_at(&worker_at("call echo", in_loop(2, 3, 12, Some(60), None)), t0);
        assert_eq!(message(&progress), "step 2/3 · pass 12/60 · call echo");
        progress.handle_at(&worker_at("call echo", in_loop(2, 3, 4, None, Some(42))), t0);
        assert_eq!(message(&progress), "step 2/3 · pass 4 · 42s left · call echo");
        // The time left counts down between steps.
        progress.tick_at(t0 + Duration::from_millis(10_500));
        assert_eq!(message(&progress), "step 2/3 · pass 4 · 32s left · call echo");

        let mut arriving = figures(812.0, 0, Some(0.04), 7);
        arriving.arrivals.push(visitors(12.5, 0.0, 1));
        progress.handle_at(&dropped("soak", "visitors"), t0);
        progress.handle_at(&live("soak", arriving), t0);
        let bars = bars(&progress);
        assert_eq!(bars.groups[1].bar.message(), "target 12.5/s · achieved 0/s · 1 dropped");
        assert_eq!(bars.totals.message(), " · 812 req/s · 0 errors · p99 0.04ms · 7 active");
    }

    #[test]
    fn the_plain_status_line_says_where_the_last_step_is() {
        let (out, mut progress, t0) = plain();
        progress.handle_at(&started("soak", &[("workers", 1)]), t0);
        progress.handle_at(&worker_at("call heartbeat", in_loop(2, 4, 2, Some(3), Some(250))), t0);
        progress.tick_at(t0 + secs(5));
        assert_eq!(
            out.take_lines()[1..],
            ["soak: 0/1 clients finished, 0 failed, step 2/4 \"call heartbeat\" · pass 2/3 · 4m 5s left"]
        );
    }

    #[test]
    fn rates_and_latencies_read_in_a_few_figures() {
        let rates: Vec<String> = [0.0, 0.44, 49.84, 50.0, 812.4, 12_345.0].map(per_second).into();
        assert_eq!(rates, ["0", "0.4", "49.8", "50", "812", "12.3k"]);
        let latencies: Vec<String> = [0.043, 4.12, 230.4, 1234.0].map(millis_text).into();
        assert_eq!(latencies, ["0.04ms", "4.1ms", "230ms", "1.2s"]);
    }

    #[test]
    fn progress_can_move_to_a_task() {
        fn send<T: Send>() {}
        send::<Progress>();
    }
}
