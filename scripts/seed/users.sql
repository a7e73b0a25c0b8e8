-- Demo user for local development (`npm run dev`; docs/api.md): demo@example.com / demo-password-123,
-- an admin (and a customer, so it can also shop). INSERT OR IGNORE on a fixed id keeps the row,
-- and any password changed since, on every later start.
-- The hash is in workers/users/password.ts's format (PBKDF2-SHA-256, 100,000 iterations, a random
-- 16-byte salt), made once with Node's WebCrypto (importKey 'raw' of the NFC password as UTF-8,
-- deriveBits { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 100000 }, 256 bits; base64url).
-- test/workers/users/seed.test.ts logs in with it, so a format change that breaks it fails a test.
INSERT OR IGNORE INTO users (id, email, name, password_hash, roles) VALUES
  ('usr_demo', 'demo@example.com', 'Demo User', 'pbkdf2-sha256$100000$D-ScXPYr7zb5jg37gXAjlA$XJWIeInkjfhBDdA1HOzR_-n40t764EWLU_JC2zExpP8', '["customer","admin"]');
