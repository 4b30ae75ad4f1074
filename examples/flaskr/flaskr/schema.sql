-- Flaskr's tables. init-db drops and recreates them.
DROP TABLE IF EXISTS post;
DROP TABLE IF EXISTS user;

CREATE TABLE user (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  -- NOCASE: "Ada" and "ada" are the same user name.
  username TEXT UNIQUE NOT NULL COLLATE NOCASE,
  password TEXT NOT NULL,
  -- Bumped on logout: remember-me cookies made before stop working (erlen.auth).
  remember_token_version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE post (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  author_id INTEGER NOT NULL REFERENCES user (id),
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M', 'now')),
  title TEXT NOT NULL,
  body TEXT NOT NULL
);
