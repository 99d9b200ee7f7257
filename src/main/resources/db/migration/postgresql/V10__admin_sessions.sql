-- The admin's console sessions, so that they outlive a restart and every node of a cluster knows them. Only a hash
-- of the token is kept: whoever reads the database cannot sign in with what they read.
CREATE TABLE admin_session (
    token_hash TEXT   PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
