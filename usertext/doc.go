// Package usertext sanitizes and validates text that users of the chat
// server supply: chat lines, nicknames, room names, topics and away messages.
//
// The rule it enforces is that text typed by one user never reaches another
// user's terminal raw. [Sanitize] turns arbitrary bytes into a single line of
// printable, valid UTF-8:
//
//   - invalid UTF-8 becomes U+FFFD (so a raw 8-bit 0x9B CSI byte is harmless);
//   - whole escape sequences are removed: 7-bit CSI (ESC [ … final), OSC
//     (ESC ] … BEL or ST), DCS, SOS, PM and APC strings (ESC P/X/^/_ … ST),
//     SS2/SS3 with their following character, nF sequences such as ESC ( B,
//     other two-byte ESC x sequences and a lone ESC; the same for the 8-bit
//     C1 introducers encoded as UTF-8 (U+009B CSI, U+009D OSC, U+0090 DCS,
//     U+0098 SOS, U+009E PM, U+009F APC, U+008E SS2, U+008F SS3);
//   - other C0 controls, DEL and C1 controls are removed;
//   - white space and characters that render as a blank cell (TAB, U+00A0,
//     U+2000–U+200A, U+3000 and the other Unicode White_Space characters,
//     U+2028/U+2029, U+2800 BRAILLE PATTERN BLANK, U+1D159) become an ASCII
//     space, and each run of them collapses into one space, so that padding
//     cannot push text to the terminal's wrap point to fake a new line;
//   - characters that render as nothing are removed: Unicode's
//     Default_Ignorable_Code_Point set, built from the general category Cf
//     (bidi controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C;
//     zero-width characters U+200B–U+200D, U+2060, U+FEFF; invisible
//     operators U+2061–U+2064; U+180E; the soft hyphen; the tag
//     characters), Other_Default_Ignorable_Code_Point (U+034F, the blank
//     Hangul fillers U+115F, U+1160, U+3164, U+FFA0, U+17B4/U+17B5, reserved
//     ranges such as U+2065) and Variation_Selector, plus U+16FE4. Kept are
//     only the ones that belong to the text around them: a zero-width joiner
//     between emoji (👨‍👩‍👧), VS15 or VS16 after an emoji or keycap base
//     (❤️, 1️⃣), a subdivision flag's tag sequence (🏴 + 2 to 6 tags + CANCEL
//     TAG), variation selectors after a Han ideograph or a Mongolian letter,
//     and a joiner or non-joiner between two letters of one script other
//     than Latin (Persian, Indic scripts). The emoji table is Unicode's
//     emoji-test.txt via go.mau.fi/util/emojirunes;
//   - the Unicode noncharacters are removed;
//   - runs of more than [MaxCombiningRun] nonspacing or enclosing marks
//     ("zalgo" text) are cut to that length;
//   - leading and trailing white space is trimmed.
//
// Unassigned code points and private-use characters are kept: they carry no
// terminal control meaning and newer terminals may know them.
//
// Sanitize is idempotent and returns its argument unchanged, without
// allocating, when it is already clean.
//
// Nicknames and room names are validated, not sanitized: [NickRules.CheckNick]
// and [CheckRoom] reject bad input with an error that is one short sentence
// for the user and that wraps one or more of the sentinel errors ([ErrEmpty],
// [ErrTooLong], [ErrBadChar], [ErrReserved], [ErrConfusable]); check them with
// errors.Is. Besides the display form they return a key to use for
// uniqueness: the lower-case name in ASCII mode; with Unicode enabled, the
// UTS #39 confusable skeleton of the PRECIS UsernameCaseMapped form, so that
// look-alikes such as "аdmin" (Cyrillic а) and "admin" share a key.
// [NickRules.Lookalike] gives a coarser second key, in every mode, under
// which "aIice", "a1ice" and "alice", "b0b" and "bob", "rn" and "m" (and with
// Unicode "alicé" and "alice", "ƅob" and "bob") collide; a server refuses a
// name when either key is in use.
//
// A nickname is reserved when it, or one of its words (the parts between
// '_' and '-', without trailing digits, also without a plural 's'), is a
// reserved name or looks like one: "admin", "Server_", "the-admin",
// "admins", "r00t_". See [ReservedNames].
//
// The confusables table comes from go.mau.fi/util/confusable, which is
// generated from Unicode's confusables.txt; this package holds no table of its
// own.
package usertext
