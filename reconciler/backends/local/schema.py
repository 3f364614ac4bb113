"""The local store's schema: its application id, its version, the tables of version 1 and
the migrations that take a store from each version to the next."""

from __future__ import annotations

#: PRAGMA application_id of a reconciler store ("RCNL").
APPLICATION_ID = 0x52434E4C
SCHEMA_VERSION = 4
#: The first schema whose channels and links carry a ``version``, and which has a workspace id.
VERSIONED = 4

#: The schema of version 1; ``MIGRATIONS`` take it to ``SCHEMA_VERSION``.
SCHEMA = """
CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    account_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('connected', 'disconnected'))
);
CREATE TABLE links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    ref TEXT,
    message TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX links_channel ON links(channel_id);
CREATE TABLE link_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    title TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('created', 'regenerated', 'renamed', 'removed')),
    old_url TEXT,
    new_url TEXT,
    at TEXT NOT NULL
);
CREATE INDEX link_history_account ON link_history(account, title);
"""

#: Statements that take a store from version N to N + 1.
MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idempotency_created ON idempotency(created_at);
""",
    # A link's title as titles match (case ignored, Unicode-wide): what makes a second link
    # with a title the channel already has refusable inside the transaction that would add it.
    2: """
ALTER TABLE links ADD COLUMN title_key TEXT;
UPDATE links SET title_key = reconciler_fold(title);
CREATE INDEX links_title ON links(channel_id, title_key);
""",
    # Conditional writes: every channel and link has a version, bumped by each write to it
    # (the ones there are start at 1). And the workspace's own id, random, one row, made
    # here: a store made new runs this too, so every store of this version has one.
    3: """
ALTER TABLE channels ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE links ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE workspace (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    id TEXT NOT NULL
);
INSERT INTO workspace (one, id) VALUES (1, lower(hex(randomblob(16))));
""",
}

#: What each column the readers use may hold, as SQL over one row (true: the value is in the
#: schema). SQLite takes any value in any column (a BLOB in a TEXT column, and a hand edit
#: can drop a CHECK): ``rows.check_values`` finds a row that breaks these before it is read.
_TEXT = "typeof({0}) = 'text'"
_TEXT_OR_NULL = "typeof({0}) IN ('text', 'null')"
_ID = "typeof({0}) = 'integer' AND {0} >= 1"
VALUES: dict[str, dict[str, str]] = {
    "channels": {
        "account": _TEXT,
        "display_name": _TEXT,
        "status": "{0} IN ('connected', 'disconnected')",
        "version": _ID,
    },
    "links": {
        "channel_id": _ID,
        "title": _TEXT,
        "ref": _TEXT_OR_NULL,
        "message": _TEXT,
        "url": _TEXT,
        "created_at": _TEXT,
        "updated_at": _TEXT,
        "version": _ID,
    },
    "link_history": {
        "link_id": _ID,
        "account": _TEXT,
        "title": _TEXT,
        "event": "{0} IN ('created', 'regenerated', 'renamed', 'removed')",
        "old_url": _TEXT_OR_NULL,
        "new_url": _TEXT_OR_NULL,
        "at": _TEXT,
    },
}
