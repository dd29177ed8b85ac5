-- Residents read who accessed their data (GET /me/access-log): entries by person.
CREATE INDEX audit_log_person ON audit_log (person, seq) WHERE person IS NOT NULL;
