// Strings that came from callers or agents, made safe for where they go. An
// agent controls its argv, its output and (through its owner) names, workdirs
// and environment: none of that may reach an admin's terminal as control
// codes, nor systemd as anything but one value. Pure functions, tested byte by
// byte.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nova {

// `text` with every C0 control character, DEL, C1 control (U+0080..U+009F)
// and byte of invalid UTF-8 shown as \n, \t, \e or \xNN, and backslash as \\.
// Valid printable UTF-8 is kept as it is. With `keep_newlines`, '\n' and '\t'
// pass through (multi-line output such as logs).
std::string Printable(std::string_view text, bool keep_newlines = false);

// The first control character (C0, DEL, C1) or invalid UTF-8 byte in `text`,
// described for an error message ("a newline", "byte 0x1b (ESC)"), or nullopt
// if there is none.
std::optional<std::string> FindControl(std::string_view text);

// At most `max_bytes` of `text`, cut on a UTF-8 character boundary, with
// "..." appended when it was cut (the result then still fits `max_bytes`).
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

// The first line of `text` (without its '\n'), removed from `text`: the one
// walk over /proc and cgroup files' lines.
std::string_view TakeLine(std::string_view& text);

}  // namespace nova
