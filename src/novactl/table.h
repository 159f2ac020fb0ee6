// Plain-text tables for novactl, aligned the way systemctl aligns its lists.
#pragma once

#include <string>
#include <vector>

namespace nova {

// Left-aligned columns separated by two spaces; the last column is not padded.
std::string RenderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace nova
