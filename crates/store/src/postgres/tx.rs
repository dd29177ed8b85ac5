//! The PostgreSQL unit of work: a transaction on a pooled session,
//! implementing every area's primitives by calling the area modules. Rolled
//! back when dropped uncommitted.

use chengxin_domain::audit::{AuditEntry, AuditEvent};
use chengxin_domain::publication::ModelStatus;

use super::conn::Manager;
use super::{
    audit, calendar, catalogue, certificates, daily, models, objections, parties, people, read,
    records, repairs, rotation, scenarios, scores, staff, stats, submissions, units,
};
use crate::crypto::DataKeys;
use crate::uow::*;
use crate::{
    BatchRow, Cause, HistoryEntry, ModelStamp, RawPerson, Result, ScoreChange, ScoreRow,
    StoredModel, StoredRecord, StoredScore, UnitRow,
};

/// An open transaction and the audit entries it will append.
pub(super) struct PgTx<'a> {
    conn: r2d2::PooledConnection<Manager>,
    keys: &'a DataKeys,
    audit: Vec<AuditEvent>,
    /// A write unit of work (record heads are locked as they are read).
    writable: bool,
    open: bool,
    /// The catalogue and template numbers in force, once a write unit of
    /// work has read them: it holds the shared lock that publications take
    /// exclusively until it ends, so they cannot change under it.
    numbers: Option<(i64, i64)>,
}

/// What a unit of work may do and see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Each statement on its own (no transaction: no round trips to open
    /// and close one).
    Read,
    /// One read-only snapshot.
    Snapshot,
    /// A read-write transaction.
    Write,
}

/// How a write transaction starts: with the plans of its prepared
/// statements generic (planned once per session), not custom.
///
/// Writes are shaped for batches: they take arrays (`id = ANY($1)`,
/// `unnest($1)`), so one statement serves a push of one record and a batch
/// of 5,000. Left to itself (`plan_cache_mode = auto`), PostgreSQL plans such
/// a statement again at every execution, because the custom plan for a
/// one-element array always looks cheaper than the generic one; measured,
/// that re-planning was most of the server's CPU time per single push, and
/// generic plans took pushes from ~1,100/s to ~1,450/s with 32 clients
/// (BENCHMARKS.md). The generic plans are the same index lookups at any
/// array length. Reads keep `auto`: their range conditions (the daily run's
/// `next_change <= $2`) need the value to pick an index.
const GENERIC_PLANS: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";

impl<'a> PgTx<'a> {
    pub(super) fn begin(
        mut conn: r2d2::PooledConnection<Manager>,
        keys: &'a DataKeys,
        mode: Mode,
    ) -> Result<PgTx<'a>> {
        // The transaction starts on the server with the first statement,
        // in the same round trip.
        match mode {
            Mode::Read => {}
            Mode::Snapshot => conn.defer("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            // Generic plans: see `GENERIC_PLANS`.
            Mode::Write => conn.defer(GENERIC_PLANS),
        }
        Ok(PgTx {
            conn,
            keys,
            audit: Vec::new(),
            writable: mode == Mode::Write,
            open: mode != Mode::Read,
            numbers: None,
        })
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        // Nothing to roll back if the transaction never reached the server.
        if self.open && !self.conn.discard_deferred() {
            if let Err(e) = self.conn.batch_execute("ROLLBACK") {
                tracing::debug!(error = %e, "rollback failed");
            }
        }
    }
}

