-- A OneNET account may talk plain http to a non-loopback host (OneNET documents only http://ota.heclouds.com),
-- but only when the user chose it explicitly; the account list shows which accounts do.
ALTER TABLE accounts ADD COLUMN allow_http INTEGER NOT NULL DEFAULT 0;
