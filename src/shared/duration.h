// Durations as users write them (30m, 90s, 1h30m, 2d) and as systemd stores
// them: microseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nova {

using Usec = std::chrono::microseconds;

// Parses one or more "<number><unit>" parts: us, ms, s/sec, m/min, h/hr, d.
// A bare number means seconds. Returns nullopt for anything else.
std::optional<Usec> ParseDuration(std::string_view text);

// Like ParseDuration, but throws an InvalidArgument error naming `what`.
Usec ParseDurationOrThrow(std::string_view what, std::string_view text);

// Short human form, largest units first: "30min", "1h 30min", "2.5s", "0".
std::string FormatDuration(Usec duration);

// CLOCK_REALTIME in microseconds, as systemd and the journal stamp events.
int64_t RealtimeUsec();

}  // namespace nova