impl PeopleRead for PgTx<'_> {
    fn find_person(&mut self, index: &[u8; 32]) -> Result<Option<i64>> {
        people::find(&mut self.conn, index)
    }
    fn identity(&mut self, person_id: i64) -> Result<Option<Identity>> {
        people::identity(&mut self.conn, self.keys, person_id)
    }
    fn load_people(&mut self, ids: &[i64], model_version: &str) -> Result<Vec<RawPerson>> {
        read::load_people(&mut self.conn, ids, model_version)
    }
    fn marked_people(&mut self, model_version: &str, limit: usize) -> Result<Vec<i64>> {
        people::marked(&mut self.conn, model_version, limit)
    }
    fn counts(&mut self, model_version: &str) -> Result<(u64, u64)> {
        people::counts(&mut self.conn, model_version)
    }
    fn latest_record_dates(
        &mut self,
        ids: &[i64],
        item: &str,
    ) -> Result<Vec<Option<jiff::civil::Date>>> {
        people::latest_record_dates(&mut self.conn, ids, item)
    }
}

impl PeopleWrite for PgTx<'_> {
    fn resolve_people(&mut self, keys: &[PersonKey<'_>]) -> Result<Vec<i64>> {
        people::resolve(&mut self.conn, self.keys, keys)
    }
    fn records_changed(&mut self, ids: &[i64], models: &[String]) -> Result<()> {
        people::records_changed(&mut self.conn, ids, models)
    }
    fn set_names(&mut self, names: &[(i64, &str)]) -> Result<()> {
        people::set_names(&mut self.conn, self.keys, names)?;
        rotation::set_next_names(&mut self.conn, self.keys, names)
    }
}

impl KeysWrite for PgTx<'_> {
    fn rotation(&mut self) -> Result<Option<crate::binding::NextKey>> {
        rotation::rotation(&mut self.conn)
    }
    fn start_rotation(&mut self, key_file: Option<&str>) -> Result<()> {
        rotation::start(&mut self.conn, self.keys, key_file)
    }
    fn people_to_rotate(&mut self, limit: usize) -> Result<Vec<ToRotate>> {
        rotation::people_to_rotate(&mut self.conn, self.keys, limit)
    }
    fn set_next_identities(
        &mut self,
        rows: &[(i64, [u8; 32], &chengxin_domain::IdNumber, Option<&str>)],
    ) -> Result<()> {
        rotation::set_next_identities(&mut self.conn, self.keys, rows)
    }
    fn records_to_rehash(&mut self, limit: usize) -> Result<Vec<ToRehash>> {
        rotation::records_to_rehash(&mut self.conn, limit)
    }
    fn set_next_hashes(&mut self, rows: &[(i64, Vec<u8>)]) -> Result<()> {
        rotation::set_next_hashes(&mut self.conn, rows)
    }
    fn rotation_remaining(&mut self) -> Result<(u64, u64)> {
        rotation::remaining(&mut self.conn)
    }
    fn switch_keys(&mut self) -> Result<bool> {
        rotation::switch(&mut self.conn)
    }
}

impl RecordsRead for PgTx<'_> {
    fn record_heads(&mut self, cases: &[(&str, &str)]) -> Result<Vec<Option<RecordHead>>> {
        records::heads(&mut self.conn, cases, self.writable)
    }
    fn head_of(&mut self, record_id: i64) -> Result<Option<RecordHead>> {
        records::head_of(&mut self.conn, record_id, self.writable)
    }
    fn person_records(&mut self, person_id: i64) -> Result<Vec<StoredRecord>> {
        records::of_person(&mut self.conn, person_id)
    }
}

impl RecordsWrite for PgTx<'_> {
    fn insert_records(&mut self, rows: &[NewVersion<'_>]) -> Result<Vec<i64>> {
        records::insert(&mut self.conn, rows)
    }
    fn set_record_status(&mut self, changes: &[StatusChange<'_>]) -> Result<()> {
        records::set_status(&mut self.conn, changes)
    }
}

impl ScoresRead for PgTx<'_> {
    fn score(&mut self, person_id: i64, model_version: &str) -> Result<Option<StoredScore>> {
        scores::score(&mut self.conn, person_id, model_version)
    }
    fn score_history(&mut self, person_id: i64) -> Result<Vec<HistoryEntry>> {
        scores::score_history(&mut self.conn, person_id)
    }
    fn grade_counts(&mut self, model_version: &str) -> Result<Vec<(Option<String>, u64)>> {
        scores::grade_counts(&mut self.conn, model_version)
    }
}

