//! Scores generated output with the real engine and the built-in model, in
//! memory: the rows are validated by the catalogue exactly as an import
//! would, grouped by person, and evaluated on the as-of date. Shared by the
//! grade tests and the `grades` example (which includes this file by path).

use std::collections::BTreeMap;

use chengxin_domain::catalogue::Raw;
use chengxin_domain::record::{PersonInput, Record, RecordStatus};
use chengxin_domain::{Catalogue, Engine, IdNumber, Model};
use jiff::civil::Date;

/// How many residents got each grade of the model, and how many none.
#[derive(Debug, Clone)]
pub struct Grades {
    /// The model's grades, highest first, with their counts.
    pub counts: Vec<(String, u64)>,
    /// Residents who are not eligible, so have no score (minors, limited
    /// capacity, not resident).
    pub ungraded: u64,
}

impl Grades {
    /// Residents with a grade.
    pub fn graded(&self) -> u64 {
        self.counts.iter().map(|c| c.1).sum()
    }

    /// The count of one grade (0 if the model has no such grade).
    pub fn count(&self, grade: &str) -> u64 {
        self.counts.iter().find(|c| c.0 == grade).map_or(0, |c| c.1)
    }

    /// A grade's share of the graded residents.
    pub fn share(&self, grade: &str) -> f64 {
        self.count(grade) as f64 / self.graded().max(1) as f64
    }

    /// A table: grade, count, share of the graded, one line each.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for (grade, n) in &self.counts {
            out.push_str(&format!(
                "{grade:<4} {n:>8} {:>7.2}%\n",
                100.0 * self.share(grade)
            ));
        }
        out.push_str(&format!(
            "graded {} (ungraded {})\n",
            self.graded(),
            self.ungraded
        ));
        out
    }
}

/// Scores every resident of the JSON Lines `bytes` on `as_of` with the
/// built-in model. Panics on a row the catalogue refuses.
pub fn grades(bytes: &[u8], as_of: Date) -> Grades {
    let catalogue = Catalogue::builtin();
    let model = Model::builtin(&catalogue);
    let engine = Engine::new(&catalogue, &model).expect("engine");
    let mut people: BTreeMap<String, PersonInput> = BTreeMap::new();
    for (n, line) in bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let v: serde_json::Value = serde_json::from_slice(line).expect("JSON line");
        let code = v["item"].as_str().expect("item");
        let idx = catalogue.position(code).expect("known item");
        let item = &catalogue.items[idx];
        let map = v["fields"].as_object().expect("fields");
        let fields = catalogue
            .validate(item, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
            .expect("valid row");
        let id = IdNumber::parse(v["id_number"].as_str().expect("id")).expect("valid ID");
        let person = people
            .entry(id.as_str().to_owned())
            .or_insert_with(|| PersonInput {
                birth_date: id.birth_date(),
                records: Vec::new(),
            });
        person.records.push(Record {
            id: n as i64,
            item: idx,
            date: item.record_date(&fields),
            status: RecordStatus::Active,
            fields,
        });
    }
    let mut bands: Vec<_> = model.doc.grades.iter().collect();
    bands.sort_by_key(|g| std::cmp::Reverse(g.min));
    let mut counts: Vec<(String, u64)> = bands.iter().map(|g| (g.grade.clone(), 0)).collect();
    let mut ungraded = 0;
    for person in people.values() {
        match engine.evaluate(person, as_of).grade {
            Some(g) => {
                let slot = counts
                    .iter_mut()
                    .find(|c| c.0 == g)
                    .expect("a grade of the model");
                slot.1 += 1;
            }
            None => ungraded += 1,
        }
    }
    Grades { counts, ungraded }
}
