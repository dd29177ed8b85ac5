//! The SQLite unit of work: a transaction on the writer (write) or on a
//! pooled reader (read), implementing every area's primitives by calling
//! the area modules. Rolled back when dropped uncommitted.

use std::ops::Deref;
use std::path::Path;
use std::sync::MutexGuard;

use chengxin_domain::audit::{AuditEntry, AuditEvent};
use chengxin_domain::publication::ModelStatus;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, TransactionBehavior};

use super::{
    audit, calendar, catalogue, certificates, daily, models, objections, parties, people, records,
    repairs, rotation, scenarios, scores, staff, stats, submissions, units,
};
use crate::crypto::DataKeys;
use crate::uow::*;
use crate::{
    BatchRow, Cause, HistoryEntry, ModelStamp, RawPerson, Result, ScoreChange, ScoreRow,
    StoredModel, StoredRecord, StoredScore, UnitRow,
};

/// The connection a unit of work runs on.
pub(super) enum Handle<'a> {
    Writer(MutexGuard<'a, Connection>),
    Reader(r2d2::PooledConnection<SqliteConnectionManager>),
}

impl Deref for Handle<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Handle::Writer(c) => c,
            Handle::Reader(c) => c,
        }
    }
}

/// An open transaction and the audit entries it will append.
pub(super) struct SqliteTx<'a> {
    conn: Handle<'a>,
    keys: &'a DataKeys,
    /// Where evidence files live (beside the database).
    evidence: &'a Path,
    audit: Vec<AuditEvent>,
    open: bool,
}

impl<'a> SqliteTx<'a> {
    pub(super) fn begin(
        conn: Handle<'a>,
        keys: &'a DataKeys,
        evidence: &'a Path,
        behavior: TransactionBehavior,
    ) -> Result<SqliteTx<'a>> {
        conn.execute_batch(match behavior {
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            _ => "BEGIN DEFERRED",
        })?;
        Ok(SqliteTx {
            conn,
            keys,
            evidence,
            audit: Vec::new(),
            open: true,
        })
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::debug!(error = %e, "rollback failed");
            }
        }
    }
}

impl PeopleRead for SqliteTx<'_> {
    fn find_person(&mut self, index: &[u8; 32]) -> Result<Option<i64>> {
        people::find(&self.conn, index)
    }
    fn identity(&mut self, person_id: i64) -> Result<Option<Identity>> {
        people::identity(&self.conn, self.keys, person_id)
    }
    fn load_people(&mut self, ids: &[i64], model_version: &str) -> Result<Vec<RawPerson>> {
        people::load(&self.conn, ids, model_version)
    }
    fn marked_people(&mut self, model_version: &str, limit: usize) -> Result<Vec<i64>> {
        people::marked(&self.conn, model_version, limit)
    }
    fn counts(&mut self, model_version: &str) -> Result<(u64, u64)> {
        people::counts(&self.conn, model_version)
    }
    fn latest_record_dates(
        &mut self,
        ids: &[i64],
        item: &str,
    ) -> Result<Vec<Option<jiff::civil::Date>>> {
        people::latest_record_dates(&self.conn, ids, item)
    }
}

impl PeopleWrite for SqliteTx<'_> {
    fn resolve_people(&mut self, keys: &[PersonKey<'_>]) -> Result<Vec<i64>> {
        people::resolve(&self.conn, self.keys, keys)
    }
    fn records_changed(&mut self, ids: &[i64], models: &[String]) -> Result<()> {
        people::records_changed(&self.conn, ids, models)
    }
    fn set_names(&mut self, names: &[(i64, &str)]) -> Result<()> {
        people::set_names(&self.conn, self.keys, names)?;
        rotation::set_next_names(&self.conn, self.keys, names)
    }
}