impl ScoresWrite for PgTx<'_> {
    fn save_scores(
        &mut self,
        rows: &[ScoreRow],
        stamp: &ModelStamp,
        cause: Cause,
    ) -> Result<Vec<ScoreChange>> {
        scores::save(&mut self.conn, rows, stamp, cause)
    }
}

impl ModelsRead for PgTx<'_> {
    fn active_model(&mut self) -> Result<Option<StoredModel>> {
        models::active(&mut self.conn)
    }
    fn models(&mut self) -> Result<Vec<StoredModel>> {
        models::all(&mut self.conn)
    }
    fn model_status(&mut self, version: &str) -> Result<Option<ModelStatus>> {
        models::status(&mut self.conn, version)
    }
}

impl ModelsWrite for PgTx<'_> {
    fn models_in_play(&mut self) -> Result<Vec<StoredModel>> {
        models::in_play(&mut self.conn)
    }
    fn put_staged_model(&mut self, model: &StoredModel) -> Result<()> {
        models::put_staged(&mut self.conn, model)
    }
    fn set_model_status(&mut self, version: &str, status: ModelStatus) -> Result<()> {
        models::set_status(&mut self.conn, version, status)
    }
    fn clear_marks(&mut self, version: &str) -> Result<()> {
        models::clear_marks(&mut self.conn, version)
    }
}

impl UnitsRead for PgTx<'_> {
    fn units(&mut self) -> Result<Vec<UnitRow>> {
        units::list(&mut self.conn)
    }
    fn unit_by_key(&mut self, key_hash: &[u8]) -> Result<Option<UnitRow>> {
        units::by_key(&mut self.conn, key_hash)
    }
}

impl UnitsWrite for PgTx<'_> {
    fn insert_unit(&mut self, unit: &UnitRow, key_hash: &[u8]) -> Result<bool> {
        units::add(&mut self.conn, unit, key_hash)
    }
    fn set_unit_key(&mut self, code: &str, key_hash: &[u8]) -> Result<bool> {
        units::set_key(&mut self.conn, code, key_hash)
    }
    fn disable_unit(&mut self, code: &str) -> Result<bool> {
        units::disable(&mut self.conn, code)
    }
}

impl BatchesRead for PgTx<'_> {
    fn batch(&mut self, id: &str) -> Result<Option<BatchRow>> {
        units::batch(&mut self.conn, id)
    }
    fn batch_by_key(&mut self, unit: &str, key: &str) -> Result<Option<BatchRow>> {
        units::batch_by_key(&mut self.conn, unit, key)
    }
}

impl BatchesWrite for PgTx<'_> {
    fn insert_batch(
        &mut self,
        id: &str,
        unit: &str,
        key: Option<&str>,
        lease_until: i64,
    ) -> Result<()> {
        units::insert_batch(&mut self.conn, id, unit, key, lease_until)
    }
    fn set_batch_lease(&mut self, id: &str, lease_until: i64) -> Result<()> {
        units::set_lease(&mut self.conn, id, lease_until)
    }
    fn complete_batch(
        &mut self,
        id: &str,
        owner: &str,
        body_hash: &[u8],
        receipt: &str,
    ) -> Result<bool> {
        units::complete(&mut self.conn, id, owner, body_hash, receipt)
    }
    fn claim_batch(&mut self, id: &str, owner: &str, lease_until: i64) -> Result<()> {
        units::claim(&mut self.conn, id, owner, lease_until)
    }
    fn renew_batch_lease(&mut self, id: &str, owner: &str, lease_until: i64) -> Result<bool> {
        units::renew(&mut self.conn, id, owner, lease_until)
    }
    fn batch_progress(
        &mut self,
        id: &str,
        owner: &str,
        progress: BatchProgress<'_>,
    ) -> Result<bool> {
        units::progress(&mut self.conn, id, owner, &progress)
    }
    fn interrupt_batch(&mut self, id: &str, owner: &str, receipt: &str) -> Result<bool> {
        units::interrupt(&mut self.conn, id, owner, receipt)
    }
}

