// Byte sizes as users write them (4G, 512M, 1.5G) and as systemd means them:
// powers of 1024, "infinity" for no limit.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace nova {

inline constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();

// Parses "4G", "4GiB", "512M", "1.5G", "1024" (bytes), "infinity".
// Returns nullopt for anything else, including overflow.
std::optional<uint64_t> ParseSize(std::string_view text);

// Like ParseSize, but throws an InvalidArgument error naming `what`.
uint64_t ParseSizeOrThrow(std::string_view what, std::string_view text);

// Short human form: "4G", "1.5G", "512M", "12K", "100B", "infinity".
std::string FormatSize(uint64_t bytes);

}  // namespace nova
