-- minitwit's tables. init-db runs this file: it drops and recreates everything.
DROP TABLE IF EXISTS follower;
DROP TABLE IF EXISTS message;
DROP TABLE IF EXISTS user;

CREATE TABLE user (
  user_id INTEGER PRIMARY KEY AUTOINCREMENT,
  -- NOCASE: "Ann" and "ann" are the same user name.
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email TEXT NOT NULL,
  pw_hash TEXT NOT NULL,
  -- Bumped on logout: remember-me cookies made before stop working (erlen.auth).
  remember_token_version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE follower (
  who_id INTEGER NOT NULL REFERENCES user (user_id),
  whom_id INTEGER NOT NULL REFERENCES user (user_id),
  PRIMARY KEY (who_id, whom_id)
);

CREATE TABLE message (
  message_id INTEGER PRIMARY KEY AUTOINCREMENT,
  author_id INTEGER NOT NULL REFERENCES user (user_id),
  text TEXT NOT NULL,
  -- Seconds since the epoch (UTC).
  pub_date INTEGER NOT NULL
);

-- Timelines read the newest messages first, of everyone or of some authors.
CREATE INDEX message_by_date ON message (pub_date DESC, message_id DESC);
CREATE INDEX message_by_author ON message (author_id, pub_date DESC);