impl AuditRead for PgTx<'_> {
    fn audit_entries(&mut self, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        audit::entries(&mut self.conn, after_seq, limit)
    }
    fn person_audit(
        &mut self,
        person: &str,
        except_actor: &str,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        audit::person_entries(&mut self.conn, person, except_actor, limit)
    }
    fn audit_head(&mut self) -> Result<(i64, String)> {
        audit::head(&mut self.conn)
    }
    fn audit_last_checkpoint(&mut self) -> Result<Option<AuditEntry>> {
        audit::last_checkpoint(&mut self.conn)
    }
    fn audit_pending(&mut self) -> Result<Vec<AuditEvent>> {
        audit::pending(&mut self.conn)
    }
    fn record_ids(&mut self, after: i64, limit: usize) -> Result<Vec<i64>> {
        audit::record_ids(&mut self.conn, after, limit)
    }
    fn history_counts(&mut self, after: i64, limit: usize) -> Result<Vec<(i64, i64)>> {
        audit::history_counts(&mut self.conn, after, limit)
    }
}

impl AuditWrite for PgTx<'_> {
    fn append_audit(&mut self, events: Vec<AuditEvent>) {
        self.audit.extend(events);
    }
}

impl SubmissionsRead for PgTx<'_> {
    fn submissions(&mut self, filter: &SubmissionFilter<'_>) -> Result<Vec<SubmittedRecord>> {
        submissions::list(&mut self.conn, filter)
    }
    fn submission(&mut self, record_id: i64) -> Result<Option<SubmittedRecord>> {
        submissions::one(&mut self.conn, record_id)
    }
    fn evidence_of(&mut self, record_ids: &[i64]) -> Result<Vec<EvidenceRef>> {
        submissions::evidence_of(&mut self.conn, record_ids)
    }
    fn evidence_content(&mut self, sha256: &[u8]) -> Result<Option<Vec<u8>>> {
        submissions::content(&mut self.conn, self.keys, sha256)
    }
}

impl SubmissionsWrite for PgTx<'_> {
    fn put_evidence(&mut self, files: &[NewEvidence<'_>]) -> Result<()> {
        submissions::put(&mut self.conn, self.keys, files)
    }
    fn link_evidence(&mut self, record_id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
        submissions::link(&mut self.conn, record_id, sha256s)
    }
}

impl CalendarRead for PgTx<'_> {
    fn calendar_years(&mut self) -> Result<Vec<StoredCalendarYear>> {
        calendar::years(&mut self.conn)
    }
}

impl CalendarWrite for PgTx<'_> {
    fn put_calendar_year(&mut self, year: i16, content: &str, loaded_by: &str) -> Result<bool> {
        calendar::put(&mut self.conn, year, content, loaded_by)
    }
}

impl DailyRead for PgTx<'_> {
    fn due_people(
        &mut self,
        version: &str,
        on: jiff::civil::Date,
        after: i64,
        limit: usize,
    ) -> Result<Vec<i64>> {
        daily::due(&mut self.conn, version, on, after, limit)
    }
    fn last_daily_run(&mut self) -> Result<Option<DailyRun>> {
        daily::last(&mut self.conn)
    }
}

impl DailyWrite for PgTx<'_> {
    fn claim_daily_run(&mut self, date: jiff::civil::Date, owner: &str) -> Result<bool> {
        daily::claim(&mut self.conn, date, owner)
    }
    fn finish_daily_run(&mut self, date: jiff::civil::Date, counts: DailyCounts) -> Result<()> {
        daily::finish(&mut self.conn, date, counts)
    }
}

