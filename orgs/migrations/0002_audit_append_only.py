"""Make the audit trail append-only in the database itself.

A row-level BEFORE trigger refuses UPDATE and DELETE on orgs_auditevent, so
neither the ORM nor a stray SQL session can rewrite history; the hash chain
(``manage.py verify_audit``) then catches whatever gets past the trigger.

TRUNCATE is deliberately not guarded. A statement-level ``BEFORE TRUNCATE``
trigger would also refuse Django's test flush: pytest-django's transactional
tests (and TransactionTestCase) empty every table between tests with
``TRUNCATE`` (``DatabaseOperations.sql_flush`` on PostgreSQL), which fires no
row-level triggers, so the UPDATE/DELETE guard does not get in their way.
TRUNCATE needs the TRUNCATE privilege or table ownership, and an emptied table
still shows up in ``verify_audit`` because the chain head keeps the newest seq.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION orgs_auditevent_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'orgs_auditevent is append-only: % refused', TG_OP
        USING HINT = 'Audit events are never changed or removed; record a new event instead.';
END;
$$;

CREATE TRIGGER orgs_auditevent_append_only
    BEFORE UPDATE OR DELETE ON orgs_auditevent
    FOR EACH ROW EXECUTE FUNCTION orgs_auditevent_refuse_change();

-- The chain head moves forward only; deleting it would wedge every later append.
CREATE FUNCTION orgs_auditchainhead_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq THEN
        RAISE EXCEPTION 'orgs_auditchainhead only moves forward: % refused', TG_OP;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER orgs_auditchainhead_forward_only
    BEFORE UPDATE OR DELETE ON orgs_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION orgs_auditchainhead_guard();
"""

REVERSE = """
DROP TRIGGER IF EXISTS orgs_auditchainhead_forward_only ON orgs_auditchainhead;
DROP FUNCTION IF EXISTS orgs_auditchainhead_guard();
DROP TRIGGER IF EXISTS orgs_auditevent_append_only ON orgs_auditevent;
DROP FUNCTION IF EXISTS orgs_auditevent_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=REVERSE)]
