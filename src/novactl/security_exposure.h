// An agent's exposure as systemd itself scores it: `systemd-analyze security
// UNIT`, 0.0 (locked down) to 10.0 (exposed). novactl reads the one summary
// line of the text output, which every systemd Nova supports prints alike
// (the --json form lists the checks, not the total).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nova {

// The number from "→ Overall exposure level for UNIT: 4.6 OK"; nullopt when
// the text has no such line.
std::optional<double> ParseSecurityExposure(std::string_view output);

// Runs systemd-analyze for `unit`; nullopt when it cannot run or says
// nothing parseable (status shows "-" then; it is no reason to fail).
std::optional<double> MeasureSecurityExposure(const std::string& unit);

}  // namespace nova