impl KeysWrite for SqliteTx<'_> {
    fn rotation(&mut self) -> Result<Option<crate::binding::NextKey>> {
        rotation::rotation(&self.conn)
    }
    fn start_rotation(&mut self, key_file: Option<&str>) -> Result<()> {
        rotation::start(&self.conn, self.keys, key_file)
    }
    fn people_to_rotate(&mut self, limit: usize) -> Result<Vec<ToRotate>> {
        rotation::people_to_rotate(&self.conn, self.keys, limit)
    }
    fn set_next_identities(
        &mut self,
        rows: &[(i64, [u8; 32], &chengxin_domain::IdNumber, Option<&str>)],
    ) -> Result<()> {
        rotation::set_next_identities(&self.conn, self.keys, rows)
    }
    fn records_to_rehash(&mut self, limit: usize) -> Result<Vec<ToRehash>> {
        rotation::records_to_rehash(&self.conn, limit)
    }
    fn set_next_hashes(&mut self, rows: &[(i64, Vec<u8>)]) -> Result<()> {
        rotation::set_next_hashes(&self.conn, rows)
    }
    fn rotation_remaining(&mut self) -> Result<(u64, u64)> {
        rotation::remaining(&self.conn)
    }
    fn switch_keys(&mut self) -> Result<bool> {
        rotation::switch(&self.conn)
    }
}

impl RecordsRead for SqliteTx<'_> {
    fn record_heads(&mut self, cases: &[(&str, &str)]) -> Result<Vec<Option<RecordHead>>> {
        records::heads(&self.conn, cases)
    }
    fn head_of(&mut self, record_id: i64) -> Result<Option<RecordHead>> {
        records::head_of(&self.conn, record_id)
    }
    fn person_records(&mut self, person_id: i64) -> Result<Vec<StoredRecord>> {
        records::of_person(&self.conn, person_id)
    }
}

impl RecordsWrite for SqliteTx<'_> {
    fn insert_records(&mut self, rows: &[NewVersion<'_>]) -> Result<Vec<i64>> {
        records::insert(&self.conn, rows)
    }
    fn set_record_status(&mut self, changes: &[StatusChange<'_>]) -> Result<()> {
        records::set_status(&self.conn, changes)
    }
}

impl ScoresRead for SqliteTx<'_> {
    fn score(&mut self, person_id: i64, model_version: &str) -> Result<Option<StoredScore>> {
        scores::score(&self.conn, person_id, model_version)
    }
    fn score_history(&mut self, person_id: i64) -> Result<Vec<HistoryEntry>> {
        scores::history(&self.conn, person_id)
    }
    fn grade_counts(&mut self, model_version: &str) -> Result<Vec<(Option<String>, u64)>> {
        scores::grade_counts(&self.conn, model_version)
    }
}

impl ScoresWrite for SqliteTx<'_> {
    fn save_scores(
        &mut self,
        rows: &[ScoreRow],
        stamp: &ModelStamp,
        cause: Cause,
    ) -> Result<Vec<ScoreChange>> {
        scores::save(&self.conn, rows, stamp, cause)
    }
}

impl ModelsRead for SqliteTx<'_> {
    fn active_model(&mut self) -> Result<Option<StoredModel>> {
        models::active(&self.conn)
    }
    fn models(&mut self) -> Result<Vec<StoredModel>> {
        models::all(&self.conn)
    }
    fn model_status(&mut self, version: &str) -> Result<Option<ModelStatus>> {
        models::status(&self.conn, version)
    }
}

/// The single writer orders every unit of work, so reading the models in
/// play needs no lock of its own here.
impl ModelsWrite for SqliteTx<'_> {
    fn models_in_play(&mut self) -> Result<Vec<StoredModel>> {
        models::in_play(&self.conn)
    }
    fn put_staged_model(&mut self, model: &StoredModel) -> Result<()> {
        models::put_staged(&self.conn, model)
    }
    fn set_model_status(&mut self, version: &str, status: ModelStatus) -> Result<()> {
        models::set_status(&self.conn, version, status)
    }
    fn clear_marks(&mut self, version: &str) -> Result<()> {
        models::clear_marks(&self.conn, version)
    }
}

