-- A random id for this database, made once. Keychain entries are filed under it and the account id, so two
-- data folders (a desk's and a test's, or two profiles) with an account of the same name never share,
-- overwrite or delete each other's secrets.
CREATE TABLE store_identity (
    id TEXT NOT NULL
);
INSERT INTO store_identity (id) VALUES (lower(hex(randomblob(16))));
