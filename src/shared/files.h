// Reading a whole small file (/proc, /sys, configuration) the one way.
#pragma once

#include <optional>
#include <string>

namespace nova {

// The file's contents, or nullopt when it cannot be opened.
std::optional<std::string> ReadFile(const std::string& path);

}  // namespace nova
