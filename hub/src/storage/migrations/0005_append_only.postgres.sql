-- PostgreSQL: the chained tables and their links refuse UPDATE, DELETE and TRUNCATE; heads may
-- move forward only. (A deployment also runs the hub as a role without UPDATE/DELETE grants on
-- these tables: docs/INTEGRITY.md.)
CREATE OR REPLACE FUNCTION remotedx_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
CREATE OR REPLACE FUNCTION remotedx_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.chain <> OLD.chain OR NEW.seq < OLD.seq
       OR NEW.backfilled < OLD.backfilled THEN
        RAISE EXCEPTION 'chain_heads only move forward: % refused', TG_OP;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER reports_append_only BEFORE UPDATE OR DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER reports_no_truncate BEFORE TRUNCATE ON reports
    FOR EACH STATEMENT EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER recognition_ledger_append_only BEFORE UPDATE OR DELETE ON recognition_ledger
    FOR EACH ROW EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER recognition_ledger_no_truncate BEFORE TRUNCATE ON recognition_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER chain_links_append_only BEFORE UPDATE OR DELETE ON chain_links
    FOR EACH ROW EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER chain_links_no_truncate BEFORE TRUNCATE ON chain_links
    FOR EACH STATEMENT EXECUTE FUNCTION remotedx_append_only();
CREATE TRIGGER chain_heads_forward_only BEFORE UPDATE OR DELETE ON chain_heads
    FOR EACH ROW EXECUTE FUNCTION remotedx_forward_only();
CREATE TRIGGER chain_heads_no_truncate BEFORE TRUNCATE ON chain_heads
    FOR EACH STATEMENT EXECUTE FUNCTION remotedx_append_only();
