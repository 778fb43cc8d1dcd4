//! The ladder (message sequence) diagram of one scenario: as text for the terminal and as
//! SVG for the HTML report.

use super::steps::Check;

/// One row of the ladder.
#[derive(Debug, Clone)]
pub enum Row {
    /// A message between two columns (`None`: nobody answered at that end).
    Msg {
        from: Option<usize>,
        to: Option<usize>,
        /// Nobody received it (`to` is where it was sent).
        lost: bool,
        step: Option<u32>,
        label: String,
        /// Milliseconds since the scenario's first message.
        ms: f64,
        /// Transport and addresses (`UDP 127.1.2.10:500 → 127.1.2.20:500`).
        detail: String,
    },
    /// A state shown at one column (e.g. "IPsec tunnel up").
    Note {
        col: usize,
        step: Option<u32>,
        text: String,
    },
}

/// A scenario's result.
#[derive(Debug, Clone)]
pub struct Ladder {
    pub scenario: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub checks: Vec<Check>,
}

impl Ladder {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// The text diagram and the verdict.
    pub fn text(&self) -> String {
        const W: usize = 16;
        let n = self.columns.len();
        let mut out = format!("== {}: {}\n\n", self.scenario, self.title);
        let mut head = String::from("      ");
        for c in &self.columns {
            head.push_str(&format!("{:<W$}", c));
        }
        out.push_str(head.trim_end());
        out.push('\n');
        let blank = |line: &mut Vec<char>| {
            for i in 0..n {
                line[i * W] = '|';
            }
        };
        for row in &self.rows {
            let mut line: Vec<char> = vec![' '; (n.max(1) - 1) * W + 1];
            blank(&mut line);
            let (step, text) = match row {
                Row::Msg {
                    from,
                    to,
                    lost,
                    step,
                    label,
                    ms,
                    ..
                } => {
                    let (a, b) = match (from, to) {
                        (Some(a), Some(b)) => (*a, *b),
                        (Some(a), None) => (
                            *a,
                            if *a + 1 < n {
                                *a + 1
                            } else {
                                a.saturating_sub(1)
                            },
                        ),
                        (None, Some(b)) => (if *b > 0 { *b - 1 } else { 1.min(n - 1) }, *b),
                        (None, None) => (0, 0),
                    };
                    let (lo, hi) = (a.min(b) * W, a.max(b) * W);
                    if hi > lo {
                        for c in line.iter_mut().take(hi).skip(lo + 1) {
                            *c = '-';
                        }
                        if b > a {
                            line[hi - 1] = '>';
                        } else {
                            line[lo + 1] = '<';
                        }
                        if to.is_none() || *lost {
                            line[if b > a { hi - 1 } else { lo + 1 }] = 'x';
                        }
                    }
                    (step, format!("{label}  [{ms:.1} ms]"))
                }
                Row::Note { col, step, text } => {
                    let at = (*col * W).min(line.len() - 1);
                    line[at] = '*';
                    (step, format!("{} — {text}", self.columns[*col]))
                }
            };
            let s: String = line.into_iter().collect();
            let num = step
                .map(|s| format!("{s:>4}  "))
                .unwrap_or_else(|| "      ".into());
            out.push_str(&format!("{num}{s}  {text}\n"));
        }
        out.push('\n');
        for c in &self.checks {
            out.push_str(&format!(
                "  [{}] {}\n",
                if c.ok { "ok" } else { "FAIL" },
                c.what
            ));
        }
        out.push_str(&format!(
            "verdict {}: {}\n",
            self.scenario,
            if self.passed() { "PASS" } else { "FAIL" }
        ));
        out
    }