impl UnitsRead for SqliteTx<'_> {
    fn units(&mut self) -> Result<Vec<UnitRow>> {
        units::list(&self.conn)
    }
    fn unit_by_key(&mut self, key_hash: &[u8]) -> Result<Option<UnitRow>> {
        units::by_key(&self.conn, key_hash)
    }
}

impl UnitsWrite for SqliteTx<'_> {
    fn insert_unit(&mut self, unit: &UnitRow, key_hash: &[u8]) -> Result<bool> {
        units::add(&self.conn, unit, key_hash)
    }
    fn set_unit_key(&mut self, code: &str, key_hash: &[u8]) -> Result<bool> {
        units::set_key(&self.conn, code, key_hash)
    }
    fn disable_unit(&mut self, code: &str) -> Result<bool> {
        units::disable(&self.conn, code)
    }
}

impl BatchesRead for SqliteTx<'_> {
    fn batch(&mut self, id: &str) -> Result<Option<BatchRow>> {
        units::batch(&self.conn, id)
    }
    fn batch_by_key(&mut self, unit: &str, key: &str) -> Result<Option<BatchRow>> {
        units::batch_by_key(&self.conn, unit, key)
    }
}

impl BatchesWrite for SqliteTx<'_> {
    fn insert_batch(
        &mut self,
        id: &str,
        unit: &str,
        key: Option<&str>,
        lease_until: i64,
    ) -> Result<()> {
        units::insert_batch(&self.conn, id, unit, key, lease_until)
    }
    fn set_batch_lease(&mut self, id: &str, lease_until: i64) -> Result<()> {
        units::set_lease(&self.conn, id, lease_until)
    }
    fn complete_batch(
        &mut self,
        id: &str,
        owner: &str,
        body_hash: &[u8],
        receipt: &str,
    ) -> Result<bool> {
        units::complete(&self.conn, id, owner, body_hash, receipt)
    }
    fn claim_batch(&mut self, id: &str, owner: &str, lease_until: i64) -> Result<()> {
        units::claim(&self.conn, id, owner, lease_until)
    }
    fn renew_batch_lease(&mut self, id: &str, owner: &str, lease_until: i64) -> Result<bool> {
        units::renew(&self.conn, id, owner, lease_until)
    }
    fn batch_progress(
        &mut self,
        id: &str,
        owner: &str,
        progress: BatchProgress<'_>,
    ) -> Result<bool> {
        units::progress(&self.conn, id, owner, &progress)
    }
    fn interrupt_batch(&mut self, id: &str, owner: &str, receipt: &str) -> Result<bool> {
        units::interrupt(&self.conn, id, owner, receipt)
    }
}

impl AuditRead for SqliteTx<'_> {
    fn audit_entries(&mut self, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        audit::entries(&self.conn, after_seq, limit)
    }
    fn person_audit(
        &mut self,
        person: &str,
        except_actor: &str,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        audit::person_entries(&self.conn, person, except_actor, limit)
    }
    fn audit_head(&mut self) -> Result<(i64, String)> {
        audit::head(&self.conn)
    }
    fn audit_last_checkpoint(&mut self) -> Result<Option<AuditEntry>> {
        audit::last_checkpoint(&self.conn)
    }
    /// Writes chain as they commit; read entries waiting in the journal
    /// cover no data rows.
    fn audit_pending(&mut self) -> Result<Vec<AuditEvent>> {
        Ok(Vec::new())
    }
    fn record_ids(&mut self, after: i64, limit: usize) -> Result<Vec<i64>> {
        audit::record_ids(&self.conn, after, limit)
    }
    fn history_counts(&mut self, after: i64, limit: usize) -> Result<Vec<(i64, i64)>> {
        audit::history_counts(&self.conn, after, limit)
    }
}

impl AuditWrite for SqliteTx<'_> {
    fn append_audit(&mut self, events: Vec<AuditEvent>) {
        self.audit.extend(events);
    }
}

