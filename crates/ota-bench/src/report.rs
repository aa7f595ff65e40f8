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

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut md = String::new();
        let _ = writeln!(md, "# Benchmark results\n");
        let _ = writeln!(
            md,
            "- Date: {}\n- Machine: {}\n- Commit: {}\n- Command: `cargo xtask bench` (release build)\n",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            crate::sys::machine(),
            crate::sys::commit()
        );
        let _ = writeln!(
            md,
            "| What | Measured | Baseline (same run) | Ratio | Target | Met |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---|---|");
        for r in &self.rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                r.what,
                r.measured,
                r.baseline,
                r.ratio
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| "-".into()),
                r.target,
                match r.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "-",
                }
            );
        }
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
}

pub fn ms(d: std::time::Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
