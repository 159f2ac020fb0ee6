// novactl's --json output. Strings an agent controls (its argv, its workdir,
// fields read from the journal) may be invalid UTF-8, which nlohmann refuses
// to serialize by throwing; here such bytes become U+FFFD instead, so --json
// always prints, and everything valid is kept exactly.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace nova {

// `value` as JSON text, `indent` spaces deep (-1: all on one line).
std::string JsonText(const nlohmann::json& value, int indent = -1);

}  // namespace nova
