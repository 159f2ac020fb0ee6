// When `--since` means, as journalctl reads it: "10 min ago", "-1h",
// "2024-05-01 12:00", "2024-05-01T12:00:00Z", "12:00", "today",
// "yesterday", "now", "@1714564800". Local time unless it ends in Z.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace nova {

// The time `text` names, in CLOCK_REALTIME microseconds, `now_usec` being
// now; nullopt if it names none.
std::optional<int64_t> ParseSince(std::string_view text, int64_t now_usec);

// The same, or InvalidArgument with one line naming `what` and the formats.
int64_t ParseSinceOrThrow(std::string_view what, std::string_view text, int64_t now_usec);

}  // namespace nova