impl SubmissionsRead for SqliteTx<'_> {
    fn submissions(&mut self, filter: &SubmissionFilter<'_>) -> Result<Vec<SubmittedRecord>> {
        submissions::list(&self.conn, filter)
    }
    fn submission(&mut self, record_id: i64) -> Result<Option<SubmittedRecord>> {
        submissions::one(&self.conn, record_id)
    }
    fn evidence_of(&mut self, record_ids: &[i64]) -> Result<Vec<EvidenceRef>> {
        submissions::evidence_of(&self.conn, record_ids)
    }
    fn evidence_content(&mut self, sha256: &[u8]) -> Result<Option<Vec<u8>>> {
        submissions::content(&self.conn, self.keys, self.evidence, sha256)
    }
}

impl SubmissionsWrite for SqliteTx<'_> {
    fn put_evidence(&mut self, files: &[NewEvidence<'_>]) -> Result<()> {
        submissions::put(&self.conn, self.keys, self.evidence, files)
    }
    fn link_evidence(&mut self, record_id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
        submissions::link(&self.conn, record_id, sha256s)
    }
}

impl CalendarRead for SqliteTx<'_> {
    fn calendar_years(&mut self) -> Result<Vec<StoredCalendarYear>> {
        calendar::years(&self.conn)
    }
}

impl CalendarWrite for SqliteTx<'_> {
    fn put_calendar_year(&mut self, year: i16, content: &str, loaded_by: &str) -> Result<bool> {
        calendar::put(&self.conn, year, content, loaded_by)
    }
}

impl DailyRead for SqliteTx<'_> {
    fn due_people(
        &mut self,
        version: &str,
        on: jiff::civil::Date,
        after: i64,
        limit: usize,
    ) -> Result<Vec<i64>> {
        daily::due(&self.conn, version, on, after, limit)
    }
    fn last_daily_run(&mut self) -> Result<Option<DailyRun>> {
        daily::last(&self.conn)
    }
}

impl DailyWrite for SqliteTx<'_> {
    fn claim_daily_run(&mut self, date: jiff::civil::Date, owner: &str) -> Result<bool> {
        daily::claim(&self.conn, date, owner)
    }
    fn finish_daily_run(&mut self, date: jiff::civil::Date, counts: DailyCounts) -> Result<()> {
        daily::finish(&self.conn, date, counts)
    }
}

impl StaffRead for SqliteTx<'_> {
    fn staff_members(&mut self) -> Result<Vec<StaffRow>> {
        staff::list(&self.conn)
    }
    fn staff_by_name(&mut self, name: &str) -> Result<Option<StaffRow>> {
        staff::by_name(&self.conn, name)
    }
    fn staff_session(&mut self, token_hash: &[u8]) -> Result<Option<StaffSessionRow>> {
        staff::session(&self.conn, token_hash)
    }
    fn resident_signed_out(&mut self, token_hash: &[u8]) -> Result<bool> {
        staff::resident_signed_out(&self.conn, token_hash)
    }
}

impl StaffWrite for SqliteTx<'_> {
    fn insert_staff(
        &mut self,
        name: &str,
        role: chengxin_domain::staff::Role,
        password_hash: &str,
        created_at: i64,
    ) -> Result<bool> {
        staff::insert(&self.conn, name, role, password_hash, created_at)
    }
    fn disable_staff(&mut self, name: &str) -> Result<bool> {
        staff::disable(&self.conn, name)
    }
    fn insert_staff_session(
        &mut self,
        token_hash: &[u8],
        staff_id: i64,
        created_at: i64,
        expires_at: i64,
    ) -> Result<()> {
        staff::insert_session(&self.conn, token_hash, staff_id, created_at, expires_at)
    }
    fn revoke_staff_session(&mut self, token_hash: &[u8]) -> Result<bool> {
        staff::revoke(&self.conn, token_hash)
    }
    fn revoke_staff_sessions_of(&mut self, staff_id: i64) -> Result<u64> {
        staff::revoke_all(&self.conn, staff_id)
    }
    fn sign_out_resident(&mut self, token_hash: &[u8], expires_at: i64, now: i64) -> Result<()> {
        staff::sign_out_resident(&self.conn, token_hash, expires_at, now)
    }
}

