-- SQLite: the chained tables and their links refuse UPDATE and DELETE; heads may move forward only.
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only: DELETE refused'); END;
CREATE TRIGGER reports_append_only_update BEFORE UPDATE ON reports
BEGIN SELECT RAISE(ABORT, 'reports is append-only (a new version is a new row): UPDATE refused'); END;
CREATE TRIGGER reports_append_only_delete BEFORE DELETE ON reports
BEGIN SELECT RAISE(ABORT, 'reports is append-only: DELETE refused'); END;
CREATE TRIGGER recognition_ledger_append_only_update BEFORE UPDATE ON recognition_ledger
BEGIN SELECT RAISE(ABORT, 'recognition_ledger is append-only (a correction is a reversal row): UPDATE refused'); END;
CREATE TRIGGER recognition_ledger_append_only_delete BEFORE DELETE ON recognition_ledger
BEGIN SELECT RAISE(ABORT, 'recognition_ledger is append-only: DELETE refused'); END;
CREATE TRIGGER chain_links_append_only_update BEFORE UPDATE ON chain_links
BEGIN SELECT RAISE(ABORT, 'chain_links is append-only: UPDATE refused'); END;
CREATE TRIGGER chain_links_append_only_delete BEFORE DELETE ON chain_links
BEGIN SELECT RAISE(ABORT, 'chain_links is append-only: DELETE refused'); END;
CREATE TRIGGER chain_heads_forward_only BEFORE UPDATE ON chain_heads
    WHEN NEW.chain <> OLD.chain OR NEW.seq < OLD.seq OR NEW.backfilled < OLD.backfilled
BEGIN SELECT RAISE(ABORT, 'chain_heads only move forward: UPDATE refused'); END;
CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads
BEGIN SELECT RAISE(ABORT, 'chain_heads: DELETE refused'); END;