    /// The SVG diagram.
    pub fn svg(&self) -> String {
        let n = self.columns.len().max(1);
        let (left, colw, top, rowh) = (40.0, 170.0, 40.0, 26.0);
        let width = left + colw * n as f64 + 380.0;
        let height = top + rowh * (self.rows.len() as f64 + 1.0) + 10.0;
        let x = |c: usize| left + colw * c as f64 + colw / 2.0;
        let mut s = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="12">
<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="3" orient="auto"><path d="M0,0 L7,3 L0,6 z"/></marker></defs>
"#
        );
        for (i, c) in self.columns.iter().enumerate() {
            s.push_str(&format!(
                r##"<text x="{}" y="20" text-anchor="middle" font-weight="bold">{}</text><line x1="{0}" y1="28" x2="{0}" y2="{}" stroke="#999"/>
"##,
                x(i),
                esc(c),
                height - 5.0
            ));
        }
        for (r, row) in self.rows.iter().enumerate() {
            let y = top + rowh * (r as f64 + 0.7);
            match row {
                Row::Msg {
                    from,
                    to,
                    lost,
                    step,
                    label,
                    detail,
                    ..
                } => {
                    let (a, b) = match (from, to) {
                        (Some(a), Some(b)) => (x(*a), x(*b)),
                        (Some(a), None) => (x(*a), x(*a) + colw * 0.8),
                        (None, Some(b)) => (x(*b) - colw * 0.8, x(*b)),
                        (None, None) => (x(0), x(0)),
                    };
                    let dash = if to.is_none() || *lost {
                        r#" stroke-dasharray="4,3""#
                    } else {
                        ""
                    };
                    s.push_str(&format!(
                        r#"<g><title>{}</title><line x1="{a}" y1="{y}" x2="{b}" y2="{y}" stroke="black" marker-end="url(#a)"{dash}/>
<text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text></g>
"#,
                        esc(detail),
                        (a + b) / 2.0,
                        y - 4.0,
                        esc(&shorten(label, 40))
                    ));
                    if let Some(st) = step {
                        s.push_str(&format!(
                            r##"<circle cx="16" cy="{}" r="10" fill="#def"/><text x="16" y="{}" text-anchor="middle">{st}</text>
"##,
                            y - 3.0,
                            y + 1.0
                        ));
                    }
                    s.push_str(&format!(
                        r##"<text x="{}" y="{}" fill="#555" font-size="10">{}</text>
"##,
                        left + colw * n as f64 + 10.0,
                        y,
                        esc(label)
                    ));
                }
                Row::Note { col, step, text } => {
                    s.push_str(&format!(
                        r##"<rect x="{}" y="{}" width="{}" height="18" fill="#efe" stroke="#6a6"/><text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text>
"##,
                        x(*col) - 70.0,
                        y - 14.0,
                        140.0,
                        x(*col),
                        y - 1.0,
                        esc(&shorten(text, 26))
                    ));
                    if let Some(st) = step {
                        s.push_str(&format!(
                            r##"<circle cx="16" cy="{}" r="10" fill="#def"/><text x="16" y="{}" text-anchor="middle">{st}</text>
"##,
                            y - 5.0,
                            y - 1.0
                        ));
                    }
                    s.push_str(&format!(
                        r##"<text x="{}" y="{}" fill="#555" font-size="10">{}</text>
"##,
                        left + colw * n as f64 + 10.0,
                        y,
                        esc(text)
                    ));
                }
            }
        }
        s.push_str("</svg>\n");
        s
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// XML/HTML text escaping.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML report: every scenario's SVG ladder and verdict on one self-contained page.
pub fn html(ladders: &[Ladder]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mobstrap lab</title>\n<style>body{font-family:sans-serif;margin:2em} .ok{color:#080} .fail{color:#c00;font-weight:bold} pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head><body>\n<h1>mobstrap lab</h1>\n<ul>\n",
    );
    for l in ladders {
        s.push_str(&format!(
            "<li><a href=\"#{0}\">{0}</a>: <span class=\"{1}\">{2}</span></li>\n",
            esc(&l.scenario),
            if l.passed() { "ok" } else { "fail" },
            if l.passed() { "PASS" } else { "FAIL" }
        ));
    }
    s.push_str("</ul>\n");
    for l in ladders {
        s.push_str(&format!(
            "<h2 id=\"{0}\">{0}: {1}</h2>\n{2}<ul>\n",
            esc(&l.scenario),
            esc(&l.title),
            l.svg()
        ));
        for c in &l.checks {
            s.push_str(&format!(
                "<li class=\"{}\">[{}] {}</li>\n",
                if c.ok { "ok" } else { "fail" },
                if c.ok { "ok" } else { "FAIL" },
                esc(&c.what)
            ));
        }
        s.push_str(&format!(
            "</ul><p>verdict: <span class=\"{}\">{}</span></p>\n",
            if l.passed() { "ok" } else { "fail" },
            if l.passed() { "PASS" } else { "FAIL" }
        ));
    }
    s.push_str("</body></html>\n");
    s
}
