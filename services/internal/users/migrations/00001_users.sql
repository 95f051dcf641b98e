-- +goose Up
-- Ids compare bytewise (COLLATE "C"), so keyset pages come in the order the in-memory store keeps.
CREATE TABLE users (
    id    text COLLATE "C" PRIMARY KEY,
    name  text NOT NULL,
    email text NOT NULL
);
-- Emails are unique whatever their case; the database settles a race between two creates.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- +goose Down
DROP TABLE users;