impl ObjectionsRead for SqliteTx<'_> {
    fn objections(&mut self, filter: &ObjectionFilter<'_>) -> Result<Vec<ObjectionRow>> {
        objections::list(&self.conn, filter)
    }
    fn objection(&mut self, id: i64) -> Result<Option<ObjectionRow>> {
        objections::one(&self.conn, id)
    }
    fn objection_evidence(&mut self, ids: &[i64]) -> Result<Vec<ObjectionEvidenceRef>> {
        objections::evidence(&self.conn, ids)
    }
}

impl ObjectionsWrite for SqliteTx<'_> {
    fn insert_objection(&mut self, o: &NewObjection<'_>) -> Result<i64> {
        objections::insert(&self.conn, o)
    }
    fn update_objection(&mut self, o: &ObjectionRow) -> Result<()> {
        objections::update(&self.conn, o)
    }
    fn link_objection_evidence(&mut self, id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
        objections::link(&self.conn, id, sha256s)
    }
}

impl RepairsRead for SqliteTx<'_> {
    fn repair(&mut self, id: i64) -> Result<Option<RepairRow>> {
        repairs::get(&self.conn, id)
    }
    fn repairs(&mut self, filter: &RepairFilter) -> Result<Vec<RepairRow>> {
        repairs::list(&self.conn, filter)
    }
    fn pending_repair(&mut self, unit: &str, source_id: &str) -> Result<Option<i64>> {
        repairs::pending(&self.conn, unit, source_id)
    }
}

impl RepairsWrite for SqliteTx<'_> {
    fn insert_repair(&mut self, repair: &NewRepair<'_>) -> Result<i64> {
        repairs::insert(&self.conn, repair)
    }
    fn decide_repair(
        &mut self,
        id: i64,
        status: chengxin_domain::repair::ApplicationStatus,
        reason: Option<&str>,
        decided_by: &str,
    ) -> Result<bool> {
        repairs::decide(&self.conn, id, status, reason, decided_by)
    }
}
impl PartiesRead for SqliteTx<'_> {
    fn parties(&mut self) -> Result<Vec<PartyRow>> {
        parties::list(&self.conn)
    }
    fn party_by_code(&mut self, code: &str) -> Result<Option<PartyRow>> {
        parties::by_code(&self.conn, code)
    }
    fn party_by_key(&mut self, key_hash: &[u8]) -> Result<Option<(PartyRow, Vec<u8>)>> {
        parties::by_key(&self.conn, key_hash)
    }
    fn authorisations_of(&mut self, person_id: i64) -> Result<Vec<AuthorisationRow>> {
        parties::of_person(&self.conn, person_id)
    }
    fn authorisation(&mut self, id: i64) -> Result<Option<AuthorisationRow>> {
        parties::by_id(&self.conn, id)
    }
    fn authorisation_by_code(&mut self, code_hash: &[u8]) -> Result<Option<AuthorisationRow>> {
        parties::by_code_hash(&self.conn, code_hash)
    }
}

impl PartiesWrite for SqliteTx<'_> {
    fn insert_party(&mut self, party: &NewParty<'_>, key_hash: &[u8]) -> Result<bool> {
        parties::insert(&self.conn, party, key_hash)
    }
    fn set_party_key(&mut self, code: &str, key_hash: &[u8]) -> Result<bool> {
        parties::set_key(&self.conn, code, key_hash)
    }
    fn disable_party(&mut self, code: &str) -> Result<bool> {
        parties::disable(&self.conn, code)
    }
    fn lock_grants(&mut self, _person_id: i64, _party_id: i64) -> Result<()> {
        // Write units of work already run one at a time on the writer.
        Ok(())
    }
    fn insert_authorisation(&mut self, a: &NewAuthorisation<'_>) -> Result<i64> {
        parties::insert_authorisation(&self.conn, a)
    }
    fn redeem_authorisation(&mut self, id: i64, at: i64) -> Result<bool> {
        parties::redeem(&self.conn, id, at)
    }
    fn revoke_authorisation(&mut self, id: i64, at: i64) -> Result<bool> {
        parties::revoke(&self.conn, id, at)
    }
    fn count_authorisation_use(&mut self, id: i64, seen: i64) -> Result<bool> {
        parties::count_use(&self.conn, id, seen)
    }
}
impl ScenariosRead for SqliteTx<'_> {
    fn scenarios(&mut self) -> Result<Vec<ScenarioRow>> {
        scenarios::list(&self.conn)
    }
    fn scenario(&mut self, code: &str) -> Result<Option<ScenarioRow>> {
        scenarios::by_code(&self.conn, code)
    }
}

