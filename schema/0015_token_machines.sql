-- A push token may be bound to host-name patterns (`vigil integration token NAME --machines 'web-*'`):
-- its pushes may only carry data of machines whose names match one. '' binds it to none: any machine.
ALTER TABLE access_tokens ADD COLUMN machines TEXT NOT NULL DEFAULT '';