impl StaffRead for PgTx<'_> {
    fn staff_members(&mut self) -> Result<Vec<StaffRow>> {
        staff::list(&mut self.conn)
    }
    fn staff_by_name(&mut self, name: &str) -> Result<Option<StaffRow>> {
        staff::by_name(&mut self.conn, name)
    }
    fn staff_session(&mut self, token_hash: &[u8]) -> Result<Option<StaffSessionRow>> {
        staff::session(&mut self.conn, token_hash)
    }
    fn resident_signed_out(&mut self, token_hash: &[u8]) -> Result<bool> {
        staff::resident_signed_out(&mut self.conn, token_hash)
    }
}

impl StaffWrite for PgTx<'_> {
    fn insert_staff(
        &mut self,
        name: &str,
        role: chengxin_domain::staff::Role,
        password_hash: &str,
        created_at: i64,
    ) -> Result<bool> {
        staff::insert(&mut self.conn, name, role, password_hash, created_at)
    }
    fn disable_staff(&mut self, name: &str) -> Result<bool> {
        staff::disable(&mut self.conn, name)
    }
    fn insert_staff_session(
        &mut self,
        token_hash: &[u8],
        staff_id: i64,
        created_at: i64,
        expires_at: i64,
    ) -> Result<()> {
        staff::insert_session(&mut self.conn, token_hash, staff_id, created_at, expires_at)
    }
    fn revoke_staff_session(&mut self, token_hash: &[u8]) -> Result<bool> {
        staff::revoke(&mut self.conn, token_hash)
    }
    fn revoke_staff_sessions_of(&mut self, staff_id: i64) -> Result<u64> {
        staff::revoke_all(&mut self.conn, staff_id)
    }
    fn sign_out_resident(&mut self, token_hash: &[u8], expires_at: i64, now: i64) -> Result<()> {
        staff::sign_out_resident(&mut self.conn, token_hash, expires_at, now)
    }
}

impl ObjectionsRead for PgTx<'_> {
    fn objections(&mut self, filter: &ObjectionFilter<'_>) -> Result<Vec<ObjectionRow>> {
        objections::list(&mut self.conn, filter)
    }
    fn objection(&mut self, id: i64) -> Result<Option<ObjectionRow>> {
        objections::one(&mut self.conn, id, self.writable)
    }
    fn objection_evidence(&mut self, ids: &[i64]) -> Result<Vec<ObjectionEvidenceRef>> {
        objections::evidence(&mut self.conn, ids)
    }
}

impl ObjectionsWrite for PgTx<'_> {
    fn insert_objection(&mut self, o: &NewObjection<'_>) -> Result<i64> {
        objections::insert(&mut self.conn, o)
    }
    fn update_objection(&mut self, o: &ObjectionRow) -> Result<()> {
        objections::update(&mut self.conn, o)
    }
    fn link_objection_evidence(&mut self, id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
        objections::link(&mut self.conn, id, sha256s)
    }
}

impl RepairsRead for PgTx<'_> {
    fn repair(&mut self, id: i64) -> Result<Option<RepairRow>> {
        repairs::get(&mut self.conn, id)
    }
    fn repairs(&mut self, filter: &RepairFilter) -> Result<Vec<RepairRow>> {
        repairs::list(&mut self.conn, filter)
    }
    fn pending_repair(&mut self, unit: &str, source_id: &str) -> Result<Option<i64>> {
        repairs::pending(&mut self.conn, unit, source_id)
    }
}

