//! `jbt plan --format table`: the plan as a readable table in Dutch, with
//! ISO week numbers, for a chair or coordinator at a terminal.

use chrono::{Datelike, Locale};

use super::plan::Plan;
use super::scenario::Scenario;

/// Renders the plan as plain text (not HTML: this goes to a terminal).
pub fn render(scenario: &Scenario, plan: &Plan) -> String {
    let name = |id: &str| {
        scenario
            .regions
            .iter()
            .find(|r| r.id == id)
            .map_or_else(|| id.to_string(), |r| r.name.clone())
    };
    let home_of = |referral: &str| {
        scenario
            .referrals
            .iter()
            .find(|r| r.id == referral)
            .map(|r| scenario.regions[r.region].name.clone())
            .unwrap_or_default()
    };
    let mut rows: Vec<[String; 8]> = vec![[
        "Week".into(),
        "Datum".into(),
        "Tijd".into(),
        "Tafel".into(),
        "Aanmelding".into(),
        "Wacht".into(),
        "Over norm".into(),
        "Opmerking".into(),
    ]];
    for a in &plan.assignments {
        let mut notes = Vec::new();
        if a.pinned {
            notes.push("bevestigd".to_string());
        }
        if a.cross_region {
            notes.push(format!("uit {}", home_of(&a.referral)));
        }
        rows.push([
            format!("{}", a.date.iso_week().week()),
            a.date
                .format_localized("%a %-d %b %Y", Locale::nl_NL)
                .to_string(),
            a.start.format("%H:%M").to_string(),
            name(&a.region),
            a.referral.clone(),
            format!("{} d", a.wait_days),
            if a.late_days > 0 {
                format!("{} d", a.late_days)
            } else {
                "-".into()
            },
            notes.join(", "),
        ]);
    }
    let mut out = table(&rows);
    if !plan.unplanned.is_empty() {
        out.push_str("\nNiet ingepland:\n");
        for u in &plan.unplanned {
            out.push_str(&format!(
                "  {} ({}): {}\n",
                u.referral,
                home_of(&u.referral),
                u.reason
            ));
        }
    }
    let s = plan.score;
    out.push_str(&format!(
        "\nScore: {} niet ingepland, {} (dagen over de norm)², {} naar een buurtafel, {} (wachtdagen)²\n",
        s.unplanned, s.late_days_sq, s.cross_region, s.wait_days_sq
    ));
    out
}

fn table(rows: &[[String; 8]]) -> String {
    let mut widths = [0usize; 8];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}
