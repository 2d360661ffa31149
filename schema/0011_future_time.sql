-- Events dated more than the allowed skew after the moment they arrived are stored, but
-- flagged: they never move correlation time, and an analyst can find them.
ALTER TABLE events ADD COLUMN future_time INTEGER NOT NULL DEFAULT 0;
