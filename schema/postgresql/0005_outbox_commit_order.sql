-- Outbox ids in commit order. Delivery and the live stream read the outbox after a cursor, so
-- an entry must never become visible with an id below one already read. On SQLite the single
-- writer commits in id order. On PostgreSQL, nodes' transactions take ids from the sequence as
-- they insert and commit in any order: a transaction that took id 10 and committed after
-- another took and committed id 11 would be skipped by a reader already past 11.
--
-- So each entry is numbered again when its transaction commits: a deferred trigger takes a
-- transaction-scoped advisory lock ("VIGILOBX" in ASCII), then gives the entry the next id.
-- The lock is released after the commit is visible, so ids become visible in increasing order.
-- It is the last lock a transaction takes, and it is held only through the commit, so it
-- cannot close a cycle with the row locks taken before it.
CREATE FUNCTION outbox_number_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(6217579140700127832);
    UPDATE outbox SET id = nextval('outbox_id_seq') WHERE id = NEW.id;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER outbox_number_at_commit AFTER INSERT ON outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION outbox_number_at_commit();