impl RepairsWrite for PgTx<'_> {
    fn insert_repair(&mut self, repair: &NewRepair<'_>) -> Result<i64> {
        repairs::insert(&mut self.conn, repair)
    }
    fn decide_repair(
        &mut self,
        id: i64,
        status: chengxin_domain::repair::ApplicationStatus,
        reason: Option<&str>,
        decided_by: &str,
    ) -> Result<bool> {
        repairs::decide(&mut self.conn, id, status, reason, decided_by)
    }
}
impl PartiesRead for PgTx<'_> {
    fn parties(&mut self) -> Result<Vec<PartyRow>> {
        parties::list(&mut self.conn)
    }
    fn party_by_code(&mut self, code: &str) -> Result<Option<PartyRow>> {
        parties::by_code(&mut self.conn, code)
    }
    fn party_by_key(&mut self, key_hash: &[u8]) -> Result<Option<(PartyRow, Vec<u8>)>> {
        parties::by_key(&mut self.conn, key_hash)
    }
    fn authorisations_of(&mut self, person_id: i64) -> Result<Vec<AuthorisationRow>> {
        parties::of_person(&mut self.conn, person_id)
    }
    fn authorisation(&mut self, id: i64) -> Result<Option<AuthorisationRow>> {
        parties::by_id(&mut self.conn, id, self.writable)
    }
    fn authorisation_by_code(&mut self, code_hash: &[u8]) -> Result<Option<AuthorisationRow>> {
        parties::by_code_hash(&mut self.conn, code_hash, self.writable)
    }
}

impl PartiesWrite for PgTx<'_> {
    fn insert_party(&mut self, party: &NewParty<'_>, key_hash: &[u8]) -> Result<bool> {
        parties::insert(&mut self.conn, party, key_hash)
    }
    fn set_party_key(&mut self, code: &str, key_hash: &[u8]) -> Result<bool> {
        parties::set_key(&mut self.conn, code, key_hash)
    }
    fn disable_party(&mut self, code: &str) -> Result<bool> {
        parties::disable(&mut self.conn, code)
    }
    fn lock_grants(&mut self, person_id: i64, party_id: i64) -> Result<()> {
        parties::lock_grants(&mut self.conn, person_id, party_id)
    }
    fn insert_authorisation(&mut self, a: &NewAuthorisation<'_>) -> Result<i64> {
        parties::insert_authorisation(&mut self.conn, a)
    }
    fn redeem_authorisation(&mut self, id: i64, at: i64) -> Result<bool> {
        parties::redeem(&mut self.conn, id, at)
    }
    fn revoke_authorisation(&mut self, id: i64, at: i64) -> Result<bool> {
        parties::revoke(&mut self.conn, id, at)
    }
    fn count_authorisation_use(&mut self, id: i64, seen: i64) -> Result<bool> {
        parties::count_use(&mut self.conn, id, seen)
    }
}
impl ScenariosRead for PgTx<'_> {
    fn scenarios(&mut self) -> Result<Vec<ScenarioRow>> {
        scenarios::list(&mut self.conn)
    }
    fn scenario(&mut self, code: &str) -> Result<Option<ScenarioRow>> {
        scenarios::by_code(&mut self.conn, code)
    }
}

impl ScenariosWrite for PgTx<'_> {
    fn insert_scenario(&mut self, row: &ScenarioRow) -> Result<bool> {
        scenarios::insert(&mut self.conn, row)
    }
    fn retire_scenario(&mut self, code: &str, at: i64) -> Result<bool> {
        scenarios::retire(&mut self.conn, code, at)
    }
}
impl CertificatesRead for PgTx<'_> {
    fn signing_keys(&mut self) -> Result<Vec<SigningKeyRow>> {
        certificates::signing_keys(&mut self.conn)
    }
    fn partners(&mut self) -> Result<Vec<PartnerRow>> {
        certificates::partners(&mut self.conn)
    }
    fn partner_by_issuer(&mut self, issuer: &str) -> Result<Option<PartnerRow>> {
        certificates::partner_by_issuer(&mut self.conn, issuer)
    }
}

