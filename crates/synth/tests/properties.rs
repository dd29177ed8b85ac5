//! Whatever the seed and as-of date, the output is valid: every row passes the
//! catalogue, ID numbers parse and agree with the age rules, and no record is
//! dated after the as-of date or before the person was born.

mod common;

use chengxin_domain::dates::age_on;
use chengxin_domain::{Catalogue, IdNumber};
use common::{people, rows, run, validate};
use jiff::civil::{date, Date};
use proptest::prelude::*;

fn any_as_of() -> impl Strategy<Value = Date> {
    // Leap days and month ends included.
    (1990i16..=2090, 1i8..=12, 1i8..=31)
        .prop_filter_map("a real date", |(y, m, d)| Date::new(y, m, d).ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn output_is_valid_for_any_seed_and_date(seed in any::<u64>(), as_of in any_as_of(), residents in 0u64..60) {
        let (bytes, stats) = run(residents, seed, as_of);
        let rows = rows(&bytes);
        prop_assert_eq!(stats.records, rows.len() as u64);
        let catalogue = Catalogue::builtin();
        for person in people(&rows) {
            let id = IdNumber::parse(&person[0].id_number).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let age = age_on(id.birth_date(), as_of);
            prop_assert!((0..=85).contains(&age), "age {}", age);
            for row in person {
                prop_assert!(validate(&catalogue, row).is_ok(), "{:?}", validate(&catalogue, row));
                prop_assert!(row.record_date() <= as_of && row.record_date() >= id.birth_date(), "{:?}", row);
                // Minors have residence records only.
                prop_assert!(age >= 18 || matches!(row.item.as_str(), "B03" | "B04"), "{:?}", row);
            }
        }
        let (again, _) = run(residents, seed, as_of);
        prop_assert!(again == bytes);
    }
}

#[test]
fn leap_day_as_of_dates_work() {
    for as_of in [
        date(2028, 2, 29),
        date(2027, 2, 28),
        date(2100 - 1, 12, 31),
        date(1987, 1, 1),
    ] {
        let (bytes, _) = run(300, 1, as_of);
        let catalogue = Catalogue::builtin();
        for row in rows(&bytes) {
            assert!(validate(&catalogue, &row).is_ok(), "{row:?}");
            assert!(row.record_date() <= as_of);
        }
    }
}
