//! When a score can change with nothing written: the dates on which a
//! record enters or leaves one of the model's counting windows (publicity
//! ending, a commitment's term ending, an evaluation ageing out, a listing's
//! removal), and a person's 18th birthday. The daily run rescores only the
//! people who have such a date; the engine's own rules are read from the
//! compiled model here, so the two cannot drift apart.

use jiff::civil::Date;

use super::{Engine, Kind};
use crate::dates::{add_months, add_years, within_years};
use crate::record::{PersonInput, Record};

/// The first date on which `date` is no longer in "(D − N years, D]".
pub fn leaves_window(date: Date, years: i32) -> Date {
    let mut d = add_years(date, years);
    // 29 February falls back, so the plain sum can be a day early.
    while within_years(date, d, years) {
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    d
}

impl Engine {
    /// The dates on which `record`, while it counts, can start or stop
    /// changing a score under this model: its own date, the day after each
    /// window it counts in ends, and the dates its fields name as ends. A
    /// record that does not count has none (only a write changes that). A
    /// record some commitment template monitors includes the day its breach
    /// would age out, whether or not its person signed a commitment.
    pub fn change_dates(&self, record: &Record) -> Vec<Date> {
        let mut out = Vec::new();
        self.record_dates(record, true, &mut |d| out.push(d));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every date on which `person`'s score can change with no record
    /// written, sorted: their records' [`Engine::change_dates`] and the day
    /// they come of age.
    pub fn person_change_dates(&self, person: &PersonInput) -> Vec<Date> {
        let mut out = Vec::new();
        self.person_dates(person, &mut |d| out.push(d));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The first date after `after` on which `person`'s score can change
    /// with no record written (`None`: never).
    pub fn next_change(&self, person: &PersonInput, after: Date) -> Option<Date> {
        let mut next: Option<Date> = None;
        self.person_dates(person, &mut |d| {
            if d > after && next.is_none_or(|n| d < n) {
                next = Some(d);
            }
        });
        next
    }

    fn person_dates(&self, person: &PersonInput, f: &mut dyn FnMut(Date)) {
        f(self.eligibility.adult_from(person.birth_date));
        // Without a signature there is no breach to age out.
        let signed = self.commitment.as_ref().is_some_and(|cf| {
            person
                .records
                .iter()
                .any(|r| r.item == cf.item && r.status.counts())
        });
        for r in &person.records {
            self.record_dates(r, signed, f);
        }
    }

    fn record_dates(&self, r: &Record, signed: bool, f: &mut dyn FnMut(Date)) {
        if !r.status.counts() {
            return;
        }
        // Every record starts counting on its own date.
        f(r.date);
        self.eligibility.change_dates(r, f);
        let term_end = self.commitment.as_ref().and_then(|cf| {
            let code = (r.item == cf.item).then(|| r.fields.text(cf.template))??;
            let t = self.templates.iter().find(|t| t.code == code)?;
            Some(add_months(r.date, t.term_months))
        });
        for rule in &self.rules {
            match &rule.kind {
                Kind::LatestBanded { item, window, .. }
                | Kind::ByLevel { item, window, .. }
                | Kind::SumSteps { item, window, .. }
                | Kind::Count { item, window, .. } => {
                    if r.item == *item {
                        f(leaves_window(r.date, *window));
                    }
                }
                Kind::CommitmentsActive { .. } => term_end.into_iter().for_each(&mut *f),
                Kind::CommitmentsFulfilled { window, .. } => {
                    if let Some(end) = term_end {
                        f(end);
                        f(leaves_window(end, *window));
                    }
                }
                Kind::CommitmentBreaches { window, .. } => {
                    // A breach is dated by the monitored record that made it.
                    if signed && self.monitored(r) {
                        f(leaves_window(r.date, *window));
                    }
                }
                Kind::InPublicity {
                    item,
                    field,
                    levels,
                } => {
                    let level = r.fields.text(*field);
                    let rule = levels.iter().find(|(k, _)| Some(k.as_str()) == level);
                    if let (true, Some((_, l))) = (r.item == *item, rule) {
                        f(add_months(r.date, l.months));
                    }
                }
                Kind::Listed {
                    item, start, end, ..
                } => {
                    if r.item == *item {
                        r.fields.date(*start).into_iter().for_each(&mut *f);
                        end.and_then(|e| r.fields.date(e))
                            .into_iter()
                            .for_each(&mut *f);
                    }
                }
            }
        }
    }

    /// Whether some commitment template monitors `r`.
    fn monitored(&self, r: &Record) -> bool {
        self.templates.iter().any(|t| {
            t.monitors.iter().any(|(item, conds)| {
                r.item == *item
                    && conds.iter().all(|(field, vals)| {
                        r.fields
                            .text(*field)
                            .is_some_and(|v| vals.iter().any(|a| a == v))
                    })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn leaving_a_window_follows_the_leap_day_rule() {
        // (D − 1 year, D] holds 2024-02-29 on 2025-02-28 (2024-02-28 < it).
        assert_eq!(leaves_window(date(2024, 2, 29), 1), date(2025, 3, 1));
        assert_eq!(leaves_window(date(2024, 2, 28), 1), date(2025, 2, 28));
        assert_eq!(leaves_window(date(2023, 3, 1), 1), date(2024, 3, 1));
        assert_eq!(leaves_window(date(2024, 6, 1), 3), date(2027, 6, 1));
        for (d, n) in [(date(2024, 2, 29), 1), (date(2023, 3, 1), 2)] {
            let out = leaves_window(d, n);
            assert!(!within_years(d, out, n));
            assert!(within_years(d, out.yesterday().unwrap(), n));
        }
    }
}