impl CertificatesWrite for PgTx<'_> {
    fn insert_signing_key(&mut self, key: &SigningKeyRow) -> Result<()> {
        certificates::insert_signing_key(&mut self.conn, key)
    }
    fn retire_signing_keys_except(&mut self, kid: &str, at: i64) -> Result<u64> {
        certificates::retire_except(&mut self.conn, kid, at)
    }
    fn put_partner(&mut self, partner: &PartnerRow) -> Result<bool> {
        certificates::put_partner(&mut self.conn, partner)
    }
}
impl CatalogueRead for PgTx<'_> {
    fn data_versions(&mut self, kind: DataKind) -> Result<Vec<DataVersionRow>> {
        catalogue::versions(&mut self.conn, kind)
    }
    fn data_in_force(&mut self, kind: DataKind) -> Result<Option<DataVersionRow>> {
        catalogue::in_force(&mut self.conn, kind)
    }
    fn data_numbers(&mut self) -> Result<(i64, i64)> {
        if let Some(n) = self.numbers {
            return Ok(n);
        }
        let n = catalogue::numbers(&mut self.conn)?;
        if self.writable {
            self.numbers = Some(n);
        }
        Ok(n)
    }
    fn record_fields_after(&mut self, after_id: i64, limit: usize) -> Result<Vec<RecordFieldsRow>> {
        catalogue::fields_after(&mut self.conn, after_id, limit)
    }
}

impl CatalogueWrite for PgTx<'_> {
    fn lock_data_versions(&mut self) -> Result<()> {
        self.numbers = None;
        catalogue::lock(&mut self.conn)
    }
    fn insert_data_version(&mut self, row: &DataVersionRow) -> Result<bool> {
        self.numbers = None;
        catalogue::insert(&mut self.conn, row)
    }
}

impl StatsRead for PgTx<'_> {
    fn score_buckets(&mut self, model_version: &str, width: u32) -> Result<Vec<ScoreBucket>> {
        stats::score_buckets(&mut self.conn, model_version, width)
    }
    fn region_counts(&mut self) -> Result<Vec<(Option<String>, u64)>> {
        stats::region_counts(&mut self.conn)
    }
    fn received_per_unit_day(&mut self, window: ReceivedWindow) -> Result<Vec<UnitDay>> {
        stats::received_per_unit_day(&mut self.conn, window)
    }
    fn people_without_region(
        &mut self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, chengxin_domain::IdNumber)>> {
        stats::people_without_region(&mut self.conn, self.keys, after, limit)
    }
}

impl StatsWrite for PgTx<'_> {
    fn set_regions(&mut self, regions: &[(i64, &str)]) -> Result<()> {
        stats::set_regions(&mut self.conn, regions)
    }
}

impl ReadTx for PgTx<'_> {}

impl WriteTx for PgTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        let events = std::mem::take(&mut self.audit);
        if !events.is_empty() {
            audit::stage_and_commit(&mut self.conn, events)?;
        } else if !self.conn.discard_deferred() {
            // (A unit of work that sent nothing has nothing to commit.)
            self.conn.batch_execute("COMMIT")?;
        }
        self.open = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes plan their prepared statements generically; reads do not.
    #[test]
    fn write_transactions_use_generic_plans_and_reads_do_not() {
        let Some(db) = chengxin_testkit::TestDb::postgres() else {
            return;
        };
        let pool = r2d2::Pool::builder()
            .max_size(1)
            .build(Manager::from_url(&db.url).unwrap())
            .unwrap();
        let keys = DataKeys::from_master([1; 32]);
        let mode_in = |mode: Mode| {
            let mut tx = PgTx::begin(pool.get().unwrap(), &keys, mode).unwrap();
            let rows = tx.conn.simple_last("SHOW plan_cache_mode").unwrap();
            rows[0].get(0).unwrap().to_owned()
        };
        assert_eq!(mode_in(Mode::Write), "force_generic_plan");
        // SET LOCAL ended with the transaction: the session is back to auto.
        assert_eq!(mode_in(Mode::Read), "auto");
        assert_eq!(mode_in(Mode::Snapshot), "auto");
    }
}
