// Package store keeps the operator's durable state for telchat: bans, the
// message of the day and room topics.
//
// The state lives in a single JSON file, state.json, under a data directory.
// [Load] reads it at start-up; [Save] replaces it atomically (temporary file,
// fsync, rename, fsync of the directory) so that a crash leaves either the old
// or the new file, never a torn one. A file that cannot be read or decoded is
// reported as [ErrCorrupt] rather than being treated as empty, so a damaged
// file never silently lifts every ban.
//
// The chat hub must never block on the disk. It hands numbered snapshots to
// a [Saver], whose own goroutine writes them; snapshots submitted while a
// write is in progress are coalesced so that only the newest one is written
// next. Each attempt is reported back ([SaveResult]), so that a change is
// acknowledged only once it is on disk; a failed save is retried with a
// doubling wait. [Load] refuses a state.json symlink to a missing file,
// sanitizes the text it loads, and [RemoveTemp] clears the temporary files
// of an interrupted save.
//
// The server itself now keeps this state in its store (package
// store/boltstore, one bbolt file), which imports state.json once, with
// [Load], and encodes the state with [MarshalState]; the state.json
// functions stay as that import and the record's format.
//
// A [Ban] mask is a nickname (compared case-insensitively), a single IP
// address, or a CIDR prefix; [ParseMask] validates and normalizes masks and
// [Ban.Matches] applies them.
package store
