-- An API key may also administer integrations over HTTP (toggle, issue push tokens).
ALTER TABLE api_keys ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
