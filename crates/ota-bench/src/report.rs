//! The results table: each row a measured figure, its baseline from the same run, the ratio, the target
//! and whether it is met.

use std::fmt::Write as _;
use std::path::Path;

pub struct Row {
    pub what: String,
    pub measured: String,
    pub baseline: String,
    pub ratio: Option<f64>,
    pub target: String,
    pub met: Option<bool>,
}

pub struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    pub fn new() -> Self {
        Self {
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn add(&mut self, row: Row) {
        println!(
            "{:<58} {:>14}  baseline {:>14}  ratio {:>6}  {}",
            row.what,
            row.measured,
            row.baseline,
            row.ratio
                .map(|r| format!("{r:.2}"))
                .unwrap_or_else(|| "-".into()),
            match row.met {
                Some(true) => "met",
                Some(false) => "NOT MET",
                None => "",
            }
        );
        self.rows.push(row);
    }

    pub fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        println!("  note: {text}");
        self.notes.push(text);
    }

    pub fn not_measured(&mut self, what: &str, why: &str) {
        self.add(Row {
            what: what.to_string(),
            measured: "-".into(),
            baseline: "-".into(),
            ratio: None,
            target: format!("not measured: {why}"),
            met: None,
        });
    }

    pub fn print(&self) {
        let met = self.rows.iter().filter(|r| r.met == Some(true)).count();
        let missed = self.rows.iter().filter(|r| r.met == Some(false)).count();
        println!(
            "\n{met} targets met, {missed} not met, {} not measured",
            self.rows.len() - met - missed
        );
    }

    /// The header lines every copy of the table starts with: when, where, which commit.
    fn provenance() -> String {
        format!(
            "- Date: {}\n- Machine: {}\n- Commit: {}\n- Command: `cargo xtask bench` (release build)\n",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            crate::sys::machine(),
            crate::sys::commit()
        )
    }

    fn table(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "| What | Measured | Baseline (same run) | Ratio | Target | Met |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---|---|");
        for r in &self.rows {
            // A `|` inside a cell ("curl | md5sum") would end the cell: Markdown wants it escaped.
            let cell = |text: &str| text.replace('|', "\\|");
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&r.what),
                cell(&r.measured),
                cell(&r.baseline),
                r.ratio
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| "-".into()),
                cell(&r.target),
                match r.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "-",
                }
            );
        }
        md
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut md = String::new();
        let _ = writeln!(md, "# Benchmark results\n");
        let _ = writeln!(md, "{}", Self::provenance());
        md.push_str(&self.table());
        if !self.notes.is_empty() {
            let _ = writeln!(md, "\nNotes:\n");
            for n in &self.notes {
                let _ = writeln!(md, "- {n}");
            }
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, md)?;
        Ok(())
    }

    /// Replaces the table between the `bench-table` markers of `readme` with this run's (a full run
    /// only: a partial one would drop the rows it did not measure).
    pub fn write_readme_table(&self, readme: &Path) -> anyhow::Result<()> {
        const START: &str = "<!-- bench-table:start -->";
        const END: &str = "<!-- bench-table:end -->";
        let text = std::fs::read_to_string(readme)?;
        let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
            anyhow::bail!(
                "{} has no {START} … {END} markers for the table",
                readme.display()
            );
        };
        anyhow::ensure!(
            start < end,
            "the table markers of {} are out of order",
            readme.display()
        );
        let updated = format!(
            "{}{START}\n{}\n{}{}",
            &text[..start],
            Self::provenance(),
            self.table(),
            &text[end..]
        );
        std::fs::write(readme, updated)?;
        Ok(())
    }
}

pub fn ms(d: std::time::Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
