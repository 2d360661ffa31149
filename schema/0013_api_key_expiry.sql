-- An API key may expire (`vigil apikey create NAME --expires 90d`); one without an expiry never does.
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