impl ScenariosWrite for SqliteTx<'_> {
    fn insert_scenario(&mut self, row: &ScenarioRow) -> Result<bool> {
        scenarios::insert(&self.conn, row)
    }
    fn retire_scenario(&mut self, code: &str, at: i64) -> Result<bool> {
        scenarios::retire(&self.conn, code, at)
    }
}
impl CertificatesRead for SqliteTx<'_> {
    fn signing_keys(&mut self) -> Result<Vec<SigningKeyRow>> {
        certificates::signing_keys(&self.conn)
    }
    fn partners(&mut self) -> Result<Vec<PartnerRow>> {
        certificates::partners(&self.conn)
    }
    fn partner_by_issuer(&mut self, issuer: &str) -> Result<Option<PartnerRow>> {
        certificates::partner_by_issuer(&self.conn, issuer)
    }
}

impl CertificatesWrite for SqliteTx<'_> {
    fn insert_signing_key(&mut self, key: &SigningKeyRow) -> Result<()> {
        certificates::insert_signing_key(&self.conn, key)
    }
    fn retire_signing_keys_except(&mut self, kid: &str, at: i64) -> Result<u64> {
        certificates::retire_except(&self.conn, kid, at)
    }
    fn put_partner(&mut self, partner: &PartnerRow) -> Result<bool> {
        certificates::put_partner(&self.conn, partner)
    }
}
impl CatalogueRead for SqliteTx<'_> {
    fn data_versions(&mut self, kind: DataKind) -> Result<Vec<DataVersionRow>> {
        catalogue::versions(&self.conn, kind)
    }
    fn data_in_force(&mut self, kind: DataKind) -> Result<Option<DataVersionRow>> {
        catalogue::in_force(&self.conn, kind)
    }
    fn data_numbers(&mut self) -> Result<(i64, i64)> {
        catalogue::numbers(&self.conn)
    }
    fn record_fields_after(&mut self, after_id: i64, limit: usize) -> Result<Vec<RecordFieldsRow>> {
        catalogue::fields_after(&self.conn, after_id, limit)
    }
}

impl CatalogueWrite for SqliteTx<'_> {
    fn lock_data_versions(&mut self) -> Result<()> {
        Ok(())
    }
    fn insert_data_version(&mut self, row: &DataVersionRow) -> Result<bool> {
        catalogue::insert(&self.conn, row)
    }
}

impl StatsRead for SqliteTx<'_> {
    fn score_buckets(&mut self, model_version: &str, width: u32) -> Result<Vec<ScoreBucket>> {
        stats::score_buckets(&self.conn, model_version, width)
    }
    fn region_counts(&mut self) -> Result<Vec<(Option<String>, u64)>> {
        stats::region_counts(&self.conn)
    }
    fn received_per_unit_day(&mut self, window: ReceivedWindow) -> Result<Vec<UnitDay>> {
        stats::received_per_unit_day(&self.conn, window)
    }
    fn people_without_region(
        &mut self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, chengxin_domain::IdNumber)>> {
        stats::people_without_region(&self.conn, self.keys, after, limit)
    }
}

impl StatsWrite for SqliteTx<'_> {
    fn set_regions(&mut self, regions: &[(i64, &str)]) -> Result<()> {
        stats::set_regions(&self.conn, regions)
    }
}

impl ReadTx for SqliteTx<'_> {}

impl WriteTx for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        let events = std::mem::take(&mut self.audit);
        if !events.is_empty() {
            audit::append(&self.conn, crate::audit_key(self.keys)?, events)?;
        }
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}
